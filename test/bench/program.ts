// Benchmark: the program's own cost of registering clusters of 1, 4, 16, 64,
// 128 and 256 pairs under mocks (no SSH; mocks return inputs as outputs), each
// with the shard digits a user would need (digitsFor: 256 shards above 16
// pairs; the program takes at most 256). Each size runs in a fresh child
// process, so peak memory is per size.
//
//   npx tsx test/bench/program.ts [--sizes 1,4,16,64,128,256] [--runs 3] [--heap 8192]
//   npm run bench:program
//
// Time is wall time from the start of program() until every registration is
// done (waitForRPCs); the median of --runs child processes is reported, and
// the peak RSS is the largest VmHWM among them.
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { digitsFor } from "../../components/lib/shards";
import { arg, boundedArg, median } from "./args";

const ROOT = path.join(__dirname, "..", "..");
/** The children's V8 heap limit (MiB): `--heap`, default 8192. */
const HEAP_MIB = boundedArg("heap", 8192, 512, 20_000);

interface Sample {
    pairs: number;
    /** shards of the plan in force: 16 or 256 */
    shards: number;
    resources: number;
    commands: number;
    ms: number;
    /** validation + roles + rendering alone, without the SDK */
    renderMs: number;
    renderedMiB: number;
    rssBeforeMiB: number;
    peakRssMiB: number;
}

/** Peak resident set of this process in MiB (VmHWM, or maxRSS where /proc is missing). */
function peakRssMiB(): number {
    try {
        const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
        if (m) return Number(m[1]) / 1024;
    } catch { /* not Linux */ }
    return process.resourceUsage().maxRSS / 1024;
}

/** Child: registers one cluster under mocks and prints one JSON line. */
async function child(pairs: number) {
    const pulumi = await import("@pulumi/pulumi");
    const { clusterConfig, pulumiConfigMap } = await import("../unit/fixtures");
    // Counting mocks (the unit tests' recorder keeps every input, which would count against the program).
    const counts = { resources: 0, commands: 0 };
    await pulumi.runtime.setMocks({
        async newResource(args: any) {
            counts.resources++;
            if (args.type === "command:remote:Command") counts.commands++;
            return { id: args.custom ? `${args.name}-id` : undefined as unknown as string, state: args.inputs };
        },
        call: (args: any) => args.inputs,
    }, "pairstore", "bench", false);
    pulumi.runtime.setAllConfig(pulumiConfigMap(clusterConfig(pairs)), ["pairstore:sshPrivateKey", "pairstore:secureLinkSecret", "pairstore:heartbeatAuthKey"]);
    const { program } = await import("../../components/program");

    // The program's pure part alone: validation, roles and rendered commands (no SDK).
    const { readClusterSpec } = await import("../../components/program");
    const { nodeSteps } = await import("../../components/roles");
    const { stepCommand } = await import("../../components/step/step");
    const renderStart = performance.now();
    const { pairs: pairSpecs, shards, ...settings } = readClusterSpec();
    let rendered = 0;
    for (const p of pairSpecs) {
        for (const [i, n] of p.nodes.entries()) {
            for (const st of nodeSteps(settings, n, p.nodes[1 - i], { secureLinkSecret: "bench-secure-link-secret-0123456789", heartbeatAuthKey: "bench-heartbeat-auth-key-0123456789" }, { owner: p.nodes[0].name, runId: "bench" })) rendered += stepCommand(st.name, st.script, { user: n.ssh.user, check: false }).length;
        }
    }
    const renderMs = performance.now() - renderStart;

    const rssBefore = process.memoryUsage().rss / 1048576;
    const start = performance.now();
    await pulumi.runtime.runInPulumiStack(async () => program());
    await (pulumi.runtime as any).waitForRPCs();
    const ms = performance.now() - start;
    const sample: Sample = {
        pairs,
        shards: shards.plan.shards.length,
        resources: counts.resources,
        commands: counts.commands,
        ms,
        renderMs,
        renderedMiB: rendered / 1048576,
        rssBeforeMiB: rssBefore,
        peakRssMiB: peakRssMiB(),
    };
    process.stdout.write(`BENCH ${JSON.stringify(sample)}\n`);
}

function runChild(pairs: number): Sample {
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    // The program's memory grows by some 25 MiB per pair: node's default heap runs out above ~100 pairs.
    const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --max-old-space-size=${HEAP_MIB}`.trim() };
    const r = spawnSync(tsx, [__filename, "--child", String(pairs)], { cwd: ROOT, encoding: "utf8", timeout: 600_000, env });
    const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH "));
    if (r.status !== 0 || !line) {
        if (/heap out of memory/i.test(r.stderr)) throw new Error(`${pairs} pairs: out of memory with a ${HEAP_MIB} MiB heap (raise it with --heap)`);
        throw new Error(`bench child for ${pairs} pairs failed (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
    }
    return JSON.parse(line.slice("BENCH ".length));
}

