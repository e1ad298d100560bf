// Helpers for replication tests and the replication benchmark: store files on
// a lab node and look for them on its peer. `storeFiles` writes as the web
// user straight into the data directory (atomically: a dot-named temporary
// file renamed into place, as nginx's DAV module does); once nginx's DAV port
// lands, it is the one place to switch to `PUT` requests.
import { createHash } from "crypto";
import * as http from "http";
import { storagePath } from "../../components/lib/layout";
import { domainRootOf } from "../../components/lib/paths";
import { DEFAULTS } from "../../components/config";
import { WEB_USER } from "../../components/lib/paths";
import { sshRun } from "../lab/hosts";
import { labDnsHost, labHosts, labLayout, labPairs } from "../lab/topology";

/** Runs a command on a lab host (a node, the growth pair's too, or the DNS host) as root; throws when it fails (no vitest here: the benchmark uses this module too). */
export async function onHost(name: string, command: string): Promise<string> {
    const h = [...labHosts(labPairs(3)), labDnsHost()].find((x) => x.name === name);
    if (!h) throw new Error(`no lab host ${name}`);
    const r = await sshRun(h, command);
    if (r.code !== 0) throw new Error(`${name}: \`${command.slice(0, 200)}\` exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
}

/** A domain's image root on the lab nodes. */
export function rootOf(domain: string): string {
    return domainRootOf(DEFAULTS.dataRoot, domain);
}

/**
 * storagePath(uid, name) on a shard of `pair` in the lab's first plan (two
 * pairs): the name gets a counter ("photo-3.jpg") until its md5 falls on one.
 * Every node forwards an upload of another pair's shard there.
 */
export function pairPath(pair: string, uid: string | number, name: string): string {
    const shards = new Set(labLayout().shards[pair].split(" "));
    const dot = name.lastIndexOf(".");
    for (let k = 0; ; k++) {
        const p = storagePath(uid, k === 0 ? name : `${name.slice(0, dot)}-${k}${name.slice(dot)}`);
        if (shards.has(p[0])) return p;
    }
}

/** pairPath on pair-1, where the tests that PUT on pair-1's nodes need their files. */
export function pairOnePath(uid: string | number, name: string): string {
    return pairPath("pair-1", uid, name);
}

/** `count` layout paths (`6/2/a/<uid>-<md5>.jpg`) on pair-1's shards for files named after `tag`. */
export function layoutPaths(tag: string, count: number): string[] {
    return Array.from({ length: count }, (_, i) => pairOnePath(i + 1, `${tag}-${i}.jpg`));
}

/** Bash that stores one file of `bytes` random bytes at `rel` under `root` as the web user. */
export function storeScript(root: string, rel: string, bytes: number): string {
    const dir = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : ".";
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    return `runuser -u ${WEB_USER} -- bash -c 'mkdir -p ${root}/${dir} && head -c ${bytes} /dev/urandom > ${root}/${dir}/.${base}.tmp && mv ${root}/${dir}/.${base}.tmp ${root}/${rel}'`;
}

/** Stores files (random content) on `node`; returns their relative paths. */
export async function storeFiles(node: string, domain: string, rels: string[], bytes = 2048): Promise<string[]> {
    const root = rootOf(domain);
    for (let i = 0; i < rels.length; i += 25) {
        await onHost(node, rels.slice(i, i + 25).map((r) => storeScript(root, r, bytes)).join(" && "));
    }
    return rels;
}

/** Which of `rels` exist on `node` (as regular files). */
export async function present(node: string, domain: string, rels: string[]): Promise<string[]> {
    if (rels.length === 0) return [];
    const root = rootOf(domain);
    const out = await onHost(node, `cd ${root} 2>/dev/null && for f in ${rels.join(" ")}; do [ -f "$f" ] && echo "$f"; done; true`);
    return out.split("\n").filter(Boolean);
}

/** md5 of every stored file under the image root (pairstore's own folder and marker left out): relative path -> digest. */
export async function inventory(node: string, domain: string): Promise<Map<string, string>> {
    const out = await onHost(node, `cd ${rootOf(domain)} && find . -path ./.pairstore -prune -o -type f ! -path ./.pairstore-replica -exec md5sum {} + | sed 's# \\./# #' || true`);
    const m = new Map<string, string>();
    for (const line of out.split("\n").filter(Boolean)) {
        const [sum, rel] = line.split(/\s+/);
        m.set(rel, sum);
    }
    return m;
}

/** Polls until `check` returns true or `timeoutMs` passes; returns the elapsed milliseconds or -1. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<number> {
    const t0 = Date.now();
    for (;;) {
        if (await check()) return Date.now() - t0;
        if (Date.now() - t0 > timeoutMs) return -1;
        await new Promise((r) => setTimeout(r, stepMs));
    }
}

/** A short unique tag for test files. */
export function tag(what: string): string {
    return `${what}-${createHash("md5").update(`${what}${Date.now()}${Math.random()}`).digest("hex").slice(0, 8)}`;
}

/**
 * Bash run on the receiving node: polls every 20 ms until each of `rels`
 * exists under `root`, printing "<rel> <epoch seconds>" as each appears
 * (bash's $EPOCHREALTIME, no fork per check); gives up after `timeoutSec`.
 */
export function arrivalScript(root: string, rels: string[], timeoutSec: number): string {
    return [
        `cd ${root} || exit 1`,
        `pending=(${rels.join(" ")})`,
        `end=$(( \${EPOCHREALTIME%.*} + ${timeoutSec} ))`,
        `while [ \${#pending[@]} -gt 0 ] && [ \${EPOCHREALTIME%.*} -lt $end ]; do`,
        `  left=()`,
        `  for f in "\${pending[@]}"; do if [ -f "$f" ]; then echo "$f $EPOCHREALTIME"; else left+=("$f"); fi; done`,
        `  pending=("\${left[@]}")`,
        `  sleep 0.02`,
        `done`,
    ].join("\n");
}

/**
 * Bash run on the writing node: stores each of `rels` (`bytes` random bytes,
 * as the web user, atomically), one every `intervalSec`, printing
 * "<rel> <epoch seconds>" once each is in place.
 */
export function writerScript(root: string, rels: string[], bytes: number, intervalSec: number): string {
    return [
        `head -c ${bytes} /dev/urandom > /tmp/pairstore-payload && chmod 644 /tmp/pairstore-payload`,
        `for f in ${rels.join(" ")}; do`,
        `  d=$(dirname "$f"); b=$(basename "$f")`,
        `  runuser -u ${WEB_USER} -- bash -c "mkdir -p ${root}/$d && cp /tmp/pairstore-payload ${root}/$d/.$b.tmp && mv ${root}/$d/.$b.tmp ${root}/$f"`,
        `  echo "$f $EPOCHREALTIME"`,
        `  sleep ${intervalSec}`,
        `done`,
    ].join("\n");
}

/** Parses "<rel> <epoch>" lines into rel -> epoch milliseconds. */
export function stamps(out: string): Map<string, number> {
    const m = new Map<string, number>();
    for (const line of out.split("\n")) {
        const [rel, t] = line.trim().split(/\s+/);
        if (rel && t) m.set(rel, Number(t) * 1000);
    }
    return m;
}

/** A reply to one HTTP request from the controller. */
export interface HttpReply { status: number; body: Buffer; headers: Record<string, string | string[] | undefined> }

/**
 * One HTTP request from the controller (bounded by `timeoutMs`); a request
 * that gets no answer resolves with status 0. Many can run at once.
 */
export function httpRequest(url: string, opts: { method?: string; body?: Buffer; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpReply> {
    return new Promise((resolve) => {
        const u = new URL(url);
        const headers: Record<string, string | number> = { ...(opts.headers ?? {}) };
        if (opts.body) headers["Content-Length"] = opts.body.length;
        const req = http.request({
            host: u.hostname, port: u.port || 80, path: u.pathname + u.search, method: opts.method ?? "GET", headers,
            agent: false, timeout: opts.timeoutMs ?? 20_000,
        }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
            res.on("error", () => resolve({ status: 0, body: Buffer.concat(chunks), headers: res.headers }));
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve({ status: 0, body: Buffer.alloc(0), headers: {} }));
        req.end(opts.body);
    });
}

/** sha256 hex of bytes. */
export function sha256(bytes: Buffer): string {
    return createHash("sha256").update(bytes).digest("hex");
}

/** sha256 of each of `rels` on `node` ("missing" when absent). */
export async function digests(node: string, domain: string, rels: string[]): Promise<Map<string, string>> {
    const m = new Map<string, string>();
    const root = rootOf(domain);
    for (let i = 0; i < rels.length; i += 100) {
        const chunk = rels.slice(i, i + 100);
        const out = await onHost(node, `cd ${root} && for f in ${chunk.join(" ")}; do if [ -f "$f" ]; then sha256sum "$f"; else echo "missing $f"; fi; done`);
        for (const line of out.split("\n").filter(Boolean)) {
            const [sum, rel] = line.split(/\s+/);
            m.set(rel, sum);
        }
    }
    return m;
}

/**
 * Every stored file of a domain's root on `node`, hidden files included
 * (pairstore's own folder and marker left out): relative path -> sha256.
 */
export async function storedFiles(node: string, domain: string): Promise<Map<string, string>> {
    const out = await onHost(node, `cd ${rootOf(domain)} && find . -path ./.pairstore -prune -o -type f ! -path ./.pairstore-replica -print0 | xargs -0 -r sha256sum | sed 's# \\./# #'`);
    const m = new Map<string, string>();
    for (const line of out.split("\n").filter(Boolean)) {
        const i = line.indexOf(" ");
        m.set(line.slice(i + 1).trim(), line.slice(0, i));
    }
    return m;
}

/** The journal cursor of `node` now: read its journal from here on with `journalSince`. */
export async function journalCursor(node: string): Promise<string> {
    return onHost(node, "journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'");
}

/** `node`'s journal after `cursor` (of `unit` when given). */
export async function journalSince(node: string, cursor: string, unit?: string): Promise<string> {
    return onHost(node, `journalctl -q --no-pager -o cat --after-cursor='${cursor}' ${unit ? `-u ${unit}` : ""} || true`);
}

/**
 * sha256 of each of `rels` as `node` holds it on its own disk, read over HTTP
 * from its internal port (which serves local files only and never proxies):
 * no SSH round trip per file. "missing" when the node does not have it.
 */
export async function servedDigests(address: string, port: number, rels: string[]): Promise<Map<string, string>> {
    const replies = await Promise.all(rels.map((r) => httpRequest(`http://${address}:${port}/${r.replace(/^\//, "")}`)));
    return new Map(rels.map((r, i) => [r, replies[i].status === 200 ? sha256(replies[i].body) : replies[i].status === 404 ? "missing" : `status ${replies[i].status}`]));
}

/**
 * Watches `rels` appear on a node's own disk, read over its internal port
 * (local files only) every `everyMs`; resolves with path -> the first time
 * (epoch ms) it answered 200. Bounded by `timeoutMs`. No SSH: it starts at once.
 */
export async function arrivalsOverHttp(address: string, port: number, rels: string[], timeoutMs: number, everyMs = 50): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    const deadline = Date.now() + timeoutMs;
    while (seen.size < rels.length && Date.now() < deadline) {
        const pending = rels.filter((r) => !seen.has(r));
        const replies = await Promise.all(pending.map((r) => httpRequest(`http://${address}:${port}/${r.replace(/^\//, "")}`, { method: "HEAD", timeoutMs: 5000 })));
        const now = Date.now();
        pending.forEach((r, i) => { if (replies[i].status === 200) seen.set(r, now); });
        await new Promise((res) => setTimeout(res, everyMs));
    }
    return seen;
}
