// The command provider's resources, rule for rule (pulumi-command v1.2.1):
//
// remote.Command / local.Command (remote/commandController.go, local/commandController.go)
//   diff:   only a change of `triggers` replaces (common/inputs.go:
//           `provider:"replaceOnChanges"`); any other input change is an update.
//   create: runs `create` (nothing when unset).
//   update: runs `update`, else `create`.
//   delete: runs the stored `delete` with the stored inputs (connection, stdin...).
//   output: the inputs plus stdout and stderr, each without its last "\n".
//   error:  "<exit error>: running <Go-quoted command>:\n<stdout and stderr
//           interleaved>" (remote/commandOutputs.go, local/commandOutputs.go),
//           whatever `logging` says: a failing step shows its whole command
//           and output.
// remote.CopyToRemote (remote/copyController.go)
//   diff:   `triggers` replaces; anything else is an update.
//   create: copies. update: copies again only when the asset's hash or
//           `remotePath` changed. delete: nothing (it has no delete).
import { createHash } from "crypto";
import { readFileSync } from "fs";
import { copyRemote, runLocal, runRemote, type Connection, type LocalInputs, type ProcessResult } from "./process";
import { canonical } from "./wire";

export const REMOTE_COMMAND = "command:remote:Command";
export const LOCAL_COMMAND = "command:local:Command";
export const COPY_TO_REMOTE = "command:remote:CopyToRemote";
/** The resource types this engine's provider implements. */
export const PROVIDER_TYPES = [REMOTE_COMMAND, LOCAL_COMMAND, COPY_TO_REMOTE];

/** A failed provider operation, with the provider's error text. */
export class ProviderError extends Error {}

/** How a resource's inputs changed. */
export interface Diff {
    /** Input keys whose values differ. */
    keys: string[];
    /** The change replaces the resource (a `triggers` change). */
    replace: boolean;
}

/** Where a provider operation writes what the command prints as it runs (the CLI's diagnostics). */
export type Log = (text: string) => void;

/** Input keys that replace a resource when they change (`replaceOnChanges` in the provider schema). */
const REPLACE_ON_CHANGES = ["triggers"];

/** Compares stored and new inputs (secrets unwrapped; a file asset by its hash). */
export function diff(olds: Record<string, unknown>, news: Record<string, unknown>, replaceOnChanges: string[] = []): Diff {
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort()
        .filter((k) => canonical(olds[k]) !== canonical(news[k]));
    const replacing = [...REPLACE_ON_CHANGES, ...replaceOnChanges];
    return { keys, replace: keys.some((k) => replacing.includes(k)) };
}

