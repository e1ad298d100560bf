// What the policies know about a pairstore stack, built from what the policy
// engine shows them.
//
// Two facts of the engine shape this module:
//  - validateResource gets a resource's INPUTS: for a NodePair, StorageNode or
//    ShardDns component these are its args (plain data; @pulumi/pulumi >= 3.202
//    sends a local component's args to the engine).
//  - validateStack gets every resource's OUTPUTS: for a component these are
//    only what it passed to registerOutputs, not its args.
// The stack-wide rules (pairs, peers, shards) need the args, so every policy
// records the inputs it is shown in validateResource (`observe`), and its
// validateStack reads them back by URN (`buildModel`). The engine calls
// Analyze for every resource of the run before AnalyzeStack, in the same
// policy-pack process, for `pulumi preview`, `pulumi up` and
// `pulumi policy analyze` alike. If a component ever registers its args as
// outputs too, `buildModel` takes them from there.
import type {
    Policy, PolicyConfigSchema, PolicyResource, ResourceValidation, ResourceValidationArgs, StackValidation,
} from "@pulumi/policy";
import { secretPathsOf, type PropPath } from "./secret-paths";

/** Resource types the rules look at. */
export const TYPES = {
    pair: "pairstore:index:NodePair",
    node: "pairstore:index:StorageNode",
    shardDns: "pairstore:index:ShardDns",
    command: "command:remote:Command",
} as const;

/** @pulumi/command resources that open an SSH connection. */
export const REMOTE_TYPES: readonly string[] = [
    "command:remote:Command",
    "command:remote:CopyToRemote",
    "command:remote:CopyFile",
];

/** The parts of a node's spec (components/config/nodes.ts NodeSpec) the rules read. */
export interface NodeSpecLike {
    name: string;
    ssh?: { host?: string; port?: number; user?: string; hostKey?: string };
    publicIp?: { address?: string };
    internalAddress?: string;
    /** Static addresses of the extra heartbeat paths (heartbeat unicasts there). */
    heartbeatPaths?: { interface?: string; address?: string }[];
}

/** Args of a NodePair: { pair: PairSpec, settings }. */
export interface NodePairInputs {
    pair: { name: string; nodes: NodeSpecLike[] };
    settings?: { domains?: { name: string }[] };
}

/** Args of a StorageNode: { node, peer, pair, settings }. */
export interface StorageNodeInputs {
    node: NodeSpecLike;
    peer: NodeSpecLike;
    pair: string;
    settings?: unknown;
}

/** Args of a ShardDns: one domain's shard records. */
export interface ShardDnsInputs {
    domain: string;
    ttl?: number;
    shards: { shard: string; pair: string; ips: string[] }[];
}

/**
 * A pairstore policy. Stack rules have both functions: validateResource only
 * records inputs (and checks what one resource can show), validateStack
 * checks the graph. @pulumi/policy runs each function of a policy that has it.
 */
export interface PairstorePolicy extends Policy {
    configSchema: PolicyConfigSchema;
    validateResource?: ResourceValidation;
    validateStack?: StackValidation;
}

/** Inputs one validateResource call showed, kept for validateStack. */
export interface Observed {
    urn: string;
    type: string;
    name: string;
    /** Plain copy of the inputs (unknown values left out). */
    props: Record<string, any>;
    /** Secret input paths, when known. */
    secretPaths?: readonly PropPath[];
}

const observed = new Map<string, Observed>();

/** Records a resource's inputs (every policy's validateResource calls this first). */
export function observe(args: Pick<ResourceValidationArgs, "urn" | "type" | "name" | "props">): Observed {
    const o: Observed = {
        urn: args.urn,
        type: args.type,
        name: args.name,
        props: plainCopy(args.props) ?? {},
        secretPaths: secretPathsOf(args.props),
    };
    observed.set(args.urn, o);
    return o;
}

/** The inputs recorded for a URN. */
export function observedInputs(urn: string): Observed | undefined {
    return observed.get(urn);
}

