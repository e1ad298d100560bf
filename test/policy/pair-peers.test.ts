// The pair-peers policy (policies/rules/pair-peers.ts): each node's peer
// references (StorageNode args, lsyncd, rsyncd, replicate, heartbeat's ha.cf)
// name the other node of its pair and nothing else.
import { beforeAll, describe, expect, it } from "vitest";
import { lsyncdTargets, PEER_REFERENCES, replicatePeer, rsyncdHostsAllow, stdinOf, type PeerReferenceSource } from "../../policies/rules/pair-peers";
import type { Recorded as Registered } from "../engine/record";
import { clone, COMMAND, find, NODE } from "./fixtures";
import { messagesOf, runPolicies } from "./policy-args";
import { validStack } from "./stack";
import { program } from "../../components/program";
import { recordProgram } from "../engine/record";
import { validConfig } from "./fixtures";

let stack: Registered[];
beforeAll(async () => {
    stack = await validStack();
});

const run = async (rs: Registered[]) => messagesOf(await runPolicies(rs), "pair-peers");

describe("pair-peers", () => {
    it("passes when each node's peer is the other node of its pair", async () => {
        expect(await run(stack)).toEqual([]);
    });

    it("fails a node whose peer is a node of another pair", async () => {
        const rs = clone(stack);
        const b1 = find(rs, NODE, "b1");
        b1.inputs.peer = find(rs, NODE, "c1").inputs.node;
        const msgs = await run(rs);
        expect(msgs.length).toBeGreaterThan(0);
        expect(msgs[0]).toBe("node b1 of pair p1 points at c1 as its peer (args.peer.name), which is node c1 of pair p2; " +
            "its peer is node a1 (public IP 203.0.113.11, internal 10.1.0.11).");
        expect(msgs).toContainEqual(expect.stringContaining("node b1 of pair p1 points at 10.1.0.21 as its peer (args.peer.internalAddress), which is node c1 of pair p2"));
        expect(msgs.every((m) => m.startsWith("node b1 of pair p1"))).toBe(true);
    });

    it("fails a node whose peer address points elsewhere", async () => {
        const rs = clone(stack);
        const a1 = find(rs, NODE, "a1");
        a1.inputs.peer = { ...a1.inputs.peer, internalAddress: "10.9.9.9" };
        expect(await run(rs)).toEqual([
            "node a1 of pair p1 points at 10.9.9.9 as its peer (args.peer.internalAddress), which is no node of this stack; " +
            "its peer is node b1 (public IP 203.0.113.12, internal 10.1.0.12).",
        ]);
    });

    it("fails a node that names itself as its peer", async () => {
        const rs = clone(stack);
        const d1 = find(rs, NODE, "d1");
        d1.inputs.peer = d1.inputs.node;
        const msgs = await run(rs);
        expect(msgs[0]).toMatch(/^node d1 of pair p2 names itself as its peer/);
        expect(msgs).toContainEqual(expect.stringContaining("node d1 of pair p2 points at d1 as its peer (args.peer.name), which is the node itself"));
    });

    it("fails a node that claims another pair", async () => {
        const rs = clone(stack);
        find(rs, NODE, "c1").inputs.pair = "p1";
        expect(await run(rs)).toEqual(["node c1 says it belongs to pair p1, but it is a node of pair p2."]);
    });

    it("fails when the StorageNode args are not visible", async () => {
        const rs = clone(stack);
        find(rs, NODE, "a1").inputs = {};
        expect(await run(rs)).toEqual([expect.stringMatching(/^node a1 of pair p1: its StorageNode args are not visible/)]);
    });

    it("checks heartbeat's peer in ha.cf: the ucast address and the other node name", async () => {
        const rs = clone(stack);
        const haCf = (node: string) => find(rs, COMMAND, `${node}-heartbeat-config`);
        // the real program's ha.cf passes: each node sends to its peer's internal address
        expect(haCf("a1").inputs.stdin).toMatch(/^ucast eth0 10\.1\.0\.12$/m);
        expect(haCf("b1").inputs.stdin).toMatch(/^ucast eth0 10\.1\.0\.11$/m);
        // d1 sends its heartbeats to b1 (another pair) and lists a stray node
        const d1 = haCf("d1");
        d1.inputs.stdin = d1.inputs.stdin.replace(/^ucast eth0 \S+$/m, "ucast eth0 10.1.0.12").replace(/^node c1$/m, "node c1\nnode x9");
        d1.outputs = { ...d1.outputs, stdin: d1.inputs.stdin };
        expect(await run(rs)).toEqual([
            "node d1 of pair p2 points at 10.1.0.12 as its peer (heartbeat ucast in ha.cf), which is node b1 of pair p1; " +
            "its peer is node c1 (public IP 203.0.113.21, internal 10.1.0.21).",
            "node d1 of pair p2 points at x9 as its peer (heartbeat node in ha.cf), which is no node of this stack; " +
            "its peer is node c1 (public IP 203.0.113.21, internal 10.1.0.21).",
        ]);
    });

    it("checks every heartbeat path: a ucast to the peer's static address on another link passes, one to another node's fails", async () => {
        // p1's nodes get a second heartbeat path on the public network
        const { config, secretKeys } = validConfig();
        const pairs = JSON.parse(config["pairstore:pairs"]);
        pairs[0].nodes[0].heartbeatPaths = [{ interface: "eth1", address: "203.0.113.111/24" }];
        pairs[0].nodes[1].heartbeatPaths = [{ interface: "eth1", address: "203.0.113.112/24" }];
        const rs = await recordProgram(program, { ...config, "pairstore:pairs": JSON.stringify(pairs) }, secretKeys, { stack: "policy" });
        const a1 = find(rs, COMMAND, "a1-heartbeat-config");
        expect(a1.inputs.stdin).toMatch(/^ucast eth0 10\.1\.0\.12\nucast eth1 203\.0\.113\.112$/m);
        expect(await run(rs)).toEqual([]);
        // a1's public path points at d1's public IP instead of b1's static address
        a1.inputs.stdin = a1.inputs.stdin.replace(/^ucast eth1 \S+$/m, "ucast eth1 203.0.113.22");
        a1.outputs = { ...a1.outputs, stdin: a1.inputs.stdin };
        expect(await run(rs)).toEqual([
            "node a1 of pair p1 points at 203.0.113.22 as its peer (heartbeat ucast in ha.cf), which is node d1 of pair p2; " +
            "its peer is node b1 (public IP 203.0.113.12, internal 10.1.0.12).",
        ]);
    });

    it("takes further peer references from step content (how replication rules plug in)", async () => {
        // A stand-in for a later lsyncd step: `target <peer>` lines in its config.
        const lsyncd: PeerReferenceSource = (node) =>
            [...(stdinOf(node, "lsyncd-config") ?? "").matchAll(/^target (\S+)$/gm)].map((m) => ({ what: "lsyncd target", value: m[1] }));
        PEER_REFERENCES.push(lsyncd);
        try {
            const rs = clone(stack);
            const step = (node: string, peerIp: string): Registered => {
                const base = clone([find(rs, COMMAND, `${node}-limits`)])[0];
                base.name = `${node}-lsyncd-config`;
                base.urn = base.urn.replace(/::[^:]+$/, `::${base.name}`);
                base.inputs.stdin = `target ${peerIp}\n`;
                base.outputs = { ...base.inputs };
                return base;
            };
            rs.push(step("a1", "10.1.0.12"), step("b1", "10.1.0.11"), step("c1", "10.1.0.22"), step("d1", "10.1.0.12"));
            expect(await run(rs)).toEqual([
                "node d1 of pair p2 points at 10.1.0.12 as its peer (lsyncd target), which is node b1 of pair p1; " +
                "its peer is node c1 (public IP 203.0.113.21, internal 10.1.0.21).",
            ]);
        } finally {
            PEER_REFERENCES.splice(PEER_REFERENCES.indexOf(lsyncd), 1);
        }
    });

    it("reads the replication peer from lsyncd targets, rsyncd's allow list and the replicate helper", () => {
        expect(lsyncdTargets('sync {\n    target = "10.1.0.12::example.com/",\n}\nsync {\n    target = "pairstore@10.1.0.12::example.org/",\n}')).toEqual(["10.1.0.12", "10.1.0.12"]);
        expect(rsyncdHostsAllow("hosts allow = 10.1.0.12\n[m]\n    hosts allow = 10.1.0.9, 10.1.0.8 10.1.0.7\n")).toEqual(["10.1.0.12", "10.1.0.9", "10.1.0.8", "10.1.0.7"]);
        expect(replicatePeer("#!/bin/bash\nPEER=10.1.0.12\nX=1\n")).toEqual(["10.1.0.12"]);
        expect(replicatePeer("PEER='10.1.0.12'\n")).toEqual(["10.1.0.12"]);
    });

    it("the real program's replication steps name the peer and nothing else", async () => {
        const steps = stack.filter((r) => r.type === COMMAND && /-(lsyncd-config|rsyncd-config|replicate-script)$/.test(r.name));
        expect(steps.length).toBe(12);
        expect(await run(stack)).toEqual([]);
    });

    it("fails a node whose lsyncd pushes to, or whose rsyncd admits, a node of another pair", async () => {
        const rs = clone(stack);
        const lsyncd = find(rs, COMMAND, "b1-lsyncd-config");
        lsyncd.inputs.stdin = String(lsyncd.inputs.stdin).split("10.1.0.11::").join("10.1.0.21::");
        const rsyncd = find(rs, COMMAND, "c1-rsyncd-config");
        rsyncd.inputs.stdin = String(rsyncd.inputs.stdin).replace(/^hosts allow = .*$/m, "hosts allow = 10.1.0.22 10.1.0.12");
        const replicate = find(rs, COMMAND, "d1-replicate-script");
        replicate.inputs.stdin = String(replicate.inputs.stdin).replace(/^PEER=.*$/m, "PEER=10.9.9.9");
        expect(await run(rs)).toEqual([
            "node b1 of pair p1 points at 10.1.0.21 as its peer (lsyncd target), which is node c1 of pair p2; its peer is node a1 (public IP 203.0.113.11, internal 10.1.0.11).",
            "node c1 of pair p2 points at 10.1.0.12 as its peer (rsyncd hosts allow), which is node b1 of pair p1; its peer is node d1 (public IP 203.0.113.22, internal 10.1.0.22).",
            "node d1 of pair p2 points at 10.9.9.9 as its peer (catch-up/refill peer), which is no node of this stack; its peer is node c1 (public IP 203.0.113.21, internal 10.1.0.21).",
        ]);
    });
});
