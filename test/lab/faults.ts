// Network faults on the lab hosts, and the clients that watch them: shared
// by the failover fault tests (test/e2e/failover-faults.test.ts) and
// `npm run bench:failover`.
//
// Faults are nftables tables inside a node's own network namespace (the
// netns the lab made for it, see hosts/network.ts), each named pairstore_fault so a
// fault never touches pairstore's own tables and removing it is one command.
// Every helper that applies a fault removes it in `finally`. Clients are
// bounded in count and time, and talk only to lab addresses.
import { execFile, spawn } from "child_process";
import { readFileSync } from "fs";
import * as http from "http";
import * as path from "path";
import { setTimeout as sleep } from "timers/promises";
import { PUBLIC_BRIDGE, PUBLIC_NET, PUBLIC_PREFIX, macFor, netnsName, outerVethName } from "./hosts";
import { PROBE_HOST, PROBE_PATH } from "./probe";

const ROOT = path.join(__dirname, "..", "..");

/** Runs a command on this machine (no shell); resolves with its output, rejects with its stderr. */
export function exec(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`));
            else resolve(stdout);
        });
        if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
}

/** The public bridge's MAC: the lab's public gateway, as the nodes see it. */
export function gatewayMac(): string {
    return readFileSync(`/sys/class/net/${PUBLIC_BRIDGE}/address`, "utf8").trim();
}

/** The nftables ruleset of a fault, as text for `nft -f`. */
export type FaultRules = string;

const FAULT_TABLE = "pairstore_fault";

/**
 * heartbeat's UDP packets dropped on `node` (every interface): "both" drops
 * what it receives and what it sends, "out" only what it sends (its peer
 * stops hearing it, it still hears its peer).
 */
export function dropHeartbeatRules(udpport: number, direction: "both" | "out"): FaultRules {
    return [
        `table inet ${FAULT_TABLE} {`,
        ...(direction === "both" ? [`  chain in { type filter hook input priority -50; policy accept; udp dport ${udpport} drop; }`] : []),
        `  chain out { type filter hook output priority -50; policy accept; udp dport ${udpport} drop; }`,
        "}",
    ].join("\n");
}

/**
 * Everything between `node` and the hosts with the MACs `peers` dropped on
 * `dev` (at the link layer, ARP included): on eth0 and the peer's MAC, the
 * internal network between the two nodes is cut (heartbeat, replication,
 * the fallback and the virtual IPs) while the controller still reaches both;
 * on eth1 and the gateway's MAC, the node is cut off from its gateway (and
 * from the clients behind it) but not from its peer.
 */
export function cutLinkRules(dev: string, peers: string[]): FaultRules {
    const set = `{ ${peers.join(", ")} }`;
    return [
        `table netdev ${FAULT_TABLE} {`,
        `  chain in { type filter hook ingress device "${dev}" priority -50; policy accept; ether saddr ${set} drop; }`,
        `  chain out { type filter hook egress device "${dev}" priority -50; policy accept; ether daddr ${set} drop; }`,
        "}",
    ].join("\n");
}

/** Applies a fault inside `node`'s network namespace. */
export async function applyFault(node: string, rules: FaultRules): Promise<void> {
    await clearFault(node);
    await exec("ip", ["netns", "exec", netnsName(node), "nft", "-f", "-"], { input: rules + "\n" });
}

/** Removes every fault from `node` (idempotent). */
export async function clearFault(node: string): Promise<void> {
    for (const family of ["inet", "netdev"]) {
        await exec("ip", ["netns", "exec", netnsName(node), "nft", "delete", "table", family, FAULT_TABLE]).catch(() => undefined);
    }
}

/** Runs `fn` with the fault applied on `node`; the fault is removed afterwards, whatever happens. */
export async function withFault<T>(node: string, rules: FaultRules, fn: () => Promise<T>): Promise<T> {
    await applyFault(node, rules);
    try {
        return await fn();
    } finally {
        await clearFault(node);
    }
}

/** The MAC of a lab node's interface (fixed by the lab: hosts/naming.ts macFor). */
export function nodeMac(node: string, idx: 0 | 1): string {
    return macFor(node, idx);
}

// ---------------------------------------------------------------------------
// who holds an address

/** The IPv4 addresses each node holds, read from its network namespace (no SSH: about 5 ms). */
export async function addressesOf(node: string): Promise<string[]> {
    const out = await exec("ip", ["-n", netnsName(node), "-o", "-4", "addr", "show"], { timeoutMs: 5000 });
    return [...out.matchAll(/ inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]);
}

/** One sample of who holds the watched addresses. */
export interface HolderSample {
    /** ms since the epoch. */
    at: number;
    /** address -> the nodes holding it. */
    holders: Record<string, string[]>;
}

/**
 * Samples every `everyMs` which of `nodes` hold each of `ips`, until stop():
 * the samples, those where two nodes held one address, and how often each
 * address changed hands.
 */
export function watchHolders(nodes: string[], ips: string[], everyMs = 100, maxSeconds = 300) {
    const samples: HolderSample[] = [];
    let running = true;
    const deadline = Date.now() + maxSeconds * 1000;
    const loop = (async () => {
        while (running && Date.now() < deadline) {
            const at = Date.now();
            const held = await Promise.all(nodes.map((n) => addressesOf(n).catch(() => [] as string[])));
            const holders: Record<string, string[]> = {};
            for (const ip of ips) holders[ip] = nodes.filter((_, i) => held[i].includes(ip));
            samples.push({ at, holders });
            const wait = at + everyMs - Date.now();
            if (wait > 0) await sleep(wait);
        }
    })();
    return {
        samples,
        async stop() {
            running = false;
            await loop;
            return summarizeHolders(samples, ips);
        },
    };
}

/**
 * Duplicates (samples where more than one node held an address), moves (holder
 * changes, "nobody" counting as a holder: a handover is two) and each address's
 * path (the nodes that held it in turn, "nobody" left out) of a sampling.
 */
export function summarizeHolders(samples: HolderSample[], ips: string[]) {
    const duplicates = samples.filter((s) => ips.some((ip) => s.holders[ip].length > 1))
        .map((s) => ({ at: s.at, holders: Object.fromEntries(ips.filter((ip) => s.holders[ip].length > 1).map((ip) => [ip, s.holders[ip]])) }));
    const moves: Record<string, number> = {};
    const paths: Record<string, string[]> = {};
    for (const ip of ips) {
        let last: string | undefined;
        moves[ip] = 0;
        paths[ip] = [];
        for (const s of samples) {
            const now = s.holders[ip].join("+") || "none";
            if (last !== undefined && now !== last) moves[ip]++;
            if (now !== "none" && paths[ip].at(-1) !== now) paths[ip].push(now);
            last = now;
        }
    }
    return { samples: samples.length, duplicates, moves, paths };
}

// ---------------------------------------------------------------------------
// the read loop

/** One request of the read loop. */
export interface ReadResult {
    /** The public IP asked. */
    ip: string;
    /** ms since the epoch when it was sent. */
    at: number;
    /** The node that answered 200, or undefined (no answer, error, other status). */
    node?: string;
    /** HTTP status, when one came. */
    status?: number;
}

/** One GET of the probe file from `ip`, with its own timeout. */
export function getProbe(ip: string, timeoutMs: number): Promise<{ node?: string; status?: number }> {
    return new Promise((resolve) => {
        const req = http.request({ host: ip, port: 80, path: PROBE_PATH, headers: { Host: PROBE_HOST }, timeout: timeoutMs, agent: false }, (res) => {
            const node = res.headers["x-pairstore-node"];
            res.resume();
            res.on("end", () => resolve({ status: res.statusCode, node: res.statusCode === 200 && typeof node === "string" ? node : undefined }));
            res.on("error", () => resolve({ status: res.statusCode }));
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve({}));
        req.end();
    });
}

/**
 * A read loop at `rate` requests per second to each of `ips` (open loop: a
 * request is sent every 1000/rate ms whatever the earlier ones do), each with
 * its own timeout, for at most `maxSeconds`; stop() ends it and returns every
 * result.
 */
export function readLoop(ips: string[], opts: { rate?: number; timeoutMs?: number; maxSeconds?: number } = {}) {
    const rate = opts.rate ?? 10;
    const timeoutMs = opts.timeoutMs ?? 1000;
    const maxSeconds = opts.maxSeconds ?? 300;
    const results: Array<Promise<ReadResult>> = [];
    let running = true;
    const start = Date.now();
    const loop = (async () => {
        for (let i = 0; running && i < rate * maxSeconds; i++) {
            const due = start + (i * 1000) / rate;
            const wait = due - Date.now();
            if (wait > 0) await sleep(wait);
            if (!running) break;
            for (const ip of ips) {
                const at = Date.now();
                results.push(getProbe(ip, timeoutMs).then((r) => ({ ip, at, ...r })));
            }
        }
    })();
    return {
        async stop(): Promise<ReadResult[]> {
            running = false;
            await loop;
            return (await Promise.all(results)).sort((x, y) => x.at - y.at);
        },
    };
}

/** Failed requests (no 200) among `results` sent in [from, to]. */
export function failedBetween(results: ReadResult[], from: number, to = Infinity): ReadResult[] {
    return results.filter((r) => r.at >= from && r.at <= to && r.node === undefined);
}

/** Seconds without service of `ip`: the span from the first to the last failed request (0 without failures). */
export function secondsWithoutService(results: ReadResult[], ip: string, from = 0, to = Infinity): number {
    const failed = failedBetween(results, from, to).filter((r) => r.ip === ip);
    if (failed.length === 0) return 0;
    return (failed[failed.length - 1].at - failed[0].at) / 1000 + 0.1;
}

// ---------------------------------------------------------------------------
// a client of its own: the flood

/** The lab address of the flooding client (on the public network, in a network namespace of its own). */
export const FLOOD_CLIENT = { name: "flood", address: `${PUBLIC_NET}.250` };

/**
 * A network namespace with one address on the lab's public network, like a
 * client on the internet side of the gateway (idempotent). hosts/lifecycle.ts's
 * destroyAll removes it with the lab (its name follows the host netns naming).
 */
export async function ensureClientNetns(): Promise<string> {
    const ns = netnsName(FLOOD_CLIENT.name);
    const outer = outerVethName(FLOOD_CLIENT.name, 1);
    const list = await exec("ip", ["netns", "list"]);
    if (!list.split("\n").some((l) => l.split(" ")[0] === ns)) await exec("ip", ["netns", "add", ns]);
    const inner = await exec("ip", ["-n", ns, "link", "show", "eth1"]).catch(() => "");
    if (!inner) {
        await exec("ip", ["link", "del", outer]).catch(() => undefined);
        await exec("ip", ["link", "add", outer, "address", macFor(FLOOD_CLIENT.name, 0x11), "type", "veth",
            "peer", "name", "eth1", "address", macFor(FLOOD_CLIENT.name, 1), "netns", ns]);
    }
    await exec("ip", ["link", "set", outer, "master", PUBLIC_BRIDGE, "up"]);
    await exec("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await exec("ip", ["-n", ns, "link", "set", "eth1", "up"]);
    await exec("ip", ["-n", ns, "addr", "replace", `${FLOOD_CLIENT.address}/${PUBLIC_PREFIX}`, "dev", "eth1"]);
    return ns;
}

/** What the flood did, per target. */
export interface FloodReport {
    target: string;
    /** Connections it tried to open. */
    attempts: number;
    /** Most connections open at once. */
    maxOpen: number;
    /** Connections refused or reset (the kernel's per-client limit answers a SYN with a reset). */
    refused: number;
}

/**
 * Floods `targets` (port 80) from the flood client's address: up to
 * `connections` open connections per target, each sending an unfinished
 * request header and holding it, for `seconds`; closed ones are reopened, at
 * most `openPerSecond` new connections a second in all. Runs
 * test/lab/flood.ts in the client's network namespace.
 */
export async function flood(targets: string[], opts: { connections: number; seconds: number; openPerSecond?: number }): Promise<FloodReport[]> {
    const ns = await ensureClientNetns();
    const args = ["netns", "exec", ns, process.execPath, require.resolve("tsx/cli"), path.join(ROOT, "test", "lab", "flood.ts"),
        "--targets", targets.join(","), "--connections", String(opts.connections), "--seconds", String(opts.seconds),
        "--open-per-second", String(opts.openPerSecond ?? 2000), "--host", PROBE_HOST, "--path", PROBE_PATH];
    // the client holds thousands of sockets: raise its open-file limit (this machine's hard limit is 20000)
    const out = await new Promise<string>((resolve, reject) => {
        const child = spawn("prlimit", [`--nofile=${Math.min(20000, opts.connections * targets.length + 256)}`, "ip", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => { stdout += d; });
        child.stderr.on("data", (d) => { stderr += d; });
        const killer = setTimeout(() => child.kill("SIGKILL"), (opts.seconds + 30) * 1000);
        child.on("close", (code) => {
            clearTimeout(killer);
            if (code === 0) resolve(stdout);
            else reject(new Error(`flood exited ${code}: ${stderr}`));
        });
    });
    return JSON.parse(out.trim().split("\n").pop()!);
}
