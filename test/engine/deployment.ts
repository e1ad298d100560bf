// One deployment (`pulumi up` or `pulumi preview`), following the engine
// (pulumi v3.239, pkg/resource/deploy: step_generator.go, step_executor.go,
// deployment_executor.go):
//  - a registered resource is matched to the state by URN (or one of its
//    aliases); unchanged inputs are a "same" step, changed inputs an update,
//    a replacing change (see providers.diff) a replace: create the new one
//    first and delete the old one at the end of the deployment, or delete
//    first with `deleteBeforeReplace`;
//  - at most `parallel` steps run at once (the CLI's default is
//    4 x GOMAXPROCS: pkg/cmd/pulumi/operations/up.go defaultParallel);
//  - after the first failed step nothing new starts anywhere, steps in flight
//    finish, and no delete runs (the executor cancels, deletes are generated
//    only once the program has finished); a failed create leaves no state, a
//    failed update keeps the old inputs;
//  - once the program has finished without error, resources it no longer
//    registers (and replaced ones) are deleted in reverse dependency order,
//    one antichain at a time, each with the inputs stored in the state (its
//    old connection and private key, its old stdin);
//  - the state is written after every step, as the snapshot manager does.
import { ProviderError, PROVIDER_TYPES, assetHash, create, diff, remove, update, type Diff } from "./providers";
import type { ResourceState, StateFile } from "./state";
import type { EngineResult } from "./types";
import { UNKNOWN, isAsset, isSecret, secret, unwrapSecrets } from "./wire";
import { urnName } from "./urn";

/** A resource as the program registered it. */
export interface Registration {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    dependencies: string[];
    /** Inputs in wire form (secrets wrapped). */
    inputs: Record<string, unknown>;
    /** URNs it may have had before (aliases, inherited ones included). */
    aliases: string[];
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    replaceOnChanges: string[];
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
}

/** Options of a deployment. */
export interface DeploymentOptions {
    preview: boolean;
    /** Steps in flight at most. */
    parallel: number;
    /** Writes what a step prints (prefixed with its name). */
    log: (name: string, text: string) => void;
}

/** Inputs whose value the provider marks secret in its outputs (`provider:"secret"`). */
const SECRET_OUTPUTS = ["connection"];

/** A counting semaphore: at most `n` holders. */
class Slots {
    private free: number;
    private readonly waiting: Array<() => void> = [];
    constructor(n: number) { this.free = n; }
    async take(): Promise<void> {
        if (this.free > 0) { this.free--; return; }
        await new Promise<void>((r) => this.waiting.push(r));
    }
    give(): void {
        const next = this.waiting.shift();
        if (next) next(); else this.free++;
    }
}

export class Deployment {
    readonly result: EngineResult = {
        ok: true, created: [], updated: [], replaced: [], unchanged: [], deleted: [], skipped: [], changedSteps: [],
        failed: [], stdout: {}, logs: {}, outputs: undefined, urns: [], diffs: {}, timings: {},
    };
    /** Steps running now. */
    inflight = 0;
    /** When the last step ended (ms). */
    lastActivity = Date.now();
    private readonly slots: Slots;
    /** The snapshot being built: the previous state with every finished step applied (key: URN, or URN + "#old" for a replaced resource awaiting its delete). */
    private readonly current = new Map<string, ResourceState>();
    private readonly prevByUrn = new Map<string, ResourceState>();
    /** Old URNs the program registered again (directly or through an alias). */
    private readonly claimed = new Set<string>();

    constructor(private readonly state: StateFile, private readonly opts: DeploymentOptions) {
        this.slots = new Slots(opts.parallel);
        const prev = state.load();
        for (const r of prev.resources) {
            const key = r.pendingDelete ? `${r.urn}#old` : r.urn;
            this.current.set(key, r);
            if (!r.pendingDelete) this.prevByUrn.set(r.urn, r);
        }
        this.stackOutputs = prev.outputs;
    }

    private stackOutputs: Record<string, unknown> | undefined;

    /** True once a step failed: nothing new starts. */
    get failed(): boolean {
        return this.result.failed.length > 0;
    }

    private dirty = false;

    /**
     * Writes the snapshot. A step that changed something on a host is saved at
     * once (as the engine's snapshot manager does); a same step only marks the
     * snapshot dirty, for the next save or `flush` (writing a 5 MB file per
     * unchanged step would cost more than the steps).
     */
    private save(now = true): void {
        if (this.opts.preview) return;
        this.dirty = true;
        if (now) this.flush();
    }

    /** Writes the snapshot if anything changed since the last write. */
    flush(): void {
        if (this.opts.preview || !this.dirty) return;
        this.state.save({ version: 2, resources: [...this.current.values()], outputs: this.stackOutputs });
        this.dirty = false;
    }

