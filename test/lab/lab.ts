// The lab as a library: bring the hosts up, apply the program to them, read
// outputs, tear down. The CLI (cli.ts) and the end-to-end tests share it.
import { execFileSync, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { DEFAULTS } from "../../components/config";
import * as path from "path";
import { runStack, type RunResult } from "../harness";
import {
    LAB_DIR, assertRootLinux, destroyAll, ensureBase, ensureLabKey, ensureOuterPackages, hostKey, startHost,
} from "./hosts";
import { ensureLabDns, labTsigSecret } from "./dns";
import { LAB_CACHE_PACKAGES, LAB_DNS, LAB_STACK, labConfig, labDnsHost, labHosts } from "./topology";

const ROOT = path.join(__dirname, "..", "..");
const STACK_FILE = path.join(LAB_DIR, `stack-${LAB_STACK}.json`);
const STATE_FILE = path.join(LAB_DIR, `state-${LAB_STACK}.json`);
const OUTPUTS_FILE = path.join(LAB_DIR, `outputs-${LAB_STACK}.json`);

/** Which engine applies the program. */
export function engine(): "pulumi" | "harness" {
    return spawnSync("pulumi", ["version"], { stdio: "ignore" }).status === 0 ? "pulumi" : "harness";
}

/** Creates (or restarts) the lab hosts and writes the lab stack config. */
export async function labHostsUp(): Promise<void> {
    assertRootLinux();
    await ensureOuterPackages();
    const key = await ensureLabKey();
    await ensureBase(LAB_CACHE_PACKAGES);
    const hosts = [...labHosts(), labDnsHost()];
    await Promise.all(hosts.map((h) => startHost(h)));
    const keys: Record<string, string> = {};
    for (const h of hosts) keys[h.name] = await hostKey(h.name);
    const tsigSecret = labTsigSecret();
    await ensureLabDns(labDnsHost(), tsigSecret);
    const stack = labConfig(keys, {
        privateKey: readFileSync(key.privateKeyPath, "utf8"),
        secureLinkSecret: labSecureLinkSecret(),
        heartbeatAuthKey: labHeartbeatAuthKey(),
        nginxSourceFile: ensureNginxSource(),
        tsigSecret,
    });
    writeFileSync(STACK_FILE, JSON.stringify(stack, null, 1), { mode: 0o600 });
}

/** The lab's secure_link secret (made once, kept in the lab dir with mode 0600). */
export function labSecureLinkSecret(): string {
    const file = path.join(LAB_DIR, "secure-link-secret");
    if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    return readFileSync(file, "utf8").trim();
}

/** The lab's heartbeat authkey (made once, kept in the lab dir with mode 0600). */
export function labHeartbeatAuthKey(): string {
    const file = path.join(LAB_DIR, "heartbeat-authkey");
    if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    return readFileSync(file, "utf8").trim();
}

const DEB_SRC_LIST = "/etc/apt/sources.list.d/pairstore-lab-src.sources";

/**
 * Debian's nginx_<version>.orig.tar.gz (byte-identical to the upstream
 * tarball) in the lab dir, checked against the pinned sha256: the hosts are
 * offline, so the lab pushes these bytes (pairstore:nginx.sourceFile).
 * Fetched once with `apt-get source --download-only nginx` from Debian's
 * mirror (a deb-src entry is added for it).
 */
export function ensureNginxSource(): string {
    const { version, sha256 } = DEFAULTS.nginx;
    const dir = path.join(LAB_DIR, "src");
    const file = path.join(dir, `nginx_${version}.orig.tar.gz`);
    const sumOf = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");
    if (existsSync(file) && sumOf(file) === sha256) return file;
    mkdirSync(dir, { recursive: true });
    if (!existsSync(DEB_SRC_LIST)) {
        writeFileSync(DEB_SRC_LIST, [
            "# pairstore lab: Debian sources, for `apt-get source --download-only nginx` (the nginx tarball the lab pushes)",
            "Types: deb-src",
            "URIs: http://deb.debian.org/debian",
            "Suites: bookworm",
            "Components: main",
            "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
            "",
        ].join("\n"));
    }
    const work = path.join(dir, `download-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work);
    const fetch = () => spawnSync("apt-get", ["source", "--download-only", "-q", "nginx"], { cwd: work, encoding: "utf8" });
    let r = fetch();
    if (r.status !== 0) {
        execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
        r = fetch();
    }
    try {
        const got = path.join(work, `nginx_${version}.orig.tar.gz`);
        if (r.status !== 0 || !existsSync(got)) {
            throw new Error(`lab: apt-get source --download-only nginx did not give nginx_${version}.orig.tar.gz ` +
                `(have: ${readdirSync(work).join(", ") || "nothing"}): ${(r.stderr || r.stdout || "").trim().split("\n").slice(-3).join(" ")}`);
        }
        const sum = sumOf(got);
        if (sum !== sha256) throw new Error(`lab: ${got} has sha256 ${sum}, expected ${sha256} (the upstream nginx-${version}.tar.gz)`);
        renameSync(got, file);
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
    return file;
}

/** The lab stack's config (written by labHostsUp), with optional overrides of `pairstore:` keys. */
export function labStack(overrides: Record<string, unknown> = {}) {
    if (!existsSync(STACK_FILE)) throw new Error("the lab is not set up: run `npm run lab` first");
    const stack = JSON.parse(readFileSync(STACK_FILE, "utf8")) as { config: Record<string, string>; secretKeys: string[] };
    for (const [k, v] of Object.entries(overrides)) {
        if (v === undefined) delete stack.config[`pairstore:${k}`];
        else stack.config[`pairstore:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return stack;
}

/** Applies the program to the lab with the executing harness; a successful apply records the stack outputs, as Pulumi does. */
export async function applyLab(overrides: Record<string, unknown> = {}, opts: { echo?: boolean; preview?: boolean } = {}): Promise<RunResult> {
    const stack = labStack(overrides);
    const result = await runStack(LAB_STACK, STATE_FILE, stack.config, stack.secretKeys, opts);
    if (result.ok && !opts.preview) writeFileSync(OUTPUTS_FILE, JSON.stringify(result.outputs, null, 1));
    return result;
}

/** Applies the program to the lab with the Pulumi CLI (local file backend under the lab dir). */
export function applyLabWithPulumi(overrides: Record<string, unknown> = {}): void {
    const stack = labStack(overrides);
    const env = pulumiEnv();
    const run = (args: string[], input?: string) => execFileSync("pulumi", args, { cwd: ROOT, env, input, stdio: [input === undefined ? "inherit" : "pipe", "inherit", "inherit"] });
    run(["stack", "select", "--create", LAB_STACK]);
    for (const [k, v] of Object.entries(stack.config)) {
        if (stack.secretKeys.includes(k)) run(["config", "set", "--secret", k], v);
        else run(["config", "set", k, v]);
    }
    run(["up", "--yes", "--skip-preview", "--stack", LAB_STACK]);
}

function pulumiEnv(): NodeJS.ProcessEnv {
    const passphrase = path.join(LAB_DIR, "pulumi-passphrase");
    if (!existsSync(passphrase)) writeFileSync(passphrase, `${Math.random().toString(36).slice(2)}${Date.now()}\n`, { mode: 0o600 });
    return { ...process.env, PULUMI_BACKEND_URL: `file://${path.join(LAB_DIR, "pulumi-backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: passphrase };
}

/** The lab stack's outputs (shape of `pulumi stack output --json`), with the lab's SSH key file added per node. */
export function labOutputs(): any {
    let outputs: any;
    if (engine() === "pulumi") {
        outputs = JSON.parse(execFileSync("pulumi", ["stack", "output", "--json", "--stack", LAB_STACK], { cwd: ROOT, env: pulumiEnv() }).toString());
    } else {
        if (!existsSync(OUTPUTS_FILE)) throw new Error("the lab stack has not been applied yet: run `npm run lab` first");
        outputs = JSON.parse(readFileSync(OUTPUTS_FILE, "utf8"));
    }
    const keyFile = path.join(LAB_DIR, "key", "id_ed25519");
    const dns = labDnsHost();
    return {
        ...outputs,
        nodes: (outputs.nodes ?? []).map((n: any) => ({ ...n, privateKeyFile: keyFile })),
        // The lab's DNS server (BIND), authoritative for the lab domains: query it with `dig @<address> 0.image.example.com`.
        dnsHost: { name: LAB_DNS.name, address: dns.mgmtIp, user: "root", privateKeyFile: keyFile },
    };
}

/** Stops and removes every lab host and the lab stack's state. */
export async function labDown(): Promise<void> {
    assertRootLinux();
    await destroyAll();
    for (const f of [STACK_FILE, STATE_FILE, OUTPUTS_FILE]) {
        if (existsSync(f)) execFileSync("rm", ["-f", f]);
    }
}