/** Every recorded resource of a type. */
export function observedOfType(type: string): Observed[] {
    return [...observed.values()].filter((o) => o.type === type);
}

/** Forgets every recorded resource (tests start each scenario with this). */
export function resetObservations(): void {
    observed.clear();
}

/** True for the error @pulumi/policy throws when a policy reads a value unknown during preview. */
export function isUnknownValueError(e: unknown): boolean {
    return e instanceof Error && e.constructor?.name === "UnknownValueError";
}

/** Marks a value that is unknown during preview. */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

/** Reads a property, treating a value unknown during preview as absent. */
export function read(obj: any, key: string | number): any {
    const value = readOrUnknown(obj, key);
    return value === UNKNOWN ? undefined : value;
}

/** Reads a property, returning UNKNOWN for a value unknown during preview. */
export function readOrUnknown(obj: any, key: string | number): any {
    if (obj === UNKNOWN) return UNKNOWN;
    if (obj === null || obj === undefined || typeof obj !== "object") return undefined;
    try {
        return obj[key];
    } catch (e) {
        if (isUnknownValueError(e)) return UNKNOWN;
        throw e;
    }
}

/** Reads a nested property. */
export function readPath(obj: any, path: readonly (string | number)[]): any {
    return path.reduce((o, k) => read(o, k), obj);
}

/** A plain JSON-like copy of policy props, without the SDK's proxies and without unknown values. */
export function plainCopy(value: any, depth = 0): any {
    if (depth > 64) return undefined;
    if (value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {
        const out: any[] = [];
        for (let i = 0; i < value.length; i++) out.push(plainCopy(read(value, i), depth + 1));
        return out;
    }
    const out: Record<string, any> = {};
    for (const k of Object.keys(value)) {
        const v = plainCopy(read(value, k), depth + 1);
        if (v !== undefined) out[k] = v;
    }
    return out;
}

/** Calls `visit` for every string in a value with its property path. */
export function walkStrings(value: any, visit: (text: string, path: PropPath) => void, at: PropPath = [], depth = 0): void {
    if (depth > 64) return;
    if (typeof value === "string") {
        visit(value, at);
    } else if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) walkStrings(read(value, i), visit, [...at, String(i)], depth + 1);
    } else if (value !== null && typeof value === "object") {
        for (const k of Object.keys(value)) walkStrings(read(value, k), visit, [...at, k], depth + 1);
    }
}

/**
 * The node a step belongs to. Steps are named `<node>-<step>`; node names
 * come from the StorageNodes recorded so far (a parent registers before its
 * children), so "a-1-logs-timer" resolves to node "a-1", step "logs-timer".
 */
export function stepOwner(resourceName: string): { node: string; step: string } | undefined {
    let best: string | undefined;
    for (const o of observedOfType(TYPES.node)) {
        const n = read(read(o.props, "node"), "name") ?? o.name;
        if (typeof n === "string" && resourceName.startsWith(`${n}-`) && (!best || n.length > best.length)) best = n;
    }
    return best === undefined ? undefined : { node: best, step: resourceName.slice(best.length + 1) };
}

/** "step sysctl of node a1", or the resource and host when the node is not known. */
export function describeStep(resourceName: string, props: any): string {
    const owner = stepOwner(resourceName);
    if (owner) return `step "${owner.step}" of node ${owner.node} (${resourceName})`;
    const host = readPath(props, ["connection", "host"]);
    return `remote command ${resourceName}${typeof host === "string" ? ` on host ${host}` : ""}`;
}

/** A policy's config with its defaults filled in (the engine passes only what the user set). */
export function configWithDefaults<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    const given = (args.getConfig<Partial<T>>() ?? {}) as Partial<T>;
    const out: T = { ...defaults };
    for (const [k, v] of Object.entries(given)) {
        if (v !== undefined && v !== null) (out as any)[k] = v;
    }
    return out;
}

// ---- the stack model for validateStack ----

/** One NodePair of the stack. */
export interface PairView {
    resource: PolicyResource;
    name: string;
    inputs?: NodePairInputs;
    nodes: NodeView[];
}

