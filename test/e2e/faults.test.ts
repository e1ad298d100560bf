// Faults on the lab hosts: the pair never loses, silently overwrites or
// resurrects a stored file, whatever a user sends or whatever breaks.
// Each test restores what it breaks in `finally`, reads journals from a
// cursor taken at its start, and checks what a user would see: HTTP answers,
// the bytes each node holds (read over its internal port, which serves local
// files only), the tools' reports. SSH round trips are few and batched: on a
// busy machine each one costs seconds.
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { setTimeout as sleep } from "timers/promises";
import { beforeAll, expect, it } from "vitest";
import { DEFAULTS } from "../../components/config";
import { INTERNAL_DIR, REPLICA_MARKER, readyFileOf } from "../../components/lib/paths";
import { netnsName, sshRun, startHost, stopHost } from "../lab/hosts";
import { LAB_DOMAINS } from "../lab/topology";
import { describeLab, labHosts, labReady, onHost } from "./lab-env";
import {
    arrivalsOverHttp, httpRequest, layoutPaths, rootOf, servedDigests, sha256, stamps, tag, waitFor,
} from "./replication-helpers";

const A = "node-1a";
const B = "node-1b";
const HOSTS = labHosts();
const host = (name: string) => HOSTS.find((h) => h.name === name)!;
const IP: Record<string, string> = Object.fromEntries(HOSTS.map((h) => [h.name, h.mgmtIp]));
const PORT: Record<string, number> = Object.fromEntries(LAB_DOMAINS.map((d) => [d.name, d.internalPort]));
const COM = "example.com";
const ORG = "example.org";
const DELAY_MS = DEFAULTS.replication.delay * 1000;
const STATE = "/var/lib/pairstore/replication";

const url = (node: string, domain: string, p: string) => `http://${IP[node]}:${PORT[domain]}/${p.replace(/^\//, "")}`;
const put = (node: string, domain: string, p: string, body: Buffer, headers: Record<string, string> = {}) =>
    httpRequest(url(node, domain, p), { method: "PUT", body, headers });
const publicGet = (node: string, domain: string, p: string) =>
    httpRequest(`http://${IP[node]}/${p.replace(/^\//, "")}`, { headers: { Host: `0.image.${domain}` } });
/** What `node` holds on its own disk for each of `rels` (sha256 or "missing"), over HTTP. */
const held = (node: string, domain: string, rels: string[]) => servedDigests(IP[node], PORT[domain], rels);
/** Polls until `node` holds `want` (path -> sha256 or "missing") for every path. */
async function holds(node: string, domain: string, want: Map<string, string>, timeoutMs: number): Promise<Map<string, string>> {
    let got = new Map<string, string>();
    await waitFor(async () => {
        got = await held(node, domain, [...want.keys()]);
        return [...want].every(([p, s]) => got.get(p) === s);
    }, timeoutMs, 300);
    return got;
}
/** Runs `command` on `node`; resolves with its exit code and output (never throws). */
const run = (node: string, command: string, timeoutMs = 300_000) => sshRun(host(node), command, undefined, { timeoutMs });

/** Both nodes of pair-1 replicate and every domain is ready (the owner decides uploads): one SSH per node. */
async function pairReady(timeoutSec = 240) {
    const files = LAB_DOMAINS.map((d) => readyFileOf(d.name)).join(" ");
    const check = `systemctl is-active -q pairstore-lsyncd pairstore-rsyncd && ls ${files} >/dev/null 2>&1`;
    const wait = `for i in $(seq ${timeoutSec * 2}); do ${check} && exit 0; sleep 0.5; done; systemctl status --no-pager -n 5 pairstore-lsyncd; exit 1`;
    const r = await Promise.all([A, B].map((n) => run(n, wait, (timeoutSec + 60) * 1000)));
    r.forEach((x, i) => expect(x.code, `${[A, B][i]}: lsyncd active and every domain ready: ${x.stdout}`).toBe(0));
}
/** A repair of `domains` on both nodes at once (what the catch-up timer runs); returns each node's report. */
async function repairBoth(domains: string[] = [COM]): Promise<string[]> {
    const runs = await Promise.all([A, B].map((n) => run(n, `pairstore-verify --repair ${domains.join(" ")}`)));
    runs.forEach((r, i) => expect(r.code, `repair on ${[A, B][i]}: ${r.stdout}${r.stderr}`).toBeLessThanOrEqual(1));
    return runs.map((r) => r.stdout);
}
/** pairstore-verify on `node`: exit code and report. */
async function verify(node: string, args: string) {
    const r = await run(node, `pairstore-verify ${args}`);
    return { code: r.code, out: r.stdout + r.stderr };
}

