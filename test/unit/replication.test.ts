// Replication: config keys, rendered rsyncd/lsyncd configs, and the lsyncd
// rsync wrapper's two guards run for real against a sandbox.
import { spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { ConfigError, DIRS_PER_DOMAIN, inotifyWatchesNeeded, parseClusterConfig, type RawConfig } from "../../components/config";
import { render } from "../../components/host/template";
import { renderLsyncdConf, renderReplicateScript, renderRsyncdConf, replicationRole } from "../../components/roles/replication";
import { baseConfig, baseFacts } from "./fixtures";

function specOf(change: (c: RawConfig) => void = () => undefined, facts?: (f: ReturnType<typeof baseFacts>) => void) {
    const raw = baseConfig();
    change(raw);
    const f = baseFacts(raw);
    facts?.(f);
    return parseClusterConfig(raw, f);
}
function problems(change: (c: RawConfig) => void, facts?: (f: ReturnType<typeof baseFacts>) => void): string[] {
    try {
        specOf(change, facts);
    } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
    }
    return [];
}

describe("replication config", () => {
    test("defaults: delay 1 s, catch-up every 15min, no rsync auth", () => {
        expect(specOf().replication).toEqual({ delay: 1, catchUpInterval: "15min", maxProcesses: 4, auth: false });
    });

    test("bad values name the key and the fix", () => {
        expect(problems((c) => { c.replication = { delay: 0, catchUpInterval: "soon", maxProcesses: 0, dely: 2 }; })).toEqual([
            "pairstore:replication.delay 0 must be between 1 and 3600 seconds (lsyncd's delay; 1 is a good start)",
            'pairstore:replication.catchUpInterval "soon" must be a time span like 15min, 900s or 1h',
            "pairstore:replication.maxProcesses 0 must be between 1 and 64",
            "pairstore:replication.dely is not a known field; expected one of: delay, catchUpInterval, maxProcesses",
        ]);
    });

    test("rsyncSecret must be a secret; set as one it turns rsync auth on", () => {
        expect(problems(() => undefined, (f) => { f.presentKeys.push("rsyncSecret"); })).toEqual([
            expect.stringMatching(/^pairstore:rsyncSecret is stored in plain text: set it again with `pulumi config set --secret pairstore:rsyncSecret/),
        ]);
        expect(specOf(() => undefined, (f) => { f.presentKeys.push("rsyncSecret"); f.secretKeys.push("rsyncSecret"); }).replication.auth).toBe(true);
    });

    test("inotify watches must cover every layout directory", () => {
        expect(DIRS_PER_DOMAIN).toBe(4369);
        expect(problems((c) => { c.sysctl = { "fs.inotify.max_user_watches": 10000 }; })).toEqual([
            `pairstore:sysctl.fs.inotify.max_user_watches 10000 is below the ${inotifyWatchesNeeded(2)} inotify watches lsyncd needs for 2 domain(s) ` +
            "(4369 directories each, plus 8192); raise it to at least 16930, or null to leave the host's value",
        ]);
        // the default grows with the number of domains
        const many = specOf((c) => { c.domains = Array.from({ length: 20 }, (_, i) => ({ name: `d${i}.example.com`, internalPort: 9000 + i })); });
        expect(Number(many.sysctl["fs.inotify.max_user_watches"])).toBeGreaterThanOrEqual(inotifyWatchesNeeded(20));
        expect(specOf().sysctl["fs.inotify.max_user_watches"]).toBe("65536");
    });
});

describe("rendered replication files", () => {
    const spec = specOf();
    const [a, b] = spec.pairs[0].nodes;

    test("rsyncd: bound to the internal address, only the peer, a write-only and a read-only refill module per domain", () => {
        const conf = renderRsyncdConf(spec, a, b);
        expect(conf).toMatch(/^address = 10\.78\.0\.11$/m);
        expect(conf).toMatch(/^hosts allow = 10\.78\.0\.12$/m);
        expect(conf).toMatch(/^hosts deny = \*$/m);
        expect(conf).toMatch(/^list = no$/m);
        expect(conf).toMatch(/^uid = www-data$/m);
        expect(conf).toContain("[example.com]\n    comment = pairstore replica of example.com\n    path = /srv/images/example.com/image\n    read only = no\n    write only = yes");
        expect(conf).toContain("[example.org-refill]");
        expect(conf).toMatch(/\[example\.com-refill\][^[]*read only = yes/);
    });

    test("lsyncd: one sync per domain to the peer's module, deletes only while running, through the guard wrapper", () => {
        const conf = renderLsyncdConf(specOf((c) => { c.replication = { delay: 3 }; }), b);
        expect(conf.match(/^sync \{$/gm)).toHaveLength(2);
        expect(conf).toContain('source = "/srv/images/example.com/image/"');
        expect(conf).toContain('target = "10.78.0.12::example.com/"');
        expect(conf).toContain("delay = 3,");
        expect(conf).toContain('delete = "running"');
        expect(conf).toContain("insist = true");
        expect(conf).toContain('binary = "/usr/local/lib/pairstore/lsyncd-rsync"');
        expect(conf).not.toContain("password_file");
    });

    test("with rsync auth: auth users and secrets file, the clients' password file, a secret step", () => {
        const auth = specOf(() => undefined, (f) => { f.presentKeys.push("rsyncSecret"); f.secretKeys.push("rsyncSecret"); });
        expect(renderRsyncdConf(auth, a, b)).toContain("auth users = pairstore\nsecrets file = /etc/pairstore/rsyncd.secrets\nstrict modes = yes");
        expect(renderLsyncdConf(auth, b)).toContain('target = "pairstore@10.78.0.12::example.com/"');
        expect(renderLsyncdConf(auth, b)).toContain('password_file = "/etc/pairstore/rsync.password",');
        expect(renderReplicateScript(auth, b)).toMatch(/^RSYNC_USER=pairstore$/m);
        const steps = replicationRole(auth, a, b, { rsyncSecret: "s3cret-value" });
        const secret = steps.find((s) => s.name === "rsync-secret")!;
        expect(secret.secret).toBe(true);
        expect(secret.stdinDigest).toBe("pairstore:rsyncSecret");
        expect(steps.find((s) => s.name === "rsyncd-config")!.script).toContain(
            "VALIDATE='/usr/local/lib/pairstore/check-rsyncd-conf {} 10.78.0.12 pairstore /etc/pairstore/rsync.password'");
        expect(() => replicationRole(auth, a, b)).toThrow(/rsyncSecret/);
    });

    test("the scripts installed on hosts are valid bash", () => {
        const texts = {
            replicate: renderReplicateScript(spec, b),
            wrapper: render("replication/lsyncd-rsync", { data_root: "/srv/images", marker: ".m", echo_ms: 200, settle: 1 }),
            checkRsyncd: render("replication/check-rsyncd-conf", {}),
            checkLsyncd: render("replication/check-lsyncd-conf", {}),
        };
        for (const [name, text] of Object.entries(texts)) {
            const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
            expect(r.status, `${name}: ${r.stderr}`).toBe(0);
        }
    });
});

describe("the lsyncd rsync wrapper (run for real, rsync replaced by a recorder)", () => {
    let sandbox: string;
    let root: string;
    let wrapper: string;
    beforeEach(() => {
        sandbox = mkdtempSync(path.join(tmpdir(), "pairstore-wrapper-"));
        root = path.join(sandbox, "data", "example.com", "image");
        const hex = "0123456789abcdef".split("");
        for (const x of hex) for (const y of hex) for (const z of hex) mkdirSync(path.join(root, x, y, z), { recursive: true });
        const recorder = path.join(sandbox, "rsync");
        writeFileSync(recorder, `#!/bin/bash\necho "$*" > ${sandbox}/args\ncat > ${sandbox}/list\n`, { mode: 0o755 });
        wrapper = path.join(sandbox, "lsyncd-rsync");
        const text = render("replication/lsyncd-rsync", { data_root: path.join(sandbox, "data"), marker: ".pairstore-replica", echo_ms: 200, settle: 0 })
            .split("/usr/bin/rsync").join(recorder);
        writeFileSync(wrapper, text, { mode: 0o755 });
    });
    afterEach(() => rmSync(sandbox, { recursive: true, force: true }));

    const call = (list: string[], extra: string[] = ["--delete"]) => {
        const r = spawnSync(wrapper, ["-r", ...extra, "--from0", "--include-from=-", "--exclude=*", `${root}/`, "peer::example.com/"], {
            input: list.join("\0"), encoding: "utf8",
        });
        expect(r.status, r.stderr).toBe(0);
        return { stderr: r.stderr, args: readFileSync(path.join(sandbox, "args"), "utf8").trim(), list: readFileSync(path.join(sandbox, "list"), "utf8").split("\0") };
    };

    test("a file received from the peer is not pushed back; local writes, deletes and folders are", () => {
        writeFileSync(path.join(root, ".pairstore-replica"), "");
        writeFileSync(path.join(root, "7/2/a/local.jpg"), "x");
        writeFileSync(path.join(root, "7/2/a/received.jpg"), "x");
        const old = new Date(Date.now() - 5000);
        utimesSync(path.join(root, "7/2/a/received.jpg"), old, old); // as rsync leaves it: the sender's mtime, ctime now
        const r = call(["/7/", "/7/2/", "/7/2/a/", "/7/2/a/local.jpg", "/7/2/a/received.jpg", "/7/2/a/deleted.jpg"]);
        expect(r.list).toEqual(["/7/", "/7/2/", "/7/2/a/", "/7/2/a/local.jpg", "/7/2/a/deleted.jpg", ""]);
        expect(r.stderr).toContain("1 files came from the peer; not pushing them back");
        expect(r.args).toContain("--delete");
    });

    test("the last entry counts even without a trailing NUL", () => {
        writeFileSync(path.join(root, ".pairstore-replica"), "");
        expect(call(["/7/2/a/x.jpg", "/7/"]).list).toEqual(["/7/2/a/x.jpg", "/7/", ""]);
    });

    test("an image root without its marker (wiped, replaced) never replays deletes", () => {
        const r = call(["/7/2/a/deleted.jpg"]);
        expect(r.args).not.toContain("--delete");
        expect(r.stderr).toContain("is not intact (marker .pairstore-replica or layout folders missing: wiped or replaced?): not replaying deletes to the peer");
    });

    test("an image root missing a layout folder (a wipe in progress) never replays deletes", () => {
        writeFileSync(path.join(root, ".pairstore-replica"), "");
        rmSync(path.join(root, "3", "0", "5"), { recursive: true });
        const r = call(["/3/0/5/***", "/3/0/", "/7/2/a/deleted.jpg"]);
        expect(r.args).not.toContain("--delete");
        expect(r.stderr).toContain("is not intact");
        // intact again: deletes go through
        mkdirSync(path.join(root, "3", "0", "5"));
        expect(call(["/7/2/a/deleted.jpg"]).args).toContain("--delete");
    });
});
