// Replication: config keys, rendered rsyncd/lsyncd configs and scripts, the
// lsyncd rsync wrapper's guards (no echo, deletes, tombstones, conflicts) and
// the replicate helper's tombstones, run for real against a sandbox with rsync
// replaced by a recorder or a stand-in.
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ConfigError, parseClusterConfig, type RawConfig } from "../../components/config";
import { DIRS_PER_DOMAIN, inotifyWatchesNeeded } from "../../components/roles/replication/config";
import { render } from "../../components/step/template";
import {
    renderLsyncdConf, renderLsyncdWrapper, renderReplicateScript, renderRsyncdConf, replicationRole, replicationVerifyStep,
} from "../../components/roles/replication/steps";
import { baseConfig, baseFacts, layoutRoot } from "./fixtures";

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
        expect(specOf().replication).toEqual({ delay: 1, catchUpInterval: "15min", maxProcesses: 4, auth: false, moveBwLimit: 40960 });
    });

    test("bad values name the key and the fix", () => {
        expect(problems((c) => { c.replication = { delay: 0, catchUpInterval: "soon", maxProcesses: 0, moveBwLimit: -1, dely: 2 }; })).toEqual([
            "pairstore:replication.delay 0 must be between 1 and 3600 seconds (lsyncd's delay; 1 is a good start)",
            'pairstore:replication.catchUpInterval "soon" must be a time span like 15min, 900s or 1h',
            "pairstore:replication.maxProcesses 0 must be between 1 and 64",
            "pairstore:replication.moveBwLimit -1 must be KiB/s, 0 or more (0: unlimited; the default 40960 is 40 MiB/s)",
            "pairstore:replication.dely is not a known field; expected one of: delay, catchUpInterval, maxProcesses, moveBwLimit",
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
        // every received file carries the replica group: lsyncd never pushes it back
        expect(conf).toMatch(/^gid = pairstore-replica$/m);
        expect(conf).toContain("[example.com]\n    comment = pairstore replica of example.com\n    path = /srv/images/example.com/image\n    read only = no\n    write only = yes");
        // transfers land on the files' file system, outside the served folders, and the peer cannot touch the marker or tombstones
        expect(conf).toMatch(/\[example\.com\][^[]*temp dir = \/\.pairstore\/tmp\/rsync/);
        expect(conf).toMatch(/\[example\.com\][^[]*exclude = \/\.pairstore-replica \/\.pairstore\/tombstones\/ \/\.pairstore\/tmp\/body\//);
        expect(conf).toContain("[example.org-refill]");
        expect(conf).toMatch(/\[example\.com-refill\][^[]*read only = yes/);
        expect(conf).toMatch(/\[example\.com-refill\][^[]*exclude = \/\.pairstore\/tmp\//);
    });

    test("lsyncd: one sync per domain to the peer's module, deletes only while running, hidden files replicate, through the wrapper", () => {
        const conf = renderLsyncdConf(specOf((c) => { c.replication = { delay: 3 }; }), b);
        expect(conf.match(/^sync \{$/gm)).toHaveLength(2);
        expect(conf).toContain('source = "/srv/images/example.com/image/"');
        expect(conf).toContain('target = "10.78.0.12::example.com/"');
        expect(conf).toContain("delay = 3,");
        expect(conf).toContain('delete = "running"');
        expect(conf).toContain("insist = true");
        expect(conf).toContain('binary = "/usr/local/lib/pairstore/lsyncd-rsync"');
        // only pairstore's folder and the marker stay local (no blanket ".*")
        expect(conf).toContain('exclude = { "/.pairstore/", "/.pairstore-replica" },');
        expect(conf).not.toContain('".*"');
        // no owner or group: the receiving rsyncd sets them
        expect(conf).toContain("archive = false,");
        expect(conf).not.toMatch(/owner = true|group = true/);
        expect(conf).toContain('"--fsync"');
        expect(conf).not.toContain("password_file");
    });

    test("with rsync auth: auth users and secrets file, the clients' password file, a secret step", () => {
        const auth = specOf(() => undefined, (f) => { f.presentKeys.push("rsyncSecret"); f.secretKeys.push("rsyncSecret"); });
        expect(renderRsyncdConf(auth, a, b)).toContain("auth users = pairstore\nsecrets file = /etc/pairstore/rsyncd.secrets\nstrict modes = yes");
        expect(renderLsyncdConf(auth, b)).toContain('target = "pairstore@10.78.0.12::example.com/"');
        expect(renderLsyncdConf(auth, b)).toContain('password_file = "/etc/pairstore/rsync.password",');
        expect(renderReplicateScript(auth, a, b, a.name)).toMatch(/^RSYNC_USER=pairstore$/m);
        const steps = replicationRole(auth, a, b, { rsyncSecret: "s3cret-value" }, { owner: a.name, runId: "unit" });
        const secret = steps.find((s) => s.name === "rsync-secret")!;
        expect(secret.secret).toBe(true);
        expect(secret.stdinDigest).toBe("pairstore:rsyncSecret");
        expect(steps.find((s) => s.name === "rsyncd-config")!.script).toContain(
            "VALIDATE='/usr/local/lib/pairstore/check-rsyncd-conf {} 10.78.0.12 pairstore /etc/pairstore/rsync.password'");
        expect(() => replicationRole(auth, a, b, {}, { owner: a.name, runId: "unit" })).toThrow(/rsyncSecret/);
    });

    test("the pair's first node is the upload owner in the helper of both nodes (its version wins a conflict)", () => {
        expect(renderReplicateScript(spec, a, b, a.name)).toMatch(/^OWNER=1$/m);
        expect(renderReplicateScript(spec, b, a, a.name)).toMatch(/^OWNER=0$/m);
        expect(renderReplicateScript(spec, b, a, a.name)).toMatch(/^PEER_NAME=node-1a$/m);
        expect(renderLsyncdWrapper(spec, a)).toMatch(/^PEER_NAME=node-1a$/m);
    });

    test("the verify step carries the run id (it runs on every apply) and waits for the refill of every domain", () => {
        const one = replicationVerifyStep(spec, { owner: a.name, runId: "2026-01-01T00:00:00.000Z 0a1b" });
        const two = replicationVerifyStep(spec, { owner: a.name, runId: "2026-01-01T00:00:01.000Z 2c3d" });
        expect(one.name).toBe("replication-verify");
        expect(one.phase).toBe("activate");
        expect(one.script).toContain("(this run: 2026-01-01T00:00:00.000Z 0a1b)");
        expect(one.script).not.toBe(two.script);
        expect(one.script).toContain("READY_FILES=(/run/pairstore/ready/example.com /run/pairstore/ready/example.org)");
        // a run id cannot inject shell
        expect(replicationVerifyStep(spec, { owner: a.name, runId: "x'; rm -rf /; '" }).script).toContain("(this run: x rm -rf  )");
    });

    test("the catch-up compares and repairs; lsyncd refills (tombstones first) before it starts", () => {
        const steps = replicationRole(spec, a, b, {}, { owner: a.name, runId: "unit" });
        const unit = (n: string) => steps.find((s) => s.name === n)!.stdin as string;
        expect(unit("catchup-service-unit")).toMatch(/^ExecStart=\/usr\/local\/lib\/pairstore\/replicate catchup$/m);
        expect(unit("lsyncd-unit")).toMatch(/^ExecStartPre=\/usr\/local\/lib\/pairstore\/replicate prepare\nExecStartPre=\/usr\/local\/lib\/pairstore\/replicate refill$/m);
        expect(steps.find((s) => s.name === "verify-script")!.script).toContain("DEST=/usr/local/sbin/pairstore-verify");
        expect(unit("verify-script")).toContain("exec /usr/local/lib/pairstore/replicate \"$mode\"");
        expect(steps.find((s) => s.name === "replication-merge")!.script).toContain('"$REPLICATE" merge');
    });

    test("the scripts installed on hosts are valid bash", () => {
        const steps = replicationRole(spec, a, b, {}, { owner: a.name, runId: "unit" });
        const texts = {
            replicate: renderReplicateScript(spec, a, b, a.name),
            wrapper: renderLsyncdWrapper(spec, b),
            verify: steps.find((s) => s.name === "verify-script")!.stdin as string,
            checkRsyncd: render("replication/check-rsyncd-conf", {}),
            checkLsyncd: render("replication/check-lsyncd-conf", {}),
        };
        for (const [name, text] of Object.entries(texts)) {
            const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
            expect(r.status, `${name}: ${r.stderr}`).toBe(0);
        }
    });
});

/** A sandbox image root with its 4096 layout folders (made once: it takes a while). */
const primaryGroup = () => execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();

describe("the lsyncd rsync wrapper (run for real, rsync replaced by a recorder)", () => {
    let sandbox: string;
    let root: string;
    beforeAll(() => {
        sandbox = mkdtempSync(path.join(tmpdir(), "pairstore-wrapper-"));
        root = layoutRoot(sandbox);
        // the recorder: keeps its arguments and stdin, prints what `out` holds (as rsync's --out-format lines)
        writeFileSync(path.join(sandbox, "rsync"), `#!/bin/bash\necho "$*" > ${sandbox}/args\necho "$*" >> ${sandbox}/calls\ncat > ${sandbox}/list\ncat ${sandbox}/out 2>/dev/null\nexit 0\n`, { mode: 0o755 });
        writeFileSync(path.join(sandbox, "replicate"), `#!/bin/bash\necho "$*" >> ${sandbox}/replicate.calls\n`, { mode: 0o755 });
    });
    afterAll(() => rmSync(sandbox, { recursive: true, force: true }));
    beforeEach(() => {
        for (const f of ["args", "calls", "list", "out", "replicate.calls"]) rmSync(path.join(sandbox, f), { force: true });
        rmSync(path.join(root, ".pairstore"), { recursive: true, force: true });
        rmSync(path.join(root, "7", "2", "a"), { recursive: true, force: true });
        mkdirSync(path.join(root, "7", "2", "a"));
        mkdirSync(path.join(root, ".pairstore", "tombstones"), { recursive: true });
        writeFileSync(path.join(root, ".pairstore-replica"), "");
    });

    /** The wrapper as installed on a node, with `group` as the replica group and rsync/replicate replaced. */
    function wrapper(opts: { group?: string } = {}): string {
        const spec = specOf((c) => { c.dataRoot = path.join(sandbox, "data"); });
        const text = renderLsyncdWrapper(spec, spec.pairs[0].nodes[1])
            .replace(/^REPLICA_GROUP=.*$/m, `REPLICA_GROUP=${opts.group ?? "no-such-group-here"}`)
            .replace(/^SETTLE=.*$/m, "SETTLE=0")
            .replace(/^REPLICATE=.*$/m, `REPLICATE=${sandbox}/replicate`)
            .replace(/^WEB_USER=.*$/m, `WEB_USER=${execFileSync("id", ["-un"], { encoding: "utf8" }).trim()}`)
            .split("/usr/bin/rsync").join(`${sandbox}/rsync`);
        const file = path.join(sandbox, `lsyncd-rsync-${opts.group ?? "x"}`);
        writeFileSync(file, text, { mode: 0o755 });
        return file;
    }
    function call(w: string, list: string[], extra: string[] = ["--delete"]) {
        const r = spawnSync(w, ["-sltp", "-r", ...extra, "--from0", "--include-from=-", "--exclude=*", `${root}/`, "peer::example.com/"], {
            input: list.join("\0"), encoding: "utf8",
        });
        expect(r.status, r.stderr).toBe(0);
        const read = (f: string) => (existsSync(path.join(sandbox, f)) ? readFileSync(path.join(sandbox, f), "utf8") : "");
        return { stderr: r.stderr, args: read("args").trim(), list: read("list").split("\0") };
    }
    const write = (rel: string, mtime?: Date) => {
        writeFileSync(path.join(root, rel), "x");
        if (mtime) utimesSync(path.join(root, rel), mtime, mtime);
    };

    test("pushes every local write whatever its mtime; a file received from the peer (its group says so) is not pushed back", () => {
        write("7/2/a/new.jpg");
        write("7/2/a/dated.jpg", new Date("2002-01-01T00:00:00Z")); // a Date: header, touch -d, cp -p
        const local = call(wrapper(), ["/7/", "/7/2/", "/7/2/a/", "/7/2/a/new.jpg", "/7/2/a/dated.jpg"]);
        expect(local.list).toEqual(["/7/", "/7/2/", "/7/2/a/", "/7/2/a/new.jpg", "/7/2/a/dated.jpg", ""]);
        expect(local.stderr).not.toContain("came from the peer");
        // the same files, seen by a node whose replica group is theirs: received, so not pushed back
        rmSync(path.join(sandbox, "list"));
        const received = call(wrapper({ group: primaryGroup() }), ["/7/2/a/", "/7/2/a/new.jpg", "/7/2/a/dated.jpg"]);
        expect(received.list).toEqual([""]);
        expect(received.stderr).toContain("2 files came from the peer; not pushing them back");
    });

    test("the last entry counts even without a trailing NUL", () => {
        write("7/2/a/x.jpg");
        expect(call(wrapper(), ["/7/", "/7/2/a/x.jpg"]).list).toEqual(["/7/", "/7/2/a/x.jpg", ""]);
    });

    test("a deleted file is replayed and recorded as a tombstone; writing it again clears the tombstone", () => {
        const before = Date.now();
        const r = call(wrapper(), ["/7/2/a/", "/7/2/a/deleted.jpg"]);
        expect(r.args).toContain("--delete");
        expect(r.args).toMatch(/ --ignore-existing$/);
        expect(r.list).toEqual(["/7/2/a/", "/7/2/a/deleted.jpg", ""]);
        const tomb = path.join(root, ".pairstore", "tombstones", "7", "2", "a", "deleted.jpg");
        expect(existsSync(tomb)).toBe(true);
        expect(statSync(tomb).mtimeMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
        write("7/2/a/deleted.jpg");
        call(wrapper(), ["/7/2/a/deleted.jpg"]);
        expect(existsSync(tomb)).toBe(false);
    });

    test("a batch with new files and deletes (a write renamed into place) sends the new files before it settles for the deletes", () => {
        write("7/2/a/b.jpg");
        const r = call(wrapper(), ["/7/2/a/", "/7/2/a/.b.jpg.tmp", "/7/2/a/b.jpg"]);
        const calls = readFileSync(path.join(sandbox, "calls"), "utf8").trim().split("\n");
        expect(calls).toHaveLength(2);
        expect(calls[0]).not.toContain("--delete");
        expect(calls[0]).toMatch(/ --ignore-existing$/);
        expect(calls[1]).toContain("--delete");
        expect(r.list).toEqual(["/7/2/a/", "/7/2/a/.b.jpg.tmp", "/7/2/a/b.jpg", ""]);
        // a batch of deletes only is one call
        rmSync(path.join(sandbox, "calls"));
        call(wrapper(), ["/7/2/a/", "/7/2/a/gone.jpg"]);
        expect(readFileSync(path.join(sandbox, "calls"), "utf8").trim().split("\n")).toHaveLength(1);
    });

    test("an image root without its marker (wiped, replaced) never replays deletes nor records tombstones", () => {
        rmSync(path.join(root, ".pairstore-replica"));
        const r = call(wrapper(), ["/7/2/a/deleted.jpg"]);
        expect(r.args).not.toContain("--delete");
        expect(r.stderr).toContain("is not intact (marker .pairstore-replica or layout folders missing: wiped or replaced?): not replaying deletes to the peer");
        expect(existsSync(path.join(root, ".pairstore", "tombstones", "7"))).toBe(false);
    });

    test("an image root missing a layout folder (a wipe in progress) never replays deletes", () => {
        rmSync(path.join(root, "3", "0", "5"), { recursive: true });
        try {
            const r = call(wrapper(), ["/3/0/5/***", "/3/0/", "/7/2/a/deleted.jpg"]);
            expect(r.args).not.toContain("--delete");
            expect(r.stderr).toContain("is not intact");
        } finally {
            mkdirSync(path.join(root, "3", "0", "5"));
        }
        expect(call(wrapper(), ["/7/2/a/deleted.jpg"]).args).toContain("--delete");
    });

    test("never replaces a file on the peer; a batch of received files sends nothing", () => {
        write("7/2/a/x.jpg");
        expect(call(wrapper(), ["/7/2/a/", "/7/2/a/x.jpg"]).args).toMatch(/ --ignore-existing$/);
        rmSync(path.join(sandbox, "args"));
        const echoOnly = call(wrapper({ group: primaryGroup() }), ["/7/", "/7/2/a/", "/7/2/a/x.jpg"]);
        expect(echoOnly.args).toBe("");
    });

    test("lsyncd's startup sync applies the peer's tombstones first and never replaces a file", () => {
        const r = spawnSync(wrapper(), ["--exclude-from=-", "-sltp", "-r", `${root}/`, "peer::example.com/"], { input: "/.pairstore/\n/.pairstore-replica\n", encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        expect(readFileSync(path.join(sandbox, "replicate.calls"), "utf8")).toBe("tombstones example.com\n");
        expect(readFileSync(path.join(sandbox, "args"), "utf8")).toMatch(/--exclude-from=- -sltp -r .* peer::example\.com\/ --ignore-existing --no-inc-recursive/);
        // lsyncd's exclude list still reaches rsync on stdin
        expect(readFileSync(path.join(sandbox, "list"), "utf8")).toBe("/.pairstore/\n/.pairstore-replica\n");
    });
});

describe("the replicate helper's tombstones (run for real, rsync replaced by a copy of a sandbox peer)", () => {
    let sandbox: string;
    let root: string;
    let replicate: string;
    const peerTombs = () => path.join(sandbox, "peer", "example.com", ".pairstore", "tombstones");
    beforeAll(() => {
        sandbox = mkdtempSync(path.join(tmpdir(), "pairstore-replicate-"));
        root = layoutRoot(sandbox);
        // stand-in for `rsync -rt --delete ... peer::example.com-refill/.pairstore/tombstones/ DEST/` (the peer is a
        // sandbox folder) and for the local `rsync -rt --update SRC/ DEST/` that learns the fetched tombstones
        writeFileSync(path.join(sandbox, "rsync"), [
            "#!/bin/bash",
            `paths=(); for a in "$@"; do case $a in -*) ;; *) paths+=("$a") ;; esac; done; src=\${paths[0]} dst=\${paths[1]}`,
            `if [[ $src != *::* ]]; then mkdir -p "$dst" && cp -a -u "$src/." "$dst/"; exit; fi`,
            `mod=\${src#*::}; mod=\${mod%%/*}; rel=\${src#*::$mod}`,
            `from=${sandbox}/peer/\${mod%-refill}$rel`,
            `[ -e "$from" ] || { echo "rsync: [sender] change_dir \\"$rel\\" (in $mod) failed: No such file or directory (2)" >&2; exit 23; }`,
            `rm -rf "$dst" && mkdir -p "$dst" && cp -a "$from/." "$dst/"`,
        ].join("\n"), { mode: 0o755 });
        const spec = specOf((c) => { c.dataRoot = path.join(sandbox, "data"); c.domains = [{ name: "example.com", internalPort: 8081 }]; });
        const [a, b] = spec.pairs[0].nodes;
        replicate = path.join(sandbox, "replicate");
        writeFileSync(replicate, renderReplicateScript(spec, a, b, a.name)
            .replace(/^STATE_DIR=.*$/m, `STATE_DIR=${sandbox}/state`)
            .replace(/^READY_DIR=.*$/m, `READY_DIR=${sandbox}/ready`)
            .replace(/^WEB_USER=.*$/m, `WEB_USER=${execFileSync("id", ["-un"], { encoding: "utf8" }).trim()}`)
            .replace("set -uo pipefail", `set -uo pipefail\nPATH=${sandbox}:$PATH`), { mode: 0o755 });
    });
    afterAll(() => rmSync(sandbox, { recursive: true, force: true }));
    beforeEach(() => {
        rmSync(path.join(sandbox, "peer"), { recursive: true, force: true });
        rmSync(path.join(root, ".pairstore"), { recursive: true, force: true });
        rmSync(path.join(root, "7", "2", "a"), { recursive: true, force: true });
        mkdirSync(path.join(root, "7", "2", "a"));
        mkdirSync(peerTombs(), { recursive: true });
        mkdirSync(path.join(root, ".pairstore", "tombstones"), { recursive: true });
    });
    const tombstone = (dir: string, rel: string, at: Date) => {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), "");
        utimesSync(path.join(dir, rel), at, at);
    };
    const run = (...args: string[]) => spawnSync(replicate, args, { encoding: "utf8" });

    test("a copy older than the peer's delete is removed and remembered; a newer one (stored again) stays; unknown deletes are learnt", () => {
        writeFileSync(path.join(root, "7/2/a/stale.jpg"), "old");
        writeFileSync(path.join(root, "7/2/a/again.jpg"), "new");
        const later = new Date(Date.now() + 60_000);
        const earlier = new Date(Date.now() - 3_600_000);
        tombstone(peerTombs(), "7/2/a/stale.jpg", later);    // deleted on the peer after this copy was written
        tombstone(peerTombs(), "7/2/a/again.jpg", earlier);  // deleted before this copy was stored again
        tombstone(peerTombs(), "7/2/a/never.jpg", earlier);  // this node never had it
        const r = run("tombstones");
        expect(r.status, r.stderr + r.stdout).toBe(0);
        expect(existsSync(path.join(root, "7/2/a/stale.jpg"))).toBe(false);
        expect(r.stdout).toContain("example.com: removed 7/2/a/stale.jpg: deleted on node-1b at");
        expect(readFileSync(path.join(root, "7/2/a/again.jpg"), "utf8")).toBe("new");
        const mine = path.join(root, ".pairstore", "tombstones", "7", "2", "a");
        expect(Math.round(statSync(path.join(mine, "stale.jpg")).mtimeMs / 1000)).toBe(Math.round(later.getTime() / 1000));
        expect(Math.round(statSync(path.join(mine, "never.jpg")).mtimeMs / 1000)).toBe(Math.round(earlier.getTime() / 1000));
        // learnt too, but not in force: the copy here was stored after that delete (the catch-up drops such a tombstone)
        expect(Math.round(statSync(path.join(mine, "again.jpg")).mtimeMs / 1000)).toBe(Math.round(earlier.getTime() / 1000));
    });

    test("a peer without tombstones is no error; an unknown domain is refused", () => {
        rmSync(path.join(sandbox, "peer"), { recursive: true, force: true });
        writeFileSync(path.join(root, "7/2/a/kept.jpg"), "x");
        const r = run("tombstones");
        expect(r.status, r.stderr + r.stdout).toBe(0);
        expect(existsSync(path.join(root, "7/2/a/kept.jpg"))).toBe(true);
        const bad = run("verify", "example.net");
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain("example.net is not a domain of this pair (example.com)");
    });
});
