// Failover inside a pair on the lab hosts: heartbeat (R1, IPaddr_gw) moves a
// node's public IP to its peer when the node powers off and when its nginx
// stops answering, and back when it is healthy again; heartbeat restarts one
// node at a time; a whole pair powered off and on together comes back; the
// authkey never shows up in a log or plain output.
import { readFileSync } from "fs";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stopTimeoutSeconds } from "../../components/roles/heartbeat/steps";
import type { RunResult } from "../engine";
import { applyLab, labHeartbeatAuthKey } from "../lab/lab";
import { LAB_DIR, PUBLIC_GATEWAY, startHost, stopHost } from "../lab/hosts";
import { ensureProbeFile, servedBy, waitServedBy } from "../lab/probe";
import { LAB_HEARTBEAT, labHeartbeatAddress, labVirtualIp } from "../lab/topology";
import { describeLab, labHosts, labReady, onHost } from "./lab-env";

const HOSTS = labHosts();
const host = (name: string) => HOSTS.find((h) => h.name === name)!;
const PUBLIC: Record<string, string> = Object.fromEntries(HOSTS.map((h) => [h.name, h.publicIp!]));
const VIP: Record<string, string> = Object.fromEntries(HOSTS.map((h) => [h.name, labVirtualIp(Number(h.mgmtIp.split(".")[3]))]));
const A = "node-1a";
const B = "node-1b";
const { deadtime } = LAB_HEARTBEAT;
const check = LAB_HEARTBEAT.serviceCheck;
/**
 * How long a takeover may take here: these tests prove that the IPs move, on a
 * 2-core machine that may be busy; how fast they move is `npm run bench:failover`'s
 * measure (deadtime + about 1 s on a quiet machine).
 */
const TAKEOVER_MS = (3 * deadtime + 15) * 1000;
/** How long a node may take to hold its IPs again once it is healthy: heartbeat R1 may leave them with the peer until the monitor asks for them back (heartbeatWaitSeconds). */
const RETURN_MS = 150_000;
/**
 * How long a failing node's heartbeat may take to stop once the peer serves its
 * IPs (the fast handover comes first): R1 delays a shutdown while a takeover
 * or standby is under way, and the monitor waits up to its stop bound.
 */
const HB_STOP_MS = (stopTimeoutSeconds(LAB_HEARTBEAT) + 10) * 1000;

const holds = async (node: string, dev: string, ip: string) =>
    (await onHost(node, `ip -o -4 addr show dev ${dev}`)).includes(` inet ${ip}/`);
/** The internal health answer of a virtual IP: "ok <node> <domain>". */
const vipAnswer = async (from: string, vip: string) =>
    onHost(from, `curl -s -m 2 http://${vip}:8081/.pairstore/health || true`);
/** Every node of the lab serves its own public IP again (after a test moved one). */
async function allHome(timeoutMs = RETURN_MS) {
    for (const h of HOSTS) await waitServedBy(PUBLIC[h.name], h.name, { timeoutMs });
}

