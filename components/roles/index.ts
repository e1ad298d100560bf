// The roles of a node in the order they run, as pure data.
import type { ClusterSpec, NodeSpec } from "../config";
import { healthStep, revisionOf, type StepSpec } from "../step/step";
import { CLIENT_LIMITS_UNIT, FAILOVER_UNIT, HEARTBEAT_LINKS_UNIT, HEARTBEAT_UNIT, NGINX_UNIT } from "../lib/paths";
import { gateAddresses, heartbeatRole, heartbeatWaitSeconds, type HeartbeatSecrets } from "./heartbeat/steps";
import { kernelRole } from "./kernel/steps";
import { logDirs, logsRetireStep, logsRole } from "./logs/steps";
import { nginxBuildRole } from "./nginx/build";
import { nginxHealthUrls, nginxSitesRole, type SitesSecrets } from "./nginx/sites";
import { packagesRole } from "./packages/steps";
import { REPLICATION_UNITS, replicationRole, replicationVerifyStep, type ReplicationSecrets } from "./replication/steps";
import { readyFileOf } from "../lib/paths";

/** What a node needs to know about the cluster (everything but the other pairs, the shard plan and DNS). */
export type NodeSettings = Omit<ClusterSpec, "pairs" | "shards" | "dns">;

/** Secrets a node's steps install (Pulumi secrets, passed beside the plain settings). */
export type NodeSecrets = SitesSecrets & HeartbeatSecrets & ReplicationSecrets;

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
}

/**
 * Every step of one node. The "base" phase ends with the node's health gate
 * (the peer's base steps wait for it); the "activate" phase ends with the
 * replication health gate.
 */
export function nodeSteps(settings: NodeSettings, node: NodeSpec, peer: NodeSpec, secrets: NodeSecrets, place: NodePlace): StepSpec[] {
    const replication = replicationRole(settings, node, peer, secrets, place);
    const base = [
        ...packagesRole(settings),
        ...kernelRole(settings),
        ...logsRole(settings),
        ...nginxBuildRole(settings, node),
        ...nginxSitesRole(settings, node, peer, secrets, place.owner),
        logsRetireStep(settings),
        ...replication.filter((s) => (s.phase ?? "base") === "base"),
        ...heartbeatRole(settings, node, peer, secrets),
    ];
    const later = replication.filter((s) => (s.phase ?? "base") !== "base");
    // Healthy: its services run, and with heartbeat the node holds its own IPs again.
    const gate = healthStep(revisionOf(base),
        ["pairstore-sysctl.service", "pairstore-logs.timer", ...(settings.nginx.clientLimits.connections > 0 ? [CLIENT_LIMITS_UNIT] : []),
            NGINX_UNIT, "pairstore-rsyncd.service",
            ...(node.heartbeatPaths.length > 0 ? [HEARTBEAT_LINKS_UNIT] : []), HEARTBEAT_UNIT, FAILOVER_UNIT],
        logDirs(settings), {
            urls: nginxHealthUrls(settings),
            addresses: gateAddresses(node, settings.heartbeat),
            timeoutSeconds: Math.max(60, heartbeatWaitSeconds(settings.heartbeat, 2 + node.virtualIps.length + peer.virtualIps.length)),
        });
    // Replication runs, and every domain is ready (refilled since boot: the upload owner decides uploads only then).
    const replicationGate = {
        ...healthStep(revisionOf(later), REPLICATION_UNITS, [], {
            name: "replication-health", files: settings.domains.map((d) => readyFileOf(d.name)),
        }),
        phase: "activate" as const,
    };
    // Last, on every apply: recreate and refill a wiped root, compare and repair the pair.
    return [...base, gate, ...later, replicationGate, replicationVerifyStep(settings, place)];
}
