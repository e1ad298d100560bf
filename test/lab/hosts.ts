/**
 * Lab test hosts: real Debian bookworm machines (systemd as PID 1, sshd) on one
 * Linux machine, built with debootstrap + overlayfs + systemd-nspawn + network
 * namespaces. See /work/shared/DESIGN.md "Test hosts on one machine".
 *
 * Layout under LAB_DIR (default /var/lib/pairstore-lab):
 *   debootstrap-<hash>/     plain debootstrap output (cached; only rebuilt when the debootstrap recipe changes)
 *   base-<hash>/            read-only lower layer: debootstrap + lab config + apt lists + .deb cache
 *   base -> base-<hash>     the current base (symlink, swapped atomically)
 *   key/id_ed25519{,.pub}   lab SSH key (root's authorized key on every host)
 *   hosts/<name>/           upper/ work/ merged/ console.log nspawn.pid lower (path of the base it was created on)
 *
 * Networking: bridge psbr0 (10.77.0.1/24, management) and psbr1 (198.51.100.1/24,
 * public side, hosts get no address there). Each host has its own netns
 * `ps-<name>` holding eth0 and eth1 (veth peers of ps0-<name>/ps1-<name> on the
 * bridges) with fixed MACs. Addresses and routes are configured from the outside,
 * in the netns, before boot, so they survive container reboots (the netns is
 * not owned by the container). No NAT; an nftables table rejects forwarding
 * between the lab bridges and anything else.
 *
 * Only test code uses this module. It must run as root on Linux.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Several labs can run side by side (one per work tree): PAIRSTORE_LAB_ID 0-3
 * picks the lab's directory, bridge, namespace and subnet names. Lab 0 is the default.
 */
export const LAB_ID: number = labId(process.env.PAIRSTORE_LAB_ID);
const TAG = LAB_ID === 0 ? "ps" : `ps${LAB_ID}`;
/**
 * Public subnets, one per lab: ranges never routed on the internet. Not
 * TEST-NET-1 or -3: sandboxes like this one use them for their own uplink and
 * package mirrors (ensureBridges refuses any subnet this machine already routes).
 */
const PUBLIC_NETS = ["198.51.100", "198.18.0", "198.18.1", "198.18.2"];

export const LAB_DIR: string = process.env.PAIRSTORE_LAB_DIR || (LAB_ID === 0 ? "/var/lib/pairstore-lab" : `/var/lib/pairstore-lab-${LAB_ID}`);

export const MGMT_BRIDGE = `${TAG}br0`;
export const PUBLIC_BRIDGE = `${TAG}br1`;
/** First three octets of the management (internal) network. */
export const MGMT_NET = `10.77.${LAB_ID}`;
export const MGMT_GATEWAY = `${MGMT_NET}.1`;
export const MGMT_PREFIX = 24;
/** First three octets of the public network. */
export const PUBLIC_NET = PUBLIC_NETS[LAB_ID];
export const PUBLIC_GATEWAY = `${PUBLIC_NET}.1`;
export const PUBLIC_PREFIX = 24;
const NFT_TABLE = LAB_ID === 0 ? "pairstore_lab" : `pairstore_lab${LAB_ID}`;

function labId(text: string | undefined): number {
  const id = Number(text ?? 0);
  if (!Number.isInteger(id) || id < 0 || id > 3) {
    throw new Error(`PAIRSTORE_LAB_ID must be 0, 1, 2 or 3, got ${JSON.stringify(text)}`);
  }
  return id;
}

export const DEBIAN_SUITE = "bookworm";
export const DEBIAN_MIRROR = "http://deb.debian.org/debian";
export const BASE_INCLUDE = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "openssh-server",
  "iproute2",
  "procps",
  "kmod",
  "ca-certificates",
];
// dpkg-dev: `apt-get source` fetches the nginx source the lab pushes to its hosts.
// bind9-dnsutils: nsupdate and dig, which pairstore's rfc2136 DNS backend runs on the controller.
export const OUTER_PACKAGES = ["systemd-container", "debootstrap", "nftables", "openssh-client", "iproute2", "dpkg-dev", "bind9-dnsutils"];

/** Bump when the base configuration recipe below changes (forces a base rebuild, not a new debootstrap). */
const BASE_RECIPE_VERSION = 3;

/** Units that are useless or slow in a container without consoles or internet. */
const MASKED_UNITS = [
  "console-getty.service",
  "container-getty@.service",
  "getty@.service",
  "serial-getty@.service",
  "getty.target",
  "systemd-networkd-wait-online.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "apt-daily.service",
  "apt-daily-upgrade.service",
  "e2scrub_all.timer",
  "e2scrub_reap.service",
  "fstrim.timer",
  "systemd-timesyncd.service",
];

export interface LabHost {
  /** e.g. "node-1a"; also the machine hostname (/etc/hostname inside). Lowercase letters, digits, '-'. */
  name: string;
  /** eth0 address, e.g. "10.77.0.11" (/24 on psbr0, gateway 10.77.0.1). */
  mgmtIp: string;
  /** Not configured by the lab (eth1 on psbr1 stays address-less; heartbeat adds the VIP). */
  publicIp?: string;
  /** Fixed MACs for eth0/eth1. Optional: derived deterministically from the name when omitted (see macFor). */
  mac0?: string;
  mac1?: string;
}

