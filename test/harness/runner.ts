// Child process of the executing harness: runs the real program under
// pulumi.runtime.setMocks, where every command:remote:* resource is executed
// over SSH with the command provider's semantics. Request on stdin (it holds
// secrets, so never argv or env), result JSON to the file the request names.
import * as pulumi from "@pulumi/pulumi";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "fs";
import * as path from "path";
import type { HarnessRequest, HarnessResult, HarnessState, StateEntry } from "./types";
import { runLocal, runRemote, type Connection, type LocalInputs } from "./ssh";

const REMOTE_COMMAND = "command:remote:Command";
const LOCAL_COMMAND = "command:local:Command";
const COPY_TO_REMOTE = "command:remote:CopyToRemote";

/** Quotes one word for the remote login shell. */
const shWord = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The provider runs a local command's `delete` with the inputs it was last
 * applied with (stdin, environment, ...), which may hold secrets. The harness
 * keeps them sealed with AES-256-GCM under a key file beside the state (mode
 * 0600), as Pulumi keeps secrets in state encrypted by the stack's secrets provider.
 */
function sealer(stateFile: string) {
    const keyFile = `${stateFile}.key`;
    const key = () => {
        if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
        return Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex");
    };
    return {
        seal(value: unknown): string {
            const iv = randomBytes(12);
            const c = createCipheriv("aes-256-gcm", key(), iv);
            const body = Buffer.concat([c.update(JSON.stringify(value), "utf8"), c.final()]);
            return [iv, c.getAuthTag(), body].map((b) => b.toString("base64")).join(".");
        },
        open(sealed: string): any {
            const [iv, tag, body] = sealed.split(".").map((x) => Buffer.from(x, "base64"));
            const d = createDecipheriv("aes-256-gcm", key(), iv);
            d.setAuthTag(tag);
            return JSON.parse(Buffer.concat([d.update(body), d.final()]).toString("utf8"));
        },
    };
}
/** Exit code of a run that failed but wrote its result. */
const FAILED_EXIT = 3;

