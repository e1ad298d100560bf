// The real program under mocks: what it registers, how steps are wired, and
// that the SSH private key only ever travels as a secret.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { parseClusterConfig } from "../../components/config";
import { renderSysctlConf } from "../../components/roles/kernel/steps";
import { FAKE_PRIVATE_KEY, HOST_KEYS, clusterConfig, pulumiConfigMap, baseFacts, SECRET_KEYS } from "./fixtures";
import { isSecret as isWireSecret, type Recorded as Registered, unwrapSecrets, withoutSecrets, startRecording } from "../engine/record";

const raw = { ...clusterConfig(2), nofile: 16384, sysctl: { "net.core.somaxconn": 4096 } };
const spec = parseClusterConfig(raw, baseFacts(raw));

let records: Registered[];
let outputs: any;
beforeAll(async () => {
    const recording = startRecording(pulumiConfigMap(raw), SECRET_KEYS);
    records = recording.records;
    // Imported after the mocks, as the engine does.
    const { program } = await import("../../components/program");
    outputs = await pulumi.runtime.runInPulumiStack(async () => program());
    await recording.settle();
});

const ofType = (t: string) => records.filter((r) => r.type === t);
const commands = () => ofType("command:remote:Command");
const cmd = (name: string) => {
    const r = commands().find((c) => c.name === name);
    if (!r) throw new Error(`no command ${name}; have ${commands().map((c) => c.name).join(", ")}`);
    return r;
};
const NODES = ["node-1a", "node-1b", "node-2a", "node-2b"];

