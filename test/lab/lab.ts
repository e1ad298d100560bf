// The lab as a library: bring the hosts up, apply the program to them, read
// outputs, tear down. The CLI (cli.ts) and the end-to-end tests share it.
import { execFileSync, spawnSync } from "child_process";
import { existsSync, readFileSync, writeFileSync } from "fs";
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
    const stack = labConfig(keys, readFileSync(key.privateKeyPath, "utf8"), tsigSecret);
    writeFileSync(STACK_FILE, JSON.stringify(stack, null, 1), { mode: 0o600 });
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