function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object") {
        return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(",")}}`;
    }
    return JSON.stringify(v);
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Mocks receive secrets in their wire form {sig: secret, value}; the provider sees plain values. */
function unwrapSecrets(v: any): any {
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") {
        if (v[SIG_KEY] === SECRET_SIG) return unwrapSecrets(v.value);
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

async function main() {
    const req: HarnessRequest = JSON.parse(readFileSync(0, "utf8"));
    let state: HarnessState = { version: 1, seq: 0, resources: {} };
    try {
        state = JSON.parse(readFileSync(req.stateFile, "utf8"));
    } catch { /* first run */ }
    const saveState = () => {
        if (req.preview) return;
        writeFileSync(`${req.stateFile}.tmp`, JSON.stringify(state, null, 1), { mode: 0o600 });
        renameSync(`${req.stateFile}.tmp`, req.stateFile);
    };
    const result: HarnessResult = {
        ok: true, created: [], updated: [], unchanged: [], deleted: [], changedSteps: [], failed: [], stdout: {}, outputs: undefined,
    };
    const log = (name: string, text: string) => {
        for (const line of text.split("\n").filter((l) => l.trim() !== "")) process.stderr.write(`[${name}] ${line}\n`);
    };
    const privateKey = req.config["pairstore:sshPrivateKey"];
    const seen = new Set<string>();
    let inflight = 0;
    let lastActivity = Date.now();

    const sealed = sealer(req.stateFile);
    /** Runs a remote command over SSH (`conn`) or a local one (`local`), like the provider. */
    const execute = async (name: string, target: { conn?: Connection; local?: LocalInputs }, cmd: string | undefined, stdin: string | Buffer | undefined, quiet: boolean) => {
        if (!cmd) return { code: 0, stdout: "", stderr: "" };
        const r = target.local ? await runLocal(target.local, cmd, stdin) : await runRemote(target.conn!, cmd, stdin);
        if (!quiet) log(name, r.stdout + r.stderr);
        if (r.code !== 0) {
            const detail = quiet ? "(output hidden: the step carries secrets)" : (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-8).join("\n");
            throw new Error(`step ${name} failed ${target.local ? "on the controller" : `on ${target.conn!.host}`} (exit ${r.code}): ${detail}`);
        }
        return r;
    };

    await pulumi.runtime.setMocks({
        async newResource(args: pulumi.runtime.MockResourceArgs) {
            inflight++;
            try {
                return await register(args);
            } finally {
                inflight--;
                lastActivity = Date.now();
            }
        },
        call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    }, "pairstore", req.stack, req.preview);
    pulumi.runtime.setAllConfig(req.config, req.secretKeys);

    async function register(args: pulumi.runtime.MockResourceArgs) {
        if (![REMOTE_COMMAND, LOCAL_COMMAND, COPY_TO_REMOTE].includes(args.type)) return { id: `${args.name}-id`, state: args.inputs };
        const isLocal = args.type === LOCAL_COMMAND;
        const key = `${args.type}::${args.name}`;
        if (seen.has(key)) throw new Error(`duplicate resource name ${args.name}`);
        seen.add(key);
        let inputs = unwrapSecrets(args.inputs);
        let upload: Buffer | undefined;
        const isCopy = args.type === COPY_TO_REMOTE;
        if (isCopy) {
            // CopyToRemote: the engine diffs a FileAsset by the hash of its bytes, so the harness does too.
            const source = args.inputs.source as { path?: Promise<string> | string } | undefined;
            const localPath = source?.path === undefined ? undefined : await source.path;
            if (typeof localPath !== "string") throw new Error(`${args.name}: the harness supports CopyToRemote with a FileAsset source only`);
            upload = readFileSync(localPath);
            const remotePath = String(inputs.remotePath);
            inputs = {
                ...inputs,
                source: { file: localPath, sha256: createHash("sha256").update(upload).digest("hex") },
                // what the provider does: create the parent directories, then write the file
                create: `mkdir -p ${shWord(path.posix.dirname(remotePath))} && cat > ${shWord(remotePath)} && echo "copied ${upload.length} bytes to ${remotePath}"`,
            };
            inputs.update = inputs.create;
        }
        const hash = createHash("sha256").update(canonical(inputs)).digest("hex");
        const prev = state.resources[key];
        const quiet = inputs.logging === "none";
        if (prev && prev.hash === hash) {
            result.unchanged.push(args.name);
            if (prev.stdout !== undefined && !isCopy) result.stdout[args.name] = prev.stdout;
            return { id: prev.id, state: { ...inputs, stdout: prev.stdout ?? "", stderr: "" } };
        }
        const op = prev ? "update" : "create";
        (op === "create" ? result.created : result.updated).push(args.name);
        if (req.preview) {
            process.stderr.write(`${op === "create" ? "+" : "~"} ${args.name}\n`);
            return { id: `${args.name}-id`, state: inputs };
        }
        const cmd = op === "update" ? (inputs.update ?? inputs.create) : inputs.create;
        try {
            const local: LocalInputs | undefined = isLocal ? { interpreter: inputs.interpreter, dir: inputs.dir, environment: inputs.environment } : undefined;
            const r = await execute(args.name, { conn: inputs.connection, local }, cmd, upload ?? inputs.stdin, quiet);
            const last = r.stdout.trim().split("\n").pop();
            // A copy always writes the file; it has no stdout output (as in the provider).
            if (last === "changed" || isCopy) result.changedSteps.push(args.name);
            if (!quiet && !isCopy) result.stdout[args.name] = r.stdout;
            const entry: StateEntry = {
                hash, id: prev?.id ?? `${args.name}-${Date.now()}`, seq: prev?.seq ?? ++state.seq,
                delete: inputs.delete,
                connection: isLocal ? undefined : { host: inputs.connection.host, port: inputs.connection.port, user: inputs.connection.user, hostKey: inputs.connection.hostKey },
                local: isLocal ? sealed.seal({ ...local, stdin: inputs.stdin }) : undefined,
                quiet,
                stdout: quiet || isCopy ? undefined : r.stdout,
            };
            state.resources[key] = entry;
            saveState();
            return { id: entry.id, state: { ...inputs, stdout: r.stdout, stderr: r.stderr } };
        } catch (e) {
            result.ok = false;
            result.failed.push({ name: args.name, message: (e as Error).message });
            throw e;
        }
    }

    const rejections: string[] = [];
    process.on("unhandledRejection", (e) => rejections.push(String((e as Error)?.message ?? e)));
    // After a failure the failed step's dependents never register and the
    // program never completes, as in the engine: the run ends once nothing
    // else is in flight.
    const stalled = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
            if (result.failed.length > 0 && inflight === 0 && Date.now() - lastActivity > 1000) {
                clearInterval(timer);
                resolve();
            }
        }, 200);
    });
    try {
        // Required here, after the mocks: the program reads config at construction.
        const { program } = await import("../../components/program");
        await Promise.race([stalled, (async () => {
            result.outputs = await pulumi.runtime.runInPulumiStack(async () => program());
            await (pulumi.runtime as any).waitForRPCs();
        })()]);
    } catch (e) {
        result.ok = false;
        result.failed.push({ name: "program", message: (e as Error).message });
    }
    // Dependents of a failed step never register: that is the engine's behaviour too.
    if (result.failed.length === 0 && rejections.length > 0) {
        result.ok = false;
        result.failed.push(...rejections.map((m) => ({ name: "program", message: m })));
    }

    // Resources the program no longer registers are deleted, newest first, as the engine does (only after a clean run).
    if (result.ok) {
        const gone = Object.entries(state.resources).filter(([k]) => !seen.has(k)).sort((a, b) => b[1].seq - a[1].seq);
        for (const [key, entry] of gone) {
            const name = key.split("::")[1];
            result.deleted.push(name);
            if (req.preview) {
                process.stderr.write(`- ${name}\n`);
                continue;
            }
            try {
                if (entry.local) {
                    const { stdin, ...local } = sealed.open(entry.local);
                    await execute(name, { local }, entry.delete, stdin, entry.quiet ?? false);
                } else {
                    await execute(name, { conn: { ...entry.connection!, privateKey } }, entry.delete, undefined, false);
                }
                delete state.resources[key];
                saveState();
            } catch (e) {
                result.ok = false;
                result.failed.push({ name, message: (e as Error).message });
                break;
            }
        }
    }
    writeFileSync(req.resultFile, JSON.stringify(result), { mode: 0o600 });
    // A failed step leaves its dependents' promises pending, which the SDK would
    // report as leaks on a zero exit; FAILED_EXIT says "failed, result written".
    process.exit(result.ok ? 0 : FAILED_EXIT);
}

main().catch((e) => {
    process.stderr.write(`harness: ${e?.stack ?? e}\n`);
    process.exit(2);
});
