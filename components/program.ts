// The pairstore program: stack config -> validated spec -> one NodePair per pair.
import * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "crypto";
import { existsSync } from "fs";
import { ConfigError, NAMESPACE, parseClusterConfig, type ClusterSpec } from "./config";
import { shardRecords } from "./roles/dns/steps";
import { NodePair } from "./node-pair";
import type { PairSecrets } from "./roles";
import { ShardDns } from "./shard-dns";
import { planToConfig, SHARDS_KEY } from "./lib/shards";
import { pairRouting } from "./roles/moves/steps";

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
    const secrets: PairSecrets = {
        sshPrivateKey,
        secureLinkSecret: config.requireSecret("secureLinkSecret"),
        heartbeatAuthKey: config.requireSecret("heartbeatAuthKey"),
        rsyncSecret: spec.replication.auth ? config.requireSecret("rsyncSecret") : undefined,
    };
    const { pairs, shards, dns, ...settings } = spec;
    // New to every run: each node's replication-verify step runs on every apply (a wiped disk is refilled by a plain `pulumi up`).
    const runId = `${new Date().toISOString()} ${randomBytes(4).toString("hex")}`;
    const nodePairs = new Map<string, NodePair>();
    const drops = new Map<string, string[]>();
    // A pair joining a running cluster installs the nginx build of the first pair already there
    // (its first node, once healthy) instead of compiling it: those pairs are registered first.
    const joining = (p: { name: string }) => shards.pinned && shards.added.includes(p.name);
    const donorPair = pairs.find((p) => !joining(p))?.name;
    for (const pair of [...pairs.filter((p) => !joining(p)), ...pairs.filter(joining)]) {
        const routing = pairRouting(shards, pairs, pair.name);
        const buildFrom = joining(pair) && donorPair ? nodePairs.get(donorPair)!.nodes[0] : undefined;
        nodePairs.set(pair.name, new NodePair(pair.name, { pair, settings, secrets, runId, routing, buildFrom }));
        drops.set(pair.name, routing.drops.map((d) => d.pair));
    }
    // A pair taking shards copies them once the pairs it copies from have let it read (their allow lists).
    for (const [name, pair] of nodePairs) {
        const from = [...new Set(shards.moves.filter((m) => m.to === name).map((m) => m.from))];
        if (from.length > 0) pair.moveShards(from.flatMap((f) => nodePairs.get(f)!.served));
    }
    // A pair dropping copies of other pairs' shards checks them against those pairs once they hold their files.
    for (const [name, pair] of nodePairs) {
        const servers = drops.get(name)!;
        if (servers.length > 0) pair.dropUnserved(servers.flatMap((s) => nodePairs.get(s)!.ready));
    }
    const shardPlan = planToConfig(shards.plan);
    const pin = `pulumi config set ${SHARDS_KEY} '${JSON.stringify(shardPlan)}'`;
    if (shards.moves.length > 0) {
        const moved = shards.moves.map((m) => `${m.shard} (${m.from} -> ${m.to})`).join(", ");
        pulumi.log.warn(`shards moving with their files: ${moved}. The pairs taking them copy their files before their DNS records change, ` +
            `and read a file they lack from the old pair. Every apply until the plan is pinned copies again what reached the old pair meanwhile; ` +
            `once the DNS TTL has passed, apply once more, then pin the plan in force: ${pin}` +
            (shards.retired.length > 0 ? ` (then remove ${shards.retired.join(", ")} from ${NAMESPACE}:pairs and apply)` : ""));
    } else if (shards.added.length > 0 || !shards.pinned) {
        const why = shards.added.length > 0 ? `pair${shards.added.length > 1 ? "s" : ""} ${shards.added.join(", ")} got shards` : "no shard plan is pinned yet";
        pulumi.log.warn(`${why}: pin the plan in force (stack output shardPlan) so the next change grows from it: ${pin}`);
    }

    if (shards.copiedByHand.length > 0) {
        pulumi.log.warn(`${NAMESPACE}:shardsCopiedByHand lets shards ${shards.copiedByHand.join(" ")} change pair without their files in this apply; ` +
            `remove it once applied, so that the nodes check these shards again: pulumi config rm ${NAMESPACE}:shardsCopiedByHand`);
    }

    const shardDns: ShardDns[] = [];
    if (dns) {
        const tsigSecret = dns.rfc2136 ? config.requireSecret("dnsTsigSecret") : undefined;
        // A shard is published once the pairs serving it are provisioned (and hold its files).
        const serving = [...new Set(shards.plan.shards.map((s) => s.pair))].map((p) => nodePairs.get(p)!).filter(Boolean);
        for (const d of dns.domains) {
            shardDns.push(new ShardDns(d.domain, { domain: d.domain, ttl: d.ttl, shards: shardRecords(shards.plan, pairs, d.domain) }, {
                spec: d, rfc2136: dns.rfc2136, tsigSecret, bind: dns.bind, sshPrivateKey, checkMode: settings.checkMode,
            }, { dependsOn: serving }));
        }
    }
    const outputs = {
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
        // The plan in force, in the form of pairstore:shards: pin it with `pulumi config set pairstore:shards '<this as JSON>'`.
        shardPlan,
        shardDigits: shards.digits,
        // Shards this run moves (pinned plan -> plan in force); empty once the plan in force is pinned.
        shardMoves: shards.moves,
        dns: dns?.domains.map((d) => ({
            domain: d.domain,
            zone: d.zone,
            backend: d.backend,
            server: d.backend === "rfc2136" ? dns.rfc2136!.server : dns.bind!.server,
            ttl: d.ttl,
            names: `<shard>.image.${d.domain}`,
        })) ?? [],
    };
    if (settings.checkMode && !pulumi.runtime.isDryRun()) {
        // Once every step has reported, fail the run: Pulumi deletes only after a program
        // that succeeded, so check mode never runs the delete of a removed pair, domain or step.
        const reports: pulumi.Resource[] = [...nodePairs.values()].flatMap((p) => p.nodes.flatMap((n) => Object.values(n.steps)));
        reports.push(...shardDns.map((d) => d.records));
        return new Promise<never>((_, reject) => {
            pulumi.all(reports.map((r) => r.urn)).apply(() => reject(new pulumi.RunError(CHECK_MODE_STOP)));
        });
    }
    return outputs;
}

/** Why a check-mode run ends with an error. */
export const CHECK_MODE_STOP = "check mode (pairstore:checkMode): every step reported above what it would change (lines starting \"would:\") " +
    "and changed nothing. The run stops here on purpose, so Pulumi deletes nothing: `pulumi preview` lists what an apply would delete. " +
    "To apply: pulumi config rm pairstore:checkMode && pulumi up";
