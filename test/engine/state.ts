// The engine's state file, like a Pulumi checkpoint: one entry per resource,
// keyed by URN, in registration order (dependencies before dependents), with
// the inputs and outputs the provider last saw. Secret values are kept only
// as ciphertext (AES-256-GCM under a key file beside the state, mode 0600),
// as Pulumi keeps secrets in state encrypted by the stack's secrets provider;
// everything else is plain, as in a checkpoint.
import { createCipheriv, createDecipheriv, randomBytes } from "crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "fs";
import { SECRET_SIG, SIG_KEY, isSecret } from "./wire";

/** One resource in the state. */
export interface ResourceState {
    urn: string;
    type: string;
    custom: boolean;
    id?: string;
    /** Parent URN ("" for the stack's direct children). */
    parent: string;
    /** URNs this resource depends on (explicit and implicit), as the program registered them. */
    dependencies: string[];
    /** Inputs in wire form; secret values sealed. */
    inputs: Record<string, unknown>;
    /** Outputs in wire form; secret values sealed. */
    outputs: Record<string, unknown>;
    /** The old resource of a create-before-delete replacement, deleted at the end of a deployment. */
    pendingDelete?: boolean;
    deleteBeforeReplace?: boolean;
    retainOnDelete?: boolean;
}

/** The state file. */
export interface EngineState {
    version: 2;
    resources: ResourceState[];
    /** The stack outputs of the last successful deployment. */
    outputs?: Record<string, unknown>;
}

/** A sealed secret in the state file. */
const SEALED = "pairstore-sealed";

/** Reads and writes one stack's state. */
export class StateFile {
    private readonly keyFile: string;

    constructor(readonly file: string) {
        this.keyFile = `${file}.key`;
    }

    load(): EngineState {
        if (!existsSync(this.file)) return { version: 2, resources: [] };
        const state = JSON.parse(readFileSync(this.file, "utf8"));
        if (state.version !== 2) {
            throw new Error(`${this.file} is a state file of an older pairstore engine (version ${state.version}); remove it and apply again ` +
                "(every step runs once more and reports ok where the host is already converged)");
        }
        return state as EngineState;
    }

    save(state: EngineState): void {
        writeFileSync(`${this.file}.tmp`, JSON.stringify(state, null, 1), { mode: 0o600 });
        renameSync(`${this.file}.tmp`, this.file);
    }

    private cachedKey?: Buffer;

    private key(): Buffer {
        if (!this.cachedKey) {
            if (!existsSync(this.keyFile)) writeFileSync(this.keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });
            this.cachedKey = Buffer.from(readFileSync(this.keyFile, "utf8").trim(), "hex");
        }
        return this.cachedKey;
    }

    /** Replaces every secret (wire form) inside `v` by its ciphertext. */
    seal(v: unknown): any {
        if (isSecret(v)) {
            const iv = randomBytes(12);
            const c = createCipheriv("aes-256-gcm", this.key(), iv);
            const body = Buffer.concat([c.update(JSON.stringify(v.value), "utf8"), c.final()]);
            return { [SEALED]: [iv, c.getAuthTag(), body].map((b) => b.toString("base64")).join(".") };
        }
        if (Array.isArray(v)) return v.map((x) => this.seal(x));
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.seal(x)]));
        return v;
    }

    /**
     * The stack as `pulumi stack export --show-secrets` prints it (deployment
     * version 3): resources with their inputs and outputs, each secret as
     * apitype.SecretV1 with its JSON text in `plaintext`.
     */
    exportWithSecrets(): { version: 3; deployment: { resources: Record<string, unknown>[] } } {
        const shown = (v: unknown): unknown => {
            if (isSecret(v)) return { [SIG_KEY]: SECRET_SIG, plaintext: JSON.stringify(v.value) };
            if (Array.isArray(v)) return v.map(shown);
            if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shown(x)]));
            return v;
        };
        const resources = this.load().resources.map((r) => ({
            urn: r.urn, custom: r.custom, id: r.id, type: r.type, parent: r.parent || undefined, dependencies: r.dependencies,
            inputs: shown(this.open(r.inputs)), outputs: shown(this.open(r.outputs)), ...(r.pendingDelete ? { delete: true } : {}),
        }));
        return { version: 3, deployment: { resources } };
    }

    /** The inverse of seal: ciphertext back to secrets in wire form. */
    open(v: unknown): any {
        if (v && typeof v === "object" && SEALED in (v as object)) {
            const [iv, tag, body] = String((v as any)[SEALED]).split(".").map((x) => Buffer.from(x, "base64"));
            const d = createDecipheriv("aes-256-gcm", this.key(), iv);
            d.setAuthTag(tag);
            return { [SIG_KEY]: SECRET_SIG, value: JSON.parse(Buffer.concat([d.update(body), d.final()]).toString("utf8")) };
        }
        if (Array.isArray(v)) return v.map((x) => this.open(x));
        if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.open(x)]));
        return v;
    }
}
