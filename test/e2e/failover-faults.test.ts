// Failover under the faults real networks have, on the lab hosts:
// heartbeat's packets lost both ways and one way, the internal network cut
// between the two nodes, a node cut off from its gateway, one client
// flooding one node and then both, nginx killed and nginx stopped.
//
// Every scenario runs a bounded read loop at 10 requests/s to each public IP
// of pair-1 from the controller (the lab's gateway address, like any client
// behind it) and samples every 100 ms which node holds each of the pair's
// addresses (from the nodes' network namespaces); each restores what it
// breaks in `finally`, so one failure never cascades into the next.
import { setTimeout as sleep } from "timers/promises";
import { afterEach, beforeAll, expect, it } from "vitest";
import { labReady, onHost, describeLab } from "./lab-env";
import { DEFAULTS } from "../../components/config";
import { clientLimitDefaults } from "../../components/roles/nginx/config";
import { startHost } from "../lab/hosts";
import {
    clearFault, cutLinkRules, dropHeartbeatRules, failedBetween, flood, gatewayMac, nodeMac, readLoop, secondsWithoutService, watchHolders,
    withFault, type ReadResult,
} from "../lab/faults";
import { ensureProbeFile, waitServedBy } from "../lab/probe";
import { LAB_HEARTBEAT, labHosts, labVirtualIp } from "../lab/topology";
import { pairOnePath } from "./replication-helpers";
import { ARP_CHECK } from "../../components/roles/heartbeat/steps";

const HOSTS = labHosts();
const A = "node-1a";
const B = "node-1b";
const host = (name: string) => HOSTS.find((h) => h.name === name)!;
const PUBLIC: Record<string, string> = { [A]: host(A).publicIp!, [B]: host(B).publicIp! };
const VIP: Record<string, string> = { [A]: labVirtualIp(11), [B]: labVirtualIp(12) };
const WATCHED = [PUBLIC[A], PUBLIC[B], VIP[A], VIP[B]];
const { deadtime } = LAB_HEARTBEAT;
const check = LAB_HEARTBEAT.serviceCheck;
const UDPPORT = DEFAULTS.heartbeat.udpport;
const WORKER_CONNECTIONS = DEFAULTS.nginx.workerConnections;
// What heartbeat's own handover adds to the failed checks on this loaded
// 2-core lab (a gateway cut: the peer's nginx is fine, so there is no fast
// handover): 13-19 s measured.
const HANDOVER_MS = 15_000;
// A service that stays down fails over within interval x failAfter + this
// (issue 12): the failing node's release, the peer's next quick round (every
// RESCUE_ROUND_MS while the peer fails), its ARP probe (ARP_CHECK.rescue) and
// the address coming up: 1.6-3.7 s measured on the lab, whose failed checks
// take 1-2 s of that.
const SERVICE_HANDOVER_MS = 3_000;

const status = (node: string) => onHost(node, "cat /run/pairstore/failover-status 2>/dev/null || true");
const rscstatus = (node: string) => onHost(node, "cl_status rscstatus 2>/dev/null || true");

/** Every node of pair-1 serves its own public IP, holds its own virtual IP, runs heartbeat and agrees with its peer on who holds what. */
async function settled(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
        const facts = await Promise.all([A, B].map(async (n) => ({
            n, status: await status(n), rsc: await rscstatus(n),
            split: await onHost(n, "test -e /run/pairstore/partition && echo split || true"),
            addrs: await onHost(n, "ip -o -4 addr show"),
        })));
        const ok = facts.every((f) => f.status.startsWith("serving:") && f.rsc === "local" && f.split === ""
            && f.addrs.includes(` ${PUBLIC[f.n]}/`) && f.addrs.includes(` ${VIP[f.n]}/`));
        if (ok) {
            await waitServedBy(PUBLIC[A], A, { timeoutMs: 10_000 });
            await waitServedBy(PUBLIC[B], B, { timeoutMs: 10_000 });
            return;
        }
        last = facts.map((f) => `${f.n}: ${f.status} / rsc ${f.rsc || "?"}${f.split ? " / partition" : ""}`).join("; ");
        if (Date.now() > deadline) throw new Error(`pair-1 did not settle within ${timeoutMs} ms: ${last}`);
        await sleep(500);
    }
}

