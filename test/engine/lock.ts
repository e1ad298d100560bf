// The stack's update lock, as the diy (file) backend keeps it
// (pulumi pkg/backend/diy/lock.go): one update of a stack at a time; a second
// `pulumi up` fails with "the stack is currently locked". A preview takes no lock.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from "fs";
import { setTimeout as sleep } from "timers/promises";

const lockFile = (stateFile: string) => `${stateFile}.lock`;

/** The pid holding the stack's lock, or undefined (no lock, or its process is gone). */
export function lockHolder(stateFile: string): number | undefined {
    let pid: number;
    try {
        pid = JSON.parse(readFileSync(lockFile(stateFile), "utf8")).pid;
    } catch {
        return undefined;
    }
    try {
        process.kill(pid, 0);
        return pid;
    } catch {
        return undefined;
    }
}

/**
 * Takes the stack's lock for this process; returns its release. A lock whose
 * process is gone is taken over (the CLI would need `pulumi cancel`, which the
 * lab cannot run: a killed test run must not block the next one).
 */
export function lockStack(stateFile: string): () => void {
    const file = lockFile(stateFile);
    for (;;) {
        try {
            const fd = openSync(file, "wx", 0o600);
            writeSync(fd, JSON.stringify({ pid: process.pid, time: new Date().toISOString() }));
            closeSync(fd);
            return () => rmSync(file, { force: true });
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
            const pid = lockHolder(stateFile);
            if (pid !== undefined) {
                throw new Error(`the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with \`pulumi cancel\`.\n  ${file}: created by pid ${pid}`);
            }
            rmSync(file, { force: true });
        }
    }
}

/** Waits until no live process holds the stack's lock (at most `timeoutMs`). */
export async function waitForUnlock(stateFile: string, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (lockHolder(stateFile) !== undefined && Date.now() < end) await sleep(1000);
}
