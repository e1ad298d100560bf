// Benchmark: requests/s of pairstore's nginx (built from source, public site)
// against Debian's stock nginx on the same lab host, for the same 20 KB file
// on the same disk, with the same wrk command (connections, threads,
// duration), in interleaved bounded runs. Needs root (the lab).
//
//   npx tsx test/bench/serve.ts [--host node-1a] [--rounds 3] [--duration 5] [--connections 64] [--threads 2]
//   npm run bench:serve
//
// Debian's nginx runs from its own binary (/usr/sbin/nginx) in a transient
// unit on STOCK_PORT with a config as close as possible to pairstore's public
// site (same worker count and connections, sendfile, tcp_nopush, keepalive,
// expires max, an access log on tmpfs); its package is installed with
// invoke-rc.d blocked and its own nginx.service masked, so it never competes
// for pairstore's ports. The .deb files come from the lab's package cache:
// a host created on an older base gets them pushed from the current base.
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import { applyLab, labHostsUp } from "../lab/lab";
import { LAB_DIR, sshRun } from "../lab/hosts";
import { labHosts } from "../lab/topology";
import { arg, boundedArg } from "./args";

const STOCK_PORT = 8090;
const STOCK_UNIT = "pairstore-bench-stock-nginx";
const FILE = "/bench/20k.bin";
const DOMAIN = "example.com";
const INTERNAL_PORT = 8081;

const hostName = arg("host", "node-1a");
const rounds = boundedArg("rounds", 3, 1, 10);
const duration = boundedArg("duration", 5, 1, 30);
const connections = boundedArg("connections", 64, 1, 1000);
const threads = boundedArg("threads", 2, 1, 8);

const host = labHosts().find((h) => h.name === hostName);
if (!host) throw new Error(`no lab host ${hostName}`);

async function on(command: string, stdin?: string): Promise<string> {
    const r = await sshRun(host!, command, stdin, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`${hostName}: \`${command.split("\n")[0]}\` exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout.trim();
}

function local(cmd: string, args: string[], timeoutMs = 120_000): string {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: timeoutMs });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${(r.stderr || r.stdout || String(r.error)).trim()}`);
    return r.stdout;
}

/** wrk on the controller (Debian package). */
function ensureWrk() {
    if (spawnSync("wrk", ["--version"]).error === undefined) return;
    console.log("bench: installing wrk (Debian package) on this machine");
    local("apt-get", ["install", "-y", "-q", "--no-install-recommends", "wrk"], 300_000);
}

/** Debian's nginx on the host, installed from the lab's package cache, never started by its package. */
async function ensureStockNginx() {
    if ((await on("test -x /usr/sbin/nginx && echo yes || echo no")) === "yes") return;
    const debs = ["nginx", "nginx-common"];
    const cached = await on("ls /var/cache/apt/archives/ 2>/dev/null || true");
    for (const pkg of debs) {
        if (new RegExp(`^${pkg}_.*\\.deb$`, "m").test(cached)) continue;
        // A host keeps the base it was created on: push the .deb from the current base's cache.
        const dir = path.join(LAB_DIR, "base", "var/cache/apt/archives");
        const deb = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith(".deb")) : undefined;
        if (!deb) throw new Error(`${pkg}_*.deb is neither in ${hostName}'s package cache nor in ${dir}: run \`npm run lab\` (it caches nginx in the base image)`);
        console.log(`bench: pushing ${deb} from the lab's base cache to ${hostName}`);
        const r = spawnSync("ssh", ["-i", path.join(LAB_DIR, "key/id_ed25519"), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", `root@${host!.mgmtIp}`, `cat > /var/cache/apt/archives/${deb}`],
        { input: readFileSync(path.join(dir, deb)), timeout: 60_000 });
        if (r.status !== 0) throw new Error(`cannot push ${deb}: ${r.stderr}`);
    }
    console.log(`bench: installing Debian's nginx on ${hostName} (offline, its service masked)`);
    await on([
        "set -e",
        "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d",
        "trap 'rm -f /usr/sbin/policy-rc.d' EXIT",
        "systemctl mask -q nginx.service",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confold " +
        "$(ls /var/cache/apt/archives/nginx_*.deb /var/cache/apt/archives/nginx-common_*.deb) >/dev/null",
    ].join("\n"));
}

