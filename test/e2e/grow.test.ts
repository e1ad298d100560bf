// Growing and shrinking the lab under traffic, as a user grows a cluster
// (README "Grow or shrink a cluster"): pair-3 joins and takes 5 of the 16
// shards with their files, the pairs that gave them drop their copies
// (dropUnserved), then pair-3 retires and gives them back. A read loop
// (every file, through its shard name at the lab's DNS server, on every
// address it resolves to) and an upload loop (new files, through whichever
// node the shard name resolves to) run the whole time: no read may fail, no
// upload may be lost, and every file ends on both nodes of the pair serving it.
import { type Dirent, existsSync, readdirSync, readFileSync } from "fs";
import path from "path";
import { setTimeout as sleep } from "timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { growPlan, planShards } from "../../components/lib/shards";
import { applyLab, labPinnedPlan, labStack, resizeLab } from "../lab/lab";
import type { RunResult } from "../engine";
import { destroyHost } from "../lab/hosts";
import { applyRecap, formatRecap } from "../lab/recap";
import { LAB_DOMAINS, LAB_GROWTH_PAIR, labHosts, labPairs } from "../lab/topology";
import { dnsDigAllAsync } from "./dns-env";
import { describeLab, labReady, onHost, pathOn, runningOn } from "./lab-env";
import { httpRequest, present, rootOf, servedDigests, sha256, storeFiles, waitFor } from "./replication-helpers";

const HEX = [..."0123456789abcdef"];
const PORT = Object.fromEntries(LAB_DOMAINS.map((d) => [d.name, d.internalPort]));
const HOSTS = labHosts(labPairs(3));
/** public IP -> the node's internal address (where uploads go). */
const INTERNAL_OF = Object.fromEntries(HOSTS.map((h) => [h.publicIp!, h.mgmtIp]));

interface LabFile { domain: string; shard: string; rel: string; sum: string }

const RUN = Date.now().toString(36);
let made = 0;
function newFile(domain: string, shard: string): { file: LabFile; body: Buffer } {
    const n = made++;
    const body = Buffer.from(`${domain} ${shard} ${RUN} ${n} ${"x".repeat(n % 300)}`);
    const rel = `${shard}/${HEX[n % 16]}/${HEX[(n >> 4) % 16]}/grow-${RUN}-${n}.jpg`;
    return { file: { domain, shard, rel, sum: sha256(body) }, body };
}

/**
 * Where shard names resolve now: name -> addresses. A name the lab's DNS
 * server does not answer (a query timing out while new hosts boot on this
 * 2-core machine) is asked again, as a client's resolver would, up to 3 times.
 */
async function resolve(names: string[]): Promise<Record<string, string[]>> {
    let got: Record<string, string[]> = {};
    for (let i = 0; i < 3; i++) {
        const missing = names.filter((n) => !(n in got));
        if (missing.length === 0) break;
        if (i > 0) await new Promise((r) => setTimeout(r, 500));
        got = { ...got, ...(await dnsDigAllAsync(missing).catch(() => ({}))) };
    }
    return got;
}

const resolveAll = () => resolve(LAB_DOMAINS.flatMap((d) => HEX.map((s) => `${s}.image.${d.name}`)));

/**
 * A bounded loop until `stop()`: reads every file on every address its shard
 * name resolves to, 24 at a time, at most 100 reads a second (a pass over the
 * lab's files every 10 to 20 s: every flip is crossed many times, and the
 * 2-core machine keeps its CPU for the applies it watches).
 */
function readLoop(files: LabFile[]) {
    let running = true;
    const failures: string[] = [];
    let reads = 0;
    const done = (async () => {
        const end = Date.now() + 20 * 60_000;
        while (running && Date.now() < end) {
            const names = await resolveAll();
            const jobs = files.slice().flatMap((f) => (names[`${f.shard}.image.${f.domain}`] ?? ["(no record)"]).map((ip) => ({ f, ip })));
            for (let i = 0; i < jobs.length && running; i += 24) {
                const paced = sleep(240);
                await Promise.all(jobs.slice(i, i + 24).map(async ({ f, ip }) => {
                    const r = await httpRequest(`http://${ip}/${f.rel}`, { headers: { Host: `${f.shard}.image.${f.domain}` }, timeoutMs: 10_000 });
                    reads++;
                    if (r.status !== 200 || sha256(r.body) !== f.sum) {
                        failures.push(`${new Date().toISOString()} ${f.domain} ${f.rel} at ${ip}: ${r.status} from ${r.headers["x-pairstore-node"] ?? r.headers.server ?? "?"} ${r.body.toString().slice(0, 80)}`);
                    }
                }));
                await paced;
            }
        }
    })();
    return { stop: async () => { running = false; await done; return { reads, failures }; } };
}

