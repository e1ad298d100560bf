// Replication inside a pair on the lab hosts: two-way lsyncd within delay + 1 s,
// deletes replayed while running, a stopped node catching up, a wiped node
// refilled without wiping its peer, and rsyncd refusing everyone but the peer.
import { beforeAll, expect, it } from "vitest";
import { DEFAULTS } from "../../components/config";
import { DELETE_SETTLE_SECONDS } from "../../components/roles/replication/steps";
import { startHost, stopHost, sshRun } from "../lab/hosts";
import { applyLab } from "../lab/lab";
import { describeLab, journalCursor, journalSince, labHosts, labReady, onHost } from "./lab-env";
import {
    arrivalScript, inventory, layoutPaths, present, rootOf, stamps, storeFiles, tag, waitFor, writerScript,
} from "./replication-helpers";

const A = "node-1a";
const B = "node-1b";
const DOMAIN = "example.com";
const DELAY_MS = DEFAULTS.replication.delay * 1000;
const host = (name: string) => labHosts().find((h) => h.name === name)!;

/** Writes `rels` on `from` and returns how long each took to appear on `to` (ms). */
async function lags(from: string, to: string, rels: string[], intervalSec = 0.2): Promise<number[]> {
    const root = rootOf(DOMAIN);
    const watcher = sshRun(host(to), arrivalScript(root, rels, 30), undefined, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1500)); // the watcher is polling before the first write
    const written = stamps(await onHost(from, writerScript(root, rels, 20 * 1024, intervalSec)));
    const arrived = stamps((await watcher).stdout);
    return rels.map((r) => (arrived.has(r) && written.has(r) ? arrived.get(r)! - written.get(r)! : Infinity));
}

