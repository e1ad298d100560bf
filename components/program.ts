// The pairstore program: stack config -> validated spec -> one NodePair per pair.
import * as pulumi from "@pulumi/pulumi";
import { existsSync } from "fs";
import { ConfigError, NAMESPACE, parseClusterConfig, type ClusterSpec } from "./config";
import { NodePair } from "./node-pair";

// Not in the SDK's typings, but exported by its runtime: tells whether a key was set with --secret.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(k: string): boolean };

/** Reads and validates the stack config; secrets are checked for presence, never read as plain text. */
export function readClusterSpec(): ClusterSpec {
    const prefix = `${NAMESPACE}:`;
    const all = pulumi.runtime.allConfig();
    const presentKeys = Object.keys(all).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
    const secretKeys = presentKeys.filter((k) => isConfigSecret(prefix + k));
    const raw: Record<string, unknown> = {};
    for (const k of presentKeys) {
        if (secretKeys.includes(k)) continue;
        const text = all[prefix + k];
        try {
            raw[k] = JSON.parse(text);
        } catch {
            raw[k] = text;
        }
    }
    try {
        return parseClusterConfig(raw, { presentKeys, secretKeys, fileExists: existsSync });
    } catch (e) {
        // RunError: the CLI prints the message alone, without a stack trace.
        if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

/** Builds the cluster and returns the stack outputs. */
export function program() {
    const spec = readClusterSpec();
    const config = new pulumi.Config(NAMESPACE);
    const sshPrivateKey = config.requireSecret("sshPrivateKey");
    const secureLinkSecret = config.requireSecret("secureLinkSecret");
    const heartbeatAuthKey = config.requireSecret("heartbeatAuthKey");
    const { pairs, ...settings } = spec;
    for (const pair of pairs) {
        new NodePair(pair.name, { pair, settings, sshPrivateKey, secureLinkSecret, heartbeatAuthKey });
    }
    return {
        nodes: pairs.flatMap((p) => p.nodes.map((n) => ({
            name: n.name,
            pair: p.name,
            address: n.ssh.host,
            sshPort: n.ssh.port,
            user: n.ssh.user,
            publicIp: n.publicIp.address,
            internalAddress: n.internalAddress,
        }))),
        domains: spec.domains.map((d) => d.name),
    };
}
