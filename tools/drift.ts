// npm run drift: what changed on the hosts since the last apply, leaving the
// hosts and the stack's state untouched (check mode through `pulumi up`
// records check-mode scripts in the state, so the next apply runs every step).
//
//   pulumi stack export --show-secrets | npm run --silent drift
//
// Every converge step the export records (a remote.Command or local.Command
// whose script is pairstore's) runs again as recorded but with CHECK=1: it
// prints "would: ..." for what differs and changes nothing. Checks run at
// once, bounded in all (--parallel) and per host (MAX_PER_HOST sessions over
// one SSH connection per host, opened with the connection settings the
// command provider uses: pinned host key, key from the state). The secrets
// the export holds (SSH key, step stdin) go only to ssh's key file and the
// scripts' stdin; nothing prints them.
// Exit 0: no drift, 2: drift (listed), 1: a check failed or the input is unusable.
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { checkModeCommand } from "../components/step/step";
import { runLocal, runProcess, sshOptions, type Connection, type ProcessResult } from "../test/engine/process";

/** Concurrent sessions on one host's SSH connection: under sshd's MaxSessions (10). */
export const MAX_PER_HOST = 8;
/** Checks in flight at once, all hosts together (--parallel). */
export const DEFAULT_PARALLEL = 32;

/** Pulumi's secret marker in a deployment (apitype.SecretV1: plaintext with --show-secrets, else ciphertext). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** An export drift cannot use: the message says what to run instead. */
export class DriftInputError extends Error {}

/** One step to check, as the export recorded it. */
export interface DriftCheck {
    /** The resource's name (its URN's last part), e.g. node-2a-sysctl. */
    name: string;
    /** Where it runs: the connection's host, or "local" (the machine running Pulumi). */
    host: string;
    /** The node the step belongs to (the name without its step), when it is a node's step. */
    node?: string;
    /** That node's generation (from the script): raising it runs the node's steps again. */
    generation?: number;
    /** The check-mode command. */
    command: string;
    /** The step's stdin as recorded (file text or a secret). */
    stdin?: string;
    /** The SSH connection of a remote step; undefined for a local one. */
    connection?: Connection;
}

/** A value of the export with its secrets opened. */
function plain(v: unknown, at: string): any {
    if (Array.isArray(v)) return v.map((x, i) => plain(x, `${at}[${i}]`));
    if (!v || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) {
        if (typeof o.plaintext === "string") return JSON.parse(o.plaintext);
        if ("value" in o) return o.value; // the wire form (pairstore's engine)
        throw new DriftInputError(`${at} is an encrypted secret: export the stack with its secrets (pulumi stack export --show-secrets)`);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x, `${at}.${k}`)]));
}

