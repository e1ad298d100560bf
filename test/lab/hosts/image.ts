/**
 * Host images: root/Linux precondition, the outer machine's packages, the cached
 * debootstrap tree and the read-only base rootfs every host's overlay sits on.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { BASE_INCLUDE, BASE_RECIPE_VERSION, DEBIAN_MIRROR, DEBIAN_SUITE, LAB_DIR, MASKED_UNITS, OUTER_PACKAGES } from "./constants";
import { listHostNames, readLower } from "./naming";
import { ensureLabKey } from "./ssh";
import { exists, log, run, sha, writeFresh } from "./util";

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
