// The executing harness: stands in for the Pulumi engine and the command
// provider. Each apply runs the real program in a child process (like
// `pulumi up` runs the program) and returns what changed.
import { spawn } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import type { HarnessRequest, HarnessResult } from "./types";

/** Exit code of a runner whose run failed but wrote its result (see runner.ts). */
const FAILED_EXIT = 3;

export type { HarnessResult } from "./types";

const ROOT = path.join(__dirname, "..", "..");

/** Options of one run. */
export interface RunOptions {
    /** Echo step output as it happens (otherwise kept in `log`). */
    echo?: boolean;
    /** Only report what would change. */
    preview?: boolean;
}

/** An apply's result plus everything the steps printed. */
export interface RunResult extends HarnessResult {
    log: string;
}

/** Applies `config` to the stack whose state lives in `stateFile`. */
export async function runStack(stack: string, stateFile: string, config: Record<string, string>, secretKeys: string[], opts: RunOptions = {}): Promise<RunResult> {
    const dir = mkdtempSync(path.join(tmpdir(), "pairstore-harness-"));
    const req: HarnessRequest = {
        stack, config, secretKeys, stateFile, resultFile: path.join(dir, "result.json"), preview: opts.preview ?? false,
    };
    try {
        const log = await new Promise<string>((resolve, reject) => {
            const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(__dirname, "runner.ts")], {
                cwd: ROOT, stdio: ["pipe", "pipe", "pipe"],
            });
            let out = "";
            const take = (d: Buffer) => {
                out += d;
                if (opts.echo) process.stderr.write(d);
            };
            child.stdout.on("data", take);
            child.stderr.on("data", take);
            child.on("error", reject);
            child.on("close", (code) => (code === 0 || code === FAILED_EXIT ? resolve(out) : reject(new Error(`harness runner exited ${code}:\n${out.slice(-4000)}`))));
            child.stdin.end(JSON.stringify(req));
        });
        const result: HarnessResult = JSON.parse(readFileSync(req.resultFile, "utf8"));
        return { ...result, log };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