/** The converge steps of a `pulumi stack export` deployment, and the names of the commands that are not pairstore's steps. */
export function driftChecks(exported: unknown): { checks: DriftCheck[]; skipped: string[] } {
    const resources = (exported as any)?.deployment?.resources ?? (exported as any)?.resources;
    if (!Array.isArray(resources)) throw new DriftInputError("the input is not a stack export: pipe `pulumi stack export --show-secrets` into it");
    const checks: DriftCheck[] = [];
    const skipped: string[] = [];
    for (const r of resources) {
        const remote = r.type === "command:remote:Command";
        if ((!remote && r.type !== "command:local:Command") || r.delete === true) continue;
        const name = String(r.urn).split("::").pop()!;
        const inputs = plain(r.inputs ?? {}, name);
        const command = typeof (inputs.update ?? inputs.create) === "string" ? checkModeCommand(inputs.update ?? inputs.create) : undefined;
        if (command === undefined) { skipped.push(name); continue; }
        const step = /^STEP=(\S+)$/m.exec(command)?.[1]?.replace(/^'(.*)'$/, "$1");
        const node = step && name.endsWith(`-${step}`) && name !== step ? name.slice(0, -step.length - 1) : undefined;
        const generation = Number(/^# Node generation (\d+):/m.exec(command)?.[1] ?? NaN);
        if (remote && typeof inputs.connection?.host !== "string") throw new DriftInputError(`${name} has no connection host in the export`);
        checks.push({
            name, node, command,
            host: remote ? inputs.connection.host : "local",
            generation: Number.isFinite(generation) && node ? generation : undefined,
            stdin: typeof inputs.stdin === "string" && inputs.stdin !== "" ? inputs.stdin : undefined,
            connection: remote ? inputs.connection : undefined,
        });
    }
    return { checks, skipped };
}

/** What one check found. */
export interface CheckResult {
    check: DriftCheck;
    /** The lines it printed starting with "would:". */
    would: string[];
    /** Set when the check itself failed: its exit and last output lines. */
    error?: string;
    /** How long the check took, in seconds (the report names the slowest). */
    seconds?: number;
}

/** Runs one command of a check: over its host's SSH connection, or locally. */
export type CheckRunner = (check: DriftCheck) => Promise<ProcessResult>;

/** Runs the checks, at most `parallel` at once and MAX_PER_HOST on one host, in the export's order per host. */
export async function runChecks(checks: DriftCheck[], run: CheckRunner, parallel = DEFAULT_PARALLEL): Promise<CheckResult[]> {
    const results: CheckResult[] = new Array(checks.length);
    const busy = new Map<string, number>();
    let next = 0;
    let inFlight = 0;
    const waiting = checks.map((c, i) => ({ c, i }));
    await new Promise<void>((done) => {
        const pump = () => {
            if (next === checks.length && inFlight === 0) return done();
            for (let k = 0; k < waiting.length && inFlight < parallel; k++) {
                const { c, i } = waiting[k];
                if ((busy.get(c.host) ?? 0) >= MAX_PER_HOST) continue;
                waiting.splice(k--, 1);
                next++;
                inFlight++;
                busy.set(c.host, (busy.get(c.host) ?? 0) + 1);
                const started = Date.now();
                const seconds = () => (Date.now() - started) / 1000;
                run(c).then((r) => {
                    const out = r.stdout.split("\n");
                    results[i] = {
                        check: c,
                        would: out.filter((l) => l.startsWith("would: ")),
                        error: r.code === 0 ? undefined : `exit ${r.code ?? r.signal}: ${r.combined.trim().split("\n").slice(-5).join(" | ")}`,
                        seconds: seconds(),
                    };
                }, (e: Error) => {
                    results[i] = { check: c, would: [], error: e.message, seconds: seconds() };
                }).finally(() => {
                    inFlight--;
                    busy.set(c.host, busy.get(c.host)! - 1);
                    pump();
                });
            }
        };
        pump();
    });
    return results;
}

/** The report and exit status of a run of checks. */
export function driftReport(results: CheckResult[], seconds: number, skipped: string[]): { text: string; code: 0 | 1 | 2 } {
    const drifted = results.filter((r) => r.would.length > 0);
    const failed = results.filter((r) => r.error !== undefined);
    const hosts = new Set(results.map((r) => r.check.host)).size;
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? "" : "s"}`;
    const lines = [`drift: ${n(results.length, "step")} checked on ${n(hosts, "host")} in ${seconds.toFixed(1)} s; the hosts and the state are untouched` +
        (skipped.length ? ` (not pairstore steps, not checked: ${skipped.join(", ")})` : "")];
    const slowest = results.filter((r) => r.seconds !== undefined).sort((x, y) => y.seconds! - x.seconds!).slice(0, 5);
    if (slowest.length > 0) lines.push(`  slowest: ${slowest.map((r) => `${r.check.name} ${r.seconds!.toFixed(1)} s`).join(", ")}`);
    for (const r of drifted) for (const w of r.would) lines.push(`  ${r.check.name} (${r.check.host}): ${w}`);
    for (const r of failed) lines.push(`  ${r.check.name} (${r.check.host}): the check failed: ${r.error}`);
    if (drifted.length === 0 && failed.length === 0) return { text: [...lines, "no drift"].join("\n"), code: 0 };
    if (drifted.length > 0) {
        lines.push(`${n(drifted.length, "step")} differ${drifted.length === 1 ? "s" : ""} from what the last apply left. To put them back, run their steps again:`);
        const nodes = new Map(drifted.filter((r) => r.check.node).map((r) => [r.check.node!, r.check.generation ?? 0]));
        for (const [node, g] of nodes) {
            lines.push(`  ${node}: raise its generation to ${g + 1} (pulumi config set --path 'pairstore:pairs[P].nodes[N].generation' ${g + 1}, ` +
                `P and N its place in pairstore:pairs), then pulumi up`);
        }
        if (drifted.some((r) => !r.check.node)) lines.push("  other steps (DNS records): the check-mode cycle of the README's \"Drift detection\" runs every step again");
    }
    return { text: lines.join("\n"), code: failed.length > 0 ? 1 : 2 };
}

/**
 * A runner over one SSH connection per host (ControlMaster), opened on first
 * use with the provider's connection settings; close() ends them.
 */
export function sshRunner(): { run: CheckRunner; close: () => Promise<void> } {
    const dir = mkdtempSync(path.join(tmpdir(), "pairstore-drift-"));
    const masters = new Map<string, Promise<{ args: string[]; target: string; error?: string }>>();
    const master = (conn: Connection) => {
        const key = `${conn.user ?? "root"}@${conn.host}:${conn.port ?? 22}`;
        if (!masters.has(key)) {
            masters.set(key, (async () => {
                const own = mkdtempSync(path.join(dir, "h"));
                // A host that does not answer is a failed check after 3 attempts, not after the apply's 20.
                const args = [...sshOptions({ ...conn, dialErrorLimit: Math.min(conn.dialErrorLimit ?? 3, 3) }, own), "-o", `ControlPath=${path.join(own, "cm")}`];
                const target = `${conn.user ?? "root"}@${conn.host}`;
                const r = await runProcess("ssh", [...args, "-o", "ControlMaster=yes", "-o", "ControlPersist=yes", "-f", "-N", target], {}, undefined, 120_000);
                return { args: [...args, "-o", "ControlMaster=no"], target, error: r.code === 0 ? undefined : r.combined.trim() };
            })());
        }
        return masters.get(key)!;
    };
    const run: CheckRunner = async (c) => {
        if (!c.connection) return runLocal({}, c.command, c.stdin);
        const m = await master(c.connection);
        if (m.error !== undefined) return { code: 255, stdout: "", stderr: m.error, combined: `ssh: ${m.error}` };
        return runProcess("ssh", [...m.args, m.target, "--", c.command], {}, c.stdin, 15 * 60_000);
    };
    const close = async () => {
        await Promise.all([...masters.values()].map(async (p) => {
            const m = await p;
            if (m.error === undefined) await runProcess("ssh", [...m.args, "-O", "exit", m.target], {}, undefined, 10_000);
        }));
        rmSync(dir, { recursive: true, force: true });
    };
    return { run, close };
}

/** Checks every step of a stack export; the report and exit status. */
export async function drift(exported: unknown, parallel = DEFAULT_PARALLEL): Promise<{ text: string; code: 0 | 1 | 2; results: CheckResult[] }> {
    const { checks, skipped } = driftChecks(exported);
    const started = Date.now();
    const ssh = sshRunner();
    try {
        const results = await runChecks(checks, ssh.run, parallel);
        return { ...driftReport(results, (Date.now() - started) / 1000, skipped), results };
    } finally {
        await ssh.close();
    }
}

function usage(): never {
    console.error("usage: pulumi stack export --show-secrets | npm run --silent drift [-- --parallel N] [-- --file EXPORT.json]");
    process.exit(1);
}

/** All of stdin, read as a stream: readFileSync(0) fails with EAGAIN on a non-blocking pipe (npx, node's spawn). */
async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

async function main() {
    const args = process.argv.slice(2);
    let file: string | undefined;
    let parallel = DEFAULT_PARALLEL;
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "--file" && args[i + 1]) file = args[++i];
        else if (args[i] === "--parallel" && /^[1-9]\d*$/.test(args[i + 1] ?? "")) parallel = Number(args[++i]);
        else usage();
    }
    if (file === undefined && process.stdin.isTTY) usage();
    const text = file !== undefined ? readFileSync(file, "utf8") : await readStdin();
    let exported: unknown;
    try {
        exported = JSON.parse(text);
    } catch {
        throw new DriftInputError(`${file ?? "stdin"} is not JSON: pipe \`pulumi stack export --show-secrets\` into it`);
    }
    const r = await drift(exported, parallel);
    console.log(r.text);
    process.exitCode = r.code;
}

if (require.main === module) {
    main().catch((e) => {
        console.error(`drift: ${e instanceof DriftInputError ? e.message : e?.stack ?? e}`);
        process.exit(1);
    });
}