/** A bounded loop until `stop()`: uploads a new file every 250 ms through a node its shard name resolves to. */
function uploadLoop(into: LabFile[]) {
    let running = true;
    const failures: string[] = [];
    const done = (async () => {
        const end = Date.now() + 20 * 60_000;
        for (let k = 0; running && Date.now() < end; k++) {
            const domain = LAB_DOMAINS[k % 2].name;
            const shard = HEX[k % 16];
            const ips = (await resolve([`${shard}.image.${domain}`]))[`${shard}.image.${domain}`] ?? [];
            const { file, body } = newFile(domain, shard);
            const via = INTERNAL_OF[ips[k % Math.max(1, ips.length)]];
            const r = via ? await httpRequest(`http://${via}:${PORT[domain]}/${file.rel}`, { method: "PUT", body, timeoutMs: 20_000 }) : { status: "no DNS answer" };
            if (r.status === 201) into.push(file);
            else failures.push(`${new Date().toISOString()} PUT ${domain} ${file.rel} via ${via}: ${r.status}`);
            await new Promise((res) => setTimeout(res, 250));
        }
    })();
    return { stop: async () => { running = false; await done; return failures; } };
}

/** Files under `dir` (a path on this machine), pairstore's own folder (.pairstore) left out; 0 when it does not exist. */
function countFiles(dir: string): number {
    let n = 0;
    let entries: Dirent[];
    try {
        entries = readdirSync(dir, { withFileTypes: true });
    } catch {
        return 0;
    }
    for (const e of entries) {
        if (e.isDirectory() && e.name !== ".pairstore") n += countFiles(path.join(dir, e.name));
        else if (e.isFile()) n++;
    }
    return n;
}

/** The pair the pinned plan gives a shard. */
function pairOf(shard: string): string {
    return Object.entries(labPinnedPlan()).find(([, s]) => s.split(" ").includes(shard))![0];
}

/** Files not held, with the right bytes, by both nodes of the pair the pinned plan gives their shard. */
async function misplaced(files: LabFile[]): Promise<string[]> {
    const plan = labPinnedPlan();
    const bad: string[] = [];
    for (const p of labPairs(3).filter((p) => p.name in plan)) {
        for (const n of p.nodes) {
            const address = HOSTS.find((h) => h.name === n.name)!.mgmtIp;
            for (const d of LAB_DOMAINS) {
                const mine = files.filter((f) => f.domain === d.name && pairOf(f.shard) === p.name);
                const got = await servedDigests(address, d.internalPort, mine.map((f) => f.rel));
                for (const f of mine) if (got.get(f.rel) !== f.sum) bad.push(`${n.name} ${d.name} ${f.rel}: ${got.get(f.rel)}`);
            }
        }
    }
    return bad;
}

/** misplaced(), polled while replication catches up (lsyncd's delay: seconds). */
async function misplacedAfter(files: LabFile[], timeoutMs = 30_000): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const bad = await misplaced(files);
        if (bad.length === 0 || Date.now() > end) return bad;
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/** The lab's apply, its recap printed (where the time of this long test goes). */
async function applyRecapped(overrides?: Record<string, unknown>): Promise<RunResult> {
    const r = await applyLab(overrides);
    console.error(`grow: ${formatRecap(applyRecap(r, HOSTS.map((h) => h.name)))}`);
    return r;
}

