// Benchmark: what failures and faults cost the clients of a pair, under a
// steady, bounded read load from the controller. Needs root (the lab).
//
//   npx tsx test/bench/failover.ts [--pair pair-1] [--rate 50] [--window 30] [--timeout 1000] [--partition 30] [--flood 20]
//   npm run bench:failover
//
// The load sends GET <probe file> to both public IPs of the pair at a fixed
// rate each (open loop: one request every 1000/rate ms per IP, each with its
// own timeout), and the bench samples every 100 ms which node holds each of
// the pair's addresses. Scenarios:
//  - clean stop, power cut, nginx stopped on node A: "answers again" is the
//    time from the failure to the first request node A's IP answered with a
//    200 from node B; the load stops once B has answered for 2 s (at most
//    `window` s);
//  - partition: heartbeat's UDP dropped both ways on node A for `partition` s;
//  - heal: the same partition's end, until the pair has settled and 5 s more;
//  - flood: 3 x worker_connections half-open connections from one lab
//    address against both nodes for `flood` s.
// Per scenario: requests sent, failed requests (no 200), seconds without
// service (first to last failed request of an IP, the worse IP), address
// moves (holder changes of any of the pair's addresses) and samples where two
// nodes held one address. Node A is brought back between scenarios.
import { applyLab, labHostsUp } from "../lab/lab";
import { sshRun, startHost, stopHost } from "../lab/hosts";
import { clearFault, dropHeartbeatRules, failedBetween, flood, readLoop, secondsWithoutService, watchHolders, withFault, type ReadResult } from "../lab/faults";
import { ensureProbeFile, PROBE_HOST, PROBE_PATH, waitServedBy } from "../lab/probe";
import { LAB_HEARTBEAT, LAB_PAIRS, labHosts, labVirtualIp } from "../lab/topology";
import { DEFAULTS } from "../../components/config";
import { setTimeout as sleep } from "timers/promises";
import { arg, boundedArg } from "./args";

const pairName = arg("pair", "pair-1");
const rate = boundedArg("rate", 50, 1, 200);
const windowS = boundedArg("window", 30, 5, 120);
const timeoutMs = boundedArg("timeout", 1000, 100, 5000);
const partitionS = boundedArg("partition", 30, 5, 120);
const floodS = boundedArg("flood", 20, 5, 60);

const pair = LAB_PAIRS.find((p) => p.name === pairName);
if (!pair) throw new Error(`no lab pair ${pairName} (have ${LAB_PAIRS.map((p) => p.name).join(", ")})`);
const hosts = labHosts();
const A = hosts.find((h) => h.name === pair.nodes[0].name)!;
const B = hosts.find((h) => h.name === pair.nodes[1].name)!;
const IPS = [A.publicIp!, B.publicIp!];
const WATCHED = [...IPS, labVirtualIp(pair.nodes[0].octet), labVirtualIp(pair.nodes[1].octet)];

interface Outcome {
    scenario: string;
    action: string;
    answeredAfterMs?: number | "-";
    sent: number;
    failed: number;
    withoutService: number;
    moves: number;
    duplicates: number;
}

/**
 * Runs the load and the address sampling around `fail()` (called 1 s in) and
 * `until()` (which ends the scenario); counts from the failure on.
 */
async function measure(scenario: string, action: string, fail: () => Promise<unknown>, until: (t0: number, results: () => ReadResult[]) => Promise<unknown>,
    opts: { answered?: boolean } = {}): Promise<Outcome> {
    const seconds = windowS + partitionS + floodS + 120;
    const loop = readLoop(IPS, { rate, timeoutMs, maxSeconds: seconds });
    const holders = watchHolders([A.name, B.name], WATCHED, 100, seconds);
    await sleep(1000);
    const t0 = Date.now();
    let error: unknown;
    try {
        await fail();
        await until(t0, () => []);
    } catch (e) {
        error = e;
    }
    const results = await loop.stop();
    const seen = await holders.stop();
    if (error) throw error;
    const after = results.filter((r) => r.at >= t0);
    const answered = opts.answered === false ? "-" as const
        : after.find((r) => r.ip === A.publicIp && r.node === B.name)?.at;
    return {
        scenario, action,
        answeredAfterMs: answered === "-" ? "-" : answered === undefined ? undefined : answered - t0,
        sent: after.length,
        failed: failedBetween(results, t0).length,
        withoutService: Math.max(...IPS.map((ip) => secondsWithoutService(results, ip, t0))),
        moves: Object.values(seen.moves).reduce((x, y) => x + y, 0),
        duplicates: seen.duplicates.length,
    };
}