    /** Records the program's stack outputs (saved only with a successful deployment). */
    setStackOutputs(outputs: Record<string, unknown>): void {
        this.stackOutputs = this.state.seal(outputs);
        this.save();
    }

    /** Registers a resource; resolves with its outputs in wire form once its step is done (never, after a failure). */
    async register(reg: Registration): Promise<Record<string, unknown>> {
        this.result.urns.push(reg.urn);
        const oldUrn = [reg.urn, ...reg.aliases].find((u) => this.prevByUrn.has(u) && !this.claimed.has(u));
        const old = oldUrn ? this.prevByUrn.get(oldUrn) : undefined;
        if (oldUrn) this.claimed.add(oldUrn);
        if (!reg.custom) {
            // A component: no provider, only its entry in the state; the engine
            // still counts it as a create or a same step (step_generator.go).
            (old ? this.result.unchanged : this.result.created).push(reg.name);
            this.record(oldUrn, this.entry(reg, old?.id, reg.inputs, old?.outputs ?? {}), false);
            return {};
        }
        if (!PROVIDER_TYPES.includes(reg.type)) throw new Error(`${reg.urn}: this engine has no provider for ${reg.type}`);
        if (this.failed) return this.hold(reg);
        await this.slots.take();
        if (this.failed) {
            this.slots.give();
            return this.hold(reg);
        }
        this.inflight++;
        const started = Date.now();
        try {
            const outputs = await this.step(reg, old, oldUrn);
            if (!this.result.unchanged.includes(reg.name)) this.result.timings[reg.name] = [started, Date.now()];
            return outputs;
        } catch (e) {
            const message = e instanceof ProviderError ? e.message : String((e as Error)?.stack ?? e);
            this.result.ok = false;
            this.result.failed.push({ name: reg.name, urn: reg.urn, message });
            this.opts.log(reg.name, `error: ${message}`);
            return this.hold(reg);
        } finally {
            this.inflight--;
            this.lastActivity = Date.now();
            this.slots.give();
        }
    }

    /** After a failure the engine starts nothing new: the registration never completes. */
    private hold(reg: Registration): Promise<never> {
        this.result.skipped.push(reg.name);
        return new Promise<never>(() => undefined);
    }

    private async step(reg: Registration, old: ResourceState | undefined, oldUrn: string | undefined): Promise<Record<string, unknown>> {
        const news = this.forProvider(reg.inputs);
        const ctx = { log: (text: string) => this.opts.log(reg.name, text) };
        if (!old) {
            this.result.created.push(reg.name);
            this.result.diffs[reg.name] = Object.keys(news);
            if (this.opts.preview) return this.previewOutputs(reg);
            const outputs = await create(reg.type, news, ctx);
            this.done(reg, oldUrn, outputs);
            return this.toWire(reg, outputs);
        }
        const olds = this.forProvider(this.state.open(old.inputs));
        for (const k of reg.ignoreChanges) if (k in olds) news[k] = olds[k];
        const d: Diff = diff(olds, news, reg.replaceOnChanges);
        if (d.keys.length === 0) {
            this.result.unchanged.push(reg.name);
            const outputs = unwrapSecrets(this.state.open(old.outputs));
            if (typeof outputs.stdout === "string" && !this.secretOutput(reg, "stdout")) this.result.stdout[reg.name] = outputs.stdout;
            // A same step records the new registration (parent, dependencies) with the old outputs.
            if (!this.opts.preview) this.record(oldUrn, this.entry(reg, old.id, reg.inputs, old.outputs), false);
            return this.toWire(reg, outputs);
        }
        this.result.diffs[reg.name] = d.keys;
        if (d.replace) {
            this.result.replaced.push(reg.name);
            if (this.opts.preview) return this.previewOutputs(reg);
            if (reg.deleteBeforeReplace) {
                await remove(old.type, olds, ctx);
                this.current.delete(oldUrn!);
                this.save();
            } else {
                // The old resource is deleted at the end of the deployment (if it succeeds).
                this.current.set(`${old.urn}#old`, { ...old, pendingDelete: true });
                this.current.delete(oldUrn!);
                this.save();
            }
            const outputs = await create(reg.type, news, ctx);
            this.done(reg, undefined, outputs);
            return this.toWire(reg, outputs);
        }
        this.result.updated.push(reg.name);
        if (this.opts.preview) return this.previewOutputs(reg);
        const outputs = await update(reg.type, olds, news, unwrapSecrets(this.state.open(old.outputs)), ctx);
        this.done(reg, oldUrn, outputs, old.id);
        return this.toWire(reg, outputs);
    }

