// The one builder of pairstore stack configs for the unit, policy and lab
// tests: pairs of nodes numbered on three networks (SSH, internal, public),
// the plain pairstore:* values (domains, nofile, dns, ...) and the secrets,
// in the two forms tests hand them on: the config the program receives
// (`pairstore:key` -> text) and `pulumi config --json` (the lab's stack).
// Each suite keeps its own names, addresses and secrets as options.
import { configValue, type StackConfig } from "./engine/project";

/** Where a stack's nodes sit: the first three octets of each network; a node's addresses end in its octet. */
export interface StackNetworks {
    /** Network of the nodes' SSH addresses. */
    ssh: string;
    /** Network of the nodes' internal (replication, heartbeat) addresses. */
    internal: string;
    /** Network of the nodes' public IPs, its prefix and gateway. */
    public: string;
    publicPrefix: number;
    publicGateway: string;
    /** ssh.user of every node (none when unset: pairstore's default). */
    sshUser?: string;
}

/** One node of a pair: its name, octet, pinned host key (none: unpinned) and further node keys. */
export interface StackNode {
    name: string;
    octet: number;
    hostKey?: string;
    /** Node keys after name, ssh, publicIp and internalAddress (virtualIps, heartbeatPaths, ...). */
    extra?: Record<string, unknown>;
}

/** What stackConfig builds a stack from. */
export interface StackOptions {
    networks: StackNetworks;
    pairs: { name: string; retire?: boolean; dropUnserved?: boolean; nodes: StackNode[] }[];
    /** Plain pairstore:* values besides pairs (domains first, then the rest in this order). */
    values?: Record<string, unknown>;
    /** Secret pairstore:* values (sshPrivateKey, secureLinkSecret, heartbeatAuthKey, ...). */
    secrets: Record<string, string>;
}

/** A stack config: plain values (`pairs` included) and secret values, by pairstore key without the namespace. */
export interface BuiltStack {
    values: Record<string, unknown>;
    secrets: Record<string, string>;
}

/** Host `octet` in `net`: "10.77.0" + 12 is 10.77.0.12; a /16 network "10.77" + 300 is 10.77.1.44 (clusters of more than 120 pairs). */
export function hostIn(net: string, octet: number): string {
    return net.split(".").length === 2 ? `${net}.${Math.floor(octet / 256)}.${octet % 256}` : `${net}.${octet}`;
}

/** A node's config (`pairstore:pairs[].nodes[]`). */
export function stackNode(net: StackNetworks, n: StackNode) {
    return {
        name: n.name,
        ssh: {
            host: hostIn(net.ssh, n.octet),
            ...(net.sshUser !== undefined ? { user: net.sshUser } : {}),
            ...(n.hostKey !== undefined ? { hostKey: n.hostKey } : {}),
        },
        publicIp: { address: hostIn(net.public, n.octet), prefix: net.publicPrefix, interface: "eth1", gateway: net.publicGateway },
        internalAddress: hostIn(net.internal, n.octet),
        ...(n.extra ?? {}),
    };
}

/** Builds a stack config: `pairs` from the nodes, then `values` (domains before pairs), and the secrets. */
export function stackConfig(o: StackOptions): BuiltStack {
    const { domains, ...rest } = o.values ?? {};
    const pairs = o.pairs.map((p) => ({
        name: p.name,
        ...(p.retire ? { retire: true } : {}),
        ...(p.dropUnserved ? { dropUnserved: true } : {}),
        nodes: p.nodes.map((n) => stackNode(o.networks, n)),
    }));
    return {
        values: { ...(domains !== undefined ? { domains } : {}), pairs, ...rest },
        secrets: { ...o.secrets },
    };
}

/** The config the program receives (`pairstore:key` -> text, objects as JSON, secrets first) and its secret keys. */
export function programConfigOf(stack: BuiltStack): { config: Record<string, string>; secretKeys: string[] } {
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(stack.secrets)) config[`pairstore:${k}`] = v;
    for (const [k, v] of Object.entries(stack.values)) config[`pairstore:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    return { config, secretKeys: Object.keys(stack.secrets).map((k) => `pairstore:${k}`) };
}

/** The stack config in the shape of `pulumi config --json` (secrets first, marked secret). */
export function pulumiConfigOf(stack: BuiltStack): StackConfig {
    const config: StackConfig = {};
    for (const [k, v] of Object.entries(stack.secrets)) config[`pairstore:${k}`] = configValue(v, true);
    for (const [k, v] of Object.entries(stack.values)) config[`pairstore:${k}`] = configValue(v);
    return config;
}