async function on(host: typeof A, command: string) {
    const r = await sshRun(host, command, undefined, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host.name}: \`${command}\` exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout.trim();
}

/** Both nodes serve their own IP, and the monitors have settled (no partition handling left). */
async function home() {
    await waitServedBy(A.publicIp!, A.name, { timeoutMs: 120_000 });
    await waitServedBy(B.publicIp!, B.name, { timeoutMs: 120_000 });
    const deadline = Date.now() + 120_000;
    for (;;) {
        const s = await Promise.all([A, B].map((h) => on(h, "cat /run/pairstore/failover-status; test -e /run/pairstore/partition && echo split; cl_status rscstatus 2>/dev/null || true")));
        if (s.every((x) => x.startsWith("serving:") && !x.includes("split") && x.endsWith("local"))) break;
        if (Date.now() > deadline) throw new Error(`the pair did not settle: ${s.join(" | ")}`);
        await sleep(500);
    }
    await sleep(2000);
}

/** Until node A's IP has answered from B for 2 s, at most `window` s. */
const servedByB = async (t0: number) => {
    await waitServedBy(A.publicIp!, B.name, { since: t0, timeoutMs: windowS * 1000 }).catch(() => undefined);
    await sleep(2000);
};

(async () => {
    await labHostsUp();
    const applied = await applyLab();
    if (!applied.ok) throw new Error(`lab apply failed:\n${applied.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    await Promise.all([A, B].map((h) => clearFault(h.name)));
    await ensureProbeFile();
    await home();

    const outcomes: Outcome[] = [];
    outcomes.push(await measure("clean stop", `${A.name} powered off cleanly (systemd poweroff)`, () => stopHost(A.name), servedByB));
    await startHost(A);
    await home();
    outcomes.push(await measure("hard failure", `${A.name} powered off (power cut)`, () => stopHost(A.name, { hard: true }), servedByB));
    await startHost(A);
    await home();
    outcomes.push(await measure("service failure", `systemctl stop pairstore-nginx on ${A.name}`, () => on(A, "systemctl stop pairstore-nginx.service"), servedByB));
    await on(A, "systemctl start pairstore-nginx.service");
    await home();
    outcomes.push(await measure("nginx crash", `systemctl kill -s KILL pairstore-nginx on ${A.name} (systemd restarts it)`,
        () => on(A, "systemctl kill --signal=SIGKILL pairstore-nginx.service"),
        async (t0) => { await waitServedBy(A.publicIp!, A.name, { since: t0, timeoutMs: 30_000 }); await sleep(5000); }, { answered: false }));
    await home();

    // The partition and its heal: one fault, two rows (until the heal, then from the heal on).
    const udpport = DEFAULTS.heartbeat.udpport;
    const loop = readLoop(IPS, { rate, timeoutMs, maxSeconds: partitionS + 180 });
    const holders = watchHolders([A.name, B.name], WATCHED, 100, partitionS + 180);
    await sleep(1000);
    const t0 = Date.now();
    let healedAt = 0;
    try {
        await withFault(A.name, dropHeartbeatRules(udpport, "both"), () => sleep(partitionS * 1000));
        healedAt = Date.now();
        await home();
        await sleep(3000);
    } finally {
        const results = await loop.stop();
        await holders.stop();
        const between = (from: number, to: number) => {
            const part = holders.samples.filter((s) => s.at >= from && s.at <= to);
            let moves = 0;
            for (const ip of WATCHED) {
                for (let i = 1; i < part.length; i++) if (part[i].holders[ip].join("+") !== part[i - 1].holders[ip].join("+")) moves++;
            }
            return {
                sent: results.filter((r) => r.at >= from && r.at <= to).length,
                failed: failedBetween(results, from, to).length,
                withoutService: Math.max(...IPS.map((ip) => secondsWithoutService(results, ip, from, to))),
                moves,
                duplicates: part.filter((s) => WATCHED.some((ip) => s.holders[ip].length > 1)).length,
            };
        };
        if (healedAt) {
            outcomes.push({ scenario: "partition", action: `heartbeat UDP dropped both ways on ${A.name} for ${partitionS} s`, answeredAfterMs: "-", ...between(t0, healedAt) });
            outcomes.push({ scenario: "heal", action: "the same link back, until the pair has settled + 5 s", answeredAfterMs: "-", ...between(healedAt, Infinity) });
        }
    }
    await home();

    const connections = 3 * DEFAULTS.nginx.workerConnections;
    outcomes.push(await measure("flood", `${connections} half-open connections from one address against both nodes for ${floodS} s`,
        () => flood(IPS, { connections, seconds: floodS }), async () => undefined, { answered: false }));
    await home();

    const hb = LAB_HEARTBEAT;
    const cmd = `PAIRSTORE_LAB_ID=${process.env.PAIRSTORE_LAB_ID ?? 0} npm run bench:failover -- --pair ${pairName} --rate ${rate} --window ${windowS} ` +
        `--timeout ${timeoutMs} --partition ${partitionS} --flood ${floodS}`;
    console.log(`\nbench:failover on ${pairName}: ${A.name} (${A.publicIp}) and ${B.name} (${B.publicIp}); failures hit ${A.name}`);
    console.log(`load: GET ${PROBE_PATH} (20 KB, Host ${PROBE_HOST}) at ${rate} requests/s to each public IP, ${timeoutMs} ms timeout each, open loop; ` +
        `addresses sampled every 100 ms`);
    console.log(`heartbeat: keepalive ${hb.keepalive} s, warntime ${hb.warntime} s, deadtime ${hb.deadtime} s; checks every ` +
        `${hb.serviceCheck.interval} s (timeout ${hb.serviceCheck.timeout} s), ${hb.serviceCheck.failAfter} failures stop heartbeat`);
    const rows = [["scenario", "failure", "IP answers again after", "requests sent", "failed requests", "s without service", "IP moves", "duplicates"]];
    for (const o of outcomes) {
        const answered = o.answeredAfterMs === "-" ? "-" : o.answeredAfterMs === undefined ? `not within ${windowS} s` : `${(o.answeredAfterMs / 1000).toFixed(2)} s`;
        rows.push([o.scenario, o.action, answered, String(o.sent), String(o.failed), o.withoutService.toFixed(1), String(o.moves), String(o.duplicates)]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
    console.log(line(rows[0]));
    console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
    for (const r of rows.slice(1)) console.log(line(r));
    console.log(`command: ${cmd}`);
})().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
