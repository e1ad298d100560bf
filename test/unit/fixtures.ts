// A valid stack config that the unit tests mutate, one change per case (built
// with test/stack-config.ts: pair-N, node-Na/b, 10.77.0.0/24), and sandbox
// folders the step and replication tests run against.
import { mkdirSync } from "fs";
import * as path from "path";
import { ConfigError, parseClusterConfig, type ConfigFacts, type RawConfig } from "../../components/config";
import { digitsFor } from "../../components/lib/shards";
import { programConfigOf, stackConfig, stackNode, type StackNetworks } from "../stack-config";

/** The fixture's networks: SSH 10.77.0.0/24 (as root), internal 10.78.0.0/24, public 198.51.100.0/24. */
const UNIT_NETWORKS: StackNetworks = {
    ssh: "10.77.0", internal: "10.78.0", public: "198.51.100", publicPrefix: 24, publicGateway: "198.51.100.1", sshUser: "root",
};
/** /16 networks for clusters of more than 120 pairs (bench:program). */
const BIG_NETWORKS: StackNetworks = {
    ssh: "10.77", internal: "10.78", public: "10.100", publicPrefix: 16, publicGateway: "10.100.0.1", sshUser: "root",
};

/** Pinned host keys of the fixture nodes (well-formed, not real). */
export const HOST_KEYS = {
    "node-1a": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyNode1aAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "node-1b": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyNode1bAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "node-2a": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyNode2aAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "node-2b": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyNode2bAAAAAAAAAAAAAAAAAAAAAAAAAAA",
} as const;

/** A fake secure_link secret: only its secrecy is tested here. */
export const FAKE_SECURE_LINK_SECRET = "unit-test-secure-link-secret-0123456789";

/** A fake heartbeat authkey: only its secrecy is tested here. */
export const FAKE_HEARTBEAT_AUTH_KEY = "unit-test-heartbeat-auth-key-0123456789";

/** The stack's secret config keys, as the CLI marks them. */
export const SECRET_KEYS = ["pairstore:sshPrivateKey", "pairstore:secureLinkSecret", "pairstore:heartbeatAuthKey"];

/** A fake private key: only its secrecy is tested, never its use. */
export const FAKE_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nZmFrZS1rZXktZm9yLXBhaXJzdG9yZS11bml0LXRlc3Rz\n-----END OPENSSH PRIVATE KEY-----\n";

/** Name, octet and host key of pair `p`'s node `n`. */
function unitNode(p: number, n: number) {
    const name = `node-${p}${n === 0 ? "a" : "b"}`;
    const octet = 10 + 2 * (p - 1) + n + 1;
    const hostKey = (HOST_KEYS as Record<string, string>)[name]
        ?? `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(name).toString("base64").replace(/=/g, "")}`;
    return { name, octet, hostKey };
}

/** Node config for pair `p` (1-based), node `n` (0 or 1) in the fixture's /24 networks (up to 120 pairs). */
export function nodeConfig(p: number, n: number) {
    return stackNode(UNIT_NETWORKS, unitNode(p, n));
}

/** A valid raw config (the values `pulumi config` holds, already parsed) with two pairs and two domains. */
export function baseConfig(): RawConfig {
    return clusterConfig(2);
}

/** Facts of a config whose private key is set as a secret. */
export function baseFacts(raw: RawConfig): ConfigFacts {
    return {
        presentKeys: [...Object.keys(raw), "sshPrivateKey", "secureLinkSecret", "heartbeatAuthKey"],
        secretKeys: ["sshPrivateKey", "secureLinkSecret", "heartbeatAuthKey"],
    };
}

/** A cluster config of `pairs` pairs (for the program test and the benchmark). */
export function clusterConfig(pairs: number): RawConfig {
    return stackConfig({
        networks: pairs <= 120 ? UNIT_NETWORKS : BIG_NETWORKS,
        pairs: Array.from({ length: pairs }, (_, i) => ({ name: `pair-${i + 1}`, nodes: [unitNode(i + 1, 0), unitNode(i + 1, 1)] })),
        values: {
            domains: [
                { name: "example.com", internalPort: 8081 },
                { name: "example.org", internalPort: 8082 },
            ],
            // The digits a user would need (the program's rule); the default 1 is left unset. Above 256 pairs none do: the config is refused.
            ...(digitsFor(pairs) === 2 ? { shardDigits: 2 } : {}),
        },
        secrets: {},
    }).values;
}

/** The config map the Pulumi CLI hands the program (`pairstore:key` -> text, objects as JSON). */
export function pulumiConfigMap(raw: RawConfig, privateKey = FAKE_PRIVATE_KEY): Record<string, string> {
    return programConfigOf({
        values: raw,
        secrets: { sshPrivateKey: privateKey, secureLinkSecret: FAKE_SECURE_LINK_SECRET, heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY },
    }).config;
}

/** Parses a config and returns its problems (an empty list when it is valid). */
export function problemsOf(raw: RawConfig, facts: ConfigFacts = baseFacts(raw)): string[] {
    try {
        parseClusterConfig(raw, facts);
        return [];
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
    }
}

/** An image root under `base` (`data/example.com/image`) with its 4096 layout folders. */
export function layoutRoot(base: string): string {
    const root = path.join(base, "data", "example.com", "image");
    const hex = "0123456789abcdef".split("");
    for (const x of hex) for (const y of hex) for (const z of hex) mkdirSync(path.join(root, x, y, z), { recursive: true });
    return root;
}
