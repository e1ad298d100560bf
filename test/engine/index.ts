// pairstore's stand-in for the Pulumi engine and the command provider: the
// lab (`npm run lab`) and the end-to-end tests apply the real program with it.
// Each deployment runs in a child process, as `pulumi up` runs the program in
// a language host; the rules it follows are listed, with their upstream
// sources, at the top of deployment.ts, providers.ts, process.ts, project.ts
// and urn.ts. README "How this is tested without the Pulumi CLI" says what
// only the real CLI could catch.
import { spawn } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { waitForUnlock } from "./lock";
import type { StackConfig } from "./project";
import type { EngineRequest, EngineResult } from "./types";

export type { EngineResult } from "./types";
export type { StackConfig } from "./project";

/** Exit code of a runner whose deployment failed but wrote its result (see runner.ts). */
const FAILED_EXIT = 3;

const ROOT = path.join(__dirname, "..", "..");

/** Options of one deployment. */
export interface RunOptions {
    /** Echo step output as it happens (otherwise kept in `log`). */
    echo?: boolean;
    /** Only report what would change (`pulumi preview`). */
    preview?: boolean;
    /** Steps in flight at most (default: the CLI's 4 x CPUs). */
    parallel?: number;
    /** The program module (default components/program). */
    program?: string;
    /** The project file (default Pulumi.yaml). */
    projectFile?: string;
    /** Aborting it SIGKILLs the run, as a killed `pulumi up` (the run then rejects). */
    signal?: AbortSignal;
}

/** A deployment's result plus everything the steps printed. */
export interface RunResult extends EngineResult {
    log: string;
}

/** Runs one deployment of `config` on the stack whose state lives in `stateFile`. */
export async function runStack(stack: string, stateFile: string, config: StackConfig, opts: RunOptions = {}): Promise<RunResult> {
    // A run that outlived its caller (a test that timed out) finishes first,
    // rather than this one failing on the stack's lock.
    if (!opts.preview) await waitForUnlock(stateFile, 30 * 60_000);
    const dir = mkdtempSync(path.join(tmpdir(), "pairstore-engine-"));
    const req: EngineRequest = {
        stack, config, stateFile, resultFile: path.join(dir, "result.json"), preview: opts.preview ?? false,
        parallel: opts.parallel, program: opts.program, projectFile: opts.projectFile,
    };
    try {
        const log = await new Promise<string>((resolve, reject) => {
            // One node process with tsx's loader (the tsx CLI would start a second one).
            // With opts.signal in its own process group: the kill takes its ssh processes along.
            const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, "runner.ts")], {
                cwd: ROOT, stdio: ["pipe", "pipe", "pipe"], detached: opts.signal !== undefined,
            });
            let out = "";
            const take = (d: Buffer) => {
                out += d;
                if (opts.echo) process.stderr.write(d);
            };
            child.stdout.on("data", take);
            child.stderr.on("data", take);
            child.on("error", reject);
            opts.signal?.addEventListener("abort", () => {
                if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
            }, { once: true });
            child.on("close", (code) => (code === 0 || code === FAILED_EXIT ? resolve(out) : reject(new Error(`engine runner exited ${code}:\n${out.slice(-4000)}`))));
            child.stdin.end(JSON.stringify(req));
        });
        const result: EngineResult = JSON.parse(readFileSync(req.resultFile, "utf8"));
        return { ...result, log };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