/** The SHA-256 of a file asset's bytes: how the engine compares assets. */
export function assetHash(path: string): string {
    return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Go's strconv.Quote (the provider formats the command with %q). */
export function goQuote(s: string): string {
    let out = '"';
    for (const ch of s) {
        const c = ch.codePointAt(0)!;
        switch (ch) {
            case '"': out += '\\"'; break;
            case "\\": out += "\\\\"; break;
            case "\x07": out += "\\a"; break;
            case "\b": out += "\\b"; break;
            case "\f": out += "\\f"; break;
            case "\n": out += "\\n"; break;
            case "\r": out += "\\r"; break;
            case "\t": out += "\\t"; break;
            case "\v": out += "\\v"; break;
            default:
                if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
                else out += ch;
        }
    }
    return out + '"';
}

/** The provider's error text for a command that did not succeed. */
export function commandError(kind: "remote" | "local", cmd: string, r: ProcessResult): string {
    let reason: string;
    if (kind === "remote") {
        // x/crypto/ssh ExitError; a connection that never opened is a dial error before any command ran.
        if (r.code === 255 && r.combined.match(/^(ssh|kex_exchange_identification|Connection|Host key|Unable to negotiate|Permission denied|no matching)/m)) {
            return `ssh: ${r.combined.trim()}`;
        }
        reason = r.signal ? `Process exited with status ${r.code ?? -1} from signal ${r.signal}` : `Process exited with status ${r.code}`;
    } else {
        reason = r.signal ? `signal: ${r.signal === "SIGKILL" ? "killed" : r.signal}` : r.code === undefined ? r.stderr : `exit status ${r.code}`;
    }
    return `${reason}: running ${goQuote(cmd)}:\n${r.combined}`;
}

/** What one operation needs besides the inputs. */
export interface OpContext {
    /** Echo what the command prints (the provider streams it unless `logging` says otherwise). */
    log: Log;
}

type Inputs = Record<string, any>;

function shouldLog(logging: string | undefined, stream: "stdout" | "stderr"): boolean {
    switch (logging ?? "stdoutAndStderr") {
        case "stdoutAndStderr": return true;
        case "stdout": return stream === "stdout";
        case "stderr": return stream === "stderr";
        default: return false;
    }
}

async function runCommand(type: string, inputs: Inputs, cmd: string, ctx: OpContext): Promise<{ stdout: string; stderr: string }> {
    const local = type === LOCAL_COMMAND;
    const stdin: string | undefined = inputs.stdin;
    const r = local
        ? await runLocal({ interpreter: inputs.interpreter, dir: inputs.dir, environment: inputs.environment } as LocalInputs, cmd, stdin)
        : await runRemote(inputs.connection as Connection, cmd, stdin);
    const shown = [shouldLog(inputs.logging, "stdout") ? r.stdout : "", shouldLog(inputs.logging, "stderr") ? r.stderr : ""].join("");
    if (shown.trim() !== "") ctx.log(shown);
    if (r.code !== 0) throw new ProviderError(commandError(local ? "local" : "remote", cmd, r));
    return { stdout: r.stdout.replace(/\n$/, ""), stderr: r.stderr.replace(/\n$/, "") };
}

/** create: the resource's outputs. */
export async function create(type: string, inputs: Inputs, ctx: OpContext): Promise<Inputs> {
    if (type === COPY_TO_REMOTE) return copy(inputs, ctx);
    if (inputs.create === undefined) return { ...inputs };
    return { ...inputs, ...(await runCommand(type, inputs, inputs.create, ctx)) };
}

/** update: the resource's new outputs. */
export async function update(type: string, olds: Inputs, news: Inputs, oldOutputs: Inputs, ctx: OpContext): Promise<Inputs> {
    if (type === COPY_TO_REMOTE) {
        const needCopy = olds.source?.hash !== news.source?.hash || olds.remotePath !== news.remotePath;
        return needCopy ? copy(news, ctx) : { ...news };
    }
    const cmd = news.update ?? news.create;
    // The old stdout/stderr stay when no command runs.
    if (cmd === undefined) return { ...news, stdout: oldOutputs.stdout, stderr: oldOutputs.stderr };
    return { ...news, ...(await runCommand(type, news, cmd, ctx)) };
}

/** delete: runs the stored delete command with the stored inputs. */
export async function remove(type: string, inputs: Inputs, ctx: OpContext): Promise<void> {
    if (type === COPY_TO_REMOTE || inputs.delete === undefined) return;
    await runCommand(type, inputs, inputs.delete, ctx);
}

async function copy(inputs: Inputs, ctx: OpContext): Promise<Inputs> {
    const source = inputs.source as { path?: string };
    if (typeof source?.path !== "string") throw new ProviderError("asset must be a path-based file asset or a text asset");
    const r = await copyRemote(inputs.connection as Connection, source.path, inputs.remotePath);
    if (r.code !== 0) throw new ProviderError(`failed to copy ${source.path} to ${inputs.remotePath}: ${r.combined.trim()}`);
    ctx.log(`copied ${source.path} to ${inputs.connection.host}:${inputs.remotePath}`);
    return { ...inputs };
}
