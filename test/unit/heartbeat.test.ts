// heartbeat config, files and steps: the reference deployment's ha.cf values by default,
// haresources with IPaddr_gw and virtual IPs, the authkey only as a secret,
// and every bad value refused by key (the failover monitor: failover-monitor.test.ts).
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import { parse as parseYaml } from "yaml";
import { describe, expect, test } from "vitest";
import { ConfigError, DEFAULTS, parseClusterConfig, type RawConfig } from "../../components/config";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import {
    heartbeatAuthKeyProblem, heartbeatPathsTo, heartbeatRole, renderAuthkeys, renderHaCf, renderHaresources, renderIpaddrGw,
    resourceArgs,
} from "../../components/roles/heartbeat/steps";
import { baseConfig, baseFacts, FAKE_HEARTBEAT_AUTH_KEY } from "./fixtures";
import { failoverSpec, specOf, withHeartbeatPaths } from "./role-spec";

/** node-1b's public IP as an IPaddr_gw argument. */
const PUB_B = "198.51.100.12/24/eth1/198.51.100.255/198.51.100.1";

function problemsOf(change: (c: RawConfig) => void): string[] {
    try {
        specOf(change);
        return [];
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return e.problems;
    }
}

describe("heartbeat config", () => {
    test("defaults are the reference deployment's ha.cf values", () => {
        const hb = specOf().heartbeat;
        expect(hb).toMatchObject({ keepalive: 2, deadtime: 30, warntime: 10, initdead: 120, udpport: 670, autoFailback: true, interface: "eth0" });
        expect(hb.serviceCheck).toEqual(DEFAULTS.heartbeat.serviceCheck);
        expect(specOf().pairs[0].nodes[0].virtualIps).toEqual([]);
    });

    test("Pulumi.yaml declares the authkey as a secret and the README lists every heartbeat key", () => {
        const project = parseYaml(readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8"));
        expect(project.config["pairstore:heartbeatAuthKey"]).toMatchObject({ type: "string", secret: true });
        const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
        for (const k of ["heartbeat.keepalive", "heartbeat.deadtime", "heartbeat.warntime", "heartbeat.initdead", "heartbeat.udpport",
            "heartbeat.autoFailback", "heartbeat.interface", "heartbeat.logFacility", "heartbeat.serviceCheck.interval",
            "heartbeat.serviceCheck.timeout", "heartbeat.serviceCheck.failAfter", "heartbeat.serviceCheck.recoverAfter",
            "heartbeatAuthKey", "pairs[].nodes[].virtualIps", "pairs[].nodes[].heartbeatPaths", "heartbeat.gatewayCheck",
            "nginx.clientLimits.connections", "nginx.clientLimits.requests", "nginx.clientLimits.rate", "nginx.clientLimits.headerTimeout"]) {
            expect(readme, k).toContain(`\`${k}\``);
        }
    });

    test.each<[string, (c: RawConfig) => void, string[]]>([
        ["warntime not above keepalive", (c) => { c.heartbeat = { keepalive: 2, warntime: 2 }; }, ["pairstore:heartbeat.warntime 2 must be longer than pairstore:heartbeat.keepalive 2"]],
        ["deadtime not above warntime", (c) => { c.heartbeat = { deadtime: 10 }; }, ["pairstore:heartbeat.deadtime 10 must be longer than pairstore:heartbeat.warntime 10"]],
        ["initdead too short", (c) => { c.heartbeat = { initdead: 40 }; }, ["pairstore:heartbeat.initdead 40 must be at least twice pairstore:heartbeat.deadtime (60)"]],
        ["bad port", (c) => { c.heartbeat = { udpport: 70000 }; }, ["pairstore:heartbeat.udpport 70000 is not a TCP port"]],
        ["bad interface", (c) => { c.heartbeat = { interface: "eth 0" }; }, ["pairstore:heartbeat.interface \"eth 0\" is not an interface name"]],
        ["bad facility", (c) => { c.heartbeat = { logFacility: "kern" }; }, ["pairstore:heartbeat.logFacility \"kern\" must be a syslog facility"]],
        ["unknown field", (c) => { c.heartbeat = { keepAlive: 1 }; }, ["pairstore:heartbeat.keepAlive is not a known field"]],
        ["check interval", (c) => { c.heartbeat = { serviceCheck: { interval: 0 } }; }, ["pairstore:heartbeat.serviceCheck.interval 0 must be between 1 and 300 seconds"]],
        ["check failAfter", (c) => { c.heartbeat = { serviceCheck: { failAfter: 0 } }; }, ["pairstore:heartbeat.serviceCheck.failAfter 0 must be between 1 and 100"]],
        ["virtual IP shape", (c) => { (c.pairs as any)[0].nodes[0].virtualIps = ["10.78.0.100"]; }, ["pairstore:pairs[0].nodes[0].virtualIps[0] \"10.78.0.100\" must be an address on the internal network with its prefix"]],
        ["virtual IP outside the internal network", (c) => { (c.pairs as any)[0].nodes[0].virtualIps = ["10.99.0.100/24"]; }, ["pairstore:pairs[0].nodes[0].virtualIps[0] 10.99.0.100/24 is outside the internal network of node-1a (10.78.0.11)"]],
        ["virtual IP taken", (c) => { (c.pairs as any)[0].nodes[1].virtualIps = ["10.78.0.11/24"]; }, ["pairstore:pairs[0].nodes[1].virtualIps[0] 10.78.0.11 is already used by pairstore:pairs[0].nodes[0] (node-1a)"]],
        ["virtual IP twice", (c) => { (c.pairs as any)[0].nodes[0].virtualIps = ["10.78.0.100/24"]; (c.pairs as any)[0].nodes[1].virtualIps = ["10.78.0.100/24"]; },
            ["pairstore:pairs[0].nodes[1].virtualIps[0] 10.78.0.100 is already used by pairstore:pairs[0].nodes[0].virtualIps[0]"]],
    ])("refuses %s, naming the key and the fix", (_what, change, expected) => {
        const problems = problemsOf(change);
        for (const e of expected) expect(problems.join("\n")).toContain(e);
    });

    test("the authkey must be a secret", () => {
        const raw = baseConfig();
        const facts = baseFacts(raw);
        facts.secretKeys = facts.secretKeys.filter((k) => k !== "heartbeatAuthKey");
        expect(() => parseClusterConfig(raw, facts)).toThrow(/pairstore:heartbeatAuthKey is stored in plain text: set it again with `pulumi config set --secret pairstore:heartbeatAuthKey/);
        facts.presentKeys = facts.presentKeys.filter((k) => k !== "heartbeatAuthKey");
        expect(() => parseClusterConfig(raw, facts)).toThrow(/pairstore:heartbeatAuthKey is missing/);
    });
});

describe("heartbeat files", () => {
    const spec = specOf((c) => {
        (c.pairs as any)[0].nodes[0].virtualIps = ["10.78.0.111/24"];
        c.heartbeat = { keepalive: 1, warntime: 3, deadtime: 5, initdead: 10 };
    });
    const [a, b] = spec.pairs[0].nodes;

    test("ha.cf: R1 mode, the timing, unicast to the peer's internal address, both node names", () => {
        const text = renderHaCf(spec, a, b);
        for (const line of ["crm off", "keepalive 1", "warntime 3", "deadtime 5", "initdead 10", "udpport 670",
            "ucast eth0 10.78.0.12", "auto_failback on", "node node-1a", "node node-1b", "logfacility local0"]) {
            expect(text.split("\n"), line).toContain(line);
        }
        expect(renderHaCf(spec, b, a)).toContain("ucast eth0 10.78.0.11");
        expect(text).not.toContain("{{");
    });

    test("haresources: the same on both nodes; IPaddr_gw with broadcast and gateway, then the virtual IPs", () => {
        const text = renderHaresources(spec, a, b);
        expect(renderHaresources(spec, b, a)).toBe(text);
        expect(text.split("\n")).toContain("node-1a IPaddr_gw::198.51.100.11/24/eth1/198.51.100.255/198.51.100.1 IPaddr_gw::10.78.0.111/24/eth0");
        expect(text.split("\n")).toContain("node-1b IPaddr_gw::198.51.100.12/24/eth1/198.51.100.255/198.51.100.1");
    });

    test("authkeys: sha1 with the key; a key heartbeat could not read is refused without showing it", () => {
        expect(renderAuthkeys(FAKE_HEARTBEAT_AUTH_KEY)).toMatch(new RegExp(`^auth 1\\n1 sha1 ${FAKE_HEARTBEAT_AUTH_KEY}$`, "m"));
        expect(heartbeatAuthKeyProblem("short")).toMatch(/5 characters/);
        expect(heartbeatAuthKeyProblem("has a space in the key!!")).toMatch(/spaces/);
        expect(heartbeatAuthKeyProblem("hash#in-the-key-0123456")).toMatch(/#/);
        expect(() => renderAuthkeys("short-secret")).toThrow(/^pairstore:heartbeatAuthKey is 12 characters long/);
        try { renderAuthkeys("with space 0123456789"); } catch (e) { expect(String(e)).not.toContain("with space"); }
    });

    test("IPaddr_gw parses with sh -n and manages the address with iproute2 itself (no OCF agent)", () => {
        const text = renderIpaddrGw();
        expect(spawnSync("sh", ["-n"], { input: text }).status).toBe(0);
        expect(text).not.toContain("hto-mapfuncs");
        expect(text).toContain('ip -4 addr add "$IP/$PREFIX" brd "${BROADCAST:-+}" dev "$DEV"');
        expect(text).toContain('send_arp -i 200 -r 5 -p "/run/resource-agents/send_arp-$IP" "$DEV" "$IP" auto not_used not_used');
    });

    // IPaddr_gw run by sh with stand-ins for ip, arping and the rest: the addresses of a fake interface in a file.
    function ipaddrGw(opts: { taken?: string[]; gateway?: "ok" | "lost"; held?: string[] } = {}) {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-ipaddr-gw-"));
        const bin = path.join(dir, "bin");
        const stub = (name: string, body: string) => writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
        spawnSync("mkdir", ["-p", bin]);
        writeFileSync(path.join(dir, "addrs"), (opts.held ?? []).map((a) => `2: eth1    inet ${a}/24 scope global eth1\n`).join(""));
        writeFileSync(path.join(dir, "taken"), (opts.taken ?? []).join("\n") + "\n");
        writeFileSync(path.join(dir, "gateway"), `${opts.gateway ?? "ok"}\n`);
        stub("ip", `D=${dir}
echo "ip $*" >> $D/calls
case "$*" in
  "-o -4 addr show dev"*) cat $D/addrs ;;
  "-4 addr add"*) echo "2: $8    inet $4 scope global $8" >> $D/addrs ;;
  "-4 addr del"*) grep -vF " inet $4 " $D/addrs > $D/a.tmp; mv $D/a.tmp $D/addrs ;;
esac`);
        stub("arping", `echo "$*" >> ${dir}/arping; grep -qxF "$8" ${dir}/taken && echo "Unicast reply from $8 [02:00:00:00:00:02]  0.5ms"; exit 1`);
        stub("timeout", `shift; exec "$@"`);
        stub("send_arp", `echo "send_arp $*" >> ${dir}/calls`);
        stub("logger", `echo "$*" >> ${dir}/log`);
        const script = path.join(dir, "IPaddr_gw");
        writeFileSync(script, renderIpaddrGw({ deferDir: path.join(dir, "deferred"), gatewayState: path.join(dir, "gateway") }), { mode: 0o755 });
        const run = (arg: string, action: string) => {
            const r = spawnSync("sh", [script, arg, action], { encoding: "utf8", env: { ...process.env, PAIRSTORE_TEST_BIN: bin } });
            return { status: r.status, stdout: r.stdout.trim() };
        };
        const read = (f: string) => { try { return readFileSync(path.join(dir, f), "utf8"); } catch { return ""; } };
        return { run, read, done: () => rmSync(dir, { recursive: true, force: true }) };
    }

    test("IPaddr_gw start: a free address comes up, is announced and routes; a taken one is deferred and the start still succeeds", () => {
        const free = ipaddrGw();
        try {
            expect(free.run(PUB_B, "start").status).toBe(0);
            expect(free.read("addrs")).toContain(" inet 198.51.100.12/24 ");
            expect(free.read("calls")).toContain("ip -4 addr add 198.51.100.12/24 brd 198.51.100.255 dev eth1");
            expect(free.read("calls")).toContain("ip route replace default via 198.51.100.1 dev eth1");
            expect(free.run(PUB_B, "status")).toEqual({ status: 0, stdout: "running" });
            expect(free.run(PUB_B, "stop").status).toBe(0);
            expect(free.read("addrs")).not.toContain("198.51.100.12");
            expect(free.run(PUB_B, "status")).toEqual({ status: 3, stdout: "stopped" });
            expect(free.run(PUB_B, "stop").status).toBe(0); // stop when not up succeeds (heartbeat requires it)
        } finally {
            free.done();
        }
        const taken = ipaddrGw({ taken: ["198.51.100.12"] });
        try {
            expect(taken.run(PUB_B, "start").status).toBe(0);
            expect(taken.read("addrs")).toBe("");
            expect(taken.read("calls")).not.toContain("addr add");
            expect(taken.read("deferred/198.51.100.12")).toBe(`${PUB_B}\nanswered\n`);
            expect(taken.read("log")).toContain("198.51.100.12: not brought up: another host answers ARP for it on eth1");
            expect(taken.run(PUB_B, "status").stdout).toBe("stopped");
            // heartbeat gives the group up: the deferred start is forgotten
            expect(taken.run(PUB_B, "stop").status).toBe(0);
            expect(taken.read("deferred/198.51.100.12")).toBe("");
        } finally {
            taken.done();
        }
    });

    test("IPaddr_gw: no takeover while the gateway is lost; yield releases and defers (not one heartbeat stopped); a held address is not checked again", () => {
        const lost = ipaddrGw({ gateway: "lost" });
        try {
            expect(lost.run(PUB_B, "start").status).toBe(0);
            expect(lost.read("addrs")).toBe("");
            expect(lost.read("log")).toContain("not brought up: this node does not reach its public gateway");
            // deferred for the gateway: the marker says so (not a sign that the peer is alive)
            expect(lost.read("deferred/198.51.100.12")).toBe(`${PUB_B}\ngateway\n`);
        } finally {
            lost.done();
        }
        const held = ipaddrGw({ held: ["198.51.100.12"], taken: ["198.51.100.12"] });
        try {
            expect(held.run(PUB_B, "start").status).toBe(0); // already up here: no ARP check, just the route
            expect(held.read("addrs")).toContain("198.51.100.12");
            expect(held.run(PUB_B, "yield").status).toBe(0);
            expect(held.read("addrs")).not.toContain("198.51.100.12");
            expect(held.read("deferred/198.51.100.12")).toBe(`${PUB_B}\nanswered\n`);
            // heartbeat stopped it (a handback) before the monitor's yield: no marker is left behind
            expect(held.run(PUB_B, "stop").status).toBe(0);
            expect(held.run(PUB_B, "yield").status).toBe(0);
            expect(held.read("deferred/198.51.100.12")).toBe("");
        } finally {
            held.done();
        }
        // a start deferred for the gateway that another host answers for too: the marker now says so
        const gatewayDeferred = ipaddrGw({ gateway: "lost" });
        try {
            expect(gatewayDeferred.run(PUB_B, "start").status).toBe(0);
            expect(gatewayDeferred.run(PUB_B, "yield").status).toBe(0);
            expect(gatewayDeferred.read("deferred/198.51.100.12")).toBe(`${PUB_B}\nanswered\n`);
        } finally {
            gatewayDeferred.done();
        }
    });

    test("IPaddr_gw take (the monitor's, right after its own ARP probes): comes up without probing again; stays down, not deferred, while the gateway is lost", () => {
        const free = ipaddrGw({ taken: ["198.51.100.12"] });
        try {
            expect(free.run(PUB_B, "take").status).toBe(0);
            expect(free.read("addrs")).toContain(" inet 198.51.100.12/24 ");
            expect(free.read("calls")).toContain("ip route replace default via 198.51.100.1 dev eth1");
            expect(free.read("arping")).toBe("");
        } finally {
            free.done();
        }
        const gw = ipaddrGw({ gateway: "lost" });
        try {
            expect(gw.run(PUB_B, "take").status).toBe(0);
            expect(gw.read("addrs")).toBe("");
            expect(gw.read("deferred/198.51.100.12")).toBe("");
            expect(gw.read("log")).toBe("");
        } finally {
            gw.done();
        }
    });

    test("the steps: the authkey only on the secret stdin of heartbeat-authkeys; the monitor watches every internal port", async () => {
        const steps = heartbeatRole(spec, a, b, { heartbeatAuthKey: pulumi.secret(FAKE_HEARTBEAT_AUTH_KEY) });
        const auth = steps.find((s) => s.name === "heartbeat-authkeys")!;
        expect(auth.secret).toBe(true);
        expect(pulumi.Output.isInstance(auth.stdin)).toBe(true);
        expect(await (auth.stdin as any).isSecret).toBe(true);
        for (const s of steps) {
            expect(s.script, s.name).not.toContain(FAKE_HEARTBEAT_AUTH_KEY);
            if (typeof s.stdin === "string") expect(s.stdin, s.name).not.toContain(FAKE_HEARTBEAT_AUTH_KEY);
        }
        const monitor = steps.find((s) => s.name === "failover-monitor-script")!.stdin as string;
        expect(monitor).toContain("URLS=(http://127.0.0.1:8081/.pairstore/health http://127.0.0.1:8082/.pairstore/health)");
        expect(monitor).toMatch(/^FAIL_AFTER=2$/m);
        // with auto_failback, resources heartbeat leaves with the active peer are asked back after twice deadtime + 10 s
        expect(monitor).toMatch(/^AUTO_FAILBACK=1$/m);
        expect(monitor).toMatch(new RegExp(`^RECLAIM_AFTER=${2 * spec.heartbeat.deadtime + 10}$`, "m"));
        // heartbeat is restarted by the handler when its files change, and only then
        const service = steps.find((s) => s.name === "heartbeat-service")!.script;
        const changed = heartbeatRole(specOf((c) => { c.heartbeat = { warntime: 12 }; }), a, b, { heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY })
            .find((s) => s.name === "heartbeat-service")!.script;
        expect(changed).not.toBe(service);
        expect(service).toContain("HB_OWN=(eth1=198.51.100.11/24 eth0=10.78.0.111/24)");
    });

    test("with auto_failback off the gate does not wait for the node's own IPs", () => {
        const off = specOf((c) => { c.heartbeat = { autoFailback: false }; });
        const { pairs, ...settings } = off;
        const gate = nodeSteps(settings as NodeSettings, pairs[0].nodes[0], pairs[0].nodes[1],
            { secureLinkSecret: "unit-test-secure-link-secret-0123456789", heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY },
            { owner: pairs[0].nodes[0].name, runId: "unit" }).find((s) => s.name === "health")!;
        expect(gate.script).toContain("ADDRESSES=()");
        expect(renderHaCf(off, pairs[0].nodes[0], pairs[0].nodes[1])).toMatch(/^auto_failback off$/m);
    });
});

describe("failover: heartbeat paths, gateway check and duplicate addresses", () => {
    const withPaths = withHeartbeatPaths;
    const spec = failoverSpec();
    const [a, b] = spec.pairs[0].nodes;

    test("defaults: no extra path, the gateway check on", () => {
        expect(specOf().pairs[0].nodes[0].heartbeatPaths).toEqual([]);
        expect(specOf().heartbeat.gatewayCheck).toBe(true);
        expect(a.heartbeatPaths).toEqual([{ interface: "eth1", address: "198.51.100.111", prefix: 24 }]);
    });

    test("ha.cf: one ucast line per path, the internal network first", () => {
        const lines = renderHaCf(spec, a, b).split("\n").filter((l) => l.startsWith("ucast "));
        expect(lines).toEqual(["ucast eth0 10.78.0.12", "ucast eth1 198.51.100.112"]);
        expect(heartbeatPathsTo(b, a, spec.heartbeat)).toEqual([
            { interface: "eth0", peerAddress: "10.78.0.11" }, { interface: "eth1", peerAddress: "198.51.100.111" }]);
        // without paths: the internal network only
        const plain = specOf();
        expect(renderHaCf(plain, plain.pairs[0].nodes[0], plain.pairs[0].nodes[1]).split("\n").filter((l) => l.startsWith("ucast "))).toEqual(["ucast eth0 10.78.0.12"]);
    });

    test.each<[string, (c: RawConfig) => void, string[]]>([
        ["a path on the internal interface", (c) => { withPaths(c); (c.pairs as any)[0].nodes[0].heartbeatPaths[0].interface = "eth0"; },
            ["pairstore:pairs[0].nodes[0].heartbeatPaths[0].interface eth0 is pairstore:heartbeat.interface, which is always a path"]],
        ["a peer without the path", (c) => { withPaths(c); delete (c.pairs as any)[0].nodes[1].heartbeatPaths; },
            ["pairstore:pairs[0].nodes[1].heartbeatPaths has no path on eth1, but its peer node-1a has one", "give node-1b a static address on eth1 too"]],
        ["an address without prefix", (c) => { withPaths(c); (c.pairs as any)[0].nodes[0].heartbeatPaths[0].address = "198.51.100.111"; },
            ["pairstore:pairs[0].nodes[0].heartbeatPaths[0].address \"198.51.100.111\" must be this node's static address on eth1 with its prefix"]],
        ["the public IP as a path address", (c) => { withPaths(c); (c.pairs as any)[0].nodes[1].heartbeatPaths[0].address = "198.51.100.11/24"; },
            ["pairstore:pairs[0].nodes[1].heartbeatPaths[0].address 198.51.100.11 is already used by pairstore:pairs[0].nodes[0] (node-1a)", "never moves"]],
        ["the gateway as a path address", (c) => { withPaths(c); (c.pairs as any)[0].nodes[1].heartbeatPaths[0].address = "198.51.100.1/24"; },
            ["heartbeatPaths[0].address 198.51.100.1 is already used by pairstore:pairs[0].nodes[0] (node-1a)"]],
        ["a public path outside the public subnet", (c) => { withPaths(c); (c.pairs as any)[0].nodes[0].heartbeatPaths[0].address = "192.0.2.111/24"; },
            ["pairstore:pairs[0].nodes[0].heartbeatPaths[0].address 192.0.2.111/24 is on eth1, the public interface, but outside the public subnet"]],
        ["the two ends on different subnets", (c) => {
            (c.pairs as any)[0].nodes[0].heartbeatPaths = [{ interface: "eth2", address: "192.168.5.1/30" }];
            (c.pairs as any)[0].nodes[1].heartbeatPaths = [{ interface: "eth2", address: "192.168.6.2/30" }];
        }, ["the heartbeat path on eth2 of node-1a (192.168.5.1/30) and of node-1b (192.168.6.2/30) are not on one subnet"]],
        ["an interface twice", (c) => { withPaths(c); (c.pairs as any)[0].nodes[0].heartbeatPaths.push({ interface: "eth1", address: "198.51.100.121/24" }); },
            ["pairstore:pairs[0].nodes[0].heartbeatPaths[1].interface eth1 is listed twice"]],
        ["an unknown field", (c) => { withPaths(c); (c.pairs as any)[0].nodes[0].heartbeatPaths[0].iface = "eth1"; },
            ["pairstore:pairs[0].nodes[0].heartbeatPaths[0].iface is not a known field"]],
        ["a gateway check that is not a boolean", (c) => { c.heartbeat = { gatewayCheck: "yes" }; }, ["pairstore:heartbeat.gatewayCheck must be true or false"]],
    ])("refuses %s, naming the key and the fix", (_what, change, expected) => {
        const problems = problemsOf(change);
        for (const e of expected) expect(problems.join("\n")).toContain(e);
    });

    test("a dedicated heartbeat link (crossover cable) is a path too", () => {
        const s = specOf((c) => {
            (c.pairs as any)[0].nodes[0].heartbeatPaths = [{ interface: "eth2", address: "192.168.5.1/30" }];
            (c.pairs as any)[0].nodes[1].heartbeatPaths = [{ interface: "eth2", address: "192.168.5.2/30" }];
        });
        expect(renderHaCf(s, s.pairs[0].nodes[0], s.pairs[0].nodes[1])).toMatch(/^ucast eth2 192\.168\.5\.2$/m);
    });

    test("haresources: virtual IPs are IPaddr_gw resources too (the duplicate address check), without a gateway", () => {
        expect(renderHaresources(spec, a, b).split("\n"))
            .toContain("node-1a IPaddr_gw::198.51.100.11/24/eth1/198.51.100.255/198.51.100.1 IPaddr_gw::10.78.0.111/24/eth0");
        expect(resourceArgs(a, spec.heartbeat)).toEqual(["198.51.100.11/24/eth1/198.51.100.255/198.51.100.1", "10.78.0.111/24/eth0"]);
    });

    test("the static path addresses: a script and a unit, run before heartbeat; none without paths", () => {
        const steps = heartbeatRole(spec, a, b, { heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY });
        const names = steps.map((s) => s.name);
        expect(names.slice(0, 4)).toEqual(["hostname", "heartbeat-links-script", "heartbeat-links-unit", "heartbeat-links"]);
        const script = steps.find((s) => s.name === "heartbeat-links-script")!.stdin as string;
        expect(script).toContain("ADDRESSES=(eth1=198.51.100.111/24)");
        expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
        expect(steps.find((s) => s.name === "heartbeat-links-unit")!.stdin).toMatch(/^Before=heartbeat\.service pairstore-failover\.service$/m);
        const plain = specOf();
        expect(heartbeatRole(plain, plain.pairs[0].nodes[0], plain.pairs[0].nodes[1], { heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY })
            .map((s) => s.name)).not.toContain("heartbeat-links");
    });

    test("IPaddr_gw: a duplicate address check and the gateway state before an address comes up; deferred starts succeed", () => {
        const text = renderIpaddrGw();
        expect(spawnSync("sh", ["-n"], { input: text }).status).toBe(0);
        expect(text).toContain("timeout 3 arping -D -I \"$DEV\" -c 1 -w 1 \"$IP\" 2>/dev/null | grep -q \"reply from\"");
        // no ARP check when heartbeat hands over a group its peer has just released (standby, shutdown)
        expect(text).toContain('if ! handover && answered; then');
        expect(text).toMatch(/\*mach_down\*\|\*req_resource\*\|\*failover-monitor\*\) return 1 ;;\n\s+heartbeat:\*\) return 0 ;;/);
        expect(text).toContain("DEFER_DIR=/run/pairstore/deferred");
        expect(text).toContain("GATEWAY_STATE=/run/pairstore/gateway");
        // a deferred start exits 0 (heartbeat would otherwise give the group up and go standby after 30 s)
        expect(text).toMatch(/defer answered "another host answers ARP for it on \$DEV"\n\s+exit 0/);
        expect(text).toMatch(/defer gateway "this node does not reach its public gateway"\n\s+exit 0/);
        expect(text).not.toContain("{{");
    });
});
