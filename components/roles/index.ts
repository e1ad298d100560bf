// The roles of a node in the order they run, as pure data.
import type { ClusterSpec, NodeSpec } from "../config";
import { healthStep, revisionOf, type StepSpec } from "../host/step";
import { kernelRole } from "./kernel";
import { logDirs, logsRole } from "./logs";
import { nginxBuildRole } from "./nginx-build";
import { nginxHealthUrls, nginxSitesRole, type SitesSecrets } from "./nginx-sites";
import { packagesRole } from "./packages";
import { gateAddresses, heartbeatRole, heartbeatWaitSeconds, type HeartbeatSecrets } from "./heartbeat";
import { FAILOVER_UNIT, HEARTBEAT_UNIT, NGINX_UNIT } from "../paths";

/** What a node needs to know about the cluster (everything but the other pairs). */
export type NodeSettings = Omit<ClusterSpec, "pairs">;

/** Secrets a node's steps carry (Pulumi secrets, never plain config). */
export type NodeSecrets = SitesSecrets & HeartbeatSecrets;

/** Every step of one node, ending with its health gate. */
export function nodeSteps(settings: NodeSettings, node: NodeSpec, peer: NodeSpec, secrets: NodeSecrets): StepSpec[] {
    const steps = [
        ...packagesRole(settings),
        ...kernelRole(settings),
        ...logsRole(settings),
        ...nginxBuildRole(settings),
        ...nginxSitesRole(settings, node, peer, secrets),
        ...heartbeatRole(settings, node, peer, secrets),
    ];
    // Healthy with heartbeat: heartbeat and its monitor run, and the node holds its own IPs again.
    const gate = healthStep(revisionOf(steps),
        ["pairstore-sysctl.service", "pairstore-logs.timer", NGINX_UNIT, HEARTBEAT_UNIT, FAILOVER_UNIT],
        logDirs(settings), {
            urls: nginxHealthUrls(settings),
            addresses: gateAddresses(node, settings.heartbeat),
            timeoutSeconds: Math.max(60, heartbeatWaitSeconds(settings.heartbeat)),
        });
    return [...steps, gate];
}