describeLab("faults: the data path keeps every file (lab hosts)", () => {
    beforeAll(async () => {
        await labReady();
        await pairReady();
    });

    it("refuses DELETE and MOVE of the root and of every layout folder, on both domains and nodes: nothing removed anywhere", async () => {
        const stored = new Map<string, string[]>();
        for (const d of [COM, ORG]) {
            const ps = layoutPaths(tag("folders"), 2);
            for (const p of ps) expect((await put(A, d, p, Buffer.from(p))).status).toBe(201);
            stored.set(d, ps);
            await holds(B, d, new Map(ps.map((p) => [p, sha256(Buffer.from(p))])), 15_000);
        }
        // layout folders and stored files of both domains, and the length of the internal access logs: one SSH per node
        const state = (n: string) => onHost(n, [COM, ORG].map((d) => [
            `echo "${d} folders $(find ${rootOf(d)} -mindepth 3 -maxdepth 3 -type d -path '${rootOf(d)}/[0-9a-f]/[0-9a-f]/[0-9a-f]' | wc -l)"`,
            `echo "${d} files $(find ${rootOf(d)} -path ${rootOf(d)}/${INTERNAL_DIR} -prune -o -type f -print | wc -l)"`,
            `echo "${d} internals $(test -e ${rootOf(d)}/${REPLICA_MARKER} && test -d ${rootOf(d)}/${INTERNAL_DIR}/tombstones && echo ok)"`,
        ].join("; ")).join("; "));
        const logLength = (n: string) => onHost(n, [COM, ORG].map((d) => `wc -l < /var/log/nginx/image.${d}/internal-access.log`).join("; "));
        const before = new Map<string, string>();
        const marks = new Map<string, string[]>();
        for (const n of [A, B]) {
            before.set(n, await state(n));
            marks.set(n, (await logLength(n)).split("\n"));
        }
        expect(before.get(A)).toContain(`${COM} folders 4096`);
        const targets = ["/", "/7", "/7/", "/7/2", "/7/2/", "/7/2/a", "/7/2/a/", "/private/", "/private/7/2/a/", "/.pairstore/", `/${INTERNAL_DIR}/tombstones/`];
        const checks: Array<Promise<void>> = [];
        for (const d of [COM, ORG]) {
            for (const n of [A, B]) {
                for (const t of targets) {
                    checks.push((async () => {
                        const del = await httpRequest(url(n, d, t), { method: "DELETE" });
                        expect(del.status, `DELETE ${t} on ${n} ${d}`).toBe(403);
                        if (!t.includes(".")) expect(del.body.toString(), `DELETE ${t}`).toContain("only files are deleted or moved, never the root or a folder");
                        const mv = await httpRequest(url(n, d, t), { method: "MOVE", headers: { Destination: "/0/0/0/moved.jpg", Overwrite: "F" } });
                        expect(mv.status, `MOVE ${t} on ${n} ${d}`).toBe(403);
                    })());
                }
                // a PUT lands only at a storage path, never at a dot-path or outside the layout
                for (const bad of ["/not-a-layout/x.jpg", "/7/2/x.jpg", "/7/2/a/.hidden.jpg", `/${REPLICA_MARKER}`, "/7/2/a/b/c.jpg"]) {
                    checks.push(put(n, d, bad, Buffer.from("x")).then((r) => { expect(r.status, `PUT ${bad} on ${n}`).toBe(403); }));
                }
                // a file moves to a storage path only
                const src = stored.get(d)![n === A ? 0 : 1];
                checks.push(httpRequest(url(n, d, src), { method: "MOVE", headers: { Destination: "/elsewhere/x.jpg", Overwrite: "F" } }).then((r) => {
                    expect(r.status).toBe(403);
                    expect(r.body.toString()).toContain("a file moves to a storage path");
                }));
            }
        }
        await Promise.all(checks);
        // nothing was removed on either node: every layout folder and every file is still there
        for (const n of [A, B]) {
            expect(await state(n), `${n}: layout folders, files, marker`).toBe(before.get(n));
            for (const d of [COM, ORG]) {
                const got = await held(n, d, stored.get(d)!);
                for (const p of stored.get(d)!) expect(got.get(p), `${p} on ${n}`).toBe(sha256(Buffer.from(p)));
            }
            // no refused request was forwarded to the peer (the mirror forwards a file's DELETE and MOVE only)
            const peer = n === A ? B : A;
            const [com, org] = marks.get(n)!.map(Number);
            const forwarded = await onHost(n, "{ " + [
                `tail -n +${com + 1} /var/log/nginx/image.${COM}/internal-access.log`,
                `tail -n +${org + 1} /var/log/nginx/image.${ORG}/internal-access.log`,
            ].join("; ") + `; } | grep '^${IP[peer].replace(/\./g, "\\.")} ' | grep -E '"(DELETE|MOVE) ' || true`);
            expect(forwarded, `${n} got forwarded deletes or moves`).toBe("");
        }
    });

    /** 50 paths PUT at once on A and on B: one 201 and one 409 per path, the winner's bytes on both disks. */
    async function race(name: string) {
        const paths = layoutPaths(tag(name), 50);
        const bodies = (who: string) => paths.map((p) => Buffer.concat([Buffer.from(`${who} ${p}\n`), randomBytes(1024 + Math.floor(Math.random() * 4096))]));
        const fromA = bodies(A);
        const fromB = bodies(B);
        const replies = await Promise.all(paths.flatMap((p, i) => [put(A, COM, p, fromA[i]), put(B, COM, p, fromB[i])]));
        const winners = new Map<string, string>();
        const twice = paths.filter((_, i) => replies[2 * i].status === 201 && replies[2 * i + 1].status === 201).length;
        paths.forEach((p, i) => {
            const [ra, rb] = [replies[2 * i], replies[2 * i + 1]];
            expect([ra.status, rb.status].sort(), `${p}: A ${ra.status}, B ${rb.status} (${twice} of 50 paths accepted twice)`).toEqual([201, 409]);
            winners.set(p, sha256(ra.status === 201 ? fromA[i] : fromB[i]));
        });
        // every acknowledged upload is on both disks, and nothing else under those names
        for (const n of [A, B]) {
            const got = await holds(n, COM, winners, 20_000);
            for (const p of paths) expect(got.get(p), `${p} on ${n}`).toBe(winners.get(p));
        }
    }

    it("50 paths PUT at once on A and on B: one 201 and one 409 per path, the winner's bytes on both disks", async () => {
        await race("race");
    });

    it("the same race seconds after the upload owner was briefly not ready: still one 201 and one 409 per path", async () => {
        // While A catches up (its ready flag gone), its store answers 503 and uploads go to B's store.
        // Once A is ready again every upload must ask A first: an nginx upstream that had counted
        // those 503s as failures sent a later burst to B's store too, and most paths were stored
        // on both nodes (both answered 201).
        const ready = readyFileOf(COM);
        await onHost(A, `mv ${ready} ${ready}.off`);
        try {
            const early = layoutPaths(tag("not-ready"), 8);
            const replies = await Promise.all(early.map((p) => put(B, COM, p, Buffer.from(p))));
            expect(replies.map((r) => r.status), "uploads while the owner is not ready go to the second node's store").toEqual(early.map(() => 201));
        } finally {
            await onHost(A, `mv ${ready}.off ${ready}`);
        }
        await sleep(4000); // past any failure timeout an upstream would keep
        await race("race-after");
    });

    it("when the nodes cannot reach each other both accept an upload of one path: both versions kept, the owner's served, the conflicts reported", async () => {
        // The data path between A and B is cut (every TCP packet, both ways, at A); heartbeat's UDP
        // still passes, so no IP moves (a heartbeat split-brain is the failover suite's matter):
        // B cannot reach the upload owner's store and takes the upload itself.
        const ns = netnsName(A);
        const nft = (rules: string) => execFileSync("ip", ["netns", "exec", ns, "nft", "-f", "-"], { input: rules });
        const heal = () => execFileSync("ip", ["netns", "exec", ns, "nft", "delete", "table", "inet", "pairstore_test"], { stdio: "ignore" });
        const split = layoutPaths(tag("split"), 20);
        const bodyA = (p: string) => Buffer.from(`A's version of ${p}\n`);
        const bodyB = (p: string) => Buffer.from(`B's version of ${p}, longer\n`);
        try {
            nft(`table inet pairstore_test {
                chain in { type filter hook input priority -10; ip saddr ${IP[B]} meta l4proto tcp drop; }
                chain out { type filter hook output priority -10; ip daddr ${IP[B]} meta l4proto tcp drop; }
            }`);
            const both = await Promise.all(split.flatMap((p) => [put(A, COM, p, bodyA(p)), put(B, COM, p, bodyB(p))]));
            split.forEach((p, i) => expect([both[2 * i].status, both[2 * i + 1].status], p).toEqual([201, 201]));
        } finally {
            try { heal(); } catch { /* already healed */ }
        }
        // each node keeps its own version (replication never replaces a file) until the
        // repair meets both: the owner's (A's) is served on both nodes, B's is kept under
        // .pairstore/conflicts on both, and every conflict is logged and counted
        await sleep(DELAY_MS + 2000);
        expect((await held(B, COM, split)).get(split[0])).toBe(sha256(bodyB(split[0])));
        // both nodes repair at once (as their catch-up timers may): each conflict is decided by one of them
        const outs = (await repairBoth([COM])).join("\n");
        const served = new Map(split.map((p) => [p, sha256(bodyA(p))]));
        for (const n of [A, B]) {
            const got = await held(n, COM, split);
            for (const p of split) expect(got.get(p), `${n} serves the owner's version of ${p}`).toBe(served.get(p));
        }
        const kept = await Promise.all([A, B].map((n) => onHost(n, `cd ${rootOf(COM)}/${INTERNAL_DIR}/conflicts && find . -type f -print0 | xargs -0 -r sha256sum`)));
        for (const [i, n] of [A, B].entries()) for (const p of split) expect(kept[i], `${n} keeps B's version of ${p}`).toContain(sha256(bodyB(p)));
        const reported = split.filter((p) => outs.includes(`conflict on ${p}: kept ${A}'s version on both nodes (${A} is the upload owner); ${B}'s is kept as`));
        expect(reported.length, outs.slice(-3000)).toBe(split.length);
        const counted = (await Promise.all([A, B].map((n) => onHost(n, `cat ${STATE}/${COM}/conflicts.log 2>/dev/null || true`)))).join("\n");
        for (const p of split) expect(counted).toContain(p);
        const v = await verify(B, COM);
        expect(v.code, v.out).toBe(0);
        expect(v.out).toMatch(/file\(s\) kept under .*\.pairstore\/conflicts/);
    });

    it("uploads with a Date: header and files written with old mtimes reach the peer within delay + 1 s", async () => {
        const root = rootOf(COM);
        const viaPut = layoutPaths(tag("dated-put"), 3);
        const [control, touched, copied, synced] = layoutPaths(tag("old-mtime"), 4);
        const [back] = layoutPaths(tag("old-mtime-back"), 1);
        // arrivals are watched over each node's internal port from here (no SSH delay before the first look)
        const watchB = arrivalsOverHttp(IP[B], PORT[COM], [...viaPut, control, touched, copied, synced], 60_000);
        const watchA = arrivalsOverHttp(IP[A], PORT[COM], [back], 60_000);
        const sent = new Map<string, number>();
        for (const p of viaPut) {
            const r = await put(A, COM, p, randomBytes(4096), { Date: "Tue, 01 Jan 2002 00:00:00 GMT" });
            expect(r.status).toBe(201);
            sent.set(p, Date.now());
        }
        // written straight to disk by an application, next to a plain file written the same way
        const asWeb = (cmd: string) => `runuser -u www-data -- bash -c '${cmd}'`;
        const old = `head -c 3000 /dev/urandom > /tmp/old.jpg && touch -d 2000-01-01 /tmp/old.jpg && chmod 644 /tmp/old.jpg`;
        const [onA, onB] = await Promise.all([
            onHost(A, [
                old,
                asWeb(`head -c 3000 /dev/urandom > ${root}/${control}`), `echo "${control} $EPOCHREALTIME"`,
                asWeb(`head -c 3000 /dev/urandom > ${root}/${touched} && touch -d 2001-02-03 ${root}/${touched}`), `echo "${touched} $EPOCHREALTIME"`,
                asWeb(`cp -p /tmp/old.jpg ${root}/${copied}`), `echo "${copied} $EPOCHREALTIME"`,
                asWeb(`rsync -t /tmp/old.jpg ${root}/${synced}`), `echo "${synced} $EPOCHREALTIME"`,
            ].join(" && ")),
            onHost(B, [old, asWeb(`cp -p /tmp/old.jpg ${root}/${back}`), `echo "${back} $EPOCHREALTIME"`].join(" && ")),
        ]);
        for (const [k, v] of [...stamps(onA), ...stamps(onB)]) sent.set(k, v);
        const arrivedB = await watchB;
        const arrivedA = await watchA;
        const lag = (arr: Map<string, number>, p: string) => (arr.has(p) && sent.has(p) ? arr.get(p)! - sent.get(p)! : Infinity);
        // delay + 1 s; on a machine too busy for that, no later than one more lsyncd batch after the
        // plain file written beside them (lsyncd runs one rsync at a time per target). A file
        // taken for a received one would wait for the catch-up (catchUpInterval, 15 min).
        const bound = Math.max(DELAY_MS + 1000, lag(arrivedB, control) + DELAY_MS + 3000);
        const report = [...viaPut, touched, copied, synced].map((p) => `${lag(arrivedB, p).toFixed(0)}`).join(", ");
        console.log(`lags on ${B}: plain file ${lag(arrivedB, control).toFixed(0)} ms; old mtimes ${report} ms; on ${A}: ${lag(arrivedA, back).toFixed(0)} ms (bound ${bound.toFixed(0)} ms)`);
        expect(lag(arrivedB, control), "the plain file arrived").toBeLessThan(30_000);
        for (const p of [...viaPut, touched, copied, synced]) expect(lag(arrivedB, p), `${p} on ${B}`).toBeLessThanOrEqual(bound);
        expect(lag(arrivedA, back), `${back} on ${A}`).toBeLessThanOrEqual(Math.max(bound, DELAY_MS + 2000));
        // the old mtimes travelled with the files
        expect(await onHost(B, `date -u -r ${root}/${viaPut[0]} +%Y-%m-%d; date -r ${root}/${copied} +%Y-%m-%d`)).toBe("2002-01-01\n2000-01-01");
    });

    it("a delete on A while B is down stays deleted on both, though lsyncd restarts before replaying it, and across restarts of B", async () => {
        const [gone, kept] = layoutPaths(tag("tomb"), 2);
        const bytes = new Map([[gone, randomBytes(2048)], [kept, randomBytes(2048)]]);
        for (const [p, b] of bytes) expect((await put(A, COM, p, b)).status).toBe(201);
        await holds(B, COM, new Map([...bytes].map(([p, b]) => [p, sha256(b)])), 15_000);
        await stopHost(B, { hard: true });
        try {
            expect((await httpRequest(url(A, COM, gone), { method: "DELETE" })).status).toBe(204);
            // nginx recorded the delete's tombstone before it answered; A's lsyncd restarts at once, so
            // its queued replay of the delete (which would record it too) is lost
            const tomb = `${rootOf(COM)}/${INTERNAL_DIR}/tombstones/${gone}`;
            expect((await run(A, `test -e ${tomb} && systemctl restart pairstore-lsyncd.service`)).code,
                "A's tombstone exists when the DELETE answered").toBe(0);
        } finally {
            await startHost(host(B));
        }
        await pairReady();
        await repairBoth([COM]);
        const want = new Map([[gone, "missing"], [kept, sha256(bytes.get(kept)!)]]);
        for (const n of [A, B]) {
            const got = await held(n, COM, [gone, kept]);
            expect(got.get(gone), `${gone} on ${n}`).toBe("missing");
            expect(got.get(kept), `${kept} on ${n}`).toBe(want.get(kept));
            expect((await publicGet(n, COM, gone)).status, `public GET on ${n}`).toBe(404);
        }
        // B learnt the delete at boot, before its lsyncd started (B's journal since it booted in this test)
        expect(await onHost(B, `journalctl -b -q --no-pager -o cat -u pairstore-lsyncd | grep -c 'removed ${gone}: deleted on ${A}' || true`)).not.toBe("0");
        // and it stays gone after both restart their lsyncd (startup refill and sync) and catch up
        await Promise.all([A, B].map((n) => onHost(n, "systemctl restart pairstore-lsyncd.service")));
        await pairReady();
        await repairBoth([COM]);
        for (const n of [A, B]) expect((await held(n, COM, [gone])).get(gone), `${gone} on ${n} after restarts`).toBe("missing");
    });

    it("a full disk fails an upload cleanly: no piece of it on either node", async () => {
        const root = rootOf(ORG);
        const [p] = layoutPaths(tag("full"), 1);
        const name = p.split("/").pop()!;
        const pieces = `find ${root} -name '*${name}*' | wc -l; find ${root}/${INTERNAL_DIR}/tmp -type f | wc -l`;
        // a 4 MB file system for A's example.org root, prepared like a new disk
        await onHost(A, `mount -t tmpfs -o size=4m,mode=755 pairstore-test-full ${root} && /usr/local/lib/pairstore/replicate prepare >/dev/null`);
        try {
            const big = randomBytes(6 * 1024 * 1024);
            for (const via of [A, B]) {
                const r = await put(via, ORG, p, big);
                expect(r.status, `PUT through ${via} onto a full disk`).toBeGreaterThanOrEqual(500);
            }
            const [onA, onB] = await Promise.all([onHost(A, pieces), onHost(B, pieces)]);
            expect(onA, "pieces and temporary files on A").toBe("0\n0");
            expect(onB, "pieces and temporary files on B").toBe("0\n0");
            expect((await publicGet(B, ORG, p)).status).toBe(404);
        } finally {
            await onHost(A, `umount ${root} || umount -l ${root}`);
        }
        await sleep(DELAY_MS + 1000);
        expect(await onHost(A, `test -e ${root}/${REPLICA_MARKER} && echo back; ${pieces}`)).toBe("back\n0\n0");
        expect(await onHost(B, pieces)).toBe("0\n0");
    });

    it("verify: 0 on a healthy pair; names a removed, truncated, changed or added file and exits 1; repair fixes all of them", async () => {
        const [removed, truncated, changed] = layoutPaths(tag("verify"), 3);
        const [added] = layoutPaths(tag("verify-added"), 1);
        const full = randomBytes(8000);
        const bytes = new Map([[removed, randomBytes(3000)], [truncated, full], [changed, randomBytes(3000)]]);
        for (const [p, b] of bytes) expect((await put(A, COM, p, b)).status).toBe(201);
        await holds(B, COM, new Map([...bytes].map(([p, b]) => [p, sha256(b)])), 15_000);
        await repairBoth([COM]);
        const healthy = await Promise.all([A, B].map((n) => verify(n, COM)));
        for (const v of healthy) {
            expect(v.code, v.out).toBe(0);
            expect(v.out).toContain("hold the same files");
        }
        // B's lsyncd and both catch-up timers stop, so the changes made by hand stay on B
        await Promise.all([
            onHost(B, "systemctl stop pairstore-lsyncd.service pairstore-catchup.timer"),
            onHost(A, "systemctl stop pairstore-catchup.timer"),
        ]);
        try {
            const r = rootOf(COM);
            await onHost(B, [
                `rm ${r}/${removed}`,
                `truncate -s 3000 ${r}/${truncated}`,
                `runuser -u www-data -- bash -c 'head -c 1234 /dev/urandom > ${r}/${added}'`,
                // same size and mtime, other bytes: only --checksum sees it
                `m=$(stat -c %Y ${r}/${changed}) && printf X | dd of=${r}/${changed} bs=1 seek=10 conv=notrunc status=none && touch -d @$m ${r}/${changed}`,
            ].join(" && "));
            const [v, deep, vb] = await Promise.all([verify(A, COM), verify(A, `--checksum ${COM}`), verify(B, COM)]);
            expect(v.code, v.out).toBe(1);
            expect(v.out).toContain(`only on ${A} (missing on ${B}): ${removed}`);
            expect(v.out).toContain(`differs (${A} 8000 bytes, ${B} 3000 bytes): ${truncated}`);
            expect(v.out).toContain(`only on ${B} (missing on ${A}): ${added}`);
            expect(v.out).not.toContain(changed);
            expect(deep.code).toBe(1);
            expect(deep.out).toContain(`: ${changed}`);
            expect(vb.code, vb.out).toBe(1);
            expect(vb.out).toContain(`only on ${A} (missing on ${B}): ${removed}`);

            const fixed = await verify(A, `--repair --checksum ${COM}`);
            expect(fixed.code, fixed.out).toBe(0);
            expect(fixed.out).toContain(`copied ${removed} to ${B}`);
            expect(fixed.out).toContain(`copied ${added} from ${B}`);
            // the truncated copy holds no bytes of its own: the complete file replaces it
            expect(fixed.out).toContain(`${truncated} differed: kept ${A}'s version on both nodes (the copy on ${B} is a truncated copy of it)`);
            // two different files under one name: both kept, the owner's in place
            expect(fixed.out).toContain(`conflict on ${changed}: kept ${A}'s version on both nodes (${A} is the upload owner); ${B}'s is kept as`);
            const again = await Promise.all([A, B].map((n) => verify(n, `--checksum ${COM}`)));
            again.forEach((x, i) => expect(x.code, `${[A, B][i]}: ${x.out}`).toBe(0));
            for (const n of [A, B]) {
                expect((await held(n, COM, [truncated])).get(truncated), `${truncated} on ${n}`).toBe(sha256(full));
                expect(await onHost(n, `find ${r}/${INTERNAL_DIR}/conflicts -path '*/${changed}' | wc -l`), `${n} keeps B's ${changed}`).not.toBe("0");
            }
        } finally {
            await Promise.all([
                onHost(B, "systemctl start pairstore-lsyncd.service pairstore-catchup.timer"),
                onHost(A, "systemctl start pairstore-catchup.timer"),
            ]);
        }
        await pairReady();
    });
});
