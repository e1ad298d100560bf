// How the command provider reaches a host, with OpenSSH's client standing in
// for its Go SSH client (pulumi-command v1.2.1, provider/pkg/provider/remote):
//  - a command runs through an SSH "exec" request, which the host's sshd
//    hands to the login shell (`ssh host -- CMD` does the same); stdin is
//    piped only when non-empty (commandOutputs.go: `if c.Stdin != nil && len(*c.Stdin) > 0`);
//  - the host key is pinned when `hostKey` is set, and only that key's type
//    is offered (connection.go: HostKeyAlgorithms = [publicKey.Type()]);
//  - a dial is retried up to `dialErrorLimit` times, each attempt bounded by
//    `perDialTimeout` seconds (connection.go: Dial);
//  - CopyToRemote writes over SFTP after creating the parent directories
//    (copyController.go: sftpClient.MkdirAll, then a write), so a host
//    without an SFTP subsystem fails here as it would under the provider.
// local.Command runs `/bin/sh -c CMD` (or its interpreter) on this machine
// with the provider's environment (local/commandOutputs.go: run).
import { spawn, type SpawnOptions } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

/** The connection inputs of a remote resource (command's `connection`). */
export interface Connection {
    host: string;
    port?: number;
    user?: string;
    privateKey?: string;
    hostKey?: string;
    dialErrorLimit?: number;
    perDialTimeout?: number;
}

/** What a command printed and how it ended. */
export interface ProcessResult {
    /** Exit status, or undefined when the process was killed by a signal or never started. */
    code: number | undefined;
    /** The signal that ended it, if any. */
    signal?: string;
    stdout: string;
    stderr: string;
    /** stdout and stderr interleaved as they arrived (what the provider puts in its error text). */
    combined: string;
}

/** OpenSSH reports a failed connection (not a failed command) with exit status 255. */
export const SSH_CONNECT_FAILED = 255;

/** The ssh options that match the provider's connection settings; `dir` holds the key and known_hosts files. */
export function sshOptions(conn: Connection, dir: string): string[] {
    const port = conn.port ?? 22;
    const attempts = conn.dialErrorLimit === undefined || conn.dialErrorLimit < 1 ? 10 : conn.dialErrorLimit;
    const args = ["-o", "BatchMode=yes", "-o", `ConnectTimeout=${conn.perDialTimeout ?? 15}`, "-o", `ConnectionAttempts=${attempts}`,
        "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", `Port=${port}`];
    if (conn.privateKey) {
        const keyFile = path.join(dir, "key");
        writeFileSync(keyFile, conn.privateKey.endsWith("\n") ? conn.privateKey : conn.privateKey + "\n", { mode: 0o600 });
        args.push("-o", `IdentityFile=${keyFile}`);
    }
    if (conn.hostKey) {
        const known = path.join(dir, "known_hosts");
        const name = port === 22 ? conn.host : `[${conn.host}]:${port}`;
        writeFileSync(known, `${name} ${conn.hostKey}\n`);
        // Only the pinned key's type, as the provider offers (an RSA key offers only "ssh-rsa").
        args.push("-o", `UserKnownHostsFile=${known}`, "-o", "StrictHostKeyChecking=yes", "-o", `HostKeyAlgorithms=${conn.hostKey.split(" ")[0]}`);
    } else {
        args.push("-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no");
    }
    return args;
}

function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(path.join(tmpdir(), "pairstore-engine-"));
    return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Runs `command` on the connection's host, feeding `stdin` when it is non-empty. */
export function runRemote(conn: Connection, command: string, stdin?: string | Buffer, timeoutMs = 15 * 60_000): Promise<ProcessResult> {
    return withTempDir((dir) => runProcess("ssh", [...sshOptions(conn, dir), `${conn.user ?? "root"}@${conn.host}`, "--", command], {}, stdin, timeoutMs));
}

/** Copies `localPath` to `remotePath` over SFTP, creating the parent directories first (as the provider does). */
export function copyRemote(conn: Connection, localPath: string, remotePath: string, timeoutMs = 15 * 60_000): Promise<ProcessResult> {
    const parents: string[] = [];
    for (let d = path.posix.dirname(remotePath); d !== "/" && d !== "."; d = path.posix.dirname(d)) parents.unshift(d);
    const quote = (p: string) => `"${p.replace(/(["\\])/g, "\\$1")}"`;
    // "-" before a batch command ignores its failure (a directory that exists).
    const batch = [...parents.map((d) => `-mkdir ${quote(d)}`), `put ${quote(localPath)} ${quote(remotePath)}`].join("\n") + "\n";
    return withTempDir((dir) => runProcess("sftp", ["-b", "-", ...sshOptions(conn, dir), `${conn.user ?? "root"}@${conn.host}`], {}, batch, timeoutMs));
}

/** The inputs of a local.Command that shape how its command runs. */
export interface LocalInputs {
    interpreter?: string[];
    dir?: string;
    environment?: Record<string, string>;
}

/** Runs `command` on this machine the way local.Command does: `/bin/sh -c` (or the interpreter), stdin piped when non-empty. */
export function runLocal(inputs: LocalInputs, command: string, stdin?: string | Buffer, timeoutMs = 15 * 60_000): Promise<ProcessResult> {
    const argv = [...(inputs.interpreter?.length ? inputs.interpreter : ["/bin/sh", "-c"]), command];
    return runProcess(argv[0], argv.slice(1), {
        cwd: inputs.dir ?? process.cwd(),
        env: { ...process.env, ...(inputs.environment ?? {}) },
    }, stdin, timeoutMs);
}

/** Runs a program with `stdin` piped in, collecting its output; killed after `timeoutMs`. */
export function runProcess(file: string, args: string[], opts: SpawnOptions, stdin: string | Buffer | undefined, timeoutMs: number): Promise<ProcessResult> {
    return new Promise<ProcessResult>((resolve) => {
        const child = spawn(file, args, { ...opts, stdio: ["pipe", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let combined = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout!.on("data", (d) => { stdout += d; combined += d; });
        child.stderr!.on("data", (d) => { stderr += d; combined += d; });
        child.on("error", (e) => {
            clearTimeout(timer);
            resolve({ code: undefined, stdout, stderr: stderr + String(e), combined: combined + String(e) });
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({ code: code ?? undefined, signal: signal ?? undefined, stdout, stderr, combined });
        });
        child.stdin!.on("error", () => undefined);
        if (stdin !== undefined && stdin.length > 0) child.stdin!.end(stdin);
        else child.stdin!.end();
    });
}
