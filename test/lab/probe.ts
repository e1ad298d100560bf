// Which node answers a public IP: one bounded HTTP request from the
// controller to a lab address, read from nginx's X-Pairstore-Node header.
// Shared by the failover e2e test and `npm run bench:failover`.
import * as http from "http";
import { setTimeout as sleep } from "timers/promises";
import { sshRun } from "./hosts";
import { labHosts } from "./topology";

/** The Host header the probes send (shard 0 of the lab's first domain). */
export const PROBE_HOST = "0.image.example.com";

/**
 * The file the probes read. It is on every node's own disk: a file missing
 * there would be fetched from the peer, and a dead peer makes that request
 * wait for proxy_connect_timeout instead of answering.
 */
export const PROBE_PATH = "/failover-probe.txt";

/** Puts the probe file on every lab node's disk (idempotent). */
export async function ensureProbeFile(): Promise<void> {
    const file = `/srv/images/example.com/image${PROBE_PATH}`;
    for (const h of labHosts()) {
        const r = await sshRun(h, `[ -s ${file} ] || { head -c 20480 /dev/urandom > ${file}.tmp && chown www-data: ${file}.tmp && mv ${file}.tmp ${file}; }`);
        if (r.code !== 0) throw new Error(`${h.name}: cannot write ${file}: ${r.stderr}`);
    }
}

/** The node that answered `ip` (any HTTP status counts as an answer), or undefined when nothing answered within `timeoutMs`. */
export function servedBy(ip: string, timeoutMs = 1000, path = PROBE_PATH): Promise<string | undefined> {
    return new Promise((resolve) => {
        let node: string | undefined;
        // One deadline for the whole exchange: a socket timeout alone never fires
        // for a response whose body stalls (it would leave this promise pending).
        // The request's "close" comes last in every case (answer, error, destroy).
        const timer = setTimeout(() => req.destroy(), timeoutMs);
        const req = http.request({ host: ip, port: 80, path, method: "GET", headers: { Host: PROBE_HOST }, agent: false }, (res) => {
            const header = res.headers["x-pairstore-node"];
            node = typeof header === "string" ? header : undefined;
            res.resume();
        });
        req.on("error", () => {});
        req.on("close", () => {
            clearTimeout(timer);
            resolve(node);
        });
        req.end();
    });
}


/**
 * Polls `ip` every `everyMs` until `node` answers it; returns the ms since
 * `since`. Throws after `timeoutMs` with the last answer.
 */
export async function waitServedBy(ip: string, node: string, opts: { since?: number; timeoutMs: number; everyMs?: number }): Promise<number> {
    const since = opts.since ?? Date.now();
    const deadline = since + opts.timeoutMs;
    let last: string | undefined;
    for (;;) {
        last = await servedBy(ip, 500);
        if (last === node) return Date.now() - since;
        if (Date.now() > deadline) {
            throw new Error(`${ip} did not answer from ${node} within ${opts.timeoutMs} ms (last answer: ${last ?? "none"})`);
        }
        await sleep(opts.everyMs ?? 100);
    }
}
