/**
 * Small helpers shared by the lab host modules: run a command (LabCommandError),
 * hash, file existence, write-fresh, log.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

// ---------------------------------------------------------------------------
// small helpers

export class LabCommandError extends Error {
  constructor(
    message: string,
    public readonly code: number | null,
    public readonly stdout: string,
    public readonly stderr: string,
  ) {
    super(message);
    this.name = "LabCommandError";
  }
}

export function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

interface RunOpts {
  input?: string;
  env?: NodeJS.ProcessEnv;
  allowFail?: boolean;
  timeoutMs?: number;
  /** Stream output to our stderr (long steps like debootstrap) while still capturing it. */
  echo?: boolean;
}

/** Run a command without a shell; throws LabCommandError (command + stderr tail) on a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: RunOpts = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs)
        : undefined;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
      if (opts.echo) process.stderr.write(d);
    });
    child.stderr.on("data", (d: string) => {
      stderr += d;
      if (opts.echo) process.stderr.write(d);
    });
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(new LabCommandError(`lab: cannot run ${cmd}: ${err.message}`, null, stdout, stderr));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const rc = code ?? 128;
      if (rc !== 0 && !opts.allowFail) {
        const shown = [cmd, ...args].join(" ");
        const why = timedOut ? `timed out after ${opts.timeoutMs} ms` : signal ? `killed by ${signal}` : `exit ${rc}`;
        const out = tail(stderr || stdout);
        reject(new LabCommandError(`lab: command failed (${why}): ${shown}${out ? "\n" + out : ""}`, rc, stdout, stderr));
        return;
      }
      resolve({ code: rc, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

export function sha(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Replace a file by unlink + write (never writes through a hard link or symlink). */
export function writeFresh(p: string, content: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.rmSync(p, { force: true });
  fs.writeFileSync(p, content, { mode });
}

export function log(msg: string): void {
  if (process.env.PAIRSTORE_LAB_QUIET) return;
  process.stderr.write(`[lab] ${msg}\n`);
}
