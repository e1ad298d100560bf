// The roles of a node in the order they run, as pure data: every step of a
// node, its health gates (built from what each role says the gate must wait
// for) and the secrets a node pair carries.
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeSpec } from "../config";
import { readyFileOf } from "../lib/paths";
import { healthStep, revisionOf, type GateNeeds, type StepSpec } from "../step/step";
import { heartbeatGate, heartbeatRole, type HeartbeatSecrets } from "./heartbeat/steps";
import { kernelGate, kernelRole } from "./kernel/steps";
import { logsGate, logsRetireStep, logsRole } from "./logs/steps";
import { nginxBuildRole, type BuildDonor } from "./nginx/build";
import { nginxGate, nginxSitesRole, type SitesSecrets } from "./nginx/sites";
import { dropUnservedSteps, NO_ROUTING, shardMoveSteps, shardPlanSteps, type PairRouting } from "./moves/steps";
import { packagesRole } from "./packages/steps";
import { REPLICATION_UNITS, replicationGate, replicationRole, replicationVerifyStep, type ReplicationSecrets } from "./replication/steps";

/** What a node needs to know about the cluster (everything but the other pairs, the shard plan and DNS). */
export type NodeSettings = Omit<ClusterSpec, "pairs" | "shards" | "dns">;

/** Secrets a node's steps install (Pulumi secrets, passed beside the plain settings). */
export type NodeSecrets = SitesSecrets & HeartbeatSecrets & ReplicationSecrets;

/**
 * Every secret a NodePair and its StorageNodes take, in one type: both
 * components keep these out of their plain inputs, so a secret added here
 * (and to the role that installs it) never leaks into the state as plain text.
 */
export type PairSecrets = NodeSecrets & {
    /** SSH private key (a Pulumi secret). */
    sshPrivateKey: pulumi.Input<string>;
};

/** Where a node stands in its pair, and in this run. */
export interface NodePlace {
    /** Name of the pair's first node: the upload owner, whose version wins a conflict. */
    owner: string;
    /**
     * A value new to every run (`pulumi up`): the `replication-verify` step
     * carries it, so it runs on every apply and a wiped or partial disk is
     * refilled by a plain apply (preview therefore always lists that step).
     */
    runId: string;
    /** Where the node's pair sends what it does not serve, and its shard moves in this run; default none. */
    routing?: PairRouting;
    /** The node whose nginx build this node installs instead of compiling it; default none (it compiles). */
    buildDonor?: BuildDonor;
}

/**
 * What the node's health gate (end of the base phase) waits for, role by
 * role in the order they run; a role that adds a service adds it to its own
 * gate function.
 */
export function nodeGateNeeds(settings: NodeSettings, node: NodeSpec, peer: NodeSpec): GateNeeds[] {
    return [kernelGate(), logsGate(settings), nginxGate(settings), replicationGate(), heartbeatGate(settings, node, peer)];
}

/**
 * Every step of one node. The "prepare" steps (the shard plan kept, packages, the nginx build)
 * run first and on both nodes of a pair at once; the "base" phase ends with
 * the node's health gate (the peer's base steps wait for it, and its
 * revision covers the prepare steps too); the "activate" phase ends with the
 * replication health gate and the verify step; the "move" phase copies the
 * shards the pair takes, the "drop" phase removes copies of shards it gave away.
 */
export function nodeSteps(settings: NodeSettings, node: NodeSpec, peer: NodeSpec, secrets: NodeSecrets, place: NodePlace): StepSpec[] {
    const replication = replicationRole(settings, node, peer, secrets, place);
    const routing = place.routing ?? NO_ROUTING;
    const base = [
        // First: a plan that would strand files is refused before anything changes.
        ...shardPlanSteps(routing),
        ...packagesRole(settings),
        ...kernelRole(settings),
        ...logsRole(settings),
        ...nginxBuildRole(settings, node, place.buildDonor),
        ...nginxSitesRole(settings, node, peer, secrets, place.owner, routing),
        logsRetireStep(settings),
        ...replication.filter((s) => s.phase === "base"),
        ...heartbeatRole(settings, node, peer, secrets),
    ];
    const later = replication.filter((s) => s.phase !== "base");
    // Healthy: its services run, and with heartbeat the node holds its own IPs again.
    const needs = nodeGateNeeds(settings, node, peer);
    const gate = healthStep(revisionOf(base), needs.flatMap((n) => n.units ?? []), needs.flatMap((n) => n.mounts ?? []), {
        urls: needs.flatMap((n) => n.urls ?? []),
        addresses: needs.flatMap((n) => n.addresses ?? []),
        timeoutSeconds: Math.max(60, ...needs.map((n) => n.waitSeconds ?? 0)),
    });
    // Replication runs, and every domain is ready (refilled since boot: the upload owner decides uploads only then).
    const replicationGate = healthStep(revisionOf(later), REPLICATION_UNITS, [], {
        name: "replication-health", files: settings.domains.map((d) => readyFileOf(d.name)), phase: "activate",
    });
    // On every apply: recreate and refill a wiped root, compare and repair the pair.
    // Last, when the pair takes shards: copy them (ShardDns waits for it); with dropUnserved, drop copies of other pairs' shards.
    return [...base, gate, ...later, replicationGate, replicationVerifyStep(settings, place), ...shardMoveSteps(settings, routing, place.runId), ...dropUnservedSteps(settings, routing, place.runId)];
}
