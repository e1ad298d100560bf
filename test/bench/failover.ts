// Benchmark: how long a node's public IP is unreachable, and how many reads
// fail, when the node stops cleanly, loses power, or its nginx dies, under a
// steady, bounded read load from the controller. Needs root (the lab).
//
//   npx tsx test/bench/failover.ts [--pair pair-1] [--rate 50] [--window 30] [--timeout 1000]
//   npm run bench:failover
//
// For each scenario the load sends GET <probe file> to node A's public IP at
// a fixed rate (open loop: one request every 1000/rate ms, each with its own
// timeout), from 1 s before the failure until the IP has answered from the
// peer for 2 s, at most `window` seconds and rate * (window + 1) requests.
// "answers again" is the time from the failure to the first request that got
// a 200 from the peer; "failed" counts the requests that got no 200 in that
// time (timeouts, refused connections, errors). After each scenario node A is
// brought back and the bench waits until its IP answers from A again.
import { applyLab, labHostsUp } from "../lab/lab";
import { sshRun, startHost, stopHost } from "../lab/hosts";
import { ensureProbeFile, PROBE_HOST, PROBE_PATH, waitServedBy } from "../lab/probe";
import { LAB_HEARTBEAT, LAB_PAIRS, labHosts } from "../lab/topology";
import * as http from "http";
import { setTimeout as sleep } from "timers/promises";
import { arg, boundedArg } from "./args";

const pairName = arg("pair", "pair-1");
const rate = boundedArg("rate", 50, 1, 200);
const windowS = boundedArg("window", 30, 5, 120);
const timeoutMs = boundedArg("timeout", 1000, 100, 5000);

const pair = LAB_PAIRS.find((p) => p.name === pairName);
if (!pair) throw new Error(`no lab pair ${pairName} (have ${LAB_PAIRS.map((p) => p.name).join(", ")})`);
const hosts = labHosts();
const A = hosts.find((h) => h.name === pair.nodes[0].name)!;
const B = hosts.find((h) => h.name === pair.nodes[1].name)!;
const IP = A.publicIp!;

/** One GET: the node that answered with 200, or undefined. */
function get(): Promise<string | undefined> {
    return new Promise((resolve) => {
        const req = http.request({ host: IP, port: 80, path: PROBE_PATH, headers: { Host: PROBE_HOST }, timeout: timeoutMs, agent: false }, (res) => {
            const node = res.headers["x-pairstore-node"];
            res.resume();
            res.on("end", () => resolve(res.statusCode === 200 && typeof node === "string" ? node : undefined));
            res.on("error", () => resolve(undefined));
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(undefined));
        req.end();
    });
}

interface Outcome { scenario: string; action: string; answeredAfterMs?: number; sent: number; failed: number }

/** Runs the load around `fail()`; returns when the IP has answered from B for 2 s, or after the window. */
async function measure(scenario: string, action: string, fail: () => Promise<unknown>): Promise<Outcome> {
    const every = 1000 / rate;
    const maxRequests = Math.ceil(rate * (windowS + 1));
    const results: Array<Promise<{ at: number; node?: string }>> = [];
    const start = Date.now();
    let t0 = 0;
    let failing: Promise<unknown> | undefined;
    let answeredAt: number | undefined;
    for (let i = 0; i < maxRequests; i++) {
        const due = start + i * every;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        if (!t0 && Date.now() - start >= 1000) {
            t0 = Date.now();
            failing = fail();
        }
        const at = Date.now();
        const r = get().then((node) => {
            if (t0 && at >= t0 && node === B.name && answeredAt === undefined) answeredAt = at;
            return { at, node };
        });
        results.push(r);
        if (answeredAt !== undefined && Date.now() - answeredAt > 2000) break;
        if (t0 && Date.now() - t0 > windowS * 1000) break;
    }
    const all = await Promise.all(results);
    await failing;
    const end = answeredAt ?? Date.now();
    const inWindow = all.filter((r) => r.at >= t0 && r.at <= end);
    return {
        scenario, action,
        answeredAfterMs: answeredAt === undefined ? undefined : answeredAt - t0,
        sent: all.length,
        failed: inWindow.filter((r) => r.node === undefined).length,
    };
}

async function on(host: typeof A, command: string) {
    const r = await sshRun(host, command, undefined, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`${host.name}: \`${command}\` exited ${r.code}: ${r.stderr.trim()}`);
}

async function home() {
    await waitServedBy(A.publicIp!, A.name, { timeoutMs: 120_000 });
    await waitServedBy(B.publicIp!, B.name, { timeoutMs: 120_000 });
    await sleep(2000);
}

(async () => {
    await labHostsUp();
    const applied = await applyLab();
    if (!applied.ok) throw new Error(`lab apply failed:\n${applied.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    await ensureProbeFile();
    await home();

    const outcomes: Outcome[] = [];
    outcomes.push(await measure("clean stop", `${A.name} powered off cleanly (systemd poweroff)`, () => stopHost(A.name)));
    await startHost(A);
    await home();
    outcomes.push(await measure("hard failure", `${A.name} powered off (power cut)`, () => stopHost(A.name, { hard: true })));
    await startHost(A);
    await home();
    outcomes.push(await measure("service failure", `systemctl stop pairstore-nginx on ${A.name}`, () => on(A, "systemctl stop pairstore-nginx.service")));
    await on(A, "systemctl start pairstore-nginx.service");
    await home();

    const hb = LAB_HEARTBEAT;
    const cmd = `PAIRSTORE_LAB_ID=${process.env.PAIRSTORE_LAB_ID ?? 0} npm run bench:failover -- --pair ${pairName} --rate ${rate} --window ${windowS} --timeout ${timeoutMs}`;
    console.log(`\nbench:failover on ${pairName}: ${A.name}'s public IP ${IP}, taken over by ${B.name}`);
    console.log(`load: GET ${PROBE_PATH} (20 KB, Host ${PROBE_HOST}) at ${rate} requests/s, ${timeoutMs} ms timeout each, open loop, ` +
        `at most ${windowS} s and ${Math.ceil(rate * (windowS + 1))} requests per scenario`);
    console.log(`heartbeat: keepalive ${hb.keepalive} s, warntime ${hb.warntime} s, deadtime ${hb.deadtime} s; service check every ` +
        `${hb.serviceCheck.interval} s (timeout ${hb.serviceCheck.timeout} s), ${hb.serviceCheck.failAfter} failures stop heartbeat`);
    const rows = [["scenario", "failure", "IP answers again after", "requests sent", "failed requests"]];
    for (const o of outcomes) {
        rows.push([o.scenario, o.action, o.answeredAfterMs === undefined ? `not within ${windowS} s` : `${(o.answeredAfterMs / 1000).toFixed(2)} s`,
            String(o.sent), String(o.failed)]);
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
