// The lab as a library: bring the hosts up, apply the program to them, read
// outputs, tear down. The CLI (cli.ts) and the end-to-end tests share it.
import { execFileSync, spawnSync } from "child_process";
import { createHash, randomBytes } from "crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { DEFAULTS } from "../../components/config";
import * as path from "path";
import { runStack, type RunResult, type StackConfig } from "../engine";
import { configValue } from "../engine/project";
import { StateFile } from "../engine/state";
import {
    LAB_DIR, assertRootLinux, destroyAll, destroyHost, ensureBase, ensureLabKey, ensureOuterPackages, hostKey, hostsOnOtherBase, startHost,
} from "./hosts";
import { ensureLabDns, labTsigSecret } from "./dns";
import { LAB_CACHE_PACKAGES, LAB_DNS, LAB_STACK, labConfig, labDnsHost, labHosts, labLayout, labPairs, type LabLayout } from "./topology";

const ROOT = path.join(__dirname, "..", "..");
const STACK_FILE = path.join(LAB_DIR, `stack-${LAB_STACK}.json`);
/** The lab stack's state (the engine's checkpoint). */
export const STATE_FILE = path.join(LAB_DIR, `state-${LAB_STACK}.json`);
const OUTPUTS_FILE = path.join(LAB_DIR, `outputs-${LAB_STACK}.json`);

/** Which engine applies the program. */
export function engine(): "pulumi" | "pairstore" {
    return spawnSync("pulumi", ["version"], { stdio: "ignore" }).status === 0 ? "pulumi" : "pairstore";
}

const PLAN_FILE = path.join(LAB_DIR, `shards-${LAB_STACK}.json`);

/** The lab's pinned shard plan (config form): the two-pair plan until the lab grows. */
export function labPinnedPlan(): Record<string, string> {
    return existsSync(PLAN_FILE) ? JSON.parse(readFileSync(PLAN_FILE, "utf8")) : labLayout().shards;
}

/** Pins a plan, as `pulumi config set pairstore:shards` would: the next labHostsUp writes it into the stack config. */
export function pinLabPlan(shards: Record<string, string>): void {
    writeFileSync(PLAN_FILE, JSON.stringify(shards, null, 1));
}

/** The layout the lab is in: the pairs of its pinned plan, none retiring. */
export function currentLabLayout(): LabLayout {
    const shards = labPinnedPlan();
    return { pairs: labPairs(3).filter((p) => p.name in shards), retire: [], shards };
}

/** Creates (or restarts) the lab hosts of `layout` and writes the lab stack config. */
export async function labHostsUp(layout: LabLayout = currentLabLayout()): Promise<void> {
    assertRootLinux();
    await ensureOuterPackages();
    const key = await ensureLabKey();
    await ensureBase(LAB_CACHE_PACKAGES);
    // Hosts are offline: one built before the package list changed cannot
    // install the new packages, so the lab starts again from fresh hosts.
    const stale = hostsOnOtherBase();
    if (stale.length) {
        console.error(`[lab] ${stale.join(", ")} predate the lab's package list: rebuilding the lab from fresh hosts`);
        await labDown();
    }
    const hosts = [...labHosts(layout.pairs), labDnsHost()];
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
    }, {}, layout);
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

/**
 * Grows or shrinks the lab to `count` pairs the way a user grows or shrinks a
 * cluster (README "Grow or shrink a cluster"): a pair joins with `apply` (its
 * shards move with their files), a second apply copies what reached the old
 * pair meanwhile, then the plan in force is pinned and applied with
 * dropUnserved on the pairs that gave shards (they drop their copies); a pair leaves by
 * retiring first (its shards move to the others, applied twice), then the
 * plan is pinned, the pair removed from the config and applied, and its hosts
 * taken down. `apply` applies the stack config labHostsUp wrote; false stops.
 * `overrides` are other stack keys for these applies (the lab's own after).
 */
export async function resizeLab(count: number, apply: () => Promise<boolean>, log: (m: string) => void = console.log, overrides?: Record<string, unknown>): Promise<boolean> {
    const pinned = labPinnedPlan();
    const wanted = labPairs(count);
    const names = wanted.map((p) => p.name);
    const leaving = Object.keys(pinned).filter((p) => !names.includes(p));
    const joining = names.filter((p) => !(p in pinned));
    if (leaving.length > 0) {
        log(`lab: ${leaving.join(", ")} retire: their shards move to the other pairs with their files`);
        await labHostsUp({ pairs: labPairs(3).filter((p) => names.includes(p.name) || p.name in pinned), retire: leaving, shards: pinned, overrides });
        // twice, as a user does: the second copies what reached the old pair meanwhile
        if (!(await apply()) || !(await apply())) return false;
        pinLabPlan(labOutputs().shardPlan);
        log(`lab: pinned the plan in force; removing ${leaving.join(", ")} from the config`);
    }
    await labHostsUp({ pairs: wanted, retire: [], shards: labPinnedPlan(), overrides });
    if (!(await apply())) return false;
    if (joining.length > 0) {
        if (!(await apply())) return false;
        pinLabPlan(labOutputs().shardPlan);
        // the pairs that gave shards drop their copies (checked against the new pair, what it lacks handed over)
        const givers = Object.keys(pinned).filter((p) => names.includes(p));
        log(`lab: ${joining.join(", ")} took shards with their files; pinned the plan in force, applying once more (the moves end, ${givers.join(", ")} drop their copies)`);
        await labHostsUp({ pairs: wanted, retire: [], drop: givers, shards: labPinnedPlan(), overrides });
        if (!(await apply())) return false;
        await labHostsUp({ pairs: wanted, retire: [], shards: labPinnedPlan() });
    }
    for (const p of labPairs(3).filter((p) => leaving.includes(p.name))) {
        for (const n of p.nodes) await destroyHost(n.name);
        log(`lab: ${p.name}'s hosts taken down`);
    }
    return true;
}