describe("program() under mocks", () => {
    test("one NodePair per pair, one StorageNode per node, under the right parents", () => {
        const pairs = ofType("pairstore:index:NodePair");
        expect(pairs.map((p) => p.name)).toEqual(["pair-1", "pair-2"]);
        const nodes = ofType("pairstore:index:StorageNode");
        expect(nodes.map((n) => n.name).sort()).toEqual(NODES);
        for (const n of nodes) {
            const pair = pairs.find((p) => p.urn === n.parent);
            expect(pair, n.name).toBeDefined();
            expect(n.name.startsWith(pair!.name.replace("pair-", "node-"))).toBe(true);
        }
        expect(records.every((r) => r.urn !== "")).toBe(true);
    });

    test("components carry plain data args that policies can read", () => {
        const pair = ofType("pairstore:index:NodePair")[0];
        expect(pair.inputs.pair.nodes.map((n: any) => n.name)).toEqual(["node-1a", "node-1b"]);
        expect(pair.inputs.settings.nofile).toBe(16384);
        const node = ofType("pairstore:index:StorageNode").find((n) => n.name === "node-1b")!;
        expect(node.inputs.node.publicIp.address).toBe("198.51.100.12");
        expect(node.inputs.peer.name).toBe("node-1a");
        expect(node.inputs.sshPrivateKey).toBeUndefined();
    });

    test("step resources are named <node>-<step>, children of their StorageNode", () => {
        const nodes = ofType("pairstore:index:StorageNode");
        for (const node of NODES) {
            const mine = commands().filter((c) => c.name.startsWith(`${node}-`));
            expect(mine.map((c) => c.name)).toContain(`${node}-packages`);
            expect(mine.map((c) => c.name)).toContain(`${node}-sysctl`);
            expect(mine.map((c) => c.name)).toContain(`${node}-health`);
            expect(mine[mine.length - 1].name).toBe(`${node}-replication-verify`);
            const parent = nodes.find((n) => n.name === node)!;
            for (const c of mine) expect(c.parent, c.name).toBe(parent.urn);
        }
        const names = commands().map((c) => c.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names.length).toBe(NODES.length * 58);
    });

    test("the connection pins the host key and carries host, port and user", () => {
        for (const c of commands()) {
            const node = c.name.slice(0, "node-1a".length) as keyof typeof HOST_KEYS;
            const conn = unwrapSecrets(c.inputs.connection);
            expect(conn.hostKey, c.name).toBe(HOST_KEYS[node]);
            expect(conn.host).toBe(`10.77.0.${10 + NODES.indexOf(node) + 1}`);
            expect(conn.port).toBe(22);
            expect(conn.user).toBe("root");
        }
    });

    test("the private key is a secret in wire form and never appears in plain text", () => {
        for (const c of commands()) {
            // pulumi.secret(privateKey) makes the whole connection object a secret on the wire
            // (the command provider's schema marks `connection` secret too).
            expect(isWireSecret(c.inputs.connection), c.name).toBe(true);
            expect(unwrapSecrets(c.inputs.connection).privateKey).toBe(FAKE_PRIVATE_KEY);
            expect(withoutSecrets(c.inputs).connection).toBe("[secret]");
        }
        const body = FAKE_PRIVATE_KEY.split("\n")[1];
        for (const r of records) expect(JSON.stringify(withoutSecrets(r.inputs)), `${r.type} ${r.name}`).not.toContain(body);
        expect(JSON.stringify(outputs)).not.toContain(body);
    });

    test("create and update run the same converge script; delete undoes the step", () => {
        for (const c of commands()) {
            expect(typeof c.inputs.create).toBe("string");
            expect(c.inputs.update, c.name).toBe(c.inputs.create);
            expect(c.inputs.create).toMatch(/^bash -c '# pairstore converge-step prelude/);
            expect(c.inputs.create).toMatch(/^CHECK=0$/m);
            // only the steps carrying the secure_link secret and heartbeat's authkey log nothing
            expect(c.inputs.logging, c.name).toBe(/-(nginx-secure-link-secret|heartbeat-authkeys)$/.test(c.name) ? "none" : "stdoutAndStderr");
            expect(c.inputs.triggers).toBeUndefined();
        }
        expect(cmd("node-1a-sysctl").inputs.delete).toContain("rm -f /etc/sysctl.d/60-pairstore.conf");
        expect(cmd("node-1a-health").inputs.delete).toBeUndefined();
    });

    test("stdin carries the managed file's text", () => {
        expect(cmd("node-2b-sysctl").inputs.stdin).toBe(renderSysctlConf(spec.sysctl));
        expect(cmd("node-2b-sysctl").inputs.stdin).toContain("net.core.somaxconn = 4096");
        expect(cmd("node-1a-limits").inputs.stdin).toMatch(/^\*\s+soft\s+nofile\s+16384$/m);
        expect(cmd("node-1a-logs-timer-unit").inputs.stdin).toMatch(/^OnUnitActiveSec=5min$/m);
        expect(cmd("node-1a-packages").inputs.stdin).toBeUndefined();
    });

    test("inside a node every step waits for the one before", () => {
        for (const node of NODES) {
            const mine = commands().filter((c) => c.name.startsWith(`${node}-`));
            const gate = mine.findIndex((c) => c.name === `${node}-health`);
            for (let i = 1; i <= gate; i++) expect(mine[i].dependencies, mine[i].name).toContain(mine[i - 1].urn);
            // the activate phase: lsyncd, the catch-up timer, the replication gate
            expect(cmd(`${node}-catchup-timer`).dependencies).toEqual([cmd(`${node}-lsyncd-service`).urn]);
            expect(cmd(`${node}-replication-health`).dependencies).toEqual([cmd(`${node}-catchup-timer`).urn]);
            expect(cmd(`${node}-replication-verify`).dependencies).toEqual([cmd(`${node}-replication-health`).urn]);
        }
    });

    test("the pair's first node is the upload owner; the run id stays out of the components' inputs", () => {
        for (const [a, b] of [["node-1a", "node-1b"], ["node-2a", "node-2b"]]) {
            for (const n of [a, b]) {
                const node = ofType("pairstore:index:StorageNode").find((x) => x.name === n)!;
                expect(node.inputs.owner, n).toBe(a);
                expect(node.inputs.runId).toBeUndefined();
                expect(cmd(`${n}-nginx-site-example.com`).inputs.stdin).toContain(`Upload owner of the pair: ${a}.`);
            }
        }
        for (const p of ofType("pairstore:index:NodePair")) expect(p.inputs.runId).toBeUndefined();
        // the verify step carries this run's id: it runs on every apply
        expect(cmd("node-1a-replication-verify").inputs.create).toMatch(/\(this run: \d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f]{8}\)/);
    });

    test("a pair merges both disks before lsyncd is first enabled on it, then activates one node at a time", () => {
        for (const [a, b] of [["node-1a", "node-1b"], ["node-2a", "node-2b"]]) {
            // both base phases, then A's merge, B's merge, A's activation, B's activation
            expect(cmd(`${a}-replication-merge`).dependencies).toEqual([cmd(`${b}-health`).urn]);
            expect(cmd(`${b}-replication-merge`).dependencies).toEqual([cmd(`${a}-replication-merge`).urn]);
            expect(cmd(`${a}-lsyncd-service`).dependencies).toEqual([cmd(`${b}-replication-merge`).urn]);
            expect(cmd(`${b}-lsyncd-service`).dependencies).toEqual([cmd(`${a}-replication-verify`).urn]);
        }
    });

    test("lsyncd pushes each domain to the peer's internal address; rsyncd lets only the peer in", () => {
        const lsyncd = cmd("node-1a-lsyncd-config").inputs.stdin as string;
        expect(lsyncd).toContain('target = "10.78.0.12::example.com/"');
        expect(lsyncd).toContain('target = "10.78.0.12::example.org/"');
        expect(lsyncd).toContain('delete = "running"');
        expect(lsyncd).toMatch(/insist = true/);
        expect(lsyncd).toMatch(/delay = 1,/);
        const rsyncd = cmd("node-1b-rsyncd-config").inputs.stdin as string;
        expect(rsyncd).toMatch(/^hosts allow = 10\.78\.0\.11$/m);
        expect(rsyncd).toMatch(/^address = 10\.78\.0\.12$/m);
        expect(rsyncd).not.toContain("auth users");
        expect(records.some((r) => r.name.endsWith("-rsync-secret"))).toBe(false);
    });

    test("both nodes of a pair prepare at once; the second node's base steps start after its own build and the first node's health gate", () => {
        for (const [a, b] of [["node-1a", "node-1b"], ["node-2a", "node-2b"]]) {
            // first of all, each node checks the shard plan against the one it kept
            expect(cmd(`${a}-shard-plan`).dependencies).toEqual([]);
            expect(cmd(`${b}-shard-plan`).dependencies).toEqual([]);
            expect(cmd(`${a}-packages`).dependencies).toEqual([cmd(`${a}-shard-plan`).urn]);
            expect(cmd(`${b}-packages`).dependencies).toEqual([cmd(`${b}-shard-plan`).urn]);
            expect(cmd(`${a}-nginx-build`).dependencies).toEqual([cmd(`${a}-packages`).urn]);
            // the second node installs the first node's build once the first is healthy (its base steps wait for that anyway)
            expect([...cmd(`${b}-nginx-build`).dependencies].sort()).toEqual([cmd(`${b}-packages`).urn, cmd(`${a}-nginx-build`).urn, cmd(`${a}-health`).urn].sort());
            expect(cmd(`${a}-kernel-modules`).dependencies).toEqual([cmd(`${a}-nginx-build`).urn]);
            expect(cmd(`${b}-kernel-modules`).dependencies).toEqual([cmd(`${b}-nginx-build`).urn, cmd(`${a}-health`).urn]);
        }
        // pairs roll independently of each other
        expect(cmd("node-2a-packages").dependencies).not.toContain(cmd("node-1b-health").urn);
    });

    test("the stack outputs list the nodes and the domains", () => {
        expect(outputs.domains).toEqual(["example.com", "example.org"]);
        expect(outputs.nodes.map((n: any) => [n.name, n.pair, n.address, n.publicIp])).toEqual([
            ["node-1a", "pair-1", "10.77.0.11", "198.51.100.11"],
            ["node-1b", "pair-1", "10.77.0.12", "198.51.100.12"],
            ["node-2a", "pair-2", "10.77.0.13", "198.51.100.13"],
            ["node-2b", "pair-2", "10.77.0.14", "198.51.100.14"],
        ]);
    });
});
