// nginx on the lab hosts: built from source with dav and secure_link, public
// and internal sites, fallback to the peer with proxy_store, write-once DAV,
// signed links, a broken config that never goes live, limits in force.
import { execFileSync } from "child_process";
import { randomBytes, createHash } from "crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pairPath } from "./replication-helpers";
import { signPath } from "../../components/lib/secure-link";
import { applyLab, labSecureLinkSecret, labStack } from "../lab/lab";
import { LAB_NOFILE } from "../lab/topology";
import { readyFileOf } from "../../components/lib/paths";
import { describeLab, labHosts, labReady, onHost } from "./lab-env";

const IP: Record<string, string> = Object.fromEntries(labHosts().map((h) => [h.name, h.mgmtIp]));
const DOMAIN = "example.com";
const INTERNAL = 8081;
const HOST = `0.image.${DOMAIN}`;
const ROOT = `/srv/images/${DOMAIN}/image`;

let scratch: string;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

interface Reply { status: number; body: Buffer; headers: string }

/** curl from the controller; returns status, body and response headers. */
function curl(url: string, opts: { method?: string; body?: Buffer; headers?: string[] } = {}): Reply {
    const out = path.join(scratch, `body-${randomBytes(4).toString("hex")}`);
    const hdr = `${out}.headers`;
    const args = ["-s", "-m", "10", "-o", out, "-D", hdr, "-w", "%{http_code}"];
    if (opts.method) args.push("-X", opts.method);
    for (const h of opts.headers ?? []) args.push("-H", h);
    if (opts.body) {
        const file = `${out}.in`;
        writeFileSync(file, opts.body);
        args.push("--data-binary", `@${file}`, "-H", "Content-Type: application/octet-stream");
    }
    args.push(url);
    const status = Number(execFileSync("curl", args, { encoding: "utf8" }).trim());
    const read = (f: string) => { try { return readFileSync(f); } catch { return Buffer.alloc(0); } };
    return { status, body: read(out), headers: read(hdr).toString() };
}

const internalUrl = (node: string, p: string, port = INTERNAL) => `http://${IP[node]}:${port}${p}`;
const publicGet = (node: string, p: string) => curl(`http://${IP[node]}${p}`, { headers: [`Host: ${HOST}`] });
const put = (node: string, p: string, body: Buffer) => curl(internalUrl(node, p), { method: "PUT", body });
/** A storage path (the only place files are stored) for a new file named after `name`. */
const unique = (name: string, pair = "pair-1") => `/${pairPath(pair, `e2e${Date.now().toString(36)}${randomBytes(3).toString("hex")}`, name)}`;
const onDisk = async (node: string, p: string) =>
    onHost(node, `if [ -f ${ROOT}${p} ]; then sha256sum ${ROOT}${p} | cut -d' ' -f1; else echo missing; fi`);
const tombstone = async (node: string, p: string) => onHost(node, `test -e ${ROOT}/.pairstore/tombstones${p} && echo yes || echo no`);

/** The lab's nginx settings with `change` applied (applyLab overrides replace the whole key). */
function nginxWith(change: Record<string, unknown>) {
    const current = JSON.parse(labStack()["pairstore:nginx"]?.value ?? "{}");
    return { ...current, ...change };
}

