// nginx config keys, the build and sites roles, and the secure_link helper.
import { createHash } from "crypto";
import { spawn, spawnSync } from "child_process";
import { createServer } from "http";
import type { AddressInfo } from "net";
import { readFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import { DEFAULTS, parseClusterConfig, type ClusterSpec, type ConfigFacts, type RawConfig } from "../../components/config";
import { clientLimitDefaults } from "../../components/roles/nginx/config";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import { nginxBuildId, nginxBuildRole, nginxBuildSha, nginxBuildUrl, nginxConfigureFlags } from "../../components/roles/nginx/build";
import {
    layoutFolderPattern, nginxSitesRole, renderClientLimitsConf, renderClientLimitsNft, renderNginxConf, renderSecureLinkConf, renderSite,
    storedDestinationPattern, storedUriPattern,
} from "../../components/roles/nginx/sites";
import { nodePackages } from "../../components/roles/packages/steps";
import { secureLinkSecretProblem, secureLinkToken, signPath } from "../../components/lib/secure-link";
import { baseConfig, baseFacts, FAKE_HEARTBEAT_AUTH_KEY, problemsOf } from "./fixtures";

const SECRET = "unit-test-secure-link-secret-0123456789";


function specOf(change: (c: RawConfig) => void = () => undefined): ClusterSpec {
    const raw = baseConfig();
    change(raw);
    return parseClusterConfig(raw, baseFacts(raw));
}

const steps = (spec: ClusterSpec) => {
    const { pairs, ...settings } = spec;
    return nodeSteps(settings as NodeSettings, pairs[0].nodes[0], pairs[0].nodes[1], { secureLinkSecret: SECRET, heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY },
        { owner: pairs[0].nodes[0].name, runId: "unit" });
};

describe("nginx config keys", () => {
    test("defaults: the pinned 1.22.1 with the reference deployment's modules, sized for the host", () => {
        const { nginx, uploaders, secureLinkPrefix } = specOf();
        expect(nginx.version).toBe("1.22.1");
        expect(nginx.sha256).toBe("9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31");
        expect(nginx.url).toBe("https://nginx.org/download/nginx-1.22.1.tar.gz");
        expect(nginx.sourceFile).toBeUndefined();
        expect(nginx.configureFlags.slice(0, 3)).toEqual(["--with-http_dav_module", "--with-http_secure_link_module", "--with-http_auth_request_module"]);
        expect(nginx.configureFlags).toContain("--without-http_autoindex_module");
        expect(nginx.workerProcesses).toBe("auto");
        expect(nginx.workerConnections).toBe(4096);
        expect(uploaders).toEqual([]);
        expect(secureLinkPrefix).toBe("/private/");
    });

    test("Pulumi.yaml declares the new keys with the same defaults", () => {
        const declared = parseYaml(readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8")).config;
        expect(declared["pairstore:secureLinkSecret"]).toMatchObject({ secret: true });
        expect(declared["pairstore:secureLinkPrefix"].default).toBe(DEFAULTS.secureLinkPrefix);
        expect(declared["pairstore:uploaders"].default).toEqual([]);
    });

    test("accepts a version with its checksum, a pushed tarball, uploader networks and addresses", () => {
        const spec = specOf((c) => {
            c.nginx = { version: "1.24.0", sha256: "A".repeat(64), sourceFile: "/srv/nginx-1.24.0.tar.gz", workerProcesses: 2 };
            c.uploaders = ["192.0.2.0/24", "198.51.100.7"];
        });
        expect(spec.nginx.url).toBe("https://nginx.org/download/nginx-1.24.0.tar.gz");
        expect(spec.nginx.sha256).toBe("a".repeat(64));
        expect(spec.nginx.workerProcesses).toBe("2");
        expect(spec.uploaders).toEqual(["192.0.2.0/24", "198.51.100.7"]);
    });

    const rows: Array<[string, (c: RawConfig, f: ConfigFacts) => void, string[]]> = [
        ["secret missing", (_c, f) => { f.presentKeys = f.presentKeys.filter((k) => k !== "secureLinkSecret"); },
            ["pairstore:secureLinkSecret is missing", "pulumi config set --secret pairstore:secureLinkSecret"]],
        ["secret in plain text", (_c, f) => { f.secretKeys = ["sshPrivateKey"]; },
            ["pairstore:secureLinkSecret is stored in plain text", "--secret"]],
        ["unknown version without checksum", (c) => { c.nginx = { version: "1.25.3" }; },
            ["pairstore:nginx.sha256 is missing for nginx 1.25.3", "sha256sum nginx-1.25.3.tar.gz"]],
        ["bad checksum", (c) => { c.nginx = { sha256: "abc" }; }, ["pairstore:nginx.sha256 must be 64 hex digits"]],
        ["flag owned by pairstore", (c) => { c.nginx = { configureFlags: ["--with-http_dav_module", "--with-http_secure_link_module", "--with-http_auth_request_module", "--prefix=/opt"] }; },
            ["pairstore:nginx.configureFlags[3] --prefix=/opt is set by pairstore", "remove it"]],
        ["auth_request left out", (c) => { c.nginx = { configureFlags: ["--with-http_dav_module", "--with-http_secure_link_module"] }; },
            ["pairstore:nginx.configureFlags lacks --with-http_auth_request_module", "tombstone", "add it"]],
        ["dav left out", (c) => { c.nginx = { configureFlags: ["--with-http_secure_link_module", "--with-http_auth_request_module"] }; },
            ["pairstore:nginx.configureFlags lacks --with-http_dav_module", "add it"]],
        ["proxy removed", (c) => { c.nginx = { configureFlags: ["--with-http_dav_module", "--with-http_secure_link_module", "--with-http_auth_request_module", "--without-http_proxy_module"] }; },
            ["pairstore:nginx.configureFlags has --without-http_proxy_module", "fetched from the peer", "remove it"]],
        ["not a flag", (c) => { c.nginx = { configureFlags: ["--with-http_dav_module", "--with-http_secure_link_module", "--with-http_auth_request_module", "rm -rf /"] }; },
            ["pairstore:nginx.configureFlags[3] \"rm -rf /\" is not a ./configure flag"]],
        ["too many connections for nofile", (c) => { c.nofile = 4096; c.nginx = { workerConnections: 4096 }; },
            ["pairstore:nginx.workerConnections 4096 needs up to 8192 open files", "lower it to 2048 or raise pairstore:nofile"]],
        ["worker processes", (c) => { c.nginx = { workerProcesses: "many" }; }, ["pairstore:nginx.workerProcesses \"many\" must be auto"]],
        ["missing source file", (c, f) => { c.nginx = { sourceFile: "/nowhere/nginx.tar.gz" }; f.fileExists = () => false; },
            ["pairstore:nginx.sourceFile /nowhere/nginx.tar.gz does not exist", "remove the key"]],
        ["relative source file", (c) => { c.nginx = { sourceFile: "nginx.tar.gz" }; }, ["pairstore:nginx.sourceFile \"nginx.tar.gz\" must be an absolute path"]],
        ["unknown nginx field", (c) => { c.nginx = { workers: 2 }; }, ["pairstore:nginx.workers is not a known field"]],
        ["uploader not a network", (c) => { c.uploaders = ["10.0.0.0/33", "example.com"]; },
            ["pairstore:uploaders[0] \"10.0.0.0/33\" is not an IPv4 network", "pairstore:uploaders[1] \"example.com\""]],
        ["uploader with host bits", (c) => { c.uploaders = ["10.0.0.5/24"]; }, ["pairstore:uploaders[0] 10.0.0.5/24 has host bits set: write the network as 10.0.0.0/24"]],
        ["prefix", (c) => { c.secureLinkPrefix = "private"; }, ["pairstore:secureLinkPrefix \"private\" must be a path that starts and ends with \"/\""]],
    ];
    test.each(rows)("refuses %s, naming the key and the fix", (_what, mutate, fragments) => {
        const raw = baseConfig();
        const facts = baseFacts(raw);
        mutate(raw, facts);
        const problems = problemsOf(raw, facts);
        for (const f of fragments) expect(problems.some((p) => p.includes(f)), `${f}\nin:\n${problems.join("\n")}`).toBe(true);
    });
});

describe("nginx build role", () => {
    test("pairstore's path flags first, then the operator's module flags", () => {
        const flags = nginxConfigureFlags(specOf());
        expect(flags).toContain("--pid-path=/run/nginx.pid");
        expect(flags).toContain("--sbin-path=/usr/local/sbin/nginx");
        expect(flags.indexOf("--with-http_dav_module")).toBeGreaterThan(flags.indexOf("--group=www-data"));
    });

    test("the build id changes with version, checksum and flags, and with nothing else", () => {
        const base = nginxBuildId(specOf());
        expect(nginxBuildId(specOf((c) => { c.nginx = { workerConnections: 1024 }; c.publicPort = 8080; }))).toBe(base);
        expect(nginxBuildId(specOf((c) => { c.nginx = { sha256: "b".repeat(64) }; }))).not.toBe(base);
        expect(nginxBuildId(specOf((c) => { c.nginx = { version: "1.24.0", sha256: "b".repeat(64) }; }))).not.toBe(base);
        expect(nginxBuildId(specOf((c) => { c.nginx = { configureFlags: ["--with-http_dav_module", "--with-http_secure_link_module", "--with-http_auth_request_module"] }; }))).not.toBe(base);
    });

    test("downloads on the host by default; a sourceFile is pushed with CopyToRemote first", () => {
        const node = specOf().pairs[0].nodes[0];
        const plain = nginxBuildRole(specOf(), node);
        expect(plain.map((s) => s.name)).toEqual(["nginx-build"]);
        expect(plain[0].script).toMatch(/^UPLOADED=''$/m);
        expect(plain[0].script).toContain("URL=https://nginx.org/download/nginx-1.22.1.tar.gz");
        const pushed = nginxBuildRole(specOf((c) => { c.nginx = { sourceFile: "/tmp/nginx.tgz" }; }), node);
        expect(pushed.map((s) => s.name)).toEqual(["nginx-source", "nginx-build"]);
        const remotePath = pushed[0].copy!.remotePath;
        expect(remotePath).toMatch(/^\/var\/tmp\/pairstore\/nginx-1\.22\.1-[0-9a-f]{8}\.tar\.gz$/);
        expect(pushed[0].copy).toEqual({ localPath: "/tmp/nginx.tgz", remotePath, sha256: specOf().nginx.sha256 });
        expect(pushed[1].script).toContain(`UPLOADED=${remotePath}\n`);
    });

    test("the second node installs the first node's build: the donor's URL, and its sha256 on the first line of stdin", async () => {
        const spec = specOf();
        const [a, b] = spec.pairs[0].nodes;
        const url = nginxBuildUrl(a, spec.domains[0].internalPort, nginxBuildId(spec));
        expect(url).toBe(`http://${a.internalAddress}:8081/.pairstore/nginx-build/${nginxBuildId(spec)}`);
        const own = nginxBuildRole(spec, a).find((s) => s.name === "nginx-build")!;
        expect(own.script).toMatch(/^DONOR_URL=''$/m);
        expect(own.stdin).toBe(`\n${own.stdin!.toString().slice(1)}`);
        const sha = "c".repeat(64);
        const fetched = nginxBuildRole(spec, b, { name: a.name, url, sha256: sha }).find((s) => s.name === "nginx-build")!;
        expect(fetched.script).toContain(`DONOR_URL=${url}\n`);
        expect(fetched.script).toContain(`DONOR=${a.name}\n`);
        const stdin = await new Promise<string>((resolve) => pulumi.output(fetched.stdin!).apply(resolve));
        expect(stdin.split("\n")[0]).toBe(sha);
        expect(stdin.slice(sha.length + 1)).toBe(own.stdin!.toString().slice(1));
        // the revision does not wait for the donor's output
        expect(fetched.stdinDigest).toMatch(/^[0-9a-f]+$/);
    });

    test("the sha256 a build step printed is read from its output, and nothing else", () => {
        const sha = "0123456789abcdef".repeat(4);
        expect(nginxBuildSha(`nginx 1.22.1: build x is installed\nnginx-build-sha256: ${sha}\nok\n`)).toBe(sha);
        expect(nginxBuildSha("would: build nginx 1.22.1\nchanged\n")).toBe("");
        expect(nginxBuildSha(`nginx-build-sha256: ${sha.slice(1)}\n`)).toBe("");
        expect(nginxBuildSha(undefined)).toBe("");
    });

    test("a donor's build is kept only when its sha256 is the one the donor printed; else the node compiles", async () => {
        const body = Buffer.from("#!/bin/sh\necho a build\n");
        const good = createHash("sha256").update(body).digest("hex");
        const server = createServer((req, res) => {
            if (req.url === "/build") { res.end(body); return; }
            res.statusCode = 404; res.end();
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as AddressInfo).port;
        const script = nginxBuildRole(specOf(), specOf().pairs[0].nodes[1], { name: "node-1a", url: "", sha256: "" })
            .find((s) => s.name === "nginx-build")!.script;
        const fn = /^sum_of\(\).*?^}\n/ms.exec(script.slice(script.indexOf("sum_of()")))![0];
        const run = (url: string, sha: string) => new Promise<{ code: number; out: string }>((resolve) => {
            const sh = `set -euo pipefail; _tmp=$(mktemp -d); warn() { echo "warning: $*"; }; DONOR=node-1a; DONOR_URL='${url}'; DONOR_SHA='${sha}'\n${fn}\n` +
                `rc=0; fetch_donor_build "$_tmp/nginx" || rc=$?; [ "$rc" != 0 ] || cmp -s "$_tmp/nginx" <(printf '#!/bin/sh\\necho a build\\n') || echo DIFFERENT; { ls -l "$_tmp/nginx" 2>/dev/null | cut -c1-10; } || true; rm -rf "$_tmp"; exit $rc`;
            const child = spawn("bash", ["-c", sh]);
            let out = "";
            child.stdout.on("data", (d) => { out += d; });
            child.stderr.on("data", (d) => { out += d; });
            child.on("close", (code) => resolve({ code: code ?? -1, out }));
        });
        try {
            const base = `http://127.0.0.1:${port}`;
            expect(await run(`${base}/build`, good)).toEqual({ code: 0, out: "-rwxr-xr-x\n" });
            const bad = await run(`${base}/build`, "d".repeat(64));
            expect(bad.code).toBe(1);
            expect(bad.out).toContain(`warning: node-1a's build fetched from ${base}/build has sha256 ${good}, not ${"d".repeat(64)}: compiling here`);
            const missing = await run(`${base}/other`, good);
            expect(missing.code).toBe(1);
            expect(missing.out).toMatch(/warning: cannot fetch node-1a's build \(.*404.*\): compiling here/);
            const unknown = await run(`${base}/build`, "");
            expect(unknown).toEqual({ code: 1, out: "warning: node-1a printed no sha256 for its build: compiling here\n" });
        } finally {
            server.close();
        }
    });

    test("a reinstalled node (a new host key, or a raised generation) gets the tarball pushed again", () => {
        const sourced = specOf((c) => { c.nginx = { sourceFile: "/tmp/nginx.tgz" }; });
        const node = sourced.pairs[0].nodes[0];
        const pathOf = (n: typeof node) => nginxBuildRole(sourced, n)[0].copy!.remotePath;
        expect(pathOf({ ...node })).toBe(pathOf(node));
        expect(pathOf({ ...node, generation: 1 })).not.toBe(pathOf(node));
        expect(pathOf({ ...node, ssh: { ...node.ssh, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReinstalled" } })).not.toBe(pathOf(node));
    });
});

describe("nginx sites role", () => {
    const spec = specOf((c) => { c.uploaders = ["192.0.2.0/24"]; c.nofile = 16384; });
    const [a, b] = spec.pairs[0].nodes;
    const site = renderSite(spec, spec.domains[0], a, b, a.name);

    test("the public site serves the domain's directory and falls back to the peer's internal port for storage paths only", () => {
        expect(site).toContain("server_name *.image.example.com;");
        expect(site).toContain("root /srv/images/example.com/image;");
        expect(site).toContain("expires max;");
        expect(site).toContain("add_header Cache-Control public;");
        expect(site).toContain(`proxy_pass http://${b.internalAddress}:8081;`);
        // nothing fetched from the peer is stored here: replication brings files, so a delete cannot be undone by a read
        expect(site).not.toContain("proxy_store");
        expect(site).toContain('if ($uri !~ "^(?:/private)?/[0-9a-f]/[0-9a-f]/[0-9a-f]/[A-Za-z0-9_][A-Za-z0-9._~@+=,-]*$") {');
        expect(site).toContain("if (-e /srv/images/example.com/image/.pairstore/tombstones$uri) {");
        expect(site).toContain("access_log /var/log/nginx/image.example.com/access.log;");
        expect(site).toContain("location /private/ {");
        expect(site).not.toContain("{{");
        // dot-paths (pairstore's folder and marker, hidden files) are never served
        const pub = site.slice(site.indexOf("# Public:"), site.indexOf("# Internal:"));
        expect(pub).toMatch(/location ~ "\/\\\." \{\n\s+return 404;/);
    });

    test("the internal site allows the peer and uploaders only, is write-once and has a health endpoint", () => {
        const internal = site.slice(site.indexOf("# Internal:"));
        expect(internal).toContain("listen 8081;");
        expect(internal).toContain(`allow ${b.internalAddress};`);
        expect(internal).toContain("allow 192.0.2.0/24;");
        expect(internal).toMatch(/allow 192\.0\.2\.0\/24;\n\s+deny all;/);
        // the node's nginx build: for its peer only, read-only
        expect(internal).toContain(`location ^~ /.pairstore/nginx-build/ {\n        allow ${b.internalAddress};\n        deny all;\n`);
        expect(internal).toMatch(/limit_except GET \{ deny all; \}\n\s+default_type application\/octet-stream;\n\s+alias \/var\/lib\/pairstore-nginx\/builds\/;/);
        expect(internal).toContain("dav_methods DELETE MOVE;");
        expect(internal).toContain("dav_methods PUT;");
        expect(internal).toContain("create_full_put_path on;");
        expect(internal).toContain("return 409 \"pairstore: $uri exists: files are write-once\\n\";");
        expect(internal).toContain("if ($http_overwrite !~* ^F$) {");
        expect(internal).toContain("location = /.pairstore/health {");
        // temporary files on the files' own file system
        expect(internal).toContain("client_body_temp_path /srv/images/example.com/image/.pairstore/tmp/body;");
        // the internal port forwards only DELETE/MOVE to the peer and PUTs and MOVEs to the upload owner, never a read;
        // the other two write tombstones on this node
        expect(internal.match(/proxy_pass /g)).toHaveLength(5);
        expect(internal.match(/proxy_pass http:\/\/127\.0\.0\.1:8081;/g)).toHaveLength(2);
        // a DELETE or MOVE records its tombstone first, through a location only this node reaches
        expect(internal).toContain("auth_request /.pairstore/tombstone;");
        expect(internal).toMatch(/location \^~ \/\.pairstore\/tombstones\/ \{\n\s+allow 127\.0\.0\.1;\n\s+deny all;\n\s+alias \/srv\/images\/example\.com\/image\/\.pairstore\/tombstones\/;/);
        expect(internal).toContain(`proxy_pass http://${b.internalAddress}:8081$request_uri;`);
        expect(internal).toContain("proxy_pass http://pairstore_upload_example_com/.pairstore/store$pairstore_path;");
    });

    test("uploads are decided by the pair's first node (its store first, the second node's as backup), on both nodes", () => {
        const onA = renderSite(spec, spec.domains[0], a, b, a.name);
        const onB = renderSite(spec, spec.domains[0], b, a, a.name);
        for (const text of [onA, onB]) {
            expect(text).toContain(`upstream pairstore_upload_example_com {\n    server ${a.internalAddress}:8081 max_fails=0;\n    server ${b.internalAddress}:8081 backup;\n}`);
            expect(text).toContain("proxy_next_upstream error timeout http_503;");
            expect(text).toContain(`Upload owner of the pair: ${a.name}.`);
        }
        // the owner's store decides only once it is ready (refilled since boot); the second node's store always takes what reaches it
        expect(onA).toContain("if (!-e /run/pairstore/ready/example.com) {");
        expect(onB).not.toContain("/run/pairstore/ready/");
        // a MOVE goes to the same upstream (it creates a name too), marked as sent to the deciding node, which
        // does it only while ready; the mark counts only from the pair's nodes (so no uploader can skip the owner)
        for (const [text, self] of [[onA, a], [onB, b]] as const) {
            const move = text.slice(text.indexOf("location = /.pairstore/move {"));
            expect(move).toMatch(/^location = \/\.pairstore\/move \{\n\s+internal;\n\s+proxy_pass http:\/\/pairstore_upload_example_com\$request_uri;/);
            expect(move).toContain(`proxy_set_header X-Pairstore-Decide ${self.name};\n        # (a client's peer mark, relayed from this node, would count there)\n        proxy_set_header X-Pairstore-Peer "";`);
            const peerOf = self === a ? b : a;
            expect(text).toContain(`if ($pairstore_decide_from ~ "^.+@(?:127\\.0\\.0\\.1|${self.internalAddress.replace(/\./g, "\\.")}|${peerOf.internalAddress.replace(/\./g, "\\.")})$") {`);
            // the peer's mark (a DELETE or MOVE it mirrored here) counts only from the peer's address, and nothing reads the raw header else
            expect(text).toContain(`if ($pairstore_peer_from ~ "^.+@${peerOf.internalAddress.replace(/\./g, "\\.")}$") {\n            set $pairstore_peer P;`);
            expect(text.match(/http_x_pairstore_peer/g)).toHaveLength(1);
        }
        expect(onA).toContain('if ($pairstore_move_at = "M:DN") {');
        expect(onB).toContain('if ($pairstore_move_at = "M:D") {\n            set $pairstore_decided_by node-1b;');
        expect(onB).not.toContain('"M:DN"');
        // the store answers only this node and its peer
        const store = onB.slice(onB.indexOf("location ^~ /.pairstore/store/ {"));
        expect(store).toMatch(/^location \^~ \/\.pairstore\/store\/ \{\n\s+allow 10\.78\.0\.12;\n\s+allow 10\.78\.0\.11;\n\s+deny all;/);
        expect(() => renderSite(spec, spec.domains[0], a, b, "node-9z")).toThrow(/upload owner node-9z is neither node-1a nor node-1b/);
    });

    test("DELETE and MOVE take files only; PUT and MOVE go to storage paths only", () => {
        expect(storedUriPattern("/private/")).toBe("^(?:/private)?/[0-9a-f]/[0-9a-f]/[0-9a-f]/[A-Za-z0-9_][A-Za-z0-9._~@+=,-]*$");
        expect(layoutFolderPattern("/private/")).toBe("^(?:/private)?(?:/[0-9a-f]){0,3}/?$");
        expect(storedDestinationPattern("/a.b/")).toBe("^(?:https?://[^/]+)?(?:/a\\.b)?/[0-9a-f]/[0-9a-f]/[0-9a-f]/[A-Za-z0-9_][A-Za-z0-9._~@+=,-]*$");
        const stored = new RegExp(storedUriPattern("/private/"));
        for (const ok of ["/7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg", "/private/0/0/f/x.png", "/a/b/c/file_name-1.tar.gz"]) expect(stored.test(ok), ok).toBe(true);
        for (const bad of ["/7/2/a/.hidden.jpg", "/7/2/x.jpg", "/7/2/a/b/c.jpg", "/e2e/x/y/z.jpg", "/7/2/A/x.jpg", "/7/2/a/", "/.pairstore-replica", "/7/2/a/x y.jpg", "/private/.pairstore/x"]) {
            expect(stored.test(bad), bad).toBe(false);
        }
        const folder = new RegExp(layoutFolderPattern("/private/"));
        for (const f of ["/", "/7", "/7/", "/7/2", "/7/2/a", "/7/2/a/", "/private", "/private/", "/private/7/2/a/"]) expect(folder.test(f), f).toBe(true);
        for (const f of ["/7/2/a/x.jpg", "/77/", "/7/2/a/b/", "/g/"]) expect(folder.test(f), f).toBe(false);
        const dest = new RegExp(storedDestinationPattern("/private/"));
        expect(dest.test("http://10.0.0.1:8081/7/2/a/x.jpg")).toBe(true);
        expect(dest.test("/7/2/a/x.jpg")).toBe(true);
        expect(dest.test("http://h/elsewhere/x.jpg")).toBe(false);
        const internal = site.slice(site.indexOf("# Internal:"));
        expect(internal).toContain(`if ($uri ~ "${layoutFolderPattern("/private/")}") {`);
        expect(internal).toContain("if (-d $request_filename) {");
        expect(internal).toContain('return 403 "pairstore: $request_method $uri refused: only files are deleted or moved, never the root or a folder\\n";');
        expect(internal).toContain(`if ($http_destination ~ "${storedDestinationPattern("/private/")}") {`);
    });

    test("the build applies pairstore's dav patch (on stdin, part of the build id)", () => {
        const build = nginxBuildRole(specOf(), specOf().pairs[0].nodes[0]).find((s) => s.name === "nginx-build")!;
        expect(build.stdin).toContain("+++ b/src/http/modules/ngx_http_dav_module.c");
        expect(build.stdin).toContain("link((char *) src->data, (char *) to->data)");
        expect(build.script).toContain("patch -p1 --forward --batch");
    });

    test("main config: workers, connections and the open-file limit; the unit has the same limit and checks first", () => {
        const conf = renderNginxConf(spec);
        expect(conf).toMatch(/^worker_processes auto;$/m);
        expect(conf).toMatch(/^worker_rlimit_nofile 16384;$/m);
        expect(conf).toMatch(/^pid \/run\/nginx\.pid;$/m);
        expect(conf).toMatch(/^\s+worker_connections 4096;$/m);
        const steps = nginxSitesRole(spec, a, b, { secureLinkSecret: SECRET }, a.name);
        const unit = steps.find((s) => s.name === "nginx-unit")!.stdin as string;
        expect(unit).toMatch(/^LimitNOFILE=16384$/m);
        expect(unit).toMatch(/^ExecStartPre=\/usr\/local\/sbin\/nginx -t -q -c \/etc\/pairstore\/nginx\/live\/nginx\.conf$/m);
        expect(unit).toMatch(/^ExecReload=\/usr\/local\/sbin\/nginx -t -q -c /m);
        expect(unit).toMatch(/^PIDFile=\/run\/nginx\.pid$/m);
    });

    test("extraPublicConfig lands inside the public server block", () => {
        const s = specOf((c) => { c.nginx = { extraPublicConfig: "add_header X-Node a;" }; });
        const text = renderSite(s, s.domains[0], s.pairs[0].nodes[0], s.pairs[0].nodes[1], s.pairs[0].nodes[0].name);
        expect(text.indexOf("    add_header X-Node a;")).toBeLessThan(text.indexOf("# Internal:"));
    });

    test("the secret travels only as a secret stdin of a step that logs nothing", async () => {
        const all = steps(spec);
        const secret = all.find((s) => s.name === "nginx-secure-link-secret")!;
        expect(secret.secret).toBe(true);
        expect(pulumi.Output.isInstance(secret.stdin)).toBe(true);
        for (const s of all) {
            expect(s.script, s.name).not.toContain(SECRET);
            if (typeof s.stdin === "string") expect(s.stdin, s.name).not.toContain(SECRET);
        }
        expect(renderSecureLinkConf(SECRET)).toContain(`secure_link_md5 "\${secure_link_expires}\${uri}${SECRET}";`);
        expect(() => renderSecureLinkConf("short")).toThrow(/pairstore:secureLinkSecret is 5 characters long/);
        expect(() => renderSecureLinkConf("a-long-secret-with-$dollar")).toThrow(/which nginx would read as syntax/);
        try {
            renderSecureLinkConf("a-long-secret-with-$dollar");
        } catch (e) {
            expect((e as Error).message).not.toContain("dollar");
        }
    });

    test("the activation re-runs when any configuration file changes", () => {
        const act = (s: ClusterSpec) => steps(s).find((x) => x.name === "nginx-activate")!.script;
        const base = act(spec);
        expect(act(specOf((c) => { c.uploaders = ["192.0.2.0/24"]; c.nofile = 16384; }))).toBe(base);
        expect(act(specOf((c) => { c.uploaders = ["192.0.2.0/25"]; c.nofile = 16384; }))).not.toBe(base);
        expect(act(specOf((c) => { c.uploaders = ["192.0.2.0/24"]; c.nofile = 16384; c.nginx = { workerConnections: 1024 }; }))).not.toBe(base);
    });

    test("the step scripts are valid bash", () => {
        for (const s of steps(spec)) {
            const r = spawnSync("bash", ["-n"], { input: s.script, encoding: "utf8" });
            expect(r.status, `${s.name}: ${r.stderr}`).toBe(0);
        }
    });
});

describe("secure_link signing", () => {
    test("token = base64url(md5(expires + path + secret)), as nginx computes it", () => {
        const md5 = createHash("md5").update(`1700000000/private/a/b.jpg${SECRET}`).digest("base64")
            .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
        expect(secureLinkToken("/private/a/b.jpg", SECRET, 1700000000)).toBe(md5);
        expect(signPath("/private/a/b.jpg", SECRET, 1700000000)).toBe(`/private/a/b.jpg?md5=${md5}&expires=1700000000`);
        expect(signPath("/private/a/b.jpg", SECRET, new Date(1700000000_500))).toBe(`/private/a/b.jpg?md5=${md5}&expires=1700000000`);
    });

    test("encodes the link but signs the decoded path", () => {
        const link = signPath("/private/a b.jpg", SECRET, 1700000000);
        expect(link.startsWith("/private/a%20b.jpg?md5=")).toBe(true);
        expect(link).toContain(`md5=${secureLinkToken("/private/a b.jpg", SECRET, 1700000000)}`);
    });

    test("refuses a relative path, an empty secret and a bad expiry; judges secrets without repeating them", () => {
        expect(() => signPath("private/x", SECRET, 1)).toThrow(/must start with "\/"/);
        expect(() => signPath("/x", "", 1)).toThrow(/secret is empty/);
        expect(() => signPath("/x", SECRET, Number.NaN)).toThrow(/unix time/);
        expect(secureLinkSecretProblem(SECRET)).toBeUndefined();
        expect(secureLinkSecretProblem("has space in the secret")).toMatch(/spaces/);
        expect(secureLinkSecretProblem('quote"quote-quote-quote')).toMatch(/syntax/);
    });
});

describe("per-client limits on the public port (nginx.clientLimits)", () => {
    test("limit_conn and limit_req are compiled in; the config check refuses removing them", () => {
        const { nginx } = specOf();
        expect(nginx.configureFlags).not.toContain("--without-http_limit_conn_module");
        expect(nginx.configureFlags).not.toContain("--without-http_limit_req_module");
        for (const flag of ["--without-http_limit_conn_module", "--without-http_limit_req_module"]) {
            const problems = problemsOf((() => { const c = baseConfig(); c.nginx = { configureFlags: [...DEFAULTS.nginx.configureFlags, flag] }; return c; })());
            expect(problems.join("\n")).toContain(`pairstore:nginx.configureFlags has ${flag}, but the public port limits each client`);
            expect(problems.join("\n")).toContain("remove it");
        }
    });

    test("defaults are sized from worker_connections, and follow it", () => {
        expect(specOf().nginx.clientLimits).toEqual({ connections: 1024, requests: 512, rate: 32768, headerTimeout: 10 });
        expect(clientLimitDefaults(1000)).toEqual({ connections: 250, requests: 125, rate: 8000, headerTimeout: 10 });
        expect(specOf((c) => { c.nginx = { workerConnections: 2048 }; }).nginx.clientLimits).toEqual({ connections: 512, requests: 256, rate: 16384, headerTimeout: 10 });
        expect(specOf((c) => { c.nginx = { clientLimits: { connections: 0, rate: 100 } }; }).nginx.clientLimits)
            .toEqual({ connections: 0, requests: 512, rate: 100, headerTimeout: 10 });
    });

    test.each<[string, (c: RawConfig) => void, string[]]>([
        ["more connections than half a worker", (c) => { c.nginx = { clientLimits: { connections: 3000 } }; },
            ["pairstore:nginx.clientLimits.connections 3000 must be between 1 and 2048 (half of pairstore:nginx.workerConnections 4096", "or 0 to turn the limit off; the default is 1024"]],
        ["negative requests", (c) => { c.nginx = { clientLimits: { requests: -1 } }; }, ["pairstore:nginx.clientLimits.requests -1 must be between 1 and 2048"]],
        ["a rate that is not a number", (c) => { c.nginx = { clientLimits: { rate: "fast" } }; }, ["pairstore:nginx.clientLimits.rate must be a whole number"]],
        ["a header timeout of 0", (c) => { c.nginx = { clientLimits: { headerTimeout: 0 } }; }, ["pairstore:nginx.clientLimits.headerTimeout 0 must be between 1 and 300 seconds"]],
        ["an unknown field", (c) => { c.nginx = { clientLimits: { perIp: 5 } }; }, ["pairstore:nginx.clientLimits.perIp is not a known field"]],
    ])("refuses %s, naming the key and the fix", (_what, change, expected) => {
        const problems = problemsOf((() => { const c = baseConfig(); change(c); return c; })());
        for (const e of expected) expect(problems.join("\n")).toContain(e);
    });

    test("nginx: zones in http, the limits in every public server (never the internal ports), a short header timeout", () => {
        const spec = specOf();
        const [a, b] = spec.pairs[0].nodes;
        const conf = renderNginxConf(spec);
        expect(conf).toMatch(/^\s+limit_conn_zone \$binary_remote_addr zone=pairstore_clients:10m;$/m);
        expect(conf).toMatch(/^\s+limit_req_zone \$binary_remote_addr zone=pairstore_rate:10m rate=32768r\/s;$/m);
        expect(conf).toMatch(/^\s+client_header_timeout 10s;$/m);
        // the catch-all public server includes the limits too
        expect(conf).toMatch(/default_server;\n\s+server_name _;\n\s+access_log off;\n\s+include client-limits\.conf;/);
        const limits = renderClientLimitsConf(spec);
        expect(limits).toMatch(/^limit_conn pairstore_clients 512;$/m);
        expect(limits).toMatch(/^limit_req zone=pairstore_rate burst=32768 nodelay;$/m);
        expect(limits).toMatch(/^limit_conn_status 429;$/m);
        const site = renderSite(spec, spec.domains[0], a, b, a.name);
        const [pub, internal] = site.split("# Internal:");
        expect(pub).toContain("include client-limits.conf;");
        expect(internal).not.toContain("client-limits");
        // 0 turns a limit off: its zone and its directive are commented out together
        const off = specOf((c) => { c.nginx = { clientLimits: { requests: 0, rate: 0 } }; });
        expect(renderNginxConf(off)).toMatch(/^\s+# off: limit_conn_zone /m);
        expect(renderNginxConf(off)).toMatch(/^\s+# off: limit_req_zone /m);
        expect(renderClientLimitsConf(off)).toMatch(/^# off: limit_conn pairstore_clients 0;$/m);
        expect(renderClientLimitsConf(off)).toMatch(/^# off: limit_req zone=pairstore_rate burst=0 nodelay;$/m);
    });

    test("the kernel limit: one nftables table of pairstore's, loaded by a unit after nftables.service; none when off", () => {
        const spec = specOf();
        const nft = renderClientLimitsNft(spec);
        expect(nft).toMatch(/^table inet pairstore_clients\ndelete table inet pairstore_clients\ntable inet pairstore_clients \{$/m);
        expect(nft).toMatch(/^\s+tcp dport 80 ct state new add @public_clients \{ ip saddr ct count over 1024 \} counter reject with tcp reset$/m);
        expect(nft).not.toContain("flush ruleset");
        const all = steps(spec);
        const rules = all.find((s) => s.name === "client-limits-rules")!;
        expect(rules.script).toContain("nft -c -f {}");
        const unit = all.find((s) => s.name === "client-limits-unit")!.stdin as string;
        expect(unit).toMatch(/^After=nftables\.service /m);
        expect(unit).toMatch(/^Before=pairstore-nginx\.service$/m);
        expect(unit).toMatch(/^ExecStart=\/usr\/sbin\/nft -f \/etc\/pairstore\/client-limits\.nft$/m);
        // the node's health gate waits for it
        expect(all.find((s) => s.name === "health")!.script).toContain("pairstore-client-limits.service");
        expect(steps(specOf((c) => { c.nginx = { clientLimits: { connections: 0 } }; })).map((s) => s.name)).not.toContain("client-limits");
    });

    test("nginx and the client limits are Debian packages of every node", () => {
        expect(nodePackages({ extraPackages: [] })).toEqual(expect.arrayContaining(["nftables", "iputils-arping"]));
    });
});