function parent() {
    const sizes = arg("sizes", "1,4,16,64,128,256").split(",").map(Number);
    const refused = sizes.filter((n) => !Number.isInteger(n) || n < 1 || digitsFor(n) === undefined);
    if (refused.length > 0) throw new Error(`--sizes ${refused.join(",")}: a size is a number of pairs from 1 to 256 (the program gives every pair one of at most 256 shards)`);
    const runs = Number(arg("runs", "3"));
    const argv = process.argv.slice(2).join(" ");
    const rows: Array<Sample & { runsMs: number[] }> = [];
    for (const pairs of sizes) {
        const samples = Array.from({ length: runs }, () => runChild(pairs));
        // Progress on stderr: the table comes only once every size has run (minutes at 256 pairs).
        process.stderr.write(`${pairs} pairs: ${samples.map((x) => x.ms.toFixed(0)).join("/")} ms\n`);
        const ms = median(samples.map((s) => s.ms));
        rows.push({
            ...samples[0], ms, runsMs: samples.map((s) => s.ms), renderMs: median(samples.map((s) => s.renderMs)),
            rssBeforeMiB: median(samples.map((s) => s.rssBeforeMiB)),
            peakRssMiB: Math.max(...samples.map((s) => s.peakRssMiB)),
        });
    }

    const cpu = os.cpus()[0]?.model ?? "unknown CPU";
    const out: string[] = [];
    out.push(`$ npx tsx test/bench/program.ts${argv ? ` ${argv}` : ""}`);
    out.push(`node ${process.version}, ${os.cpus().length} x ${cpu}; median of ${runs} fresh child process(es) per size, heap limit ${HEAP_MIB} MiB; mocks return inputs (no SSH)`);
    out.push("");
    const head = ["pairs", "shards", "resources", "steps", "time ms", "ms/resource", "ms/pair", "render ms", "RSS before MiB", "peak RSS MiB", "per-pair time vs 1 pair"];
    const base = rows.find((r) => r.pairs === Math.min(...sizes))!;
    const perPair = (r: Sample) => r.ms / r.pairs;
    const table = rows.map((r) => [
        String(r.pairs), String(r.shards), String(r.resources), String(r.commands), r.ms.toFixed(1), (r.ms / r.resources).toFixed(3),
        perPair(r).toFixed(2), r.renderMs.toFixed(1), r.rssBeforeMiB.toFixed(1), r.peakRssMiB.toFixed(1), `${(perPair(r) / perPair(base)).toFixed(2)}x`,
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join("  ");
    out.push(fmt(head));
    out.push(widths.map((w) => "-".repeat(w)).join("  "));
    for (const t of table) out.push(fmt(t));
    out.push("");
    const big = rows[rows.length - 1];
    if (big !== base) {
        out.push(`time(${big.pairs})/time(${base.pairs}) = ${(big.ms / base.ms).toFixed(1)} for ${big.pairs / base.pairs}x the pairs; ` +
            `per pair: ${(perPair(big) / perPair(base)).toFixed(2)}x (1.00x = linear, below = fixed costs amortised, above = superlinear)`);
        const memPerPair = (big.peakRssMiB - big.rssBeforeMiB - (base.peakRssMiB - base.rssBeforeMiB)) / (big.pairs - base.pairs);
        out.push(`memory: peak RSS grows ${(big.peakRssMiB - base.peakRssMiB).toFixed(1)} MiB from ${base.pairs} to ${big.pairs} pairs ` +
            `(about ${(memPerPair * 1024).toFixed(0)} KiB per extra pair above the program's baseline)`);
    }
    out.push("render ms: validation + roles + rendered step commands alone (no SDK); the rest of \"time ms\" is @pulumi/pulumi registering the resources");
    out.push(`runs (ms): ${rows.map((r) => `${r.pairs}: ${r.runsMs.map((m) => m.toFixed(0)).join("/")}`).join("; ")}`);
    console.log(out.join("\n"));
}

const childAt = process.argv.indexOf("--child");
if (childAt >= 0) {
    child(Number(process.argv[childAt + 1])).then(() => process.exit(0), (e) => {
        process.stderr.write(`${e?.stack ?? e}\n`);
        process.exit(1);
    });
} else {
    try {
        parent();
    } catch (e: any) {
        // A refused size or a failed child: its message, not the parent's stack trace.
        console.error(`bench:program: ${e?.message ?? e}`);
        process.exit(1);
    }
}