    /** A step succeeded: its entry goes into the snapshot, which is saved. */
    private done(reg: Registration, oldUrn: string | undefined, outputs: Record<string, any>, id?: string): void {
        const last = String(outputs.stdout ?? "").trim().split("\n").pop();
        if (last === "changed" || reg.type === "command:remote:CopyToRemote") this.result.changedSteps.push(reg.name);
        if (typeof outputs.stdout === "string" && !this.secretOutput(reg, "stdout")) this.result.stdout[reg.name] = outputs.stdout;
        const wired = this.wireOutputs(reg, outputs);
        this.record(oldUrn, this.entry(reg, id ?? `${reg.name}-${Date.now().toString(16)}`, reg.inputs, this.state.seal(wired)));
    }

    private entry(reg: Registration, id: string | undefined, inputs: Record<string, unknown>, outputs: Record<string, unknown>): ResourceState {
        return {
            urn: reg.urn, type: reg.type, custom: reg.custom, id, parent: reg.parent, dependencies: reg.dependencies,
            inputs: this.state.seal(this.hashAssets(inputs)), outputs,
            deleteBeforeReplace: reg.deleteBeforeReplace || undefined, retainOnDelete: reg.retainOnDelete || undefined,
        };
    }

    private record(oldUrn: string | undefined, entry: ResourceState, now = true): void {
        if (oldUrn && oldUrn !== entry.urn) this.current.delete(oldUrn);
        this.current.set(entry.urn, entry);
        this.save(now);
    }

    /** Records a component's registerOutputs. */
    componentOutputs(urn: string, outputs: Record<string, unknown>): void {
        const e = this.current.get(urn);
        if (!e || this.opts.preview) return;
        e.outputs = this.state.seal(outputs);
        this.save(false);
    }

    /** Inputs as the provider sees them: secrets unwrapped, a file asset as its path and hash. */
    private forProvider(inputs: Record<string, unknown>): Record<string, any> {
        return unwrapSecrets(this.hashAssets(inputs));
    }

    private hashAssets(inputs: Record<string, unknown>): Record<string, unknown> {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(inputs)) {
            out[k] = isAsset(v) && typeof v.path === "string" && !v.hash ? { ...v, hash: assetHash(v.path) } : v;
        }
        return out;
    }

    private secretOutput(reg: Registration, key: string): boolean {
        return reg.additionalSecretOutputs.includes(key) || SECRET_OUTPUTS.includes(key) || isSecret(reg.inputs[key]);
    }

    /** Outputs in wire form: secret where the input was, where the provider says so, and `additionalSecretOutputs`. */
    private wireOutputs(reg: Registration, outputs: Record<string, any>): Record<string, unknown> {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(outputs)) {
            if (v === undefined) continue;
            out[k] = this.secretOutput(reg, k) ? secret(v) : v;
        }
        return out;
    }

    private toWire(reg: Registration, outputs: Record<string, any>): Record<string, unknown> {
        return this.wireOutputs(reg, outputs);
    }

    /** In a preview the provider returns the inputs; what a command prints is not known yet. */
    private previewOutputs(reg: Registration): Record<string, unknown> {
        const outputs = this.wireOutputs(reg, this.forProvider(reg.inputs));
        if (reg.type !== "command:remote:CopyToRemote") {
            outputs.stdout = UNKNOWN;
            outputs.stderr = UNKNOWN;
        }
        return outputs;
    }

    /**
     * After the program finished without error: deletes every resource it no
     * longer registers and every replaced one, dependents first, one antichain
     * at a time; stops at the first failed delete.
     */
    async deletes(): Promise<void> {
        if (this.failed) return;
        const registered = new Set(this.result.urns);
        const gone = [...this.current.entries()].filter(([key, r]) => r.pendingDelete || !registered.has(key));
        const remaining = new Map(gone);
        while (remaining.size > 0 && !this.failed) {
            const pending = [...remaining.values()];
            // Deletable now: nothing still to be deleted depends on it (explicitly, implicitly or as its child).
            const ready = [...remaining.entries()].filter(([, r]) => !pending.some((o) => o !== r && (o.parent === r.urn || o.dependencies.includes(r.urn))));
            if (ready.length === 0) throw new Error(`a dependency cycle among ${pending.map((r) => r.urn).join(", ")}`);
            await Promise.all(ready.map(async ([key, r]) => {
                remaining.delete(key);
                const name = urnName(r.urn);
                this.result.deleted.push(name);
                if (this.opts.preview) return;
                await this.slots.take();
                try {
                    if (this.failed) return;
                    if (r.custom && !r.retainOnDelete) {
                        await remove(r.type, this.forProvider(this.state.open(r.inputs)), { log: (text) => this.opts.log(name, text) });
                    }
                    this.current.delete(key);
                    this.save();
                } catch (e) {
                    this.result.ok = false;
                    this.result.failed.push({ name, urn: r.urn, message: e instanceof ProviderError ? e.message : String(e) });
                } finally {
                    this.slots.give();
                }
            }));
        }
    }
}
