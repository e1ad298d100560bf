// heartbeat config, files and steps: the reference deployment's ha.cf values by default,
// haresources with IPaddr_gw and virtual IPs, the authkey only as a secret,
// the service monitor, and every bad value refused by key.
import { spawn, spawnSync } from "child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import { parse as parseYaml } from "yaml";
import { describe, expect, test } from "vitest";
import { ConfigError, DEFAULTS, parseClusterConfig, type ClusterSpec, type RawConfig } from "../../components/config";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import {
    ARP_CHECK, heartbeatAuthKeyProblem, heartbeatPathsTo, heartbeatRole, renderAuthkeys, renderFailoverMonitor, renderHaCf, renderHaresources, renderIpaddrGw,
    resourceArgs, restartGraceSeconds, stopTimeoutSeconds,
} from "../../components/roles/heartbeat/steps";
import { nginxHealthUrls } from "../../components/roles/nginx/sites";
import { baseConfig, baseFacts, FAKE_HEARTBEAT_AUTH_KEY } from "./fixtures";

function specOf(change: (c: RawConfig) => void = () => undefined): ClusterSpec {
    const raw = baseConfig();
    change(raw);
    return parseClusterConfig(raw, baseFacts(raw));
}

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
    const PUB_B = "198.51.100.12/24/eth1/198.51.100.255/198.51.100.1";

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

    test("IPaddr_gw: no takeover while the gateway is lost; yield releases and defers; a held address is not checked again", () => {
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
        } finally {
            held.done();
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
    const withPaths = (c: RawConfig) => {
        (c.pairs as any)[0].nodes[0].heartbeatPaths = [{ interface: "eth1", address: "198.51.100.111/24" }];
        (c.pairs as any)[0].nodes[1].heartbeatPaths = [{ interface: "eth1", address: "198.51.100.112/24" }];
    };
    const spec = specOf((c) => {
        withPaths(c);
        (c.pairs as any)[0].nodes[0].virtualIps = ["10.78.0.111/24"];
        c.heartbeat = { keepalive: 1, warntime: 3, deadtime: 5, initdead: 10, serviceCheck: { interval: 1, failAfter: 2, recoverAfter: 2 } };
    });
    const [a, b] = spec.pairs[0].nodes;
    const PUB_B = "198.51.100.12/24/eth1/198.51.100.255/198.51.100.1";

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

    test("the monitor: every path's peer resources, the gateway and the restart grace filled in", () => {
        const text = renderFailoverMonitor(spec, a, b);
        expect(spawnSync("bash", ["-n"], { input: text }).status).toBe(0);
        for (const line of ["OWN=(198.51.100.11/24/eth1/198.51.100.255/198.51.100.1 10.78.0.111/24/eth0)",
            "FOREIGN=(198.51.100.12/24/eth1/198.51.100.255/198.51.100.1)", "GATEWAY=198.51.100.1", "PUBLIC_IF=eth1", "GATEWAY_CHECK=1",
            "RESTART_GRACE=2", "AUTO_FAILBACK=1", "RECLAIM_AFTER=20", "NGINX=pairstore-nginx.service", "RESOURCE=/etc/ha.d/resource.d/IPaddr_gw"]) {
            expect(text.split("\n"), line).toContain(line);
        }
        expect(restartGraceSeconds(DEFAULTS.heartbeat)).toBe(10);
        expect(renderFailoverMonitor(specOf((c) => { c.heartbeat = { gatewayCheck: false }; }), a, b)).toMatch(/^GATEWAY_CHECK=0$/m);
    });

    // The monitor's decision, run by bash on the rendered script with the facts of each case.
    type Facts = {
        hb_up: 0 | 1; hb_state?: string; nginx_bad?: 0 | 1; nginx_blip?: 0 | 1; gw_bad?: 0 | 1; oks?: number; peer?: string; deferred?: 0 | 1; split?: 0 | 1;
        rsc?: string; wrong_for?: number; orphans?: 0 | 1;
    };
    const decideAll = (cases: Facts[]): string[] => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const body = cases.map((c) => {
                const f = { hb_state: c.hb_up ? "active" : "inactive", nginx_bad: 0, nginx_blip: 0, gw_bad: 0, oks: 0, peer: "active", deferred: 0, split: 0, rsc: "local", wrong_for: 0, orphans: 0, ...c };
                return Object.entries(f).map(([k, v]) => `${k}=${v}`).join(" ") + '; decide; echo "$action"';
            }).join("\n");
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}\n${body}`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            return r.stdout.trim().split("\n");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    };

    test.each<[string, Facts, string]>([
        ["healthy, peer up", { hb_up: 1 }, "serving"],
        ["nginx fails", { hb_up: 1, nginx_bad: 1 }, "stop-nginx"],
        ["nginx fails, the peer is gone (dead, nothing of it deferred)", { hb_up: 1, nginx_bad: 1, peer: "dead" }, "alone"],
        ["nginx fails during a partition (the peer holds its addresses)", { hb_up: 1, nginx_bad: 1, peer: "dead", deferred: 1 }, "stop-nginx"],
        ["the gateway is lost, even with the peer gone", { hb_up: 1, gw_bad: 1, peer: "dead" }, "stop-gateway"],
        ["systemd restarts nginx", { hb_up: 1, nginx_blip: 1 }, "blip"],
        ["held down, still failing", { hb_up: 0, nginx_bad: 1 }, "held"],
        ["held down, not enough good checks", { hb_up: 0, oks: 1 }, "recovering"],
        ["held down, enough good checks", { hb_up: 0, oks: 2 }, "start"],
        ["heartbeat still stopping", { hb_up: 0, hb_state: "deactivating", oks: 5 }, "recovering"],
        ["partition: peer dead to heartbeat but answering for its addresses", { hb_up: 1, peer: "dead", deferred: 1 }, "split-restart"],
        ["partition, heartbeat already restarted", { hb_up: 1, peer: "dead", deferred: 1, split: 1 }, "split-wait"],
        ["the partition healed", { hb_up: 1, peer: "active", split: 1 }, "heal-restart"],
        ["the peer really died (its addresses taken here)", { hb_up: 1, peer: "dead" }, "serving"],
        ["after the partition restart, before initdead: still the partition", { hb_up: 1, peer: "init", split: 1 }, "split-wait"],
        ["after the partition restart, the peer really died (nothing of it answers)", { hb_up: 1, peer: "dead", split: 1 }, "serving"],
        ["the peer keeps this node's resources although both run (20 s)", { hb_up: 1, rsc: "none", wrong_for: 20 }, "reclaim"],
        ["this node keeps the peer's resources although both run (20 s)", { hb_up: 1, rsc: "all", wrong_for: 20 }, "give-back"],
        ["heartbeat stuck in transition next to an active peer (25 s)", { hb_up: 1, rsc: "transition", wrong_for: 25 }, "unstick"],
        ["a handover still in progress (19 s)", { hb_up: 1, rsc: "foreign", wrong_for: 19 }, "serving"],
        ["the peer's nginx fails and some of its addresses are not here", { hb_up: 1, orphans: 1 }, "rescue"],
        ["the peer's nginx fails, and this node's too", { hb_up: 1, nginx_bad: 1, orphans: 1 }, "stop-nginx"],
        ["the peer's nginx fails during a partition", { hb_up: 1, peer: "dead", deferred: 1, split: 1, orphans: 1 }, "split-wait"],
    ])("decides: %s", (_what, facts, expected) => {
        expect(decideAll([facts])).toEqual([expected]);
    });

    test("a partition is a peer's address deferred because another host answers it, not one deferred for a lost gateway", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const deferred = path.join(dir, "deferred");
            mkdirSync(deferred);
            const probe = (markers: Record<string, string>) => {
                for (const f of readdirSync(deferred)) rmSync(path.join(deferred, f));
                for (const [ip, text] of Object.entries(markers)) writeFileSync(path.join(deferred, ip), text);
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; DEFER_DIR=${deferred}
                    peer_deferred && echo yes || echo no; for m in "$DEFER_DIR"/*; do marker "$m"; [ -n "$MRES" ] && echo "$MRES"; done; true`], { encoding: "utf8" });
                expect(r.status, r.stderr).toBe(0);
                return r.stdout.trim().split("\n");
            };
            expect(probe({})).toEqual(["no"]);
            expect(probe({ "198.51.100.12": `${PUB_B}\nanswered\n` })).toEqual(["yes", PUB_B]);
            // the takeover of a dead peer's address that met a failed gateway check: not a partition
            expect(probe({ "198.51.100.12": `${PUB_B}\ngateway\n` })).toEqual(["no", PUB_B]);
            // this node's own address deferred (its peer still held it): not a partition either
            expect(probe({ "10.78.0.111": "10.78.0.111/24/eth0\nanswered\n" })).toEqual(["no", "10.78.0.111/24/eth0"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("tending deferred addresses: a free one is started; one deferred for the gateway that another host answers becomes a partition's", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const deferred = path.join(dir, "deferred");
            mkdirSync(deferred);
            const resource = path.join(dir, "IPaddr_gw");
            writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
            const tend = (why: string, answers: boolean) => {
                rmSync(path.join(dir, "calls"), { force: true });
                writeFileSync(path.join(deferred, "198.51.100.12"), `${PUB_B}\n${why}\n`);
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; DEFER_DIR=${deferred}; RESOURCE=${resource}
                    answered() { ${answers ? "true" : "false"}; }; held() { false; }; tend_addresses`], { encoding: "utf8" });
                expect(r.status, r.stderr).toBe(0);
                try { return readFileSync(path.join(dir, "calls"), "utf8").trim(); } catch { return ""; }
            };
            expect(tend("answered", false)).toBe(`${PUB_B} start`);
            expect(tend("gateway", false)).toBe(`${PUB_B} start`);
            expect(tend("answered", true)).toBe("");
            expect(tend("gateway", true)).toBe(`${PUB_B} yield`);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("fast handover: a failing node releases its own addresses; its peer takes every address of it that is not here", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const resource = path.join(dir, "IPaddr_gw");
            writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
            const calls = (fn: string, heldIps: string[], answeredIps: string[] = []) => {
                rmSync(path.join(dir, "calls"), { force: true });
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; RESOURCE=${resource}
                    answered_soon() { case " ${answeredIps.join(" ")} " in *" $2 "*) return 0 ;; esac; return 1; }
                    held() { res "$1"; case " ${heldIps.join(" ")} " in *" $RIP "*) return 0 ;; esac; return 1; }; ${fn}`], { encoding: "utf8" });
                expect(r.status, r.stderr).toBe(0);
                try { return readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n").sort(); } catch { return []; }
            };
            const own = resourceArgs(a, spec.heartbeat);
            const foreign = resourceArgs(b, spec.heartbeat);
            expect(calls('release "${OWN[@]}"', own.map((r) => r.split("/")[0]))).toEqual(own.map((r) => `${r} stop`).sort());
            expect(calls('release "${OWN[@]}"', [])).toEqual([]);
            expect(calls("take_orphans", [])).toEqual(foreign.map((r) => `${r} take`).sort());
            expect(calls("take_orphans", [foreign[0].split("/")[0]])).toEqual(foreign.slice(1).map((r) => `${r} take`).sort());
            // one of them still answered elsewhere (a cut link, not a released peer): none is taken
            expect(calls("take_orphans", [], [foreign[0].split("/")[0]])).toEqual([]);
            // the peer's health is asked on its internal address
            const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith("PEER_URL="));
            expect(line).toContain(`http://${b.internalAddress}:`);
            expect(line).toContain("/.pairstore/health");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("the rescue's ARP probe gives up after ARP_CHECK.rescue s, arping's start included (a slow arping reads as free, a reply as taken)", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const probe = (arping: string) => {
                writeFileSync(path.join(dir, "arping"), `#!/bin/sh\n${arping}\n`, { mode: 0o755 });
                const started = Date.now();
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; PATH=${dir}:$PATH; answered_soon eth0 192.0.2.1 && echo answered || echo free`], { encoding: "utf8" });
                return { said: r.stdout.trim(), ms: Date.now() - started };
            };
            const slow = probe("sleep 5; exit 1");
            expect(slow.said).toBe("free");
            expect(slow.ms).toBeGreaterThanOrEqual(ARP_CHECK.rescue * 1000 - 50);
            expect(slow.ms).toBeLessThan(ARP_CHECK.rescue * 1000 + 1500);
            expect(probe("exit 1").said).toBe("answered");
            expect(probe("exit 0").said).toBe("free");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a heartbeat that does not stop in time is killed, and the node releases every address itself", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const resource = path.join(dir, "IPaddr_gw");
            writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
            const stop = (stops: boolean) => {
                rmSync(path.join(dir, "calls"), { force: true });
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; RESOURCE=${resource}
                    timeout() { echo "timeout $*" >> ${dir}/calls; ${stops ? "true" : "return 124"}; }
                    systemctl() { echo "systemctl $*" >> ${dir}/calls; }; held() { true; }; stop_heartbeat`], { encoding: "utf8" });
                expect(r.status, r.stderr).toBe(0);
                return readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
            };
            const wait = stopTimeoutSeconds(spec.heartbeat);
            expect(stop(true)).toEqual([`timeout ${wait} systemctl stop heartbeat.service`]);
            const calls = stop(false);
            expect(calls[0]).toBe(`timeout ${wait} systemctl stop heartbeat.service`);
            expect(calls.slice(1, -1).sort()).toEqual([...resourceArgs(a, spec.heartbeat), ...resourceArgs(b, spec.heartbeat)].map((r) => `${r} stop`).sort());
            expect(calls.at(-1)).toBe("systemctl kill --kill-whom=all --signal=SIGKILL heartbeat.service");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("a quiet round's facts come from one curl and /proc: addresses, heartbeat's process, every health answer", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            // /proc/net/fib_trie as the kernel writes it (abridged): 10.78.0.111 and 198.51.100.12 are local
            writeFileSync(path.join(dir, "fib_trie"), [
                "Main:", "  +-- 0.0.0.0/0 3 0 5", "     |-- 10.78.0.0", "        /24 link UNICAST", "     |-- 10.78.0.111", "        /32 host LOCAL",
                "     |-- 10.78.0.255", "        /32 link BROADCAST", "     |-- 198.51.100.11", "        /32 link UNICAST",
                "     |-- 198.51.100.12", "        /32 host LOCAL", "     |-- 127.0.0.0", "        /8 host LOCAL", ""].join("\n"));
            writeFileSync(path.join(dir, "heartbeat.pid"), `     ${process.pid}\n`);
            const urls = nginxHealthUrls(spec);
            const peerUrl = nginxHealthUrls(spec, b.internalAddress)[0];
            const round = (pidfile: string) => {
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; FIB_TRIE=${dir}/fib_trie; HB_PIDFILE=${pidfile}
                    systemctl() { echo "systemctl $*" >> ${dir}/systemctl; case $* in *ActiveState\\ -p\\ Result*) printf '%s\\n' Result=exit-code ActiveState=activating ;; *) echo failed ;; esac; }
                    curl() { echo "200 ${urls[0]}"; echo "000 ${peerUrl}"; }
                    snapshot; heartbeat_state; probe 1
                    for r in "\${OWN[@]}" "\${FOREIGN[@]}"; do held "$r" && echo "held $RIP" || echo "free $RIP"; done
                    echo "heartbeat $hb_up $hb_state"; nginx_restarting && echo "nginx restarting"
                    healthy && echo healthy || echo "unhealthy: $why"; peer_failing && echo "peer failing"`], { encoding: "utf8" });
                expect(r.status, r.stderr).toBe(0);
                const calls = existsSync(path.join(dir, "systemctl")) ? readFileSync(path.join(dir, "systemctl"), "utf8") : "";
                rmSync(path.join(dir, "systemctl"), { force: true });
                return { out: r.stdout.trim().split("\n"), systemctl: calls.trim().split("\n").filter(Boolean) };
            };
            const own = resourceArgs(a, spec.heartbeat).map((x) => x.split("/")[0]);
            const foreign = resourceArgs(b, spec.heartbeat).map((x) => x.split("/")[0]);
            const isUp = (ip: string) => ["10.78.0.111", "198.51.100.12"].includes(ip);
            // this test's own process stands in for heartbeat's master only by pid; its comm is not "heartbeat"
            const { out, systemctl } = round(path.join(dir, "heartbeat.pid"));
            expect(out).toEqual([
                ...[...own, ...foreign].map((ip) => `${isUp(ip) ? "held" : "free"} ${ip}`),
                "heartbeat 0 failed", "nginx restarting",
                urls.length === 1 ? "healthy" : `unhealthy: ${urls[1]} does not answer`, "peer failing",
            ]);
            expect(systemctl).toEqual(["systemctl show -P ActiveState heartbeat.service", "systemctl show -p ActiveState -p Result pairstore-nginx.service"]);
            // heartbeat's master alive (a process named heartbeat): no systemctl for it
            copyFileSync("/bin/sleep", path.join(dir, "heartbeat"));
            chmodSync(path.join(dir, "heartbeat"), 0o755);
            const master = spawn(path.join(dir, "heartbeat"), ["30"], { stdio: "ignore" });
            try {
                writeFileSync(path.join(dir, "hb.pid"), `${master.pid}\n`);
                const alive = round(path.join(dir, "hb.pid"));
                expect(alive.out).toContain("heartbeat 1 active");
                expect(alive.systemctl).toEqual(["systemctl show -p ActiveState -p Result pairstore-nginx.service"]);
            } finally {
                master.kill();
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("quiet rounds start only curl and arping: cl_status every 5th round, systemctl never, the status file written once", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const own = resourceArgs(a, spec.heartbeat).map((x) => x.split("/")[0]);
            writeFileSync(path.join(dir, "fib_trie"), own.map((ip) => `  |-- ${ip}\n     /32 host LOCAL\n`).join(""));
            copyFileSync("/bin/sleep", path.join(dir, "heartbeat"));
            chmodSync(path.join(dir, "heartbeat"), 0o755);
            const master = spawn(path.join(dir, "heartbeat"), ["30"], { stdio: "ignore" });
            try {
                writeFileSync(path.join(dir, "hb.pid"), `${master.pid}\n`);
                const urls = [...nginxHealthUrls(spec), nginxHealthUrls(spec, b.internalAddress)[0]];
                const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; FIB_TRIE=${dir}/fib_trie; HB_PIDFILE=${dir}/hb.pid
                    STATUS=${dir}/status; GATEWAY_STATE=${dir}/gateway; DEFER_DIR=${dir}/deferred; SPLIT=${dir}/split; mkdir -p ${dir}/deferred
                    log() { echo "$*" >> ${dir}/calls; }
                    curl() { log curl; printf '200 %s\\n' ${urls.join(" ")}; }
                    arping() { log arping; return 1; }
                    systemctl() { log systemctl "$@"; }
                    cl_status() { log cl_status "$1"; case $1 in nodestatus) echo active ;; rscstatus) echo local ;; esac; }
                    mv() { log mv; command mv "$@"; }
                    for i in 1 2 3 4 5 6; do check; echo "= $action" >> ${dir}/calls; done`], { encoding: "utf8" });
                expect(r.status, r.stderr).toBe(0);
                const rounds = readFileSync(path.join(dir, "calls"), "utf8").trim().split(/\n= serving(?:\n|$)/).map((x) => x.split("\n").filter(Boolean).sort());
                const quiet = ["arping", "curl"];
                expect(rounds).toEqual([
                    ["arping", "curl", "mv", "mv"], // the status and gateway files, first written
                    quiet, quiet, quiet,
                    ["arping", "cl_status nodestatus", "cl_status rscstatus", "curl"],
                    quiet, [],
                ]);
                expect(readFileSync(path.join(dir, "status"), "utf8")).toBe("serving: heartbeat running: nginx answers its health check\n");
                expect(readFileSync(path.join(dir, "gateway"), "utf8")).toBe("ok\n");
            } finally {
                master.kill();
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    test("the monitor reads an IPaddr_gw argument's address and interface", () => {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}
                for r in 198.51.100.12/24/eth1/198.51.100.255/198.51.100.1 10.78.0.111/24/eth0 10.78.0.111/24/eth0:vip; do res "$r"; echo "$RIP $RDEV"; done`], { encoding: "utf8" });
            expect(r.stdout.trim().split("\n")).toEqual(["198.51.100.12 eth1", "10.78.0.111 eth0", "10.78.0.111 eth0"]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
