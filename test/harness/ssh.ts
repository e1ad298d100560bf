// Runs one command over SSH (or, for local.Command, on this machine) the way @pulumi/command's remote.Command does:
// the command line goes to the login shell, stdin is piped, the host key is
// pinned (StrictHostKeyChecking=yes against the configured key).
import { spawn, type SpawnOptions } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

/** The connection inputs of a remote.Command. */
export interface Connection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    hostKey?: string;
}

/** What a command printed and how it ended. */
export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Runs `command` on the connection's host, feeding `stdin`. */
export async function runRemote(conn: Connection, command: string, stdin?: string | Buffer, timeoutMs = 15 * 60_000): Promise<RunResult> {
    const dir = mkdtempSync(path.join(tmpdir(), "pairstore-ssh-"));
    try {
        const port = conn.port ?? 22;
        const args = ["-p", String(port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15",
            "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes"];
        if (conn.privateKey) {
            const keyFile = path.join(dir, "key");
            writeFileSync(keyFile, conn.privateKey.endsWith("\n") ? conn.privateKey : conn.privateKey + "\n", { mode: 0o600 });
            args.push("-i", keyFile);
        }
        if (conn.hostKey) {
            const known = path.join(dir, "known_hosts");
            const name = port === 22 ? conn.host : `[${conn.host}]:${port}`;
            writeFileSync(known, `${name} ${conn.hostKey}\n`);
            args.push("-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes");
        } else {
            args.push("-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no");
        }
        args.push(`${conn.user ?? "root"}@${conn.host}`, "--", command);
        return await runChild("ssh", args, {}, stdin, timeoutMs);
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** The inputs of a local.Command that shape how its command runs. */
export interface LocalInputs {
    interpreter?: string[];
    dir?: string;
    environment?: Record<string, string>;
}

/** Runs `command` on this machine the way @pulumi/command's local.Command does: `/bin/sh -c` (or the interpreter), stdin piped. */
export async function runLocal(inputs: LocalInputs, command: string, stdin?: string | Buffer, timeoutMs = 15 * 60_000): Promise<RunResult> {
    const argv = [...(inputs.interpreter?.length ? inputs.interpreter : ["/bin/sh", "-c"]), command];
    return runChild(argv[0], argv.slice(1), {
        cwd: inputs.dir ?? process.cwd(),
        env: { ...process.env, ...(inputs.environment ?? {}) },
    }, stdin, timeoutMs);
}

/** Runs a program with `stdin` piped in, collecting its output; killed after `timeoutMs`. */
function runChild(file: string, args: string[], opts: SpawnOptions, stdin: string | Buffer | undefined, timeoutMs: number): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
        const child = spawn(file, args, { ...opts, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? 255, stdout, stderr });
        });
        child.stdin!.on("error", () => undefined);
        child.stdin!.end(stdin ?? "");
    });
}
