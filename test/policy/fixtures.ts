// The policy tests' valid two-pair stack (built with test/stack-config.ts, on
// its own names and addresses: pairs p1/p2, nodes a1..d1, 10.0.0.0/24), and
// helpers that break recorded registrations in the ways the policies must catch.
import { SECRET_SIG, SIG_KEY, type ProgramConfig as StackConfig, type Recorded as Registered } from "../engine/record";

import { programConfigOf, stackConfig, type StackNetworks } from "../stack-config";

export { SECRET_SIG, SIG_KEY };

/** A throwaway key: only its shape matters. */
export const PRIVATE_KEY = [
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "-----END OPENSSH PRIVATE KEY-----",
    "",
].join("\n");

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKc3Ou5Lmg3WUm0rMZ1tqU6s1nwl1q5Ff0mIxD0rDxYz";

/** The policy stack's own networks: SSH 10.0.0.0/24 (no ssh.user), internal 10.1.0.0/24, public 203.0.113.0/24. */
const POLICY_NETWORKS: StackNetworks = { ssh: "10.0.0", internal: "10.1.0", public: "203.0.113", publicPrefix: 24, publicGateway: "203.0.113.1" };

/** A TSIG secret: only its shape matters. */
export const TSIG_SECRET = "cG9saWN5LXRlc3QtdHNpZy1zZWNyZXQtb2YtcGFpcnN0b3Jl";

/** pairstore:dns for validConfig({dns: true}): example.com's shard records over RFC 2136. */
export const DNS_CONFIG = { ttl: 3600, rfc2136: { server: "10.0.0.53", keyName: "pairstore" } };

/** Pairs p1 = (a1, b1) and p2 = (c1, d1), serving example.com; with `dns`, its shard records too. */
export function validConfig(overrides: { unpinned?: string[]; allowUnpinned?: boolean; extra?: StackConfig; dns?: boolean } = {}): { config: StackConfig; secretKeys: string[] } {
    const pinned = (n: string) => !(overrides.unpinned ?? []).includes(n);
    const node = (name: string, octet: number) => ({ name, octet, hostKey: pinned(name) ? HOST_KEY : undefined });
    const { config, secretKeys } = programConfigOf(stackConfig({
        networks: POLICY_NETWORKS,
        pairs: [
            { name: "p1", nodes: [node("a1", 11), node("b1", 12)] },
            { name: "p2", nodes: [node("c1", 21), node("d1", 22)] },
        ],
        values: {
            domains: [{ name: "example.com", internalPort: 8081 }],
            ...(overrides.allowUnpinned ? { allowUnpinnedHostKeys: "true" } : {}),
            ...(overrides.dns ? { dns: DNS_CONFIG } : {}),
        },
        secrets: {
            sshPrivateKey: PRIVATE_KEY,
            secureLinkSecret: "policy-test-secure-link-secret-0123456789",
            heartbeatAuthKey: "policy-test-heartbeat-auth-key-0123456789",
            ...(overrides.dns ? { dnsTsigSecret: TSIG_SECRET } : {}),
        },
    }));
    return { config: { ...config, ...(overrides.extra ?? {}) }, secretKeys };
}

// ---- editing captured registrations ----

export const clone = (rs: Registered[]): Registered[] => JSON.parse(JSON.stringify(rs));

export function find(rs: Registered[], type: string, name: string): Registered {
    const r = rs.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name} in ${rs.map((x) => x.name).join(", ")}`);
    return r;
}

export const NODE = "pairstore:index:StorageNode";
export const PAIR = "pairstore:index:NodePair";
export const COMMAND = "command:remote:Command";

/** The resource and everything under it. */
export function subtree(rs: Registered[], root: Registered): Registered[] {
    const out = [root];
    for (let i = 0; i < out.length; i++) out.push(...rs.filter((r) => r.parent === out[i].urn));
    return out;
}

/** Removes a resource with its children. */
export function remove(rs: Registered[], root: Registered): Registered[] {
    const gone = new Set(subtree(rs, root).map((r) => r.urn));
    return rs.filter((r) => !gone.has(r.urn));
}

/** A copy of a StorageNode (with its steps) renamed to `name`, under `parentUrn`. */
export function copyNode(rs: Registered[], from: Registered, name: string, parentUrn: string): Registered[] {
    const old = from.name;
    const rename = (n: string) => (n === old ? name : n.startsWith(`${old}-`) ? name + n.slice(old.length) : n);
    const tree = clone(subtree(rs, from));
    const urns = new Map(tree.map((r) => [r.urn, r.urn.replace(/::[^:]+$/, `::${rename(r.name)}`)]));
    tree.forEach((r, i) => {
        r.name = rename(r.name);
        r.urn = urns.get(r.urn)!;
        r.parent = i === 0 ? parentUrn : urns.get(r.parent) ?? r.parent;
        if (r.type === NODE) r.inputs.node = { ...r.inputs.node, name };
    });
    return tree;
}

/** Marks a wire value secret. */
export const secret = (value: unknown) => ({ [SIG_KEY]: SECRET_SIG, value });

/** Unwraps a wire secret. */
export const plain = (v: any) => (v && typeof v === "object" && v[SIG_KEY] === SECRET_SIG ? v.value : v);

/** ShardDns args for a domain: shard -> pair, each with that pair's public IPs. */
export function shardDnsRecord(domain: string, assign: Record<string, string>, ipsOf: Record<string, string[]>, name = `${domain}-shards`): Registered {
    const inputs = {
        domain,
        ttl: 3600,
        shards: Object.entries(assign).map(([shard, pair]) => ({ shard, pair, ips: ipsOf[pair] ?? [] })),
    };
    return {
        urn: `urn:pulumi:policy::pairstore::pairstore:index:ShardDns::${name}`,
        type: "pairstore:index:ShardDns",
        name,
        parent: "",
        custom: false,
        inputs,
        outputs: {},
        additionalSecretOutputs: [],
        dependencies: [],
        aliases: [],
        deleteBeforeReplace: false,
        retainOnDelete: false,
        replaceOnChanges: [],
        ignoreChanges: [],
        at: 0,
    };
}

/** Shards "0".."f" (digits 1) or "00".."ff" (digits 2), round-robin over pairs. */
export function spread(pairs: string[], digits: 1 | 2): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < 16 ** digits; i++) out[i.toString(16).padStart(digits, "0")] = pairs[i % pairs.length];
    return out;
}