/** Runs `fn` with the read loop and the address sampling on; returns what they saw. */
async function observed<T>(fn: () => Promise<T>, opts: { timeoutMs?: number } = {}) {
    const loop = readLoop([PUBLIC[A], PUBLIC[B]], { rate: 10, timeoutMs: opts.timeoutMs ?? 1500, maxSeconds: 240 });
    const holders = watchHolders([A, B], WATCHED, 100, 240);
    const started = Date.now();
    let value: T | undefined;
    let error: unknown;
    try {
        value = await fn();
    } catch (e) {
        error = e;
    }
    const results = await loop.stop();
    const seen = await holders.stop();
    if (error) throw error;
    return { value: value as T, results, holders: seen, started };
}

/** Polls `probe` until `ok` holds, every 250 ms, for at most `timeoutMs`; returns the ms it took. */
async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    let v: T | undefined;
    for (;;) {
        v = await probe();
        if (ok(v)) return Date.now() - t0;
        if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
        await sleep(250);
    }
}

const rate = (failed: ReadResult[], all: ReadResult[]) => `${failed.length}/${all.length} (${((100 * failed.length) / Math.max(1, all.length)).toFixed(2)} %)`;

describeLab("failover under network faults, floods and crashes (pair-1 on the lab hosts)", () => {
    beforeAll(async () => {
        await labReady();
        await Promise.all([A, B].map(clearFault));
        await ensureProbeFile();
        await settled(120_000);
    });
    afterEach(async () => {
        // Whatever happened: no fault left, both hosts up, nginx running, pair-1 settled.
        await Promise.all([A, B].map(clearFault));
        for (const n of [A, B]) await startHost(host(n));
        for (const n of [A, B]) await onHost(n, "systemctl start pairstore-nginx.service");
        await settled(120_000);
    });

    /**
     * heartbeat's packets lost for 30 s: each node keeps its own addresses and
     * never takes its peer's (the peer still answers for them), no address is
     * ever held by both, and the heal costs no request.
     */
    async function partition(direction: "both" | "out") {
        const deaf = direction === "both" ? [A, B] : [B];
        let healedAt = 0;
        const seen = await observed(async () => {
            await withFault(A, dropHeartbeatRules(UDPPORT, direction), async () => {
                const t0 = Date.now();
                // the node(s) that stop hearing the peer see the partition within deadtime and a few checks
                for (const n of deaf) {
                    await until(`${n} sees the partition`, () => status(n), (s) => s.startsWith("partition:"), (deadtime + 4 * check.interval + 10) * 1000);
                }
                await sleep(Math.max(0, t0 + 30_000 - Date.now()));
            });
            healedAt = Date.now();
            await settled(120_000);
            await sleep(3000); // a restart after the heal would cost requests only after heartbeat's 2 s timer
        });
        const failedHeal = failedBetween(seen.results, healedAt);
        console.log(`heartbeat partition (${direction === "both" ? "both directions" : "one direction"}): ${seen.holders.samples} samples, ` +
            `duplicates ${seen.holders.duplicates.length}, moves ${JSON.stringify(seen.holders.moves)}, failed requests in all ` +
            `${rate(failedBetween(seen.results, 0), seen.results)}, during the heal ${failedHeal.length}`);
        expect(seen.holders.duplicates, "samples where two nodes held one address").toEqual([]);
        expect(failedHeal, "failed requests from the heal on").toEqual([]);
        for (const ip of WATCHED) expect(seen.holders.moves[ip], `moves of ${ip}`).toBe(0);
        const log = await onHost(B, `journalctl -u pairstore-failover.service --since @${Math.floor(seen.started / 1000)} --no-pager -q -o cat`);
        expect(log).toMatch(/heartbeat partition: heartbeat says node-1a is dead, but it still answers for its addresses; restarting heartbeat/);
        expect(log).toMatch(/heartbeat hears node-1a again after a partition: restarting heartbeat once more/);
        for (const n of [A, B]) {
            const ha = await onHost(n, `journalctl --since @${Math.floor(seen.started / 1000)} --no-pager -q -o cat -t heartbeat -t ResourceManager 2>/dev/null | grep -c 'returning after partition' || true`);
            expect(ha, `${n}: heartbeat's "returning after partition"`).toBe("0");
        }
    }

    it("heartbeat UDP dropped both ways for 30 s: never one address on two nodes, and the heal fails no request", async () => {
        await partition("both");
    });

    it("heartbeat UDP dropped one way for 30 s: never one address on two nodes, and the heal fails no request", async () => {
        await partition("out");
    });

    it("the internal network cut between the nodes for 30 s: no address moves or doubles, and replication catches up after the heal", async () => {
        const files: Record<string, string[]> = { [A]: [], [B]: [] };
        const stamp = Date.now();
        let healedAt = 0;
        const seen = await observed(async () => {
            await withFault(A, cutLinkRules("eth0", [nodeMac(B, 0)]), async () => {
                const t0 = Date.now();
                // the cut is real: A cannot reach B's internal address
                expect(await onHost(A, `curl -s -o /dev/null -m 2 -w '%{http_code}' http://${host(B).mgmtIp}:8081/.pairstore/health || true`)).toBe("000");
                // heartbeat still hears the peer on the public path
                expect(await onHost(A, "cl_status nodestatus node-1b")).toBe("active");
                // uploads to both nodes while they cannot replicate
                for (let i = 0; i < 10; i++) {
                    for (const n of [A, B]) {
                        // a storage path (the site takes uploads nowhere else)
                        const name = `/${pairOnePath(i + 1, `fault-${stamp}-${n}-${i}.txt`)}`;
                        const r = await fetch(`http://${host(n).mgmtIp}:8081${name}`, { method: "PUT", body: `${n} ${i} ${stamp}\n`, headers: { Host: "0.image.example.com" } });
                        expect(r.status, `PUT ${name} on ${n}`).toBe(201);
                        files[n].push(name);
                    }
                }
                await sleep(Math.max(0, t0 + 30_000 - Date.now()));
                expect(await onHost(A, "cl_status nodestatus node-1b")).toBe("active");
            });
            healedAt = Date.now();
            // replication catches up: every file on both disks, nothing lost
            const all = [...files[A], ...files[B]];
            const took = await until("replication catches up after the heal", async () => {
                const counts = await Promise.all([A, B].map((n) =>
                    onHost(n, `cd /srv/images/example.com/image && ls ${all.map((f) => `.${f}`).join(" ")} 2>/dev/null | wc -l`)));
                return counts.map(Number);
            }, (c) => c.every((x) => x === all.length), 120_000);
            console.log(`internal network cut: ${all.length} files written during the cut were on both nodes ${took} ms after the heal`);
            await settled(30_000);
        });
        const failedHeal = failedBetween(seen.results, healedAt);
        console.log(`internal network cut: ${seen.holders.samples} samples, duplicates ${seen.holders.duplicates.length}, moves ${JSON.stringify(seen.holders.moves)}, ` +
            `failed requests in all ${rate(failedBetween(seen.results, 0), seen.results)}, during the heal ${failedHeal.length}`);
        expect(seen.holders.duplicates).toEqual([]);
        expect(failedHeal).toEqual([]);
        for (const ip of WATCHED) expect(seen.holders.moves[ip], `moves of ${ip}`).toBe(0);
        // the files are whole on both nodes
        for (const n of [A, B]) {
            const other = n === A ? B : A;
            expect(await onHost(other, `cat /srv/images/example.com/image${files[n][9]}`)).toBe(`${n} 9 ${stamp}`);
        }
    });

    it("a node cut off from its gateway (not from its peer): its addresses move to the peer, and back when the gateway returns", async () => {
        let cutAt = 0;
        let backAt = 0;
        const seen = await observed(async () => {
            cutAt = Date.now();
            await withFault(A, cutLinkRules("eth1", [gatewayMac()]), async () => {
                // each failed gateway check waits for its ARP answer
                const moved = await waitServedBy(PUBLIC[A], B, { since: cutAt, timeoutMs: check.failAfter * (check.interval + ARP_CHECK.bound) * 1000 + HANDOVER_MS });
                console.log(`gateway cut: ${PUBLIC[A]} answered from ${B} ${moved} ms after node-1a lost its gateway`);
                expect(await status(A)).toMatch(/^held: heartbeat held down: the gateway .* does not answer ARP on eth1/);
                // the group's next address comes up right after the public IP
                await until(`${B} holds ${VIP[A]}`, () => onHost(B, "ip -o -4 addr show dev eth0"), (a) => a.includes(` ${VIP[A]}/`), 10_000);
                // A still hears B on the internal path: a clean handover, no partition
                expect(await status(B)).toMatch(/^serving:/);
                await sleep(3000);
            });
            backAt = Date.now();
            const back = await waitServedBy(PUBLIC[A], A, { since: backAt, timeoutMs: (check.recoverAfter * check.interval + deadtime + 15) * 1000 });
            console.log(`gateway back: ${PUBLIC[A]} answered from ${A} again ${back} ms later`);
            await settled(30_000);
        });
        console.log(`gateway cut: duplicates ${seen.holders.duplicates.length}, moves ${JSON.stringify(seen.holders.moves)}, ` +
            `seconds without service of ${PUBLIC[A]}: ${secondsWithoutService(seen.results, PUBLIC[A]).toFixed(1)}, ` +
            `failed requests to ${PUBLIC[B]}: ${failedBetween(seen.results, 0).filter((r) => r.ip === PUBLIC[B]).length}`);
        expect(seen.holders.duplicates).toEqual([]);
        expect(seen.holders.paths[PUBLIC[A]], `nodes that held ${PUBLIC[A]} in turn`).toEqual([A, B, A]); // to the peer and back
        expect(seen.holders.moves[PUBLIC[B]]).toBe(0);
        expect(failedBetween(seen.results, 0).filter((r) => r.ip === PUBLIC[B])).toEqual([]);
    });

    it(`a flood of 3 x worker_connections half-open connections from one address, against one node, then both: no failover, other clients served, health green`, async () => {
        const limits = clientLimitDefaults(WORKER_CONNECTIONS);
        const connections = 3 * WORKER_CONNECTIONS;
        const statuses: string[] = [];
        let watching = true;
        const watcher = (async () => {
            while (watching) {
                statuses.push(...await Promise.all([A, B].map(async (n) => `${n} ${await status(n)}`)));
                await sleep(1000);
            }
        })();
        let reports: Awaited<ReturnType<typeof flood>>[] = [];
        const seen = await observed(async () => {
            try {
                reports.push(await flood([PUBLIC[A]], { connections, seconds: 20 }));
                reports.push(await flood([PUBLIC[A], PUBLIC[B]], { connections, seconds: 20 }));
            } finally {
                watching = false;
                await watcher;
            }
        }, { timeoutMs: 2000 });
        const failed = failedBetween(seen.results, 0);
        console.log(`flood: ${JSON.stringify(reports)}; other clients' failed requests ${rate(failed, seen.results)}; ` +
            `moves ${JSON.stringify(seen.holders.moves)}`);
        // The flood was real (it tried far more than the limit lets through) and
        // the kernel held it near the per-client limit, far below what it asked
        // for (3 x worker_connections) and below one worker's connections:
        // under a burst of SYNs nftables' `ct count` lets some more through
        // (10-75 % over the limit seen on the lab, more the faster the burst).
        for (const r of reports.flat()) {
            expect(r.attempts, `${r.target} attempts`).toBeGreaterThan(2 * limits.connections);
            expect(r.maxOpen, `${r.target} most open`).toBeLessThanOrEqual(Math.min(2 * limits.connections, WORKER_CONNECTIONS - 1));
            expect(r.maxOpen, `${r.target} most open`).toBeGreaterThanOrEqual(limits.connections / 2);
        }
        for (const ip of WATCHED) expect(seen.holders.moves[ip], `moves of ${ip}`).toBe(0);
        expect(statuses.filter((s) => !/^node-1[ab] serving:/.test(s)), "monitor statuses other than serving").toEqual([]);
        for (const n of [A, B]) {
            const log = await onHost(n, `journalctl -u pairstore-failover.service --since @${Math.floor(seen.started / 1000)} --no-pager -q -o cat`);
            expect(log, `${n}'s monitor`).not.toMatch(/fail/);
        }
        expect(failed.length / seen.results.length, "share of other clients' requests that failed").toBeLessThanOrEqual(0.01);
    });

    it("nginx SIGKILLed: systemd restarts it, no address moves, at most 2 s of failed requests", async () => {
        let killedAt = 0;
        const seen = await observed(async () => {
            await sleep(1000);
            killedAt = Date.now();
            await onHost(A, "systemctl kill --signal=SIGKILL pairstore-nginx.service");
            await waitServedBy(PUBLIC[A], A, { since: killedAt, timeoutMs: 15_000 });
            await sleep(2 * check.failAfter * check.interval * 1000 + 2000);
            expect(await onHost(A, "systemctl show -P NRestarts pairstore-nginx.service")).not.toBe("0");
        });
        const span = secondsWithoutService(seen.results, PUBLIC[A], killedAt);
        console.log(`nginx SIGKILL: ${failedBetween(seen.results, killedAt).length} failed requests over ${span.toFixed(1)} s, moves ${JSON.stringify(seen.holders.moves)}`);
        // both monitors' words name the cause when an address moved (this node gave up, or the peer took it)
        const [log, peerLog] = await Promise.all([A, B].map((n) => onHost(n, `journalctl -u pairstore-failover.service --since @${Math.floor(seen.started / 1000)} --no-pager -q -o cat`)));
        for (const ip of WATCHED) expect(seen.holders.moves[ip], `moves of ${ip}; ${A}'s monitor:\n${log}\n${B}'s monitor:\n${peerLog}`).toBe(0);
        expect(span).toBeLessThanOrEqual(2);
        expect(log).not.toMatch(/stopping heartbeat/);
        expect(await status(A)).toMatch(/^serving:/);
    });

    it("nginx stopped for 15 s: the peer serves its IP within interval x failAfter + 3 s, and the IP comes back", async () => {
        const limitMs = check.interval * check.failAfter * 1000 + SERVICE_HANDOVER_MS;
        let stoppedAt = 0;
        let askedAt = 0;
        const seen = await observed(async () => {
            await sleep(1000);
            askedAt = Date.now();
            await onHost(A, "systemctl stop pairstore-nginx.service");
            // counted from the moment nginx is down (systemctl stop returns once it has exited), not from the SSH round trip before
            stoppedAt = Date.now();
            try {
                await waitServedBy(PUBLIC[A], B, { since: stoppedAt, timeoutMs: limitMs + 5000 });
                await sleep(Math.max(0, stoppedAt + 15_000 - Date.now()));
            } finally {
                await onHost(A, "systemctl start pairstore-nginx.service");
            }
            await waitServedBy(PUBLIC[A], A, { timeoutMs: (check.recoverAfter * check.interval + deadtime + 15) * 1000 });
            await settled(30_000);
        });
        const fromB = seen.results.find((r) => r.ip === PUBLIC[A] && r.at >= stoppedAt && r.node === B);
        const took = fromB ? fromB.at - stoppedAt : Infinity;
        console.log(`nginx stopped: ${PUBLIC[A]} answered from ${B} ${took} ms after nginx was down (${stoppedAt - askedAt} ms stopping it; limit ${limitMs} ms); ` +
            `${failedBetween(seen.results, stoppedAt).length} failed requests; moves ${JSON.stringify(seen.holders.moves)}`);
        expect(took).toBeLessThanOrEqual(limitMs);
        expect(seen.holders.duplicates).toEqual([]);
        expect(seen.holders.moves[PUBLIC[B]]).toBe(0);
    });
});
