// The apply recap, as Ansible prints it at the end of a play: per host, its
// steps that were ok, changed, failed, skipped or deleted, and how long the
// host's steps took (first start to last end), slowest steps named.
import type { EngineResult } from "../engine/types";

/** One host's line of the recap. */
export interface HostRecap {
    host: string;
    /** Steps that were unchanged, or ran and changed nothing. */
    ok: number;
    /** Steps that ran and reported a change. */
    changed: number;
    failed: number;
    /** Registered after a step failed: never started. */
    skipped: number;
    deleted: number;
    /** From the host's first step start to its last step end, in seconds (0: no step ran). */
    seconds: number;
    /** Its slowest steps that ran, slowest first: [name, seconds]. */
    slowest: Array<[string, number]>;
}

type RecapInput = Pick<EngineResult, "urns" | "created" | "updated" | "replaced" | "unchanged" | "deleted" | "skipped" | "changedSteps" | "failed" | "timings">;

/** A step's URN: a resource of a provider, not a component (pairstore:), the stack or a provider (pulumi:). */
function isStep(urn: string): boolean {
    const type = urn.split("::")[2]?.split("$").pop() ?? "";
    return !type.startsWith("pairstore:") && !type.startsWith("pulumi:");
}

/**
 * The recap of one apply for `hosts` (node names: a step belongs to the host
 * its name starts with, `node-1a-nginx-build` to node-1a); every other step
 * (DNS, the machine running Pulumi) is counted under "other". Components are
 * left out; `deleted` counts every resource the apply deleted.
 */
export function applyRecap(r: RecapInput, hosts: string[], slowest = 3): HostRecap[] {
    const steps = new Set(r.urns.filter(isStep).map((u) => u.split("::").pop()!));
    const hostOf = (name: string): string =>
        hosts.filter((h) => name.startsWith(`${h}-`)).sort((a, b) => b.length - a.length)[0] ?? "other";
    const rows = new Map<string, HostRecap>();
    const row = (host: string) => {
        if (!rows.has(host)) rows.set(host, { host, ok: 0, changed: 0, failed: 0, skipped: 0, deleted: 0, seconds: 0, slowest: [] });
        return rows.get(host)!;
    };
    const failed = new Set(r.failed.map((f) => f.name));
    const changed = new Set(r.changedSteps);
    for (const name of new Set([...r.created, ...r.updated, ...r.replaced, ...r.unchanged, ...failed])) {
        if (!steps.has(name) && !failed.has(name)) continue;
        const line = row(hostOf(name));
        if (failed.has(name)) line.failed++;
        else if (changed.has(name)) line.changed++;
        else line.ok++;
    }
    for (const name of r.skipped) row(hostOf(name)).skipped++;
    for (const name of r.deleted) row(hostOf(name)).deleted++;
    for (const line of rows.values()) {
        const ran = Object.entries(r.timings).filter(([name]) => hostOf(name) === line.host);
        if (ran.length === 0) continue;
        line.seconds = (Math.max(...ran.map(([, t]) => t[1])) - Math.min(...ran.map(([, t]) => t[0]))) / 1000;
        line.slowest = ran.map(([name, t]): [string, number] => [name, (t[1] - t[0]) / 1000]).sort((a, b) => b[1] - a[1]).slice(0, slowest);
    }
    const order = (h: string) => (h === "other" ? hosts.length : hosts.indexOf(h));
    return [...rows.values()].sort((a, b) => order(a.host) - order(b.host));
}

/** The recap as text: one line per host, as Ansible's PLAY RECAP. */
export function formatRecap(rows: HostRecap[]): string {
    const width = Math.max(4, ...rows.map((r) => r.host.length));
    const lines = rows.map((r) => {
        const slow = r.slowest.map(([n, s]) => `${n.startsWith(`${r.host}-`) ? n.slice(r.host.length + 1) : n} ${s.toFixed(1)}`).join(", ");
        return `${r.host.padEnd(width)} : ok=${r.ok} changed=${r.changed} failed=${r.failed} skipped=${r.skipped} deleted=${r.deleted} ` +
            `time=${r.seconds.toFixed(1)}s${slow ? ` (slowest: ${slow})` : ""}`;
    });
    return ["APPLY RECAP", ...lines].join("\n");
}
