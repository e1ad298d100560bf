// The roles of a node in the order they run, as pure data.
import type { ClusterSpec, NodeSpec } from "../config";
import { healthStep, revisionOf, type StepSpec } from "../host/step";
import { kernelRole } from "./kernel";
import { logDirs, logsRole } from "./logs";
import { packagesRole } from "./packages";

/** What a node needs to know about the cluster (everything but the other pairs, the shard plan and DNS). */
export type NodeSettings = Omit<ClusterSpec, "pairs" | "shards" | "dns">;

/** Every step of one node, ending with its health gate. */
export function nodeSteps(settings: NodeSettings, _node: NodeSpec, _peer: NodeSpec): StepSpec[] {
    const steps = [
        ...packagesRole(settings),
        ...kernelRole(settings),
        ...logsRole(settings),
    ];
    const gate = healthStep(revisionOf(steps), ["pairstore-sysctl.service", "pairstore-logs.timer"], logDirs(settings));
    return [...steps, gate];
}