// ---------------------------------------------------------------------------
// small helpers

export class LabCommandError extends Error {
  constructor(
    message: string,
    public readonly code: number | null,
    public readonly stdout: string,
    public readonly stderr: string,
  ) {
    super(message);
    this.name = "LabCommandError";
  }
}

function tail(text: string, lines = 20): string {
  const all = text.trimEnd().split("\n");
  return all.slice(-lines).join("\n");
}

interface RunOpts {
  input?: string;
  env?: NodeJS.ProcessEnv;
  allowFail?: boolean;
  timeoutMs?: number;
  /** Stream output to our stderr (long steps like debootstrap) while still capturing it. */
  echo?: boolean;
}

/** Run a command without a shell; throws LabCommandError (command + stderr tail) on a non-zero exit. */
function run(
  cmd: string,
  args: string[],
  opts: RunOpts = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs)
        : undefined;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      stdout += d;
      if (opts.echo) process.stderr.write(d);
    });
    child.stderr.on("data", (d: string) => {
      stderr += d;
      if (opts.echo) process.stderr.write(d);
    });
    child.on("error", (err) => {
      if (timer) clearTimeout(timer);
      reject(new LabCommandError(`lab: cannot run ${cmd}: ${err.message}`, null, stdout, stderr));
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const rc = code ?? 128;
      if (rc !== 0 && !opts.allowFail) {
        const shown = [cmd, ...args].join(" ");
        const why = timedOut ? `timed out after ${opts.timeoutMs} ms` : signal ? `killed by ${signal}` : `exit ${rc}`;
        const out = tail(stderr || stdout);
        reject(new LabCommandError(`lab: command failed (${why}): ${shown}${out ? "\n" + out : ""}`, rc, stdout, stderr));
        return;
      }
      resolve({ code: rc, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

function sha(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Replace a file by unlink + write (never writes through a hard link or symlink). */
function writeFresh(p: string, content: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.rmSync(p, { force: true });
  fs.writeFileSync(p, content, { mode });
}

function log(msg: string): void {
  if (process.env.PAIRSTORE_LAB_QUIET) return;
  process.stderr.write(`[lab] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// preconditions and outer packages

export function assertRootLinux(): void {
  if (process.platform !== "linux") {
    throw new Error(`The pairstore lab needs Linux (systemd-nspawn, network namespaces), but this is ${process.platform}.`);
  }
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new Error("The pairstore lab must run as root (it creates network namespaces, bridges and overlay mounts); try sudo.");
  }
}

function missingDebs(pkgs: string[]): string[] {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Package} ${db:Status-Abbrev}\n", ...pkgs], { encoding: "utf8" });
  const installed = new Set<string>();
  for (const line of (r.stdout || "").split("\n")) {
    const [pkg, status] = line.trim().split(/\s+/);
    if (pkg && status && status.startsWith("ii")) installed.add(pkg.split(":")[0]);
  }
  return pkgs.filter((p) => !installed.has(p));
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };

export async function ensureOuterPackages(): Promise<void> {
  assertRootLinux();
  const missing = missingDebs(OUTER_PACKAGES);
  if (missing.length === 0) return;
  log(`installing outer packages: ${missing.join(" ")}`);
  // Try without an update first (cheap when lists are fresh); update only when needed.
  const first = await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
    env: APT_ENV,
    allowFail: true,
  });
  if (first.code !== 0) {
    await run("apt-get", ["update"], { env: APT_ENV });
    await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env: APT_ENV });
  }
  const still = missingDebs(OUTER_PACKAGES);
  if (still.length) throw new Error(`lab: packages still missing after apt-get install: ${still.join(" ")}`);
}

// ---------------------------------------------------------------------------
// lab SSH key

export function labKeyPath(): string {
  return path.join(LAB_DIR, "key", "id_ed25519");
}

export async function ensureLabKey(): Promise<{ privateKeyPath: string; publicKey: string }> {
  const key = labKeyPath();
  if (!exists(key) || !exists(key + ".pub")) {
    fs.mkdirSync(path.dirname(key), { recursive: true, mode: 0o700 });
    const tmp = `${key}.tmp-${process.pid}`;
    fs.rmSync(tmp, { force: true });
    fs.rmSync(tmp + ".pub", { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pairstore-lab", "-f", tmp]);
    fs.renameSync(tmp + ".pub", key + ".pub");
    fs.renameSync(tmp, key);
  }
  const publicKey = fs.readFileSync(key + ".pub", "utf8").trim();
  return { privateKeyPath: key, publicKey };
}

// ---------------------------------------------------------------------------
// base rootfs

function debootstrapArgs(target: string): string[] {
  return ["--variant=minbase", `--include=${BASE_INCLUDE.join(",")}`, DEBIAN_SUITE, target, DEBIAN_MIRROR];
}

export function debootstrapDir(): string {
  const h = sha(JSON.stringify(debootstrapArgs("TARGET"))).slice(0, 12);
  return path.join(LAB_DIR, `debootstrap-${h}`);
}

/** The plain debootstrap tree (built once, ~50 s, then cached). */
export async function ensureDebootstrap(): Promise<string> {
  const dir = debootstrapDir();
  if (exists(path.join(dir, "usr/lib/systemd/systemd"))) return dir;
  await ensureOuterPackages();
  const tmp = `${dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(LAB_DIR, { recursive: true });
  log(`debootstrap ${DEBIAN_SUITE} into ${tmp} (about 50 s)`);
  const t0 = Date.now();
  await run("debootstrap", debootstrapArgs(tmp), { env: APT_ENV });
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  log(`debootstrap done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

function currentBaseLink(): string {
  return path.join(LAB_DIR, "base");
}

/** Path of the current base (after ensureBase), or undefined. */
export function currentBase(): string | undefined {
  try {
    const target = fs.readlinkSync(currentBaseLink());
    const abs = path.resolve(LAB_DIR, target);
    return exists(path.join(abs, "etc/pairstore-lab-base.json")) ? abs : undefined;
  } catch {
    return undefined;
  }
}

function nspawnRun(root: string, cmd: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Non-boot nspawn on the host network (build time only: talks to deb.debian.org).
  return run(
    "systemd-nspawn",
    [
      "-q",
      "-D",
      root,
      "--register=no",
      "--keep-unit",
      "--resolv-conf=copy-host",
      "--timezone=off",
      "--link-journal=no",
      "-E",
      "DEBIAN_FRONTEND=noninteractive",
      ...cmd,
    ],
    { env: process.env },
  );
}

/**
 * Build (once per package list) the shared read-only base rootfs and return its path.
 * The base contains apt lists and the .debs of `cachePackages` (and their dependencies)
 * in /var/cache/apt/archives, so hosts can `apt-get install` them offline.
 */
export async function ensureBase(cachePackages: string[]): Promise<string> {
  assertRootLinux();
  await ensureOuterPackages();
  const { publicKey } = await ensureLabKey();
  const pkgs = [...new Set(cachePackages.map((p) => p.trim()).filter(Boolean))].sort();
  for (const p of pkgs) {
    if (!/^[a-z0-9][a-z0-9+.:=~-]*$/.test(p)) throw new Error(`lab: invalid package name ${JSON.stringify(p)}`);
  }
  const deboot = debootstrapDir();
  const hash = sha(
    JSON.stringify({ v: BASE_RECIPE_VERSION, deboot: path.basename(deboot), pkgs, publicKey, masked: MASKED_UNITS }),
  ).slice(0, 12);
  const dir = path.join(LAB_DIR, `base-${hash}`);
  if (!exists(path.join(dir, "etc/pairstore-lab-base.json"))) {
    await ensureDebootstrap();
    const t0 = Date.now();
    const tmp = `${dir}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    log(`building base ${path.basename(dir)} (cache: ${pkgs.join(" ") || "none"})`);
    await run("cp", ["-a", "--reflink=auto", deboot, tmp]);
    configureBase(tmp, publicKey);
    // apt: keep downloaded archives, no docker-clean style hooks.
    for (const f of fs.readdirSync(path.join(tmp, "etc/apt/apt.conf.d"))) {
      const p = path.join(tmp, "etc/apt/apt.conf.d", f);
      const text = fs.readFileSync(p, "utf8");
      if (/docker-clean|DPkg::Post-Invoke.*archives|Dir::Cache::(pkgcache|srcpkgcache)\s+""/i.test(text)) {
        fs.rmSync(p, { force: true });
      }
    }
    writeFresh(
      path.join(tmp, "etc/apt/apt.conf.d/90pairstore-lab"),
      [
        "// pairstore lab: hosts are offline; keep the .deb cache and never fetch in the background",
        'APT::Keep-Downloaded-Packages "true";',
        'Binary::apt::APT::Keep-Downloaded-Packages "true";',
        'APT::Install-Recommends "false";',
        'APT::Periodic::Enable "0";',
        'Acquire::Retries "0";',
        'Acquire::http::Timeout "5";',
        "",
      ].join("\n"),
    );
    await nspawnRun(tmp, ["apt-get", "update"]);
    if (pkgs.length) {
      await nspawnRun(tmp, ["apt-get", "install", "--download-only", "-y", ...pkgs]);
    }
    // Hosts have no DNS and no internet: no nameserver means glibc tries 127.0.0.1 and fails fast.
    writeFresh(path.join(tmp, "etc/resolv.conf"), "# pairstore lab: hosts are offline (no DNS)\n");
    writeFresh(
      path.join(tmp, "etc/pairstore-lab-base.json"),
      JSON.stringify({ hash, debootstrap: path.basename(deboot), cachePackages: pkgs, builtAt: new Date().toISOString() }, null, 2) + "\n",
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
    log(`base built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  // Point "base" at it atomically.
  if (currentBase() !== dir) {
    const linkTmp = `${currentBaseLink()}.tmp-${process.pid}`;
    fs.rmSync(linkTmp, { force: true });
    fs.symlinkSync(path.basename(dir), linkTmp);
    fs.renameSync(linkTmp, currentBaseLink());
  }
  gcBases(dir);
  return dir;
}

function configureBase(root: string, publicKey: string): void {
  const p = (rel: string) => path.join(root, rel);
  // Each host gets its own SSH host keys and machine-id.
  for (const f of fs.readdirSync(p("etc/ssh"))) {
    if (f.startsWith("ssh_host_")) fs.rmSync(p(`etc/ssh/${f}`), { force: true });
  }
  writeFresh(p("etc/machine-id"), "");
  fs.rmSync(p("var/lib/dbus/machine-id"), { force: true });
  fs.mkdirSync(p("var/lib/dbus"), { recursive: true });
  fs.symlinkSync("/etc/machine-id", p("var/lib/dbus/machine-id"));
  writeFresh(p("etc/hostname"), "localhost\n");
  writeFresh(p("etc/hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  // sshd: key-only root login; the drop-in is read before the main config (first value wins).
  writeFresh(
    p("etc/ssh/sshd_config.d/10-pairstore-lab.conf"),
    "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\n",
  );
  fs.mkdirSync(p("root/.ssh"), { recursive: true, mode: 0o700 });
  fs.chmodSync(p("root/.ssh"), 0o700);
  writeFresh(p("root/.ssh/authorized_keys"), publicKey + "\n", 0o600);
  // Mask units that only slow down or break a console-less, offline container.
  for (const unit of MASKED_UNITS) {
    const link = p(`etc/systemd/system/${unit}`);
    fs.rmSync(link, { force: true });
    fs.symlinkSync("/dev/null", link);
  }
  // Persistent but small journal: lets tests read logs after a power cut (journalctl -D upper/var/log/journal).
  fs.mkdirSync(p("var/log/journal"), { recursive: true });
  writeFresh(
    p("etc/systemd/journald.conf.d/10-pairstore-lab.conf"),
    "[Journal]\nStorage=persistent\nSystemMaxUse=16M\nRuntimeMaxUse=8M\n",
  );
}

/** Remove bases that are neither current nor used by a host. */
function gcBases(current: string): void {
  const used = new Set<string>([current]);
  for (const name of listHostNames()) {
    const lower = readLower(name);
    if (lower) used.add(lower);
  }
  for (const entry of fs.readdirSync(LAB_DIR)) {
    if (!/^base-[0-9a-f]{12}(\.tmp)?$/.test(entry)) continue;
    const full = path.join(LAB_DIR, entry);
    if (used.has(full)) continue;
    log(`removing unused base ${entry}`);
    fs.rmSync(full, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// per-host naming

const NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new Error(`lab: invalid host name ${JSON.stringify(name)} (lowercase letters, digits, '-')`);
}

export function hostDir(name: string): string {
  return path.join(LAB_DIR, "hosts", name);
}

export function netnsName(name: string): string {
  return `${TAG}-${name}`;
}

/** Outer-side veth name for eth<idx> (<= 15 chars). */
export function outerVethName(name: string, idx: 0 | 1): string {
  const plain = `${TAG}${idx}-${name}`;
  return plain.length <= 15 ? plain : `${TAG}${idx}-${sha(name).slice(0, 15 - TAG.length - 2)}`;
}

/** Deterministic locally administered MAC: idx 0/1 = eth0/eth1 inside, 0x10/0x11 = outer veth sides. */
export function macFor(name: string, idx: number): string {
  const h = sha(LAB_ID === 0 ? `pairstore-lab:${name}` : `pairstore-lab${LAB_ID}:${name}`);
  const bytes = ["02", h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), idx.toString(16).padStart(2, "0")];
  return bytes.join(":");
}

function listHostNames(): string[] {
  try {
    return fs.readdirSync(path.join(LAB_DIR, "hosts")).filter((n) => NAME_RE.test(n));
  } catch {
    return [];
  }
}

function readLower(name: string): string | undefined {
  try {
    return fs.readFileSync(path.join(hostDir(name), "lower"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// processes

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

function readProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const rest = stat.slice(close + 2).split(" ");
      out.push({ pid: Number(e), state: rest[0], ppid: Number(rest[1]), comm });
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

function descendants(root: number): number[] {
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const p of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid)!.push(p.pid);
  }
  const result: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    result.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return result;
}

function pidFile(name: string): string {
  return path.join(hostDir(name), "nspawn.pid");
}

function wrapperTag(name: string): string {
  return `pairstore-lab-host:${name}`;
}

/** PID of the supervisor shell that runs systemd-nspawn for this host, if alive. */
function wrapperPid(name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(name), "utf8").trim());
  } catch {
    return undefined;
  }
  if (!pid || !alive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (!cmdline.includes(wrapperTag(name))) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

export function isRunning(name: string): boolean {
  return wrapperPid(name) !== undefined;
}

function nspawnPidOf(wrapper: number): number | undefined {
  return readProcs().find((p) => p.ppid === wrapper && p.comm === "systemd-nspawn" && p.state !== "Z")?.pid;
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !alive(p))) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------
// network

function linkExists(dev: string, netns?: string): boolean {
  const args = netns ? ["-n", netns, "link", "show", dev] : ["link", "show", dev];
  return spawnSync("ip", args, { stdio: "ignore" }).status === 0;
}

let bridgesReady: Promise<void> | undefined;

/** Bridges psbr0/psbr1 with the outer addresses, plus the no-forwarding guard. Idempotent. */
export function ensureBridges(): Promise<void> {
  if (!bridgesReady) {
    bridgesReady = (async () => {
      const bridges: Array<[string, string, number, string]> = [
        [MGMT_BRIDGE, MGMT_GATEWAY, MGMT_PREFIX, `02:77:0${LAB_ID}:00:00:01`],
        [PUBLIC_BRIDGE, PUBLIC_GATEWAY, PUBLIC_PREFIX, `02:77:0${LAB_ID}:00:01:01`],
      ];
      for (const [br, ip, prefix] of bridges) {
        const net = `${ip.split(".").slice(0, 3).join(".")}.0/${prefix}`;
        const routes = spawnSync("ip", ["-4", "route", "show", "match", net], { encoding: "utf8" }).stdout || "";
        const clash = routes.split("\n").find((r) => r.trim() && !r.includes(` dev ${br} `) && !r.startsWith("default"));
        if (clash) {
          throw new Error(`lab: ${net} for bridge ${br} overlaps this machine's route "${clash.trim()}"; pick another lab with PAIRSTORE_LAB_ID`);
        }
      }
      for (const [br, ip, prefix, mac] of bridges) {
        if (!linkExists(br)) {
          const r = await run("ip", ["link", "add", br, "address", mac, "type", "bridge", "mcast_snooping", "0"], {
            allowFail: true,
          });
          if (r.code !== 0 && !linkExists(br)) throw new LabCommandError(`lab: cannot create bridge ${br}: ${tail(r.stderr)}`, r.code, r.stdout, r.stderr);
        }
        // Only this lab's address on its bridge (an older layout may have left another).
        await run("ip", ["-4", "addr", "flush", "dev", br, "scope", "global"]);
        await run("ip", ["addr", "replace", `${ip}/${prefix}`, "dev", br]);
        await run("ip", ["link", "set", br, "up"]);
      }
      // Guard: nothing from the lab bridges is forwarded anywhere else (and vice versa).
      const ruleset = [
        `table inet ${NFT_TABLE} {`,
        "  chain forward {",
        "    type filter hook forward priority -10; policy accept;",
        `    iifname { "${MGMT_BRIDGE}", "${PUBLIC_BRIDGE}" } oifname != { "${MGMT_BRIDGE}", "${PUBLIC_BRIDGE}" } reject with icmpx type admin-prohibited`,
        `    oifname { "${MGMT_BRIDGE}", "${PUBLIC_BRIDGE}" } iifname != { "${MGMT_BRIDGE}", "${PUBLIC_BRIDGE}" } drop`,
        "  }",
        "}",
        "",
      ].join("\n");
      await run("nft", ["-f", "-"], { input: `table inet ${NFT_TABLE}\ndelete table inet ${NFT_TABLE}\n` + ruleset });
    })();
    bridgesReady.catch(() => {
      bridgesReady = undefined;
    });
  }
  return bridgesReady;
}

async function ensureHostNetwork(h: LabHost): Promise<void> {
  await ensureBridges();
  const ns = netnsName(h.name);
  if (!exists(`/run/netns/${ns}`)) await run("ip", ["netns", "add", ns]);
  const ifaces: Array<{ idx: 0 | 1; bridge: string; mac: string }> = [
    { idx: 0, bridge: MGMT_BRIDGE, mac: h.mac0 ?? macFor(h.name, 0) },
    { idx: 1, bridge: PUBLIC_BRIDGE, mac: h.mac1 ?? macFor(h.name, 1) },
  ];
  for (const { idx, bridge, mac } of ifaces) {
    const outer = outerVethName(h.name, idx);
    const inner = `eth${idx}`;
    const haveInner = linkExists(inner, ns);
    const haveOuter = linkExists(outer);
    if (!(haveInner && haveOuter)) {
      // Half a pair cannot exist for a veth; clean any leftovers and recreate.
      if (haveOuter) await run("ip", ["link", "del", outer]);
      if (haveInner) await run("ip", ["-n", ns, "link", "del", inner]);
      await run("ip", [
        "link", "add", outer, "address", macFor(h.name, 0x10 + idx), "type", "veth",
        "peer", "name", inner, "address", mac, "netns", ns,
      ]);
    } else {
      await run("ip", ["-n", ns, "link", "set", inner, "address", mac]);
    }
    await run("ip", ["link", "set", outer, "master", bridge, "up"]);
    await run("ip", ["-n", ns, "link", "set", inner, "up"]);
  }
  await run("ip", ["-n", ns, "link", "set", "lo", "up"]);
  await run("ip", ["-n", ns, "addr", "replace", `${h.mgmtIp}/${MGMT_PREFIX}`, "dev", "eth0"]);
  await run("ip", ["-n", ns, "route", "replace", "default", "via", MGMT_GATEWAY, "dev", "eth0"]);
}

// ---------------------------------------------------------------------------
// host lifecycle

function isMounted(dir: string): boolean {
  const mounts = fs.readFileSync("/proc/self/mountinfo", "utf8");
  return mounts.split("\n").some((l) => l.split(" ")[4] === dir);
}

function checkHost(h: LabHost): void {
  checkName(h.name);
  const m = h.mgmtIp.startsWith(`${MGMT_NET}.`) ? /^\d{1,3}$/.exec(h.mgmtIp.slice(MGMT_NET.length + 1)) : null;
  if (!m || Number(m[0]) < 2 || Number(m[0]) > 254) {
    throw new Error(`lab: mgmtIp of ${h.name} must be in ${MGMT_NET}.2-254, got ${JSON.stringify(h.mgmtIp)}`);
  }
  for (const mac of [h.mac0, h.mac1]) {
    if (mac !== undefined && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new Error(`lab: bad MAC ${mac} for ${h.name}`);
  }
}

async function prepareDisk(h: LabHost): Promise<string> {
  const dir = hostDir(h.name);
  const upper = path.join(dir, "upper");
  const work = path.join(dir, "work");
  const merged = path.join(dir, "merged");
  let lower = readLower(h.name);
  const base = currentBase();
  if (!lower) {
    if (!base) throw new Error("lab: no base rootfs yet; call ensureBase(cachePackages) before startHost.");
    lower = base;
    fs.mkdirSync(dir, { recursive: true });
    writeFresh(path.join(dir, "lower"), lower + "\n");
  } else if (base && base !== lower) {
    log(`warning: ${h.name} keeps its original base ${path.basename(lower)} (current is ${path.basename(base)}); destroy it to pick up the new base`);
  }
  if (!exists(path.join(lower, "etc/pairstore-lab-base.json"))) {
    throw new Error(`lab: base ${lower} of host ${h.name} is gone; destroy the host (destroyAll) and start it again.`);
  }
  for (const d of [upper, work, merged]) fs.mkdirSync(d, { recursive: true });
  if (!isMounted(merged)) {
    await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  }
  // Per-host identity (idempotent; writes land in upper).
  await run("ssh-keygen", ["-A", "-f", merged]);
  const machineId = path.join(merged, "etc/machine-id");
  if (fs.readFileSync(machineId, "utf8").trim().length !== 32) writeFresh(machineId, randomBytes(16).toString("hex") + "\n", 0o444);
  const hostname = `${h.name}\n`;
  if (fs.readFileSync(path.join(merged, "etc/hostname"), "utf8") !== hostname) writeFresh(path.join(merged, "etc/hostname"), hostname);
  const hosts = `127.0.0.1\tlocalhost\n${h.mgmtIp}\t${h.name}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
  if (fs.readFileSync(path.join(merged, "etc/hosts"), "utf8") !== hosts) writeFresh(path.join(merged, "etc/hosts"), hosts);
  return merged;
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

function consoleTail(name: string, lines = 30): string {
  let text = "";
  try {
    text = tail(fs.readFileSync(path.join(hostDir(name), "console.log"), "utf8"), lines);
  } catch {
    text = "(no console.log)";
  }
  const journal = path.join(hostDir(name), "upper/var/log/journal");
  if (exists(journal)) {
    const r = spawnSync("journalctl", ["-D", journal, "-b", "-n", "25", "--no-pager", "-q"], { encoding: "utf8" });
    if (r.stdout) text += `\n--- journal (last 25) ---\n${r.stdout.trimEnd()}`;
  }
  return text;
}

/** Wait until sshd answers with the lab key (TCP 22, then `ssh true`). */
// Four hosts booting at once on 2 busy cores have taken over 2 minutes to reach sshd.
export async function waitForSsh(h: LabHost, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (!isRunning(h.name)) {
      throw new Error(`lab: ${h.name} stopped while waiting for SSH; console tail:\n${consoleTail(h.name)}`);
    }
    if (await tcpOpen(h.mgmtIp, 22, 1000)) {
      const r = await sshRun(h, "true").catch((e: Error) => ({ code: -1, stdout: "", stderr: e.message }));
      if (r.code === 0) return;
      last = r.stderr.trim();
    }
    await sleep(150);
  }
  throw new Error(
    `lab: ${h.name} (${h.mgmtIp}) did not answer SSH within ${timeoutMs / 1000} s${last ? ` (last ssh error: ${last})` : ""}; console tail:\n${consoleTail(h.name)}`,
  );
}

export async function startHost(h: LabHost): Promise<void> {
  assertRootLinux();
  checkHost(h);
  if (isRunning(h.name)) {
    await waitForSsh(h);
    return;
  }
  const merged = await prepareDisk(h);
  await killOrphans(h.name);
  // Off means off: a host killed from outside (its session ended) never went
  // through stopHost, so its netns may still hold heartbeat's addresses, which
  // heartbeat would find "already running" and not start again.
  await unplugHost(h.name);
  await ensureHostNetwork(h);
  const cgroups = hostCgroupDirs(h.name);
  const dir = hostDir(h.name);
  const ns = netnsName(h.name);
  const nspawnArgs = [
    "-D", merged,
    "--boot",
    `--machine=${h.name}`,
    "--register=no",
    "--keep-unit",
    `--network-namespace-path=/run/netns/${ns}`,
    "--capability=CAP_NET_ADMIN",
    "--console=passive",
    "--resolv-conf=off",
    "--timezone=off",
    "--link-journal=no",
    // Arguments of the guest's systemd. No boot status on the console: nspawn's
    // passive console is not drained, and a unit whose start takes long (a
    // refill from the peer) makes systemd print "A start job is running" until
    // the console's buffer is full, and then PID 1 blocks on that write for good.
    "systemd.show_status=false",
  ];
  // Supervisor: systemd-nspawn exits with 133 when the guest reboots; boot it again then
  // (so `reboot` inside a host behaves like a real reboot). Any other exit ends the loop.
  // Own cgroup first: nspawn puts its guest in "payload" next to its own
  // cgroup, so guests started from one cgroup would share one systemd tree and
  // remove each other's unit cgroups (units then fail with 219/CGROUP).
  const script = [
    'for d in $PAIRSTORE_LAB_CGROUPS; do mkdir -p "$d" && echo $$ > "$d/cgroup.procs" || exit 1; done',
    'while :; do',
    '  echo "[lab] $(date -Is) starting systemd-nspawn"',
    '  systemd-nspawn "$@"',
    '  rc=$?',
    '  echo "[lab] $(date -Is) systemd-nspawn exited with $rc"',
    '  [ "$rc" -eq 133 ] || exit "$rc"',
    'done',
  ].join("\n");
  const logFd = fs.openSync(path.join(dir, "console.log"), "a");
  let child;
  try {
    child = spawn("bash", ["-c", script, wrapperTag(h.name), ...nspawnArgs], {
      detached: true, // setsid: survives our process, own session
      stdio: ["ignore", logFd, logFd],
      env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network", PAIRSTORE_LAB_CGROUPS: cgroups.join(" ") },
      cwd: "/",
    });
  } finally {
    fs.closeSync(logFd);
  }
  if (!child.pid) throw new Error(`lab: could not spawn systemd-nspawn for ${h.name}`);
  writeFresh(pidFile(h.name), `${child.pid}\n`);
  child.unref();
  await waitForSsh(h);
}

/**
 * The host's own cgroup in each hierarchy systemd uses: name=systemd (v1) and
 * cgroup2 (hybrid "unified" or the only hierarchy).
 */
function hostCgroupDirs(name: string): string[] {
  const dirs: string[] = [];
  for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [pre, post] = line.split(" - ");
    if (!post) continue;
    const [fstype, , options = ""] = post.split(" ");
    const mountPoint = pre.split(" ")[4];
    if (fstype === "cgroup2" || (fstype === "cgroup" && options.split(",").includes("name=systemd"))) {
      dirs.push(path.join(mountPoint, "pairstore-lab", netnsName(name)));
    }
  }
  return dirs;
}

/** Removes a stopped host's cgroups (deepest first; best effort, a busy one stays). */
function removeHostCgroups(name: string): void {
  const prune = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) prune(path.join(dir, e.name));
    try {
      fs.rmdirSync(dir);
    } catch {
      /* busy or gone */
    }
  };
  for (const dir of hostCgroupDirs(name)) prune(dir);
}

/**
 * Kills processes left running in a host's network namespace after its
 * supervisor died (for example when the session that started it was
 * killed): a second guest on the same disk and network would fight the first.
 */
async function killOrphans(name: string): Promise<void> {
  const nsFile = `/run/netns/${netnsName(name)}`;
  if (!exists(nsFile)) return;
  const nsInode = fs.statSync(nsFile).ino;
  const orphans: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.statSync(`/proc/${entry}/ns/net`).ino === nsInode) orphans.push(Number(entry));
    } catch {
      /* gone or not ours to read */
    }
  }
  if (orphans.length === 0) return;
  log(`${name}: killing ${orphans.length} processes left from a previous boot`);
  for (const pid of orphans) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  await waitGone(orphans, 10_000);
}

export async function stopHost(name: string, opts: { hard?: boolean } = {}): Promise<void> {
  assertRootLinux();
  checkName(name);
  const wrapper = wrapperPid(name);
  if (wrapper === undefined) return;
  if (!opts.hard) {
    const nspawnPid = nspawnPidOf(wrapper);
    if (nspawnPid !== undefined) {
      // nspawn turns SIGTERM into SIGRTMIN+3 for the guest's systemd: an orderly poweroff.
      process.kill(nspawnPid, "SIGTERM");
      if (await waitGone([wrapper, nspawnPid], 30_000)) {
        await unplugHost(name);
        removeHostCgroups(name);
        return;
      }
      log(`warning: ${name} did not power off within 30 s; killing it`);
    }
  }
  // Power cut: the supervisor first (so it cannot restart anything), then the guest's PID 1
  // (the kernel then kills its whole PID namespace), then nspawn and everything else.
  const tree = descendants(wrapper);
  const procs = new Map(readProcs().map((p) => [p.pid, p]));
  const nspawnPids = tree.filter((p) => procs.get(p)?.comm === "systemd-nspawn");
  const order = [wrapper, ...tree.filter((p) => !nspawnPids.includes(p)), ...nspawnPids];
  for (const pid of order) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  if (!(await waitGone(order, 10_000))) {
    throw new Error(`lab: could not kill ${name} (pids ${order.filter(alive).join(" ")} still alive)`);
  }
  await unplugHost(name);
  removeHostCgroups(name);
}

/**
 * A powered-off machine's NICs are down and hold no addresses. The host's
 * network namespace outlives its processes, so without this a "dead" host
 * would keep answering ARP for the addresses heartbeat had brought up on it
 * and fight the peer that took them over. startHost brings the links up again.
 */
async function unplugHost(name: string): Promise<void> {
  const ns = netnsName(name);
  if (!exists(`/run/netns/${ns}`)) return;
  for (const dev of ["eth0", "eth1"]) {
    if (!linkExists(dev, ns)) continue;
    await run("ip", ["-n", ns, "link", "set", dev, "down"], { allowFail: true });
  }
  // eth1 (public) never has an address of its own: only heartbeat's, gone with the power.
  if (linkExists("eth1", ns)) await run("ip", ["-n", ns, "-4", "addr", "flush", "dev", "eth1"], { allowFail: true });
  // eth0 keeps the lab's management address (set from outside, the primary one); heartbeat's virtual IPs on it go.
  if (linkExists("eth0", ns)) {
    const r = await run("ip", ["-n", ns, "-4", "-o", "addr", "show", "dev", "eth0"], { allowFail: true });
    for (const line of r.stdout.split("\n")) {
      const m = / inet (\d+\.\d+\.\d+\.\d+\/\d+) .*\bsecondary\b/.exec(line);
      if (m) await run("ip", ["-n", ns, "addr", "del", m[1], "dev", "eth0"], { allowFail: true });
    }
  }
}

/**
 * Reinstalls a host as an operator would: powered off, its disk replaced by a
 * fresh copy of the base image (new SSH host keys and machine id, nothing
 * pairstore installed), booted again. labHostsUp then pins its new host key.
 */
export async function reinstallHost(h: LabHost): Promise<void> {
  await stopHost(h.name, { hard: true });
  const dir = hostDir(h.name);
  const merged = path.join(dir, "merged");
  if (isMounted(merged)) await run("umount", [merged]);
  for (const d of ["upper", "work"]) fs.rmSync(path.join(dir, d), { recursive: true, force: true });
  await startHost(h);
}

export async function rebootHost(h: LabHost): Promise<void> {
  await stopHost(h.name);
  await startHost(h);
}

export async function hostKey(name: string): Promise<string> {
  checkName(name);
  const file = path.join(hostDir(name), "upper/etc/ssh/ssh_host_ed25519_key.pub");
  const text = await fs.promises.readFile(file, "utf8").catch(() => {
    throw new Error(`lab: no host key for ${name} (${file}); start the host first.`);
  });
  const [type, key] = text.trim().split(/\s+/);
  return `${type} ${key}`;
}

/** Hosts built on another base than the current one (they lack packages the lab now caches). */
export function hostsOnOtherBase(): string[] {
  const base = currentBase();
  return listHostNames().filter((n) => {
    const lower = readLower(n);
    return base !== undefined && lower !== undefined && lower !== base;
  });
}

/** Names of hosts that have a directory under LAB_DIR/hosts. */
export function listHosts(): string[] {
  return listHostNames();
}

export async function destroyAll(): Promise<void> {
  assertRootLinux();
  const names = new Set(listHostNames());
  const netnsList = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout || "";
  for (const line of netnsList.split("\n")) {
    const ns = line.trim().split(/\s+/)[0];
    if (ns && ns.startsWith(`${TAG}-`) && NAME_RE.test(ns.slice(TAG.length + 1))) names.add(ns.slice(TAG.length + 1));
  }
  await Promise.all([...names].map((n) => stopHost(n, { hard: true })));
  for (const name of names) await killOrphans(name);
  for (const name of names) {
    const merged = path.join(hostDir(name), "merged");
    if (exists(merged) && isMounted(merged)) await run("umount", [merged]);
    const ns = netnsName(name);
    if (exists(`/run/netns/${ns}`)) await run("ip", ["netns", "del", ns]);
    for (const idx of [0, 1] as const) {
      const outer = outerVethName(name, idx);
      if (linkExists(outer)) await run("ip", ["link", "del", outer], { allowFail: true });
    }
    fs.rmSync(hostDir(name), { recursive: true, force: true });
  }
  for (const br of [MGMT_BRIDGE, PUBLIC_BRIDGE]) {
    if (linkExists(br)) await run("ip", ["link", "del", br]);
  }
  await run("nft", ["delete", "table", "inet", NFT_TABLE], { allowFail: true });
  bridgesReady = undefined;
}

// ---------------------------------------------------------------------------
// ssh

export async function sshRun(
  h: { mgmtIp: string },
  command: string,
  stdin?: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    "-i", labKeyPath(),
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=5",
    "-o", "IdentitiesOnly=yes",
    `root@${h.mgmtIp}`,
    command,
  ];
  return run("ssh", args, { input: stdin ?? "", allowFail: true, timeoutMs: opts.timeoutMs });
}
