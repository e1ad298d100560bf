// Gate for the end-to-end tests: they need root on Linux to run real hosts.
// Outside CI a non-root run skips them with that reason; in CI it fails.
import { readdirSync, readFileSync } from "fs";
import path from "path";
import { describe } from "vitest";
import { hostDir, netnsName } from "../lab/hosts";
import { labHostsUp, applyLab } from "../lab/lab";
import { labHosts } from "../lab/topology";
import { onHost } from "./replication-helpers";

const reason = process.platform !== "linux" ? "not Linux" : process.getuid?.() !== 0 ? "not root" : undefined;
if (reason && process.env.CI) throw new Error(`end-to-end tests need root on Linux (${reason}); CI must run them as root`);
if (reason) console.warn(`skipping end-to-end tests: ${reason} (they need root on Linux to run the lab's hosts)`);

/** `describe` when the lab can run here, `describe.skip` (with the reason in its name) otherwise. */
export function describeLab(name: string, fn: () => void) {
    return reason ? describe.skip(`${name} (skipped: ${reason})`, fn) : describe(name, fn);
}

/** Brings the lab hosts up and applies the program; throws with the failed steps. */
export async function labReady() {
    await labHostsUp();
    const r = await applyLab();
    if (!r.ok) throw new Error(`lab apply failed:\n${r.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    return r;
}

export { labHosts, onHost };

/** The journal's cursor on `name` now: read what is logged after it with `journalSince` (never a fixed last-N-lines window). */
export async function journalCursor(name: string): Promise<string> {
    const out = await onHost(name, "journalctl -n 1 -q --no-pager --show-cursor -o cat");
    const cursor = /^-- cursor: (.+)$/m.exec(out)?.[1];
    if (!cursor) throw new Error(`${name}: no journal cursor in ${JSON.stringify(out.slice(-200))}`);
    return cursor;
}

/** What `name`'s journal holds after `cursor` (message text only), optionally for one unit. */
export async function journalSince(name: string, cursor: string, unit?: string): Promise<string> {
    return onHost(name, `journalctl --after-cursor=${JSON.stringify(cursor)} -q --no-pager -o cat${unit ? ` -u ${unit}` : ""}`);
}

/**
 * Steps that run on every apply by design: each node's `replication-verify`
 * carries the run's id, so a plain apply refills a wiped disk and repairs the
 * pair (README "Replication inside a pair").
 */
export const runsEveryApply = (name: string) => name.endsWith("-replication-verify");

/** What an apply created, updated or deleted, the steps that run on every apply left out. */
export function applyChanges(r: { created: string[]; updated: string[]; deleted: string[] }): string[] {
    return [...r.created, ...r.updated.filter((n) => !runsEveryApply(n)), ...r.deleted];
}

/**
 * Whether a process of lab host `name` has a command line matching `re`,
 * read from this machine's /proc (the hosts are containers here): no SSH, so
 * a test can poll it every few hundred ms without loading the 2-core machine.
 */
export function runningOn(name: string, re: RegExp): boolean {
    const cgroup = `/${netnsName(name)}/`;
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            if (!re.test(readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "))) continue;
            if (readFileSync(`/proc/${pid}/cgroup`, "utf8").includes(cgroup)) return true;
        } catch {
            // the process ended meanwhile
        }
    }
    return false;
}

/** A path on lab host `name`'s file system, as this machine sees it (its root is a mounted overlay here). */
export function pathOn(name: string, p: string): string {
    return path.join(hostDir(name), "merged", p);
}
