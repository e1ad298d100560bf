// heartbeat config, files and steps: the seed's ha.cf values by default,
// haresources with IPaddr_gw and virtual IPs, the authkey only as a secret,
// the service monitor, and every bad value refused by key.
import { spawnSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "fs";
import { parse as parseYaml } from "yaml";
import { describe, expect, test } from "vitest";
import { ConfigError, DEFAULTS, parseClusterConfig, type ClusterSpec, type RawConfig } from "../../components/config";
import { render } from "../../components/host/template";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import {
    heartbeatAuthKeyProblem, heartbeatRole, renderAuthkeys, renderHaCf, renderHaresources,
} from "../../components/roles/heartbeat";
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
            "heartbeatAuthKey", "pairs[].nodes[].virtualIps"]) {
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
        expect(text.split("\n")).toContain("node-1a IPaddr_gw::198.51.100.11/24/eth1/198.51.100.255/198.51.100.1 IPaddr2::10.78.0.111/24/eth0");
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

    test("IPaddr_gw parses with sh -n and sets the default route only after a successful start", () => {
        const text = render("heartbeat/IPaddr_gw", {});
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-ipaddr-gw-"));
        try {
            writeFileSync(path.join(dir, "IPaddr_gw"), text);
            const r = spawnSync("sh", ["-n", path.join(dir, "IPaddr_gw")], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        expect(text).toContain(". /etc/ha.d/resource.d//hto-mapfuncs");
        expect(text).toContain("OCF_TYPE=IPaddr2");
        expect(text).toMatch(/if \[ "\$2" = start \] && \[ "\$rc" -eq 0 \] && \[ -n "\$GATEWAY" \]; then\n\s+if ip route replace default via "\$GATEWAY"/);
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
