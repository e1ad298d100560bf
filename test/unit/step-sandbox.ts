// The sandbox the step tests run step scripts in: a temporary folder per test,
// and run(), which runs a step body as the host does (bash -c, content on
// stdin) with shims for commands that would touch the machine.
import { spawnSync } from "child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterEach, beforeEach, expect } from "vitest";
import { stepScript } from "../../components/step/step";
import { shq } from "../../components/step/template";

/** The current test's sandbox folder (set by useSandbox's beforeEach). */
export let sandbox: string;

/** A fresh sandbox folder for each test of the calling file, removed after it. */
export function useSandbox(): void {
    beforeEach(() => {
        sandbox = mkdtempSync(path.join(tmpdir(), "pairstore-converge-"));
    });
    afterEach(() => {
        rmSync(sandbox, { recursive: true, force: true });
    });
}

export interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    /** The script's last line: `changed` or `ok`. */
    last: string;
}

/**
 * Runs a step body the way the host does (`bash -c <script>`, content on stdin).
 * `shims` become bash functions (exported through the environment, so they win
 * over the prelude's PATH); `subst` rewrites host paths into the sandbox.
 */
export function run(name: string, body: string, opts: {
    check?: boolean; stdin?: string; shims?: Record<string, string>; subst?: Array<[string | RegExp, string]>; owner?: string; delete?: boolean;
} = {}): Run {
    let script = stepScript(name, body, { check: opts.check ?? false, owner: opts.owner, delete: opts.delete });
    script = script.replace(/^STATE_DIR=.*$/m, `STATE_DIR=${shq(path.join(sandbox, "state"))}`);
    for (const [from, to] of opts.subst ?? []) {
        const before = script;
        script = typeof from === "string" ? script.split(from).join(to) : script.replace(from, to);
        expect(script, `substitution ${from} did not apply`).not.toBe(before);
    }
    const env: Record<string, string> = { ...process.env as Record<string, string>, SANDBOX: sandbox };
    for (const [fn, code] of Object.entries(opts.shims ?? {})) env[`BASH_FUNC_${fn}%%`] = `() { ${code}\n}`;
    const r = spawnSync("bash", ["-c", script], { input: opts.stdin ?? "", env, encoding: "utf8", timeout: 30_000 });
    const lines = r.stdout.trim().split("\n");
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, last: lines[lines.length - 1] };
}

export const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
export const strays = (dir: string) => readdirSync(dir).filter((f) => f.includes(".pairstore."));
