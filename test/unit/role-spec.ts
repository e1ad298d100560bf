// Helpers of the role unit tests: a parsed fixture spec with one change, a
// node's rendered steps, a step by name, and a bash syntax check of a step command.
import { spawnSync } from "child_process";
import { expect } from "vitest";
import { parseClusterConfig, type ClusterSpec, type RawConfig } from "../../components/config";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import type { StepSpec } from "../../components/step/step";
import { baseConfig, baseFacts, FAKE_HEARTBEAT_AUTH_KEY } from "./fixtures";

export function specOf(change: (c: RawConfig) => void = () => undefined): ClusterSpec {
    const raw = baseConfig();
    change(raw);
    return parseClusterConfig(raw, baseFacts(raw));
}

/** Gives both nodes of the first pair a second heartbeat path on eth1 (the public network). */
export function withHeartbeatPaths(c: RawConfig): void {
    (c.pairs as any)[0].nodes[0].heartbeatPaths = [{ interface: "eth1", address: "198.51.100.111/24" }];
    (c.pairs as any)[0].nodes[1].heartbeatPaths = [{ interface: "eth1", address: "198.51.100.112/24" }];
}

/** The failover tests' spec: heartbeat paths, a virtual IP on the first node, the lab's fast heartbeat timing. */
export function failoverSpec(): ClusterSpec {
    return specOf((c) => {
        withHeartbeatPaths(c);
        (c.pairs as any)[0].nodes[0].virtualIps = ["10.78.0.111/24"];
        c.heartbeat = { keepalive: 1, warntime: 3, deadtime: 5, initdead: 10, serviceCheck: { interval: 1, failAfter: 2, recoverAfter: 2 } };
    });
}

export function stepsOf(spec: ClusterSpec, pairIndex = 0, nodeIndex = 0): StepSpec[] {
    const { pairs, ...settings } = spec;
    const pair = pairs[pairIndex];
    return nodeSteps(settings as NodeSettings, pair.nodes[nodeIndex], pair.nodes[1 - nodeIndex], { secureLinkSecret: "unit-test-secure-link-secret-0123456789", heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY },
        { owner: pair.nodes[0].name, runId: "unit-run" });
}

export const byName = (steps: StepSpec[], name: string): StepSpec => {
    const s = steps.find((x) => x.name === name);
    if (!s) throw new Error(`no step ${name} in ${steps.map((x) => x.name).join(", ")}`);
    return s;
};

/** Parses `command` (a full `bash -c '...'` line) and the script inside it with `bash -n`. */
export function bashSyntax(command: string): { code: number | null; stderr: string } {
    expect(command.startsWith("bash -c '"), command.slice(0, 40)).toBe(true);
    // The outer shell unquotes the script word exactly as sshd's login shell would, then `bash -n` parses it.
    const r = spawnSync("bash", ["-c", command.replace(/^bash -c /, "bash -n -c ")], { encoding: "utf8" });
    return { code: r.status, stderr: r.stderr };
}