/** The lab stack's config (written by labHostsUp), with optional overrides of `pairstore:` keys (undefined removes a key). */
export function labStack(overrides: Record<string, unknown> = {}): StackConfig {
    if (!existsSync(STACK_FILE)) throw new Error("the lab is not set up: run `npm run lab` first");
    const stack = JSON.parse(readFileSync(STACK_FILE, "utf8")) as StackConfig;
    for (const [k, v] of Object.entries(overrides)) {
        const key = `pairstore:${k}`;
        // A secret stays a secret when a test overrides its value.
        if (v === undefined) delete stack[key];
        else stack[key] = configValue(v, stack[key]?.secret ?? false);
    }
    return stack;
}

/** Applies the program to the lab with pairstore's engine; a successful apply records the stack outputs, as Pulumi does. */
export async function applyLab(overrides: Record<string, unknown> = {}, opts: { echo?: boolean; preview?: boolean; signal?: AbortSignal } = {}): Promise<RunResult> {
    const result = await runStack(LAB_STACK, STATE_FILE, labStack(overrides), opts);
    if (result.ok && !opts.preview) writeFileSync(OUTPUTS_FILE, JSON.stringify(result.outputs, null, 1));
    return result;
}

/**
 * The lab stack as `pulumi stack export --show-secrets` prints it (what
 * `npm run drift` reads): from the Pulumi CLI when it applies the lab, else
 * from the engine's state.
 */
export function labExport(): unknown {
    if (engine() === "pulumi") {
        return JSON.parse(execFileSync("pulumi", ["stack", "export", "--show-secrets", "--stack", LAB_STACK], { cwd: ROOT, env: pulumiEnv(), maxBuffer: 1 << 30 }).toString());
    }
    return new StateFile(STATE_FILE).exportWithSecrets();
}

/** One Pulumi CLI invocation: its arguments and what it reads on stdin. */
export interface CliCall {
    args: string[];
    stdin?: string;
}

/**
 * The `pulumi config` calls that make a stack's config equal `want`, given the
 * keys it has now: secrets one by one on stdin (never on a command line),
 * everything else in one `set-all --json` (structured values as objectValue,
 * so a list stays a list), and `rm` for every key no longer wanted.
 */
export function pulumiConfigCalls(stack: string, want: StackConfig, have: string[]): CliCall[] {
    const calls: CliCall[] = [];
    for (const k of have.filter((k) => !(k in want)).sort()) calls.push({ args: ["config", "rm", "--stack", stack, k] });
    const plain = Object.fromEntries(Object.entries(want).filter(([, v]) => !v.secret));
    if (Object.keys(plain).length > 0) calls.push({ args: ["config", "set-all", "--stack", stack, "--json", JSON.stringify(plain)] });
    for (const [k, v] of Object.entries(want).filter(([, v]) => v.secret)) {
        calls.push({ args: ["config", "set", "--stack", stack, "--secret", k], stdin: v.value });
    }
    return calls;
}

/** Applies the program to the lab with the Pulumi CLI (local file backend under the lab dir). */
export function applyLabWithPulumi(overrides: Record<string, unknown> = {}, opts: { preview?: boolean } = {}): void {
    const want = labStack(overrides);
    const env = pulumiEnv();
    const run = (call: CliCall, inherit = true) => execFileSync("pulumi", call.args, {
        cwd: ROOT, env, input: call.stdin, stdio: [call.stdin === undefined ? "ignore" : "pipe", inherit ? "inherit" : "pipe", "inherit"],
    });
    run({ args: ["stack", "select", "--create", LAB_STACK] });
    const have = Object.keys(JSON.parse(run({ args: ["config", "--json", "--stack", LAB_STACK] }, false).toString()));
    for (const call of pulumiConfigCalls(LAB_STACK, want, have)) run(call);
    run({ args: opts.preview ? ["preview", "--diff", "--stack", LAB_STACK] : ["up", "--yes", "--skip-preview", "--stack", LAB_STACK] });
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
    for (const f of [STACK_FILE, STATE_FILE, OUTPUTS_FILE, PLAN_FILE]) {
        if (existsSync(f)) execFileSync("rm", ["-f", f]);
    }
}