async function applyOk(): Promise<boolean> {
    const r = await applyRecapped();
    if (!r.ok) console.error(`grow: apply failed:\n${r.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    return r.ok;
}

describeLab("grow and shrink the lab under traffic (lab hosts)", () => {
    const files: LabFile[] = [];

    beforeAll(async () => {
        await labReady();
        // 16 files per shard and domain (512), all uploaded through node-1a: it forwards those of pair-2's shards
        for (const d of LAB_DOMAINS) {
            for (const s of HEX) {
                for (let i = 0; i < 16; i++) {
                    const { file, body } = newFile(d.name, s);
                    const r = await httpRequest(`http://${HOSTS[0].mgmtIp}:${d.internalPort}/${file.rel}`, { method: "PUT", body });
                    expect(r.status, `PUT ${file.rel} through node-1a`).toBe(201);
                    files.push(file);
                }
            }
        }
        expect(await misplacedAfter(files)).toEqual([]);
    }, 900_000);

    afterAll(async () => {
        // the lab goes back to two pairs whatever happened
        await resizeLab(2, applyOk, () => undefined).catch((e) => console.error(e));
        for (const n of LAB_GROWTH_PAIR.nodes) await destroyHost(n.name);
    }, 900_000);

    /** Resizes the lab to `count` pairs under the read and upload loops: nothing fails, every file ends on both nodes of its pair. */
    async function resizeUnderTraffic(count: number, what: string, apply = applyOk, overrides?: Record<string, unknown>) {
        const reads = readLoop(files);
        const during: LabFile[] = [];
        const uploads = uploadLoop(during);
        let resized: boolean | Error = false;
        try {
            resized = await resizeLab(count, apply, () => undefined, overrides).catch((e: Error) => e);
        } finally {
            const uploadFailures = await uploads.stop();
            const r = await reads.stop();
            if (resized instanceof Error) throw resized;
            expect(resized, `${what}: the applies succeeded`).toBe(true);
            expect(uploadFailures, `${what}: uploads that failed`).toEqual([]);
            expect(r.failures, `${what}: reads that failed (of ${r.reads})`).toEqual([]);
            expect(r.reads).toBeGreaterThan(files.length * 2);
            files.push(...during);
        }
        expect(Object.keys(labPinnedPlan()).sort(), what).toEqual(labPairs(count).map((p) => p.name));
        expect(await misplacedAfter(files), `${what}: files not on both nodes of their pair`).toEqual([]);
    }

    /** The lab's pairs with dropUnserved on `pair` (pairstore:pairs, as an override). */
    const dropOn = (pair: string) => ({
        pairs: (JSON.parse(labStack()["pairstore:pairs"].value) as Array<Record<string, unknown>>).map((p) => (p.name === pair ? { ...p, dropUnserved: true } : p)),
    });
    const nodesOf = (pair: string) => labPairs(3).find((p) => p.name === pair)!.nodes.map((n) => n.name);

    it("grows to three pairs under traffic, its first apply killed mid-copy: the next resumes; no read fails, no upload is lost, every file on both nodes of its pair", async () => {
        const root = (d: string) => rootOf(d);
        // Polled every 300 ms while node-3a is provisioned: read here, from its mounted root and /proc, not over SSH.
        const filesOn3a = async () => LAB_DOMAINS.reduce((n, d) => n + countFiles(pathOn("node-3a", root(d.name))), 0);
        const oldNodes = HOSTS.filter((h) => nodesOf("pair-1").includes(h.name) || nodesOf("pair-2").includes(h.name)).map((h) => h.mgmtIp.replace(/\./g, "\\."));
        const copying = new RegExp(`(${oldNodes.join("|")})::[a-z.]+-refill/`);
        let applies = 0;
        let atKill = 0;
        let resumedCopies = -1;
        // The first apply is killed (SIGKILL, with its ssh sessions: an interrupted `pulumi up`) once node-3a's copy has begun.
        const apply = async (): Promise<boolean> => {
            applies++;
            if (applies === 1) {
                const abort = new AbortController();
                let done = false;
                const run = applyLab({}, { signal: abort.signal }).then((r) => `finished (ok: ${r.ok})`, () => "killed").finally(() => { done = true; });
                await waitFor(async () => done || (runningOn("node-3a", copying) && (await filesOn3a()) > 0), 900_000, 300);
                atKill = done ? 0 : await filesOn3a();
                abort.abort();
                expect(await run, "the first apply, killed mid-copy (if it finished first: lower replication.moveBwLimit)").toBe("killed");
                expect(atKill, "files node-3a held when the apply was killed").toBeGreaterThan(0);
                // pair-3 compiled no nginx: node-3a installed node-1a's build, node-3b node-3a's (a compile keeps its source tarball)
                const nginxOf = (n: string) => sha256(readFileSync(pathOn(n, "/usr/local/sbin/nginx")));
                for (const n of ["node-3a", "node-3b"]) {
                    expect(existsSync(pathOn(n, "/var/cache/pairstore/nginx")), `${n} compiled nginx`).toBe(false);
                    expect(nginxOf(n), `${n}'s nginx`).toBe(nginxOf("node-1a"));
                }
                // write-once across the move: a name the old pair holds and node-3a has not copied yet is refused there
                const to3 = growPlan(planShards(["pair-1", "pair-2"], 1), "pair-3").shards.filter((x) => x.pair === "pair-3").map((x) => x.shard);
                const d = LAB_DOMAINS[0];
                const at3a = `http://${HOSTS.find((h) => h.name === "node-3a")!.mgmtIp}:${d.internalPort}`;
                const moving = files.filter((f) => f.domain === d.name && to3.includes(f.shard)).map((f) => f.rel);
                const copied = new Set(await present("node-3a", d.name, moving));
                // the last in rsync's order (by name): the copy that may still run after the kill reaches it last
                const notYet = moving.filter((rel) => !copied.has(rel)).sort().pop();
                expect(notYet, "a moving file node-3a has not copied yet").toBeDefined();
                const twin = await httpRequest(`${at3a}/${notYet}`, { method: "PUT", body: Buffer.from("another file, same name") });
                expect(`${twin.status} ${twin.body.toString().trim()}`, `PUT ${notYet} on node-3a`).toMatch(/^409 .*exists on the pair its shard moves from or to/);
                // and a MOVE onto that name of a file node-3a holds (412, WebDAV's answer to Overwrite: F): it stays where it was
                const held = (await onHost("node-3a", `cd ${root(d.name)} && find . -path ./.pairstore -prune -o -type f ! -name '.*' -print | head -n 1`)).replace(/^\.\//, "");
                if (held !== "") {
                    const move = await httpRequest(`${at3a}/${held}`, { method: "MOVE", headers: { Destination: `/${notYet}`, Overwrite: "F" } });
                    expect(`${move.status} ${move.body.toString().trim()}`, `MOVE ${held} onto ${notYet} on node-3a`).toMatch(/^412 .*exists on the pair its shard moves from or to/);
                    expect(await present("node-3a", d.name, [held]), `${held} stays`).toEqual([held]);
                }
                return true;
            }
            const r = await applyRecapped();
            if (applies === 2) {
                const moved = [...(r.stdout["node-3a-shard-move"] ?? "").matchAll(/: copy (\d+) files/g)].reduce((n, m) => n + Number(m[1]), 0);
                resumedCopies = moved;
                if (r.ok) await undoRefused();
            }
            if (!r.ok) console.error(`grow: apply failed:\n${r.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
            return r.ok;
        };
        // pair-3 serves its shards (their records point at it) and the plan is not pinned yet: taking it out of
        // pairstore:pairs would give them back to the old pairs without what was uploaded to it. Every old
        // node refuses, first thing, naming the shards, the plan to pin and the key; nothing changes or is
        // deleted anywhere (the read loop, still running, sees no failure).
        const undoRefused = async () => {
            const pairs = (JSON.parse(labStack()["pairstore:pairs"].value) as Array<{ name: string }>).filter((p) => p.name !== "pair-3");
            const undo = await applyLab({ pairs });
            expect(undo.ok, "the apply without pair-3 fails").toBe(false);
            // (the first failure stops the run: the other nodes' checks may not have started)
            const guards = [...nodesOf("pair-1"), ...nodesOf("pair-2")].map((n) => `${n}-shard-plan`);
            expect(undo.failed.length).toBeGreaterThan(0);
            expect(undo.failed.filter((f) => !guards.includes(f.name)), "failed steps other than the plan checks").toEqual([]);
            const to3 = growPlan(planShards(["pair-1", "pair-2"], 1), "pair-3").shards.filter((x) => x.pair === "pair-3").map((x) => x.shard);
            const message = undo.failed[0].message;
            for (const shard of to3) expect(message).toMatch(new RegExp(`${shard} \\(pair-3 -> pair-[12]\\)`));
            expect(message).toContain(`pulumi config set pairstore:shardsCopiedByHand '${[...to3].sort().join(" ")}'`);
            // (the components and the failed checks are listed too)
            const steps = (names: string[]) => names.filter((n) => !/^(pair-\d|node-\d[ab]|example\.(com|org))$/.test(n) && !undo.failed.some((f) => f.name === n));
            expect(steps([...undo.created, ...undo.updated, ...undo.deleted]), "steps that ran").toEqual([]);
        };
        // slow enough to be caught copying
        await resizeUnderTraffic(3, "grow", apply, { replication: { moveBwLimit: 256 } });
        // the next apply resumed: it copied only what node-3a lacked, nothing twice, no partial file left
        expect(resumedCopies, "files the resumed copy sent").toBeGreaterThanOrEqual(0);
        expect(resumedCopies + atKill, "files copied before the kill are not copied again").toBeLessThanOrEqual(await filesOn3a());
        for (const n of nodesOf("pair-3")) {
            const partial = await onHost(n, LAB_DOMAINS.map((d) => `find ${root(d.name)} -path '*/.pairstore' -prune -o -type f -regextype posix-extended -regex '.*/\\.[^/]+\\.[A-Za-z0-9]{6}$' -print`).join("; "));
            expect(partial, `${n}: rsync's partial files`).toBe("");
        }
    }, 2_400_000); // 21 min in a full CI run on this 2-core machine (four applies of the grown lab under the loops)

    it("the pairs that gave shards dropped their copies (no tombstone), and still answer reads of them at their IPs", async () => {
        const moved = files.filter((f) => pairOf(f.shard) === "pair-3");
        expect(moved.length).toBeGreaterThan(0);
        for (const pair of ["pair-1", "pair-2"]) {
            for (const node of nodesOf(pair)) {
                for (const d of LAB_DOMAINS) {
                    const mine = moved.filter((f) => f.domain === d.name).map((f) => f.rel);
                    expect(await present(node, d.name, mine), `${node} ${d.name}: copies of moved files`).toEqual([]);
                    const tombs = await onHost(node, `cd ${rootOf(d.name)}/.pairstore/tombstones 2>/dev/null && for f in ${mine.join(" ")}; do [ ! -e "$f" ] || echo "$f"; done; true`);
                    expect(tombs, `${node} ${d.name}: tombstones of dropped files`).toBe("");
                }
            }
        }
        const old = HOSTS.filter((h) => ["node-1a", "node-2b"].includes(h.name));
        for (const f of moved.slice(0, 12)) {
            for (const h of old) {
                const r = await httpRequest(`http://${h.publicIp}/${f.rel}`, { headers: { Host: `${f.shard}.image.${f.domain}` }, timeoutMs: 10_000 });
                expect(`${r.status} ${sha256(r.body) === f.sum}`, `${f.rel} at ${h.name}`).toBe("200 true");
            }
        }
    }, 120_000);

    it("dropping hands over what the serving pair lacks, and refuses, naming it and removing nothing, a file it holds with other bytes", async () => {
        const d = LAB_DOMAINS[0];
        const shard = labPinnedPlan()["pair-3"].split(" ")[0];
        const [one, two, three] = [0, 1, 2].map(() => newFile(d.name, shard).file.rel);
        const [n1a, n1b] = nodesOf("pair-1");
        const [n3a, n3b] = HOSTS.filter((h) => nodesOf("pair-3").includes(h.name));
        // `three` was deleted at pair-3 before pair-1 got its copy, whose mtime (a client's Date
        // header sets it) lies before that delete: the copy arrived later, so it is handed over, not dropped
        const at3 = `http://${n3a.mgmtIp}:${d.internalPort}/${three}`;
        expect((await httpRequest(at3, { method: "PUT", body: Buffer.from("deleted at pair-3") })).status).toBe(201);
        expect((await httpRequest(at3, { method: "DELETE" })).status).toBe(204);
        await sleep(1100);
        // three files reach pair-1 that pair-3 does not have: `one` pair-3 lacks, `two` it holds with other bytes
        await storeFiles(n1a, d.name, [one, two, three], 3000);
        expect(await waitFor(async () => (await present(n1b, d.name, [one, two, three])).length === 3, 30_000), `${n1b} got them`).toBeGreaterThanOrEqual(0);
        for (const n of [n1a, n1b]) await onHost(n, `touch -m -d '1 hour ago' ${rootOf(d.name)}/${three}`);
        const theirs = Buffer.from("pair-3's own bytes");
        expect((await httpRequest(`http://${n3a.mgmtIp}:${d.internalPort}/${two}`, { method: "PUT", body: theirs })).status).toBe(201);
        try {
            const refused = await applyRecapped(dropOn("pair-1"));
            expect(refused.ok, "an apply dropping a file held with other bytes").toBe(false);
            const why = refused.failed.map((f) => f.message).join("\n");
            expect(why).toContain(two);
            expect(why).toContain("nothing removed");
            for (const n of [n1a, n1b]) expect(await present(n, d.name, [one, two, three]), `${n} removed nothing`).toEqual([one, two, three]);
            // `one` and `three` were handed over: both nodes of pair-3 hold them with pair-1's bytes
            const want = await servedDigests(HOSTS.find((h) => h.name === n1a)!.mgmtIp, d.internalPort, [one, three]);
            for (const h of [n3a, n3b]) {
                const got = await servedDigests(h.mgmtIp, d.internalPort, [one, three]);
                for (const f of [one, three]) expect(got.get(f), `${h.name} holds ${f}`).toBe(want.get(f));
            }
            // the conflict resolved by deleting pair-3's file: the delete is later than pair-1's copy, which may go
            expect((await httpRequest(`http://${n3a.mgmtIp}:${d.internalPort}/${two}`, { method: "DELETE" })).status).toBe(204);
            const dropped = await applyRecapped(dropOn("pair-1"));
            expect(dropped.ok, dropped.failed.map((f) => `${f.name}: ${f.message}`).join("\n")).toBe(true);
            for (const n of [n1a, n1b]) expect(await present(n, d.name, [one, two, three]), `${n} dropped them`).toEqual([]);
            for (const h of [n3a, n3b]) expect((await httpRequest(`http://${h.mgmtIp}:${d.internalPort}/${three}`)).status, `${three} at ${h.name}`).toBe(200);
            // deleted on pair-3 later than pair-1's copy was written: gone everywhere, not brought back
            for (const h of [n3a, n3b]) expect((await httpRequest(`http://${h.mgmtIp}:${d.internalPort}/${two}`)).status, `${two} at ${h.name}`).toBe(404);
        } finally {
            for (const n of [n1a, n1b]) await onHost(n, `rm -f ${rootOf(d.name)}/${two} ${rootOf(d.name)}/${three}`);
            expect((await applyLab()).ok, "the lab's own config applies again").toBe(true);
        }
    }, 600_000);

    it("a DELETE sent to a pair that gave the shard away deletes the file at the pair serving it, for good", async () => {
        const d = LAB_DOMAINS[1];
        const f = files.find((x) => x.domain === d.name && pairOf(x.shard) === "pair-3")!;
        const [n1b] = HOSTS.filter((h) => h.name === "node-1b");
        const serving = HOSTS.filter((h) => nodesOf("pair-3").includes(h.name));
        const r = await httpRequest(`http://${n1b.mgmtIp}:${d.internalPort}/${f.rel}`, { method: "DELETE" });
        expect(`${r.status} ${r.body.toString().trim()}`, `DELETE ${f.rel} at node-1b`).toMatch(/^204/);
        files.splice(files.indexOf(f), 1);
        for (const h of serving) {
            const gone = await waitFor(async () => (await httpRequest(`http://${h.mgmtIp}:${d.internalPort}/${f.rel}`)).status === 404, 10_000, 200);
            expect(gone, `${f.rel} deleted at ${h.name}`).toBeGreaterThanOrEqual(0);
            expect(await onHost(h.name, `[ -e ${rootOf(d.name)}/.pairstore/tombstones/${f.rel} ] && echo tombstone`), h.name).toBe("tombstone");
        }
        // not answered from anywhere: the public IPs of the old pair and of the serving pair
        for (const h of [n1b, ...serving]) {
            const got = await httpRequest(`http://${h.publicIp}/${f.rel}`, { headers: { Host: `${f.shard}.image.${d.name}` }, timeoutMs: 10_000 });
            expect(got.status, `${f.rel} at ${h.name}'s public IP`).toBe(404);
        }
    }, 120_000);

    it("shrinks back to two pairs under traffic: no read fails, no upload is lost, every file on both nodes of its pair", async () => {
        await resizeUnderTraffic(2, "shrink");
    }, 1_200_000);
});
