// The resource monitor the SDK talks to, in place of the engine's: it reads
// each RegisterResource request whole (parent, dependencies, aliases,
// options), names the resource by the engine's URN rules (urn.ts) and hands
// it to a handler: the deployment (deployment.ts), or a recorder for unit and
// policy tests (record.ts). Installed with the SDK's mock hook, so the real
// program runs unchanged in this process.
import type { Registration } from "./deployment";
import { aliasUrns, makeUrn, urnName, type AliasRequest } from "./urn";

// eslint-disable-next-line @typescript-eslint/no-var-requires
const settings = require("@pulumi/pulumi/runtime/settings") as {
    setMockOptions(monitor: unknown, project: string, stack: string, preview: boolean, organization?: string): void;
    waitForRPCs(): Promise<void>;
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, any> };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const structproto = require("google-protobuf/google/protobuf/struct_pb");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const resproto = require("@pulumi/pulumi/proto/resource_pb");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const provproto = require("@pulumi/pulumi/proto/provider_pb");

/** What the monitor does with a registration: resolves with the resource's outputs in wire form. */
export interface MonitorHandler {
    register(reg: Registration): Promise<Record<string, unknown>>;
    /** A component's (or the stack's) registerOutputs. */
    outputs?(urn: string, outputs: Record<string, unknown>): void;
    /** An invoke (function call): its result. */
    invoke?(token: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Installs the monitor for `project`/`stack` and returns it. */
export function installMonitor(project: string, stack: string, preview: boolean, handler: MonitorHandler): EngineMonitor {
    const monitor = new EngineMonitor(project, stack, handler);
    settings.setMockOptions(monitor, project, stack, preview);
    const store = getStore();
    // What the engine supports (the SDK asks before it sends aliases as specs, secrets, resource references).
    Object.assign(store, {
        supportsSecrets: true, supportsResourceReferences: true, supportsOutputValues: false, supportsDeletedWith: true,
        supportsAliasSpecs: true, supportsTransforms: false, supportsParameterization: true,
    });
    return monitor;
}

/** Waits until every RPC the program started has been answered. */
export function waitForRPCs(): Promise<void> {
    return settings.waitForRPCs();
}

export class EngineMonitor {
    private readonly names = new Map<string, string>();
    private readonly aliases = new Map<string, string[]>();
    private readonly urns = new Set<string>();

    constructor(readonly project: string, readonly stack: string, private readonly handler: MonitorHandler) {}

    /** Turns a RegisterResource request into a Registration (engine URN, resolved aliases). */
    registration(req: any): Registration {
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent() ?? "";
        const urn = makeUrn(this.stack, this.project, parent, type, name);
        if (this.urns.has(urn)) throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
        this.urns.add(urn);
        const requested: AliasRequest[] = (req.getAliasesList?.() ?? []).map((a: any) => {
            if (a.getUrn()) return { urn: a.getUrn() };
            const s = a.getSpec();
            return { name: s.getName(), type: s.getType(), stack: s.getStack(), project: s.getProject(), parentUrn: s.getParenturn(), noParent: s.getNoparent() };
        });
        for (const u of req.getAliasurnsList?.() ?? []) requested.push({ urn: u });
        const aliases = aliasUrns(this.stack, this.project, name, type, parent, requested,
            (p) => this.aliases.get(p) ?? [], (p) => this.names.get(p) ?? urnName(p));
        this.names.set(urn, name);
        this.aliases.set(urn, aliases);
        return {
            urn, type, name, parent, custom: req.getCustom(),
            dependencies: req.getDependenciesList() ?? [],
            inputs: req.getObject()?.toJavaScript() ?? {},
            aliases,
            deleteBeforeReplace: req.getDeletebeforereplace() ?? false,
            retainOnDelete: req.getRetainondelete?.() ?? false,
            replaceOnChanges: req.getReplaceonchangesList?.() ?? [],
            ignoreChanges: req.getIgnorechangesList?.() ?? [],
            additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
        };
    }

    registerResource(req: any, callback: (err: unknown, resp?: unknown) => void): void {
        let reg: Registration;
        try {
            reg = this.registration(req);
        } catch (e) {
            callback(e);
            return;
        }
        this.handler.register(reg).then((outputs) => {
            const resp = new resproto.RegisterResourceResponse();
            resp.setUrn(reg.urn);
            resp.setId(reg.custom ? `${reg.name}-id` : "");
            resp.setObject(structproto.Struct.fromJavaScript(outputs));
            callback(null, resp);
        }, (e) => callback(e));
    }

    registerResourceOutputs(req: any, callback: (err: unknown, resp?: unknown) => void): void {
        this.handler.outputs?.(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
        callback(null, {});
    }

    readResource(req: any, callback: (err: unknown, resp?: unknown) => void): void {
        callback(new Error(`reading existing resources (${req.getType()} ${req.getName()}) is not supported here`));
    }

    invoke(req: any, callback: (err: unknown, resp?: unknown) => void): void {
        const token: string = req.getTok();
        const args = req.getArgs()?.toJavaScript() ?? {};
        if (!this.handler.invoke) {
            callback(new Error(`function ${token} is not supported here`));
            return;
        }
        this.handler.invoke(token, args).then((result) => {
            const resp = new provproto.InvokeResponse();
            resp.setReturn(structproto.Struct.fromJavaScript(result));
            callback(null, resp);
        }, (e) => callback(e));
    }

    call(req: any, callback: (err: unknown, resp?: unknown) => void): void {
        callback(new Error(`method calls (${req.getTok()}) are not supported here`));
    }

    supportsFeature(req: any, callback: (err: unknown, resp?: unknown) => void): void {
        const id = req.getId();
        callback(null, { getHassupport: () => id !== "outputValues" && id !== "transforms" });
    }

    registerPackage(_req: any, callback: (err: unknown, resp?: unknown) => void): void {
        const resp = new resproto.RegisterPackageResponse();
        resp.setRef("engine-package");
        callback(null, resp);
    }
}