describeLab("replication inside a pair on the lab hosts", () => {
    beforeAll(async () => {
        await labReady();
    });

    it("runs rsyncd, lsyncd and the catch-up timer on every node, with rsyncd on the internal address only", async () => {
        for (const h of labHosts()) {
            expect(await onHost(h.name, "systemctl is-active pairstore-rsyncd pairstore-lsyncd pairstore-catchup.timer")).toBe("active\nactive\nactive");
            expect(await onHost(h.name, "ss -Hltn 'sport = :873' | awk '{print $4}'")).toBe(`${h.mgmtIp}:873`);
            expect(await onHost(h.name, `stat -c %U ${rootOf(DOMAIN)}`)).toBe("www-data");
        }
    });

    it("copies a file written on A to B within delay + 1 s, and the other way round", async () => {
        for (const [from, to] of [[A, B], [B, A]]) {
            const rels = layoutPaths(tag(`lag-${from}`), 3);
            const ms = await lags(from, to, rels);
            expect(ms.every((x) => x <= DELAY_MS + 1000), `${from} -> ${to} lags ${ms.map((x) => x.toFixed(0)).join(", ")} ms`).toBe(true);
            expect(await onHost(to, `stat -c %U ${rootOf(DOMAIN)}/${rels[0]}`)).toBe("www-data");
        }
    });

    it("replays a delete on A to B", async () => {
        const rels = layoutPaths(tag("delete"), 2);
        await storeFiles(A, DOMAIN, rels);
        expect(await waitFor(async () => (await present(B, DOMAIN, rels)).length === 2, 10_000)).toBeGreaterThanOrEqual(0);
        await onHost(A, `runuser -u www-data -- rm ${rootOf(DOMAIN)}/${rels[0]}`);
        const gone = await waitFor(async () => (await present(B, DOMAIN, rels)).length === 1, 10_000);
        expect(gone, "the deleted file is gone from B").toBeGreaterThanOrEqual(0);
        // deletes wait DELETE_SETTLE_SECONDS more, then the root is checked intact
        expect(gone).toBeLessThanOrEqual(DELAY_MS + DELETE_SETTLE_SECONDS * 1000 + 1500);
        expect(await present(B, DOMAIN, rels)).toEqual([rels[1]]);
    });

    it("catches B up after it was down: the 50 files written on A meanwhile reach it, none is lost on A", async () => {
        const rels = layoutPaths(tag("down"), 50);
        await stopHost(B);
        try {
            await storeFiles(A, DOMAIN, rels);
        } finally {
            await startHost(host(B));
        }
        const ms = await waitFor(async () => (await present(B, DOMAIN, rels)).length === 50, 60_000, 500);
        expect(ms, `B has ${(await present(B, DOMAIN, rels)).length} of 50`).toBeGreaterThanOrEqual(0);
        expect((await present(A, DOMAIN, rels)).length).toBe(50);
        // B's lsyncd refilled it before it started (or A's lsyncd retried): either way nothing went missing
        expect(await waitFor(async () => (await onHost(B, "systemctl is-active pairstore-lsyncd || true")) === "active", 60_000, 500)).toBeGreaterThanOrEqual(0);
    });

    it("refills a wiped B without wiping A: its deletes are not replayed, and one plain apply restores it, hidden files included", async () => {
        await storeFiles(A, DOMAIN, layoutPaths(tag("wipe"), 20));
        // hidden files of an application, written straight to A's disk (not through DAV)
        const hidden = [`6/2/a/.hidden-${tag("h")}.jpg`, `.app-${tag("top")}`];
        await onHost(A, hidden.map((h) => `runuser -u www-data -- bash -c 'head -c 700 /dev/urandom > ${rootOf(DOMAIN)}/${h}'`).join(" && "));
        // a catch-up run on both nodes (heal, then a full push without delete) evens out anything earlier tests left
        await onHost(B, "systemctl start pairstore-catchup.service");
        await onHost(A, "systemctl start pairstore-catchup.service");
        const before = await inventory(A, DOMAIN);
        for (const h of hidden) expect(before.has(h), `${h} on ${A}`).toBe(true);
        expect(await waitFor(async () => (await inventory(B, DOMAIN)).size === before.size, 20_000, 500)).toBeGreaterThanOrEqual(0);

        // The disk is wiped while lsyncd runs on B: its delete events must not reach A.
        // (again if a transfer landed in the middle)
        const cursor = await journalCursor(B);
        try {
            await onHost(B, `for i in 1 2 3; do rm -rf ${rootOf(DOMAIN)} 2>/dev/null && break; sleep 0.2; done; [ ! -e ${rootOf(DOMAIN)} ]`);
            await new Promise((r) => setTimeout(r, DELAY_MS + DELETE_SETTLE_SECONDS * 1000 + 4000));
            expect(await inventory(A, DOMAIN)).toEqual(before);
            expect(await journalSince(B, cursor, "pairstore-lsyncd")).toContain("not replaying deletes to the peer");

            // One plain apply (no check mode first: every other step is unchanged and does not
            // run) puts the root back and refills it from A: the per-run replication-verify step.
            const fix = await applyLab();
            expect(fix.ok, fix.failed.map((f) => f.message).join("\n")).toBe(true);
            expect(fix.stdout[`${B}-replication-verify`]).toMatch(/recreating/);
            expect(fix.stdout[`${B}-replication-verify`]).toContain("refilled from the peer");
            expect(await waitFor(async () => (await inventory(B, DOMAIN)).size >= before.size, 30_000, 500)).toBeGreaterThanOrEqual(0);
            const after = await inventory(B, DOMAIN);
            for (const [rel, sum] of before) expect(after.get(rel), rel).toBe(sum);
            expect(await inventory(A, DOMAIN)).toEqual(before);
            // and replication works on the new root (lsyncd may still be busy with its
            // startup refill here, so this checks that it arrives, not the latency:
            // the delay + 1 s bound is the test above)
            const rels = layoutPaths(tag("after-wipe"), 1);
            expect((await lags(B, A, rels)).every((x) => x <= DELAY_MS + 10_000)).toBe(true);
        } finally {
            // B's root comes back whatever failed above, so the next test starts from a whole pair.
            if ((await sshRun(host(B), `[ -e ${rootOf(DOMAIN)}/.pairstore-replica ]`)).code !== 0) await applyLab();
        }
    }, 900_000); // two catch-up runs, a check and an apply of the whole stack

    it("refuses rsync to B from any address but A's", async () => {
        const probe = `echo probe > /tmp/probe && rsync --contimeout=5 /tmp/probe ${host(B).mgmtIp}::${DOMAIN}/probe; echo "rc=$?"`;
        // from node-2a (another pair) and from A itself (the positive control)
        const other = await sshRun(host("node-2a"), probe);
        expect(other.stdout + other.stderr).toMatch(/@ERROR: (access denied|Unknown module)/);
        expect(other.stdout).not.toContain("rc=0");
        const peer = await sshRun(host(A), probe.replace("rsync ", "rsync --dry-run "));
        expect(peer.stdout, peer.stderr).toContain("rc=0");
        // the refill module is read only, and nothing is listed
        const list = await sshRun(host(A), `rsync --contimeout=5 ${host(B).mgmtIp}::`);
        expect(list.stdout.trim()).toBe("");
        const write = await sshRun(host(A), `rsync --contimeout=5 /tmp/probe ${host(B).mgmtIp}::${DOMAIN}-refill/probe`);
        expect(write.code).not.toBe(0);
        expect(write.stdout + write.stderr).toMatch(/read only/);
        expect(await onHost(B, `ls ${rootOf(DOMAIN)}/probe 2>/dev/null || echo none`)).toBe("none");
    });

    it("refuses rsync to B from the controller", async () => {
        // The rsync daemon protocol by hand (the controller has no rsync client): greeting, then the module.
        const net = await import("net");
        const reply = await new Promise<string>((resolve, reject) => {
            let text = "";
            const sock = net.connect({ host: host(B).mgmtIp, port: 873 }, () => sock.write(`@RSYNCD: 31.0\n${DOMAIN}\n`));
            sock.setTimeout(10_000, () => { sock.destroy(); resolve(text); });
            sock.on("data", (d) => { text += d; });
            sock.on("end", () => resolve(text));
            sock.on("close", () => resolve(text));
            sock.on("error", reject);
        });
        expect(reply).toMatch(/^@RSYNCD: /);
        // rsyncd answers a host outside `hosts allow` as if the module did not exist
        expect(reply).toMatch(/@ERROR: (access denied to example\.com|Unknown module 'example\.com')/);
    });
});