/** One StorageNode of the stack. */
export interface NodeView {
    resource: PolicyResource;
    name: string;
    inputs?: StorageNodeInputs;
    /** Its NodePair, when its parent is one. */
    pair?: PairView;
    /** Its remote commands (outputs as the stack shows them), by step name. */
    steps: StepView[];
}

/** One step (remote command) of a node. */
export interface StepView {
    resource: PolicyResource;
    /** Step name without the node prefix. */
    step: string;
    /** The resource's inputs when recorded, else its outputs (@pulumi/command echoes its inputs). */
    props: Record<string, any>;
}

/** One ShardDns resource of the stack. */
export interface ShardDnsView {
    resource: PolicyResource;
    inputs?: ShardDnsInputs;
}

/** Everything a stack rule needs. */
export interface StackModel {
    pairs: PairView[];
    nodes: NodeView[];
    shardDns: ShardDnsView[];
    byUrn: Map<string, PolicyResource>;
}

function inputsOf<T>(r: PolicyResource, shaped: (p: any) => boolean): T | undefined {
    const seen = observedInputs(r.urn);
    if (seen && shaped(seen.props)) return seen.props as T;
    const outs = plainCopy(r.props);
    if (outs && shaped(outs)) return outs as T;
    return undefined;
}

const isPairArgs = (p: any) => !!p && typeof p.pair === "object" && p.pair !== null && Array.isArray(p.pair.nodes);
const isNodeArgs = (p: any) => !!p && typeof p.node === "object" && p.node !== null && typeof p.peer === "object" && p.peer !== null;
const isShardArgs = (p: any) => !!p && typeof p.domain === "string" && Array.isArray(p.shards);

/** Builds the pairs, nodes, steps and shard records of a stack from validateStack's resources. */
export function buildModel(resources: PolicyResource[]): StackModel {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    const pairs = new Map<string, PairView>();
    const nodes = new Map<string, NodeView>();
    const shardDns: ShardDnsView[] = [];
    for (const r of resources) {
        if (r.type === TYPES.pair) {
            const inputs = inputsOf<NodePairInputs>(r, isPairArgs);
            pairs.set(r.urn, { resource: r, name: inputs?.pair.name ?? r.name, inputs, nodes: [] });
        } else if (r.type === TYPES.shardDns) {
            shardDns.push({ resource: r, inputs: inputsOf<ShardDnsInputs>(r, isShardArgs) });
        }
    }
    for (const r of resources) {
        if (r.type !== TYPES.node) continue;
        const inputs = inputsOf<StorageNodeInputs>(r, isNodeArgs);
        const parent = r.parent ? pairs.get(r.parent.urn) : undefined;
        const view: NodeView = { resource: r, name: inputs?.node.name ?? r.name, inputs, pair: parent, steps: [] };
        nodes.set(r.urn, view);
        parent?.nodes.push(view);
    }
    for (const r of resources) {
        if (!REMOTE_TYPES.includes(r.type) || !r.parent) continue;
        const node = nodes.get(r.parent.urn);
        if (!node) continue;
        const props = observedInputs(r.urn)?.props ?? plainCopy(r.props) ?? {};
        const step = r.name.startsWith(`${node.resource.name}-`) ? r.name.slice(node.resource.name.length + 1) : r.name;
        node.steps.push({ resource: r, step, props });
    }
    return { pairs: [...pairs.values()], nodes: [...nodes.values()], shardDns, byUrn };
}

/** "a1, b1 and c1" */
export function listing(names: string[]): string {
    if (names.length <= 1) return names.join("");
    return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** "node b1 (public IP 203.0.113.11, internal 10.1.0.2)" */
export function describeNodeSpec(spec: NodeSpecLike | undefined, fallbackName: string): string {
    if (!spec) return `node ${fallbackName}`;
    const parts: string[] = [];
    if (spec.publicIp?.address) parts.push(`public IP ${spec.publicIp.address}`);
    if (spec.internalAddress) parts.push(`internal ${spec.internalAddress}`);
    return `node ${spec.name}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}