describeLab("failover inside a pair (heartbeat) on the lab hosts", () => {
    /** Every apply of this file, for the authkey test (the check-mode run is foundation's drift test). */
    const runs: RunResult[] = [];
    beforeAll(async () => {
        runs.push(await labReady());
        await ensureProbeFile();
        await allHome();
    });
    afterAll(async () => {
        // Leave the lab as the other files expect it: every host up, nginx running, IPs at home.
        for (const h of HOSTS) await startHost(h);
        for (const h of HOSTS) await onHost(h.name, "systemctl start pairstore-nginx.service");
        await allHome();
    });

    it("each public IP answers from its own node, which holds its IPs and routes through the gateway", async () => {
        for (const h of HOSTS) {
            expect(await servedBy(PUBLIC[h.name]), h.name).toBe(h.name);
            expect(await onHost(h.name, "uname -n")).toBe(h.name);
            expect(await holds(h.name, "eth1", PUBLIC[h.name])).toBe(true);
            await expect.poll(() => holds(h.name, "eth0", VIP[h.name]), { timeout: TAKEOVER_MS }).toBe(true);
            expect(await onHost(h.name, "ip route show default")).toMatch(new RegExp(`^default via ${PUBLIC_GATEWAY.replace(/\./g, "\\.")} dev eth1`));
            expect(await onHost(h.name, "systemctl is-active heartbeat.service pairstore-failover.service")).toBe("active\nactive");
            // heartbeat is started by the monitor, never on its own at boot
            expect(await onHost(h.name, "systemctl is-enabled heartbeat.service || true")).toBe("disabled");
            expect(await onHost(h.name, "stat -c '%a %U' /etc/ha.d/authkeys")).toBe("600 root");
        }
        // ha.cf: the reference deployment's settings with the lab's timing, unicast to the peer on both paths, the two node names
        const haCf = await onHost(A, "cat /etc/ha.d/ha.cf");
        for (const line of ["crm off", "keepalive 1", "deadtime 5", "warntime 3", "initdead 10", "udpport 670",
            `ucast eth0 ${host(B).mgmtIp}`, `ucast eth1 ${labHeartbeatAddress(12)}`, "auto_failback on", `node ${A}`, `node ${B}`]) {
            expect(haCf.split("\n"), line).toContain(line);
        }
        // each node has its static address on the public network, and heartbeat hears its peer on both links
        for (const h of HOSTS.filter((x) => x.name === A || x.name === B)) {
            const octet = Number(h.mgmtIp.split(".")[3]);
            expect(await holds(h.name, "eth1", labHeartbeatAddress(octet)), h.name).toBe(true);
        }
        await expect.poll(() => onHost(A, `cl_status listhblinks ${B}`), { timeout: 10_000 }).toMatch(/eth0[\s\S]*eth1|eth1[\s\S]*eth0/);
        // haresources: the same on both nodes, each node owns IPaddr_gw::ip/bits/if/broadcast/gateway and its virtual IP
        const res = await onHost(A, "grep -v '^#' /etc/ha.d/haresources");
        expect(res).toBe(await onHost(B, "grep -v '^#' /etc/ha.d/haresources"));
        expect(res.split("\n")).toContain(`${A} IPaddr_gw::${PUBLIC[A]}/24/eth1/${PUBLIC[A].replace(/\d+$/, "255")}/${PUBLIC_GATEWAY} IPaddr_gw::${VIP[A]}/24/eth0`);
        // the virtual IP answers from its node
        expect(await vipAnswer(B, VIP[A])).toBe(`ok ${A} example.com`);
    });

    it("a powered-off node's IPs answer from its peer, and return when it is back", async () => {
        await allHome();
        const since = Date.now();
        await stopHost(A, { hard: true });
        try {
            const took = await waitServedBy(PUBLIC[A], B, { since, timeoutMs: TAKEOVER_MS });
            console.log(`hard failure: ${PUBLIC[A]} answered from ${B} after ${took} ms (deadtime ${deadtime} s)`);
            // B took A's IPs (the virtual one right after the public one), and its default route goes through the configured gateway
            expect(await holds(B, "eth1", PUBLIC[A])).toBe(true);
            await expect.poll(() => holds(B, "eth0", VIP[A]), { timeout: TAKEOVER_MS }).toBe(true);
            expect(await onHost(B, "ip route show default")).toMatch(new RegExp(`^default via ${PUBLIC_GATEWAY.replace(/\./g, "\\.")} dev eth1`));
            expect(await vipAnswer(B, VIP[A])).toBe(`ok ${B} example.com`);
            // B's own IP never moved
            expect(await servedBy(PUBLIC[B])).toBe(B);
        } finally {
            // A boots: the monitor starts heartbeat once nginx answers, and auto_failback hands A's IPs back
            await startHost(host(A));
        }
        const returned = await waitServedBy(PUBLIC[A], A, { timeoutMs: RETURN_MS });
        console.log(`after boot: ${PUBLIC[A]} answered from ${A} again ${returned} ms after the host was started`);
        await expect.poll(() => holds(B, "eth1", PUBLIC[A]), { timeout: TAKEOVER_MS }).toBe(false);
        await expect.poll(() => vipAnswer(B, VIP[A]), { timeout: TAKEOVER_MS }).toBe(`ok ${A} example.com`);
        expect(await servedBy(PUBLIC[B])).toBe(B);
    }, 600_000); // a boot and a failback

    it("nginx stopped on a node: its IP answers from the peer after the failed checks, and returns with nginx", async () => {
        await allHome(); // whatever an earlier test left
        const limit = (check.failAfter * (check.interval + check.timeout)) * 1000 + TAKEOVER_MS;
        const since = Date.now();
        await onHost(B, "systemctl stop pairstore-nginx.service");
        try {
            await serviceFailure(since, limit);
        } finally {
            await onHost(B, "systemctl start pairstore-nginx.service");
        }
    }, 600_000); // a failover and a failback

    async function serviceFailure(since: number, limit: number) {
        const took = await waitServedBy(PUBLIC[B], A, { since, timeoutMs: limit });
        console.log(`service failure: ${PUBLIC[B]} answered from ${A} after ${took} ms (check every ${check.interval} s, ${check.failAfter} failures)`);
        await expect.poll(() => onHost(B, "systemctl is-active heartbeat.service || true"), { timeout: HB_STOP_MS }).toBe("inactive");
        expect(await onHost(B, "cat /run/pairstore/failover-status")).toMatch(/^held: heartbeat held down: nginx fails its health check/);
        expect(await onHost(B, `journalctl -u pairstore-failover.service --no-pager -q --since=@${Math.floor(since / 1000) - 1}`)).toMatch(/stopping heartbeat, the peer takes this node's IPs/);
        await expect.poll(() => holds(A, "eth1", PUBLIC[B]), { timeout: TAKEOVER_MS }).toBe(true);
        // A's own IP stays with A
        expect(await servedBy(PUBLIC[A])).toBe(A);

        const back = Date.now();
        await onHost(B, "systemctl start pairstore-nginx.service");
        const returned = await waitServedBy(PUBLIC[B], B, { since: back, timeoutMs: RETURN_MS });
        console.log(`service back: ${PUBLIC[B]} answered from ${B} again after ${returned} ms`);
        await expect.poll(() => holds(A, "eth1", PUBLIC[B]), { timeout: TAKEOVER_MS }).toBe(false);
        expect(await onHost(B, "systemctl is-active heartbeat.service")).toBe("active");
    }

    // heartbeat R1 can delay the monitor's stop without end when the peer boots
    // during a takeover ("Shutdown delayed until current resource activity
    // finishes"): the monitor then kills heartbeat and releases the addresses.
    it("a node whose nginx fails keeps its IPs while its peer is dead, and hands them over once the peer is back", async () => {
        await allHome();
        await stopHost(A, { hard: true });
        await waitServedBy(PUBLIC[A], B, { timeoutMs: TAKEOVER_MS });
        await onHost(B, "systemctl stop pairstore-nginx.service");
        try {
            await expect.poll(() => onHost(B, "cat /run/pairstore/failover-status"), { timeout: 15_000 })
                .toMatch(/^alone: nginx fails its health check .*, but the peer node-1a is dead: keeping heartbeat and the IPs/);
            expect(await onHost(B, "systemctl is-active heartbeat.service")).toBe("active");
            expect(await holds(B, "eth1", PUBLIC[A])).toBe(true);
            expect(await holds(B, "eth1", PUBLIC[B])).toBe(true);
            // A boots (its nginx is fine): B's monitor now stops heartbeat, so A takes both IPs
            await startHost(host(A));
            // (B's address can come first: A's monitor takes it as soon as B released it)
            await waitServedBy(PUBLIC[B], A, { timeoutMs: RETURN_MS });
            await waitServedBy(PUBLIC[A], A, { timeoutMs: RETURN_MS });
            await expect.poll(() => onHost(B, "systemctl is-active heartbeat.service || true"), { timeout: HB_STOP_MS }).toBe("inactive");
        } finally {
            await onHost(B, "systemctl start pairstore-nginx.service");
            await startHost(host(A));
        }
        await allHome();
    }, 600_000); // a boot and two handovers

    it("after every node loses power at once and boots together, each node serves its own IPs with every unit up", async () => {
        await Promise.all(HOSTS.map((h) => stopHost(h.name, { hard: true })));
        await Promise.all(HOSTS.map((h) => startHost(h)));
        await allHome();
        for (const h of HOSTS) {
            expect(await onHost(h.name, "systemctl --failed --no-legend --plain"), h.name).toBe("");
            expect(await onHost(h.name, "systemctl is-active pairstore-sysctl.service pairstore-nginx.service pairstore-failover.service heartbeat.service"))
                .toBe("active\nactive\nactive\nactive");
            // the virtual IP comes up right after the public one (one resource group)
            await expect.poll(() => holds(h.name, "eth0", VIP[h.name]), { timeout: TAKEOVER_MS }).toBe(true);
            expect(await onHost(h.name, "ip route show default")).toMatch(new RegExp(`^default via ${PUBLIC_GATEWAY.replace(/\./g, "\\.")} dev eth1`));
        }
    }, 600_000); // every host boots; heartbeat may need the monitor to hand IPs back

    it("a heartbeat config change restarts heartbeat one node of a pair at a time, and the health gate waits for the IPs", async () => {
        const stamps = async (node: string) => {
            const out = await onHost(node, "systemctl show heartbeat.service -p ActiveExitTimestampMonotonic -p ActiveEnterTimestampMonotonic");
            const v = Object.fromEntries(out.split("\n").map((l) => l.split("=")));
            return { stopped: Number(v.ActiveExitTimestampMonotonic), started: Number(v.ActiveEnterTimestampMonotonic) };
        };
        const changed = await applyLab({ heartbeat: { ...LAB_HEARTBEAT, warntime: 4 } });
        runs.push(changed);
        expect(changed.ok, changed.failed.map((f) => `${f.name}: ${f.message}`).join("\n")).toBe(true);
        for (const n of [A, B]) {
            expect(changed.changedSteps).toEqual(expect.arrayContaining([`${n}-heartbeat-config`, `${n}-heartbeat-service`]));
            expect(changed.stdout[`${n}-heartbeat-service`]).toContain("heartbeat.service: configuration changed");
            expect(await onHost(n, "grep ^warntime /etc/ha.d/ha.cf")).toBe("warntime 4");
        }
        // All hosts share one kernel, so monotonic stamps compare: A was back before B went down.
        const [a, b] = [await stamps(A), await stamps(B)];
        expect(a.started).toBeGreaterThan(a.stopped);
        expect(b.stopped).toBeGreaterThan(a.started);
        // A's gate waited for A's IPs before B's steps ran
        expect(changed.stdout[`${A}-health`]).toMatch(/2 addresses held/);
        await allHome();

        const restored = await applyLab();
        runs.push(restored);
        expect(restored.ok).toBe(true);
        expect(await onHost(A, "grep ^warntime /etc/ha.d/ha.cf")).toBe(`warntime ${LAB_HEARTBEAT.warntime}`);
        await allHome();
    }, 900_000); // two rolling restarts of both pairs

    it("keeps the heartbeat authkey out of every log and plain output", async () => {
        const key = labHeartbeatAuthKey();
        expect(key.length).toBeGreaterThanOrEqual(16);
        // it is on the hosts, in the one file that needs it
        expect(await onHost(A, "grep -c ' sha1 ' /etc/ha.d/authkeys")).toBe("1");
        expect(await onHost(A, `grep -cF -- ${JSON.stringify(key)} /etc/ha.d/authkeys`)).toBe("1");
        // not in this file's applies (two rolled heartbeat's config); foundation's drift
        // test checks the check-mode run, which hands every secret step its stdin again
        for (const r of runs) {
            expect(JSON.stringify(r)).not.toContain(key);
            expect(r.log).not.toContain(key);
        }
        for (const f of ["state-lab.json", "outputs-lab.json"]) {
            expect(readFileSync(path.join(LAB_DIR, f), "utf8")).not.toContain(key);
        }
        for (const h of HOSTS) {
            const found = await onHost(h.name,
                `{ journalctl --no-pager -q -o cat; cat /var/log/ha-log /var/log/syslog /var/log/messages 2>/dev/null; } | grep -cF -- ${JSON.stringify(key)} || true`);
            expect(found, h.name).toBe("0");
        }
    });
});
