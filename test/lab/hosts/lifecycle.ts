/**
 * Host lifecycle: prepare a host's overlay disk, start it under systemd-nspawn,
 * wait for sshd, stop, reboot, reinstall, read its host key, destroy the lab.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type LabHost, MGMT_BRIDGE, MGMT_NET, NFT_TABLE, PUBLIC_BRIDGE, TAG } from "./constants";
import { assertRootLinux, currentBase } from "./image";
import { checkName, hostDir, listHostNames, NAME_RE, netnsName, outerVethName, readLower } from "./naming";
import { ensureHostNetwork, forgetBridges, linkExists } from "./network";
import { alive, descendants, isRunning, nspawnPidOf, pidFile, readProcs, waitGone, wrapperPid, wrapperTag } from "./process";
import { sshRun } from "./ssh";
import { exists, log, run, tail, writeFresh } from "./util";

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
  for (const d of ["upper", "work"]) await fs.promises.rm(path.join(dir, d), { recursive: true, force: true });
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

/** Powers a host off for good and removes its disk, network namespace and links (a server taken out of the lab). */
export async function destroyHost(name: string): Promise<void> {
  assertRootLinux();
  checkName(name);
  await stopHost(name, { hard: true });
  await removeHost(name);
}

async function removeHost(name: string): Promise<void> {
  await killOrphans(name);
  const merged = path.join(hostDir(name), "merged");
  if (exists(merged) && isMounted(merged)) await run("umount", [merged]);
  const ns = netnsName(name);
  if (exists(`/run/netns/${ns}`)) await run("ip", ["netns", "del", ns]);
  for (const idx of [0, 1] as const) {
    const outer = outerVethName(name, idx);
    if (linkExists(outer)) await run("ip", ["link", "del", outer], { allowFail: true });
  }
  // Not rmSync: a host's disk takes seconds to remove, and the tests' read
  // loops run in this process meanwhile (a blocked event loop times them out).
  await fs.promises.rm(hostDir(name), { recursive: true, force: true });
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
  for (const name of names) await removeHost(name);
  for (const br of [MGMT_BRIDGE, PUBLIC_BRIDGE]) {
    if (linkExists(br)) await run("ip", ["link", "del", br]);
  }
  await run("nft", ["delete", "table", "inet", NFT_TABLE], { allowFail: true });
  forgetBridges();
}
