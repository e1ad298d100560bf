// Growing and shrinking the lab under traffic, as a user grows a cluster
// (README "Grow a cluster"): pair-3 joins and takes 5 of the 16 shards with
// their files, then retires and gives them back. A read loop (every file,
// through its shard name at the lab's DNS server, on every address it
// resolves to) and an upload loop (new files, through whichever node the
// shard name resolves to) run the whole time: no read may fail, no upload
// may be lost, and every file ends on both nodes of the pair serving it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { applyLab, labPinnedPlan, resizeLab } from "../lab/lab";
import { destroyHost } from "../lab/hosts";
import { LAB_DOMAINS, LAB_GROWTH_PAIR, labHosts, labPairs } from "../lab/topology";
import { dnsDigAll } from "./dns-env";
import { describeLab, labReady } from "./lab-env";
import { httpRequest, servedDigests, sha256 } from "./replication-helpers";

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
        got = { ...got, ...dnsDigAll(missing) };
    }
    return got;
}

const resolveAll = () => resolve(LAB_DOMAINS.flatMap((d) => HEX.map((s) => `${s}.image.${d.name}`)));

/** A bounded loop until `stop()`: reads every file on every address its shard name resolves to. */
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
                await Promise.all(jobs.slice(i, i + 24).map(async ({ f, ip }) => {
                    const r = await httpRequest(`http://${ip}/${f.rel}`, { headers: { Host: `${f.shard}.image.${f.domain}` }, timeoutMs: 10_000 });
                    reads++;
                    if (r.status !== 200 || sha256(r.body) !== f.sum) {
                        failures.push(`${new Date().toISOString()} ${f.domain} ${f.rel} at ${ip}: ${r.status} from ${r.headers["x-pairstore-node"] ?? r.headers.server ?? "?"} ${r.body.toString().slice(0, 80)}`);
                    }
                }));
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

/** Files not held, with the right bytes, by both nodes of the pair the pinned plan gives their shard. */
async function misplaced(files: LabFile[]): Promise<string[]> {
    const plan = labPinnedPlan();
    const pairOf = (shard: string) => Object.entries(plan).find(([, s]) => s.split(" ").includes(shard))![0];
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

async function applyOk(): Promise<boolean> {
    const r = await applyLab();
    if (!r.ok) console.error(`grow: apply failed:\n${r.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    return r.ok;
}

describeLab("grow and shrink the lab under traffic (lab hosts)", () => {
    const files: LabFile[] = [];

    beforeAll(async () => {
        await labReady();
        // 3 files per shard and domain, all uploaded through node-1a: it forwards those of pair-2's shards
        for (const d of LAB_DOMAINS) {
            for (const s of HEX) {
                for (let i = 0; i < 3; i++) {
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

    it("grows to three pairs and shrinks back: no read fails, no upload is lost, every file on both nodes of its pair", async () => {
        for (const [count, what] of [[3, "grow"], [2, "shrink"]] as const) {
            const reads = readLoop(files);
            const during: LabFile[] = [];
            const uploads = uploadLoop(during);
            let resized = false;
            try {
                resized = await resizeLab(count, applyOk, () => undefined);
            } finally {
                const uploadFailures = await uploads.stop();
                const r = await reads.stop();
                expect(resized, `${what}: the applies succeeded`).toBe(true);
                expect(uploadFailures, `${what}: uploads that failed`).toEqual([]);
                expect(r.failures, `${what}: reads that failed (of ${r.reads})`).toEqual([]);
                expect(r.reads).toBeGreaterThan(files.length * 2);
                files.push(...during);
            }
            expect(Object.keys(labPinnedPlan()).sort(), what).toEqual(labPairs(count).map((p) => p.name));
            expect(await misplacedAfter(files), `${what}: files not on both nodes of their pair`).toEqual([]);
        }
    }, 1_800_000);
});