describeLab("nginx on the lab hosts", () => {
    beforeAll(async () => {
        scratch = mkdtempSync(path.join(tmpdir(), "pairstore-e2e-nginx-"));
        await labReady();
    });
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it("serves a file PUT on A's internal port from B's public port at once, and replication puts it on B's disk", async () => {
        const p = unique("photo.jpg");
        const bytes = randomBytes(20 * 1024);
        expect(await onDisk("node-1b", p)).toBe("missing");
        expect(put("node-1a", p, bytes).status).toBe(201);
        const got = publicGet("node-1b", p);
        expect(got.status).toBe(200);
        expect(sha(got.body)).toBe(sha(bytes));
        expect(got.headers).toMatch(/^Cache-Control: .*public/im);
        expect(got.headers).toMatch(/^Expires: Thu, 31 Dec 2037/im);
        expect(got.headers).toMatch(/^Content-Type: image\/jpeg/im);
        // replication (not the read: a read stores nothing) puts the same bytes on B's disk, owned by nginx's user
        await expect.poll(() => onDisk("node-1b", p), { timeout: 10_000 }).toBe(sha(bytes));
        expect(await onHost("node-1b", `stat -c %U ${ROOT}${p}`)).toBe("www-data");
        // the fetch was marked as such on A's internal log; the internal port never proxies on
        expect(await onHost("node-1a", `grep -c ' ${p} ' /var/log/nginx/image.${DOMAIN}/internal-access.log || true`)).not.toBe("0");
        // a file on neither node: 404 from the peer, nothing stored
        const none = unique("none.jpg");
        expect(publicGet("node-1a", none).status).toBe(404);
        expect(await onDisk("node-1a", none)).toBe("missing");
        // the public port serves stored files only: pairstore's own names and the peer's internal endpoints are 404
        for (const path of ["/.pairstore-replica", "/.pairstore/health", "/.pairstore/tombstones/", "/.pairstore/store/x.jpg", "/7/2/a/.hidden.jpg"]) {
            expect(publicGet("node-1a", path).status, path).toBe(404);
        }
        expect(await onHost("node-1a", `find ${ROOT} -maxdepth 1 -newer ${ROOT}${p} -name '*health*' | wc -l`)).toBe("0");
    });

    it("takes uploads only from the peer and uploaders, only on the internal port, write-once", async () => {
        const p = unique("a.bin");
        // dns-1 is neither node-1a's peer, nor a node of another pair (they forward uploads), nor an uploader
        // (no curl there: the request by hand, its status line read back)
        const fromOther = await onHost("dns-1", `exec 3<>/dev/tcp/${IP["node-1a"]}/${INTERNAL}; ` +
            `printf 'PUT ${p} HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 1\\r\\nConnection: close\\r\\n\\r\\nx' >&3; head -n 1 <&3 | cut -d' ' -f2`);
        expect(fromOther).toBe("403");
        // a node of another pair may (it forwards uploads of pair-1's shards), and that upload is stored as any other
        const fromPair2 = await onHost("node-2a", `curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary other ${internalUrl("node-1a", unique("c.bin"))}`);
        expect(fromPair2).toBe("201");
        // the peer may
        const fromPeer = await onHost("node-1b", `curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary peer ${internalUrl("node-1a", p)}`);
        expect(fromPeer).toBe("201");
        // the public port is read-only
        expect(curl(`http://${IP["node-1a"]}${unique("b.bin")}`, { method: "PUT", body: Buffer.from("x"), headers: [`Host: ${HOST}`] }).status).toBe(405);
        expect(curl(`http://${IP["node-1a"]}${p}`, { method: "DELETE", headers: [`Host: ${HOST}`] }).status).toBe(405);
        expect(publicGet("node-1a", p).body.toString()).toBe("peer");
        // write-once, whichever node a second upload reaches
        expect(put("node-1a", p, Buffer.from("second")).status).toBe(409);
        expect(put("node-1b", p, Buffer.from("third")).status).toBe(409);
        expect(publicGet("node-1a", p).body.toString()).toBe("peer");
        // files are stored at storage paths only
        expect(put("node-1a", "/e2e/elsewhere/a.bin", Buffer.from("x")).status).toBe(403);
    });

    it("DELETE and MOVE work on the internal port and reach the peer, so nothing comes back", async () => {
        const p = unique("gone.bin");
        const bytes = randomBytes(1000);
        expect(put("node-1a", p, bytes).status).toBe(201);
        expect(publicGet("node-1b", p).status).toBe(200);
        await expect.poll(() => onDisk("node-1b", p), { timeout: 10_000 }).toBe(sha(bytes)); // replicated to B
        expect(curl(internalUrl("node-1a", p), { method: "DELETE" }).status).toBe(204);
        // the DELETE was forwarded to B: neither node has it, and A cannot fetch it back from B
        await expect.poll(() => onDisk("node-1b", p), { timeout: 5000 }).toBe("missing");
        expect(publicGet("node-1a", p).status).toBe(404);
        expect(await onDisk("node-1a", p)).toBe("missing");
        // both nodes recorded the delete (a tombstone): the peer's refill, merge and catch-up honour it
        for (const node of ["node-1a", "node-1b"]) {
            await expect.poll(() => onHost(node, `test -e ${ROOT}/.pairstore/tombstones${p} && echo yes || echo no`), { timeout: 10_000 }).toBe("yes");
        }
        // a folder is never deleted
        expect(curl(internalUrl("node-1a", p.replace(/[^/]+$/, "")), { method: "DELETE" }).status).toBe(403);

        const from = unique("from.bin");
        const to = unique("to.bin");
        expect(put("node-1a", from, bytes).status).toBe(201);
        await expect.poll(() => onDisk("node-1b", from), { timeout: 10_000 }).toBe(sha(bytes));
        // nginx answers a MOVE of a file with 204 (201 when it had to create directories)
        expect([201, 204]).toContain(curl(internalUrl("node-1a", from), { method: "MOVE", headers: [`Destination: ${to}`, "Overwrite: F"] }).status);
        expect(sha(publicGet("node-1a", to).body)).toBe(sha(bytes));
        await expect.poll(() => onDisk("node-1b", to), { timeout: 5000 }).toBe(sha(bytes));
        expect(await onDisk("node-1b", from)).toBe("missing");
        expect(publicGet("node-1a", from).status).toBe(404);
    });

    it("never lets a MOVE replace a file: without Overwrite: F it is refused, onto an existing file it gets 412", async () => {
        const a = unique("keep-a.bin");
        const b = unique("keep-b.bin");
        const bytesA = randomBytes(500);
        const bytesB = randomBytes(600);
        expect(put("node-1a", a, bytesA).status).toBe(201);
        expect(put("node-1a", b, bytesB).status).toBe(201);
        // WebDAV's default is Overwrite: T; pairstore refuses it and says what to send
        const bare = curl(internalUrl("node-1a", a), { method: "MOVE", headers: [`Destination: ${b}`] });
        expect(bare.status).toBe(400);
        expect(bare.body.toString()).toContain("Overwrite: F");
        expect(curl(internalUrl("node-1a", a), { method: "MOVE", headers: [`Destination: ${b}`, "Overwrite: T"] }).status).toBe(400);
        expect(curl(internalUrl("node-1a", a), { method: "MOVE", headers: [`Destination: ${b}`, "Overwrite: F"] }).status).toBe(412);
        // both files are intact, on both nodes, and the refused MOVE recorded no delete of `a`
        for (const node of ["node-1a", "node-1b"]) {
            await expect.poll(() => onDisk(node, a), { timeout: 5000 }).toBe(sha(bytesA));
            await expect.poll(() => onDisk(node, b), { timeout: 5000 }).toBe(sha(bytesB));
            expect(await tombstone(node, a), `${node}: a tombstone of ${a}`).toBe("no");
        }
    });

    it("a MOVE refused (412) where the destination exists is not done on the peer that has not received the destination yet", async () => {
        const a = unique("lag-a.bin");
        const b = unique("lag-b.bin");
        const [bytesA, bytesB] = [randomBytes(500), randomBytes(600)];
        expect(put("node-1a", a, bytesA).status).toBe(201);
        await expect.poll(() => onDisk("node-1b", a), { timeout: 10_000 }).toBe(sha(bytesA));
        // b reaches node-1a only: its lsyncd (which would push b to node-1b) is stopped
        await onHost("node-1a", "systemctl stop pairstore-lsyncd.service");
        try {
            expect(put("node-1a", b, bytesB).status).toBe(201);
            expect(await onDisk("node-1b", b)).toBe("missing");
            expect(curl(internalUrl("node-1a", a), { method: "MOVE", headers: [`Destination: ${b}`, "Overwrite: F"] }).status).toBe(412);
            // the peer was not told to move a: it still holds a, has no b from a, and recorded no delete of a
            await new Promise((r) => setTimeout(r, 1000));
            expect(await onDisk("node-1b", a)).toBe(sha(bytesA));
            expect(await onDisk("node-1b", b)).toBe("missing");
            expect(await tombstone("node-1b", a)).toBe("no");
        } finally {
            await onHost("node-1a", "systemctl start pairstore-lsyncd.service");
        }
        // once lsyncd runs again, b arrives as uploaded; a stays on both nodes
        await expect.poll(() => onDisk("node-1b", b), { timeout: 30_000 }).toBe(sha(bytesB));
        for (const node of ["node-1a", "node-1b"]) expect(await onDisk(node, a), node).toBe(sha(bytesA));
    });

    it("a MOVE sent to the second node is decided by the owner (a forged peer mark too): refused (412) onto a name only the owner holds yet, done on both otherwise", async () => {
        const [a, b, c] = [unique("second-a.bin"), unique("second-b.bin"), unique("second-c.bin")];
        const [bytesA, bytesB] = [randomBytes(500), randomBytes(600)];
        expect(put("node-1a", a, bytesA).status).toBe(201);
        await expect.poll(() => onDisk("node-1b", a), { timeout: 10_000 }).toBe(sha(bytesA));
        // b reaches the owner (node-1a) only: its lsyncd (which would push b to node-1b) is stopped
        await onHost("node-1a", "systemctl stop pairstore-lsyncd.service");
        try {
            expect(put("node-1b", b, bytesB).status).toBe(201); // stored by the owner, as every upload
            expect(await onDisk("node-1a", b)).toBe(sha(bytesB));
            expect(await onDisk("node-1b", b)).toBe("missing");
            // node-1b has no b, but the owner has: the MOVE is refused, not done on node-1b
            const refused = curl(internalUrl("node-1b", a), { method: "MOVE", headers: [`Destination: ${b}`, "Overwrite: F"] });
            expect(refused.status).toBe(412);
            expect(refused.headers).toMatch(/^x-pairstore-decided-by: node-1a\r?$/im);
            // nor when an uploader forges the peer's mark: X-Pairstore-Peer counts only from node-1a's address
            const forged = curl(internalUrl("node-1b", a), { method: "MOVE", headers: [`Destination: ${b}`, "Overwrite: F", "X-Pairstore-Peer: node-1a"] });
            expect(forged.status, "a MOVE with a forged X-Pairstore-Peer").toBe(412);
            expect(forged.headers).toMatch(/^x-pairstore-decided-by: node-1a\r?$/im);
            await new Promise((r) => setTimeout(r, 1000));
            for (const node of ["node-1a", "node-1b"]) {
                expect(await onDisk(node, a), `${node} keeps ${a}`).toBe(sha(bytesA));
                expect(await tombstone(node, a), `${node}: a tombstone of ${a}`).toBe("no");
            }
            expect(await onDisk("node-1a", b)).toBe(sha(bytesB));
            expect(await onDisk("node-1b", b), "node-1b got no b from a").toBe("missing");
        } finally {
            await onHost("node-1a", "systemctl start pairstore-lsyncd.service");
        }
        await expect.poll(() => onDisk("node-1b", b), { timeout: 30_000 }).toBe(sha(bytesB));
        // a MOVE onto a free name sent to node-1b is decided by the owner, done on both nodes and recorded on both
        const move = curl(internalUrl("node-1b", a), { method: "MOVE", headers: [`Destination: ${c}`, "Overwrite: F"] });
        expect([201, 204]).toContain(move.status);
        expect(move.headers).toMatch(/^x-pairstore-decided-by: node-1a\r?$/im);
        for (const node of ["node-1a", "node-1b"]) {
            await expect.poll(() => onDisk(node, c), { timeout: 10_000 }).toBe(sha(bytesA));
            await expect.poll(() => onDisk(node, a), { timeout: 10_000 }).toBe("missing");
            await expect.poll(() => tombstone(node, a), { timeout: 10_000 }).toBe("yes");
            expect(await onDisk(node, b), `${node} keeps ${b}`).toBe(sha(bytesB));
        }
        // while the owner has not refilled since it booted (its ready mark gone) the second node decides, as for uploads
        const ready = readyFileOf(DOMAIN);
        const d = unique("second-d.bin");
        await onHost("node-1a", `mv ${ready} ${ready}.e2e`);
        try {
            const early = curl(internalUrl("node-1a", c), { method: "MOVE", headers: [`Destination: ${d}`, "Overwrite: F"] });
            expect([201, 204]).toContain(early.status);
            expect(early.headers).toMatch(/^x-pairstore-decided-by: node-1b\r?$/im);
        } finally {
            await onHost("node-1a", `mv ${ready}.e2e ${ready}`);
        }
        for (const node of ["node-1a", "node-1b"]) {
            await expect.poll(() => onDisk(node, d), { timeout: 10_000 }).toBe(sha(bytesA));
            await expect.poll(() => onDisk(node, c), { timeout: 10_000 }).toBe("missing");
        }
    });

    it("MOVE across pairs: one of another pair's file is done there; one onto another pair's shard is refused (502), nothing moved", async () => {
        const bytes = randomBytes(700);
        const [far, farTo] = [unique("far.bin", "pair-2"), unique("far-to.bin", "pair-2")];
        const near = unique("near.bin");
        expect(put("node-2a", far, bytes).status).toBe(201);
        expect(put("node-1a", near, bytes).status).toBe(201);
        for (const [node, p] of [["node-2b", far], ["node-1b", near]]) await expect.poll(() => onDisk(node, p), { timeout: 10_000 }).toBe(sha(bytes));
        const move = (node: string, from: string, to: string) =>
            curl(internalUrl(node, from), { method: "MOVE", headers: [`Destination: http://${IP[node]}:${INTERNAL}${to}`, "Overwrite: F"] });
        // sent to pair-1, done at pair-2 (both nodes), where the file lives
        expect([201, 204]).toContain(move("node-1a", far, farTo).status);
        for (const node of ["node-2a", "node-2b"]) {
            await expect.poll(() => onDisk(node, farTo), { timeout: 10_000 }).toBe(sha(bytes));
            await expect.poll(() => onDisk(node, far), { timeout: 10_000 }).toBe("missing");
            await expect.poll(() => tombstone(node, far), { timeout: 10_000 }).toBe("yes");
        }
        for (const node of ["node-1a", "node-1b"]) expect(await onDisk(node, farTo), `${node} holds no copy`).toBe("missing");
        // a file never moves to a shard another pair serves: pair-1's onto pair-2's, and pair-2's (sent to pair-1) onto pair-1's
        const refusals = [move("node-1a", near, unique("away.bin", "pair-2")), move("node-1b", farTo, unique("back.bin"))];
        expect(refusals.map((r) => `${r.status} ${r.body.toString().trim()}`)).toEqual([
            expect.stringMatching(/^502 pairstore: MOVE to .* refused: pair-2 serves its shard/),
            expect.stringMatching(/^502 pairstore: MOVE to .* refused: pair-1 serves its shard/),
        ]);
        for (const [node, p] of [["node-1a", near], ["node-1b", near], ["node-2a", farTo], ["node-2b", farTo]]) {
            expect(await onDisk(node, p), `${node} still holds ${p}`).toBe(sha(bytes));
            expect(await tombstone(node, p), `${node}: a tombstone of ${p}`).toBe("no");
        }
    });

    it("serves the private prefix only through signed links: 200, tampered 403, expired 410", async () => {
        const p = `/private${unique("secret.jpg")}`;
        const bytes = randomBytes(2048);
        expect(put("node-1a", p, bytes).status).toBe(201);
        const secret = labSecureLinkSecret();
        const now = Math.floor(Date.now() / 1000);
        const good = signPath(p, secret, now + 3600);
        const ok = publicGet("node-1a", good);
        expect(ok.status).toBe(200);
        expect(sha(ok.body)).toBe(sha(bytes));
        expect(publicGet("node-1b", good).status).toBe(200); // through the peer fallback too
        const tampered = good.replace(/md5=(.)/, (_m, c: string) => `md5=${c === "A" ? "B" : "A"}`);
        expect(publicGet("node-1a", tampered).status).toBe(403);
        expect(publicGet("node-1a", good.replace(/expires=\d+/, `expires=${now + 7200}`)).status).toBe(403);
        expect(publicGet("node-1a", signPath(p, `${secret}x`, now + 3600)).status).toBe(403);
        expect(publicGet("node-1a", p).status).toBe(403);
        expect(publicGet("node-1a", signPath(p, secret, now - 60)).status).toBe(410);
    });

    it("builds nginx with the configured modules and runs its workers with the unit's open-file limit", async () => {
        for (const node of ["node-1a", "node-2b"]) {
            const v = await onHost(node, "/usr/local/sbin/nginx -V 2>&1");
            expect(v).toContain("nginx version: nginx/1.22.1");
            for (const flag of ["--with-http_dav_module", "--with-http_secure_link_module", "--with-http_auth_request_module", "--without-http_autoindex_module",
                "--without-http_ssi_module", "--without-http_fastcgi_module", "--pid-path=/run/nginx.pid"]) {
                expect(v, node).toContain(flag);
            }
            expect(await onHost(node, "ldd /usr/local/sbin/nginx")).toMatch(/libpcre2-8\.so.*\n(.*\n)*.*libz\.so|libz\.so.*\n(.*\n)*.*libpcre2-8\.so/);
            expect(await onHost(node, "systemctl show -p LimitNOFILE --value pairstore-nginx.service")).toBe(String(LAB_NOFILE));
            const workers = (await onHost(node, "pgrep -f 'nginx: worker process'")).split("\n").filter(Boolean);
            expect(workers.length).toBeGreaterThan(0);
            for (const pid of workers) {
                expect(await onHost(node, `grep 'Max open files' /proc/${pid}/limits`)).toMatch(new RegExp(`^Max open files\\s+${LAB_NOFILE}\\s+${LAB_NOFILE}\\s+files`));
            }
            expect(await onHost(node, "cat /run/nginx.pid")).toBe(await onHost(node, "systemctl show -p MainPID --value pairstore-nginx.service"));
        }
    });

    it("a tarball with the wrong checksum stops the build with both sums and changes nothing", async () => {
        const wrong = "0".repeat(64);
        const r = await applyLab({ nginx: nginxWith({ sha256: wrong }) });
        expect(r.ok).toBe(false);
        const failed = r.failed.find((f) => f.name.endsWith("-nginx-build"));
        expect(failed?.message).toContain(`sha256 is 9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31, expected ${wrong}`);
        // Every node builds at once (a build changes nothing served): the builds in flight fail
        // alike, the first failure stops the apply (as in the engine), and no other step ran.
        expect(r.failed.length).toBeGreaterThanOrEqual(1);
        for (const f of r.failed) expect(f.name).toMatch(/^node-\d[ab]-nginx-build$/);
        expect(r.updated.filter((n) => !n.endsWith("-nginx-build"))).toEqual([]);
        for (const node of ["node-1a", "node-1b"]) {
            expect(await onHost(node, "/usr/local/sbin/nginx -v 2>&1"), node).toBe("nginx version: nginx/1.22.1");
            expect(await onHost(node, "systemctl is-active pairstore-nginx.service"), node).toBe("active");
        }
        const back = await applyLab();
        expect(back.ok).toBe(true);
        expect(back.changedSteps).toEqual([]);
    });

    it("a broken site config fails the apply naming nginx's error, and both nodes keep serving", async () => {
        const p = unique("still.txt");
        expect(put("node-1a", p, Buffer.from("still here")).status).toBe(201);
        const liveBefore = await onHost("node-1a", "readlink /etc/pairstore/nginx/live");
        const r = await applyLab({ nginx: nginxWith({ extraPublicConfig: "pairstore_broken_directive on;" }) });
        expect(r.ok).toBe(false);
        const failed = r.failed.find((f) => f.name === "node-1a-nginx-activate");
        expect(failed, JSON.stringify(r.failed)).toBeDefined();
        expect(failed!.message).toContain('unknown directive "pairstore_broken_directive"');
        expect(failed!.message).toContain(`/etc/pairstore/nginx/candidate/sites/${DOMAIN}.conf:`);
        expect(failed!.message).toContain("the live configuration stays in place");
        // The first node kept its live configuration; its peer was never touched (it waits for node-1a's health gate).
        expect(await onHost("node-1a", "readlink /etc/pairstore/nginx/live")).toBe(liveBefore);
        expect(await onHost("node-1b", "grep -c pairstore_broken_directive /etc/pairstore/nginx/candidate/sites/example.com.conf || true")).toBe("0");
        expect(r.created.concat(r.updated).filter((n) => n.startsWith("node-1b-"))).toEqual([]);
        for (const node of ["node-1a", "node-1b"]) {
            expect(await onHost(node, "systemctl is-active pairstore-nginx.service")).toBe("active");
            const got = publicGet(node, p);
            expect(got.status, node).toBe(200);
            expect(got.body.toString()).toBe("still here");
        }
        const back = await applyLab();
        expect(back.ok, JSON.stringify(back.failed)).toBe(true);
        expect(await onHost("node-1a", "grep -c pairstore_broken_directive /etc/pairstore/nginx/candidate/sites/example.com.conf || true")).toBe("0");
    });

    it("reports itself healthy on every internal port", async () => {
        for (const node of Object.keys(IP)) {
            for (const port of [8081, 8082]) {
                const r = await onHost(node, `curl -s http://127.0.0.1:${port}/.pairstore/health`);
                expect(r).toBe(`ok ${node} ${port === 8081 ? "example.com" : "example.org"}`);
            }
        }
    });
});