/** Debian's nginx with a config like pairstore's public site, on STOCK_PORT, same files. */
async function startStock(workerProcesses: string, workerConnections: number, nofile: number) {
    const conf = [
        "# pairstore bench: Debian's stock nginx, configured like pairstore's public site",
        "user www-data;",
        `worker_processes ${workerProcesses};`,
        `worker_rlimit_nofile ${nofile};`,
        "pid /run/pairstore-bench-stock-nginx.pid;",
        "error_log /dev/shm/pairstore-bench-stock-error.log warn;",
        `events { worker_connections ${workerConnections}; }`,
        "http {",
        "    include /etc/nginx/mime.types;",
        "    default_type application/octet-stream;",
        "    sendfile on; tcp_nopush on; keepalive_timeout 65; server_tokens off;",
        "    access_log /dev/shm/pairstore-bench-stock-access.log;",
        "    server {",
        `        listen ${STOCK_PORT};`,
        `        root /srv/images/${DOMAIN}/image;`,
        "        expires max;",
        "        add_header Cache-Control public;",
        "        location / { try_files $uri =404; }",
        "    }",
        "}",
        "",
    ].join("\n");
    await on("mkdir -p /etc/pairstore-bench && cat > /etc/pairstore-bench/nginx.conf && /usr/sbin/nginx -t -q -c /etc/pairstore-bench/nginx.conf", conf);
    await on(`systemctl stop ${STOCK_UNIT} 2>/dev/null; systemctl reset-failed ${STOCK_UNIT} 2>/dev/null; ` +
        `systemd-run -q --unit=${STOCK_UNIT} -p LimitNOFILE=${nofile} /usr/sbin/nginx -c /etc/pairstore-bench/nginx.conf -g 'daemon off;'`);
    for (let i = 0; i < 50; i++) {
        const code = await on(`curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${STOCK_PORT}${FILE} || true`);
        if (code === "200") return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Debian's nginx on ${hostName}:${STOCK_PORT} does not serve ${FILE}`);
}

function wrkArgs(url: string, hostHeader?: string): string[] {
    return ["-t", String(threads), "-c", String(connections), "-d", `${duration}s`, ...(hostHeader ? ["-H", `Host: ${hostHeader}`] : []), url];
}

function runWrk(args: string[]): number {
    const out = local("wrk", args, (duration + 30) * 1000);
    const m = /Requests\/sec:\s+([0-9.]+)/.exec(out);
    if (!m) throw new Error(`wrk printed no Requests/sec:\n${out}`);
    if (/Non-2xx or 3xx responses/.test(out)) throw new Error(`wrk saw error responses:\n${out}`);
    return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
    process.env.PAIRSTORE_LAB_QUIET = "1";
    ensureWrk();
    await labHostsUp();
    const applied = await applyLab();
    if (!applied.ok) throw new Error(`lab apply failed: ${applied.failed.map((f) => `${f.name}: ${f.message}`).join("; ")}`);
    const settings = JSON.parse(readFileSync(path.join(LAB_DIR, "stack-lab.json"), "utf8")).config as Record<string, string>;
    const nginx = JSON.parse(settings["pairstore:nginx"] ?? "{}");
    const nofile = Number(settings["pairstore:nofile"] ?? 16384);
    await ensureStockNginx();

    // The same 20 KB file for both: uploaded once through pairstore's internal port (write-once: 409 when it is there).
    const put = spawnSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "--data-binary", "@-",
        `http://${host!.mgmtIp}:${INTERNAL_PORT}${FILE}`], { input: randomBytes(20 * 1024), encoding: "utf8" });
    if (!["201", "409"].includes(put.stdout)) throw new Error(`PUT ${FILE} answered ${put.stdout}`);

    await startStock(nginx.workerProcesses ?? "auto", nginx.workerConnections ?? 4096, nofile);
    try {
        const targets = [
            { name: "pairstore nginx", args: wrkArgs(`http://${host!.mgmtIp}:80${FILE}`, `0.image.${DOMAIN}`) },
            { name: "Debian stock nginx", args: wrkArgs(`http://${host!.mgmtIp}:${STOCK_PORT}${FILE}`) },
        ];
        for (const t of targets) {
            const size = local("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                ...(t.args.includes("-H") ? ["-H", t.args[t.args.indexOf("-H") + 1]] : []), t.args[t.args.length - 1]]).trim();
            if (size !== "200 20480") throw new Error(`${t.name}: ${t.args[t.args.length - 1]} answered "${size}", expected 200 and 20480 bytes`);
            runWrk(["-t", "1", "-c", String(Math.min(8, connections)), "-d", "1s", ...t.args.slice(6)]); // warm-up
        }
        const results: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
        for (let round = 0; round < rounds; round++) {
            // interleaved, alternating which goes first
            const order = round % 2 === 0 ? targets : [...targets].reverse();
            for (const t of order) results[t.name].push(runWrk(t.args));
        }
        const ours = median(results[targets[0].name]);
        const stock = median(results[targets[1].name]);
        const cpus = local("nproc", []).trim();
        console.log(`bench:serve on ${hostName} (${cpus} CPUs shared by wrk and the lab), ${FILE} (20480 bytes), ${rounds} interleaved rounds of ${duration}s each`);
        for (const t of targets) {
            console.log(`  ${t.name.padEnd(20)} median ${median(results[t.name]).toFixed(0).padStart(7)} requests/s  ` +
                `(runs: ${results[t.name].map((x) => x.toFixed(0)).join(", ")})`);
            console.log(`    command: wrk ${t.args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(" ")}`);
        }
        console.log(`  ratio pairstore/stock: ${(ours / stock).toFixed(3)}`);
    } finally {
        await on(`systemctl stop ${STOCK_UNIT} 2>/dev/null || true`);
    }
}

main().catch((e: Error) => {
    console.error(`bench:serve: ${e.message}`);
    process.exit(1);
});
