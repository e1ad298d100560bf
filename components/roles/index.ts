// The roles of a node in the order they run, as pure data.
import type { ClusterSpec, NodeSpec } from "../config";
import { healthStep, revisionOf, type StepSpec } from "../host/step";
import { kernelRole } from "./kernel";
import { logDirs, logsRetireStep, logsRole } from "./logs";
import { nginxBuildRole } from "./nginx-build";
import { nginxHealthUrls, nginxSitesRole, type SitesSecrets } from "./nginx-sites";
import { packagesRole } from "./packages";
import { NGINX_UNIT } from "../paths";

/** What a node needs to know about the cluster (everything but the other pairs, the shard plan and DNS). */
export type NodeSettings = Omit<ClusterSpec, "pairs" | "shards" | "dns">;

/** Secrets a node's steps carry (Pulumi secrets, never plain config). */
export type NodeSecrets = SitesSecrets;

/** Every step of one node, ending with its health gate. */
export function nodeSteps(settings: NodeSettings, node: NodeSpec, peer: NodeSpec, secrets: NodeSecrets): StepSpec[] {
    const steps = [
        ...packagesRole(settings),
        ...kernelRole(settings),
        ...logsRole(settings),
        ...nginxBuildRole(settings),
        ...nginxSitesRole(settings, node, peer, secrets),
        logsRetireStep(settings),
    ];
    const gate = healthStep(revisionOf(steps), ["pairstore-sysctl.service", "pairstore-logs.timer", NGINX_UNIT],
        logDirs(settings), nginxHealthUrls(settings));
    return [...steps, gate];
}
