// Benchmark: what provisioning the lab costs. Per run, from hosts down:
//  - hosts: the lab's hosts created and booted (not pairstore's work);
//  - first build: the first apply on those fresh hosts (two pairs and the DNS
//    host), with each pair's own span (its first step's start to its last
//    step's end) and the 10 slowest steps;
//  - no-op: an apply that changes nothing;
//  - one change: nginx.clientLimits.headerTimeout + 1 (rewrites nginx.conf on
//    every node; each pair reloads one node at a time), then back;
//  - drift: `npm run drift` on the lab's export.
// Prints min / median / max per figure over the runs and the command that
// produced them. Needs root (the lab); destroys and rebuilds lab 0's hosts.
//
//   npm run bench:provision [-- --runs 3]
import { drift } from "../../tools/drift";
import { applyLab, labDown, labExport, labHostsUp, labStack } from "../lab/lab";
import type { RunResult } from "../engine";
import { LAB_PAIRS } from "../lab/topology";
import { boundedArg, median } from "./args";

const runs = boundedArg("runs", 3, 1, 5);

/** Seconds `f` took, and its result. */
async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
    const t = Date.now();
    const r = await f();
    return [(Date.now() - t) / 1000, r];
}

/** An apply that must succeed. */
async function apply(overrides: Record<string, unknown> = {}): Promise<RunResult> {
    const r = await applyLab(overrides);
    if (!r.ok) throw new Error(`apply failed: ${r.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    return r;
}

/** The pair (or "dns") a step belongs to, from its resource name. */
function ownerOf(step: string): string {
    for (const p of LAB_PAIRS) if (p.nodes.some((n) => step.startsWith(`${n.name}-`))) return p.name;
    return "dns";
}

/** Each pair's span in a run: from its first step's start to its last step's end, in seconds. */
function spans(timings: RunResult["timings"]): Record<string, number> {
    const by = new Map<string, [number, number]>();
    for (const [step, [start, end]] of Object.entries(timings)) {
        const o = ownerOf(step);
        const [s, e] = by.get(o) ?? [start, end];
        by.set(o, [Math.min(s, start), Math.max(e, end)]);
    }
    return Object.fromEntries([...by].sort().map(([o, [s, e]]) => [o, (e - s) / 1000]));
}

function stats(xs: number[]): string {
    return `${Math.min(...xs).toFixed(1)} / ${median(xs).toFixed(1)} / ${Math.max(...xs).toFixed(1)} s`;
}

async function main() {
    const figures = new Map<string, number[]>();
    const add = (k: string, v: number) => figures.set(k, [...(figures.get(k) ?? []), v]);
    let slowest: string[] = [];
    for (let run = 1; run <= runs; run++) {
        console.error(`bench:provision: run ${run} of ${runs}: hosts down, then up`);
        await labDown();
        // the lab's first layout: two pairs, their plan pinned (as `npm run lab` starts)
        const [hosts] = await timed(() => labHostsUp());
        add("hosts created and booted (not pairstore)", hosts);
        const [build, first] = await timed(() => apply());
        add("first build, whole lab (2 pairs + DNS)", build);
        for (const [o, s] of Object.entries(spans(first.timings))) add(`first build, ${o} (its own steps)`, s);
        slowest = Object.entries(first.timings).map(([n, [s, e]]) => [n, (e - s) / 1000] as const)
            .sort((a, b) => b[1] - a[1]).slice(0, 10).map(([n, s]) => `${n} ${s.toFixed(1)} s`);
        add("no-op apply", (await timed(() => apply()))[0]);
        const nginx = JSON.parse(labStack()["pairstore:nginx"].value);
        const changed = { nginx: { ...nginx, clientLimits: { ...nginx.clientLimits, headerTimeout: (nginx.clientLimits?.headerTimeout ?? 10) + 1 } } };
        add("one change to nginx.conf (rolled)", (await timed(() => apply(changed)))[0]);
        add("the change undone (rolled)", (await timed(() => apply()))[0]);
        const [d, r] = await timed(() => drift(labExport()));
        if (r.code !== 0) throw new Error(`drift check: ${r.text}`);
        add("drift check (npm run drift)", d);
    }
    console.log(`bench:provision, ${runs} run(s) on fresh lab hosts (min / median / max):`);
    for (const [k, xs] of figures) console.log(`  ${k.padEnd(44)} ${stats(xs)}`);
    console.log(`  slowest steps of the last first build: ${slowest.join(", ")}`);
    console.log(`command: npm run bench:provision -- --runs ${runs}`);
}

main().catch((e) => {
    console.error(`bench:provision: ${e.message}`);
    process.exit(1);
});
