/**
 * Smoke test for test/lab/hosts: two real hosts, checks, reboot, power cut.
 *   npx tsx test/lab/smoke.ts            run (leaves node-1a and node-1b running)
 *   npx tsx test/lab/smoke.ts --destroy  destroyAll() (keeps the base and key caches)
 */
import {
  LabHost,
  assertRootLinux,
  destroyAll,
  ensureBase,
  ensureLabKey,
  ensureOuterPackages,
  hostKey,
  isRunning,
  rebootHost,
  sshRun,
  startHost,
  stopHost,
} from "./hosts";

const CACHE = ["rsync", "lsyncd", "heartbeat", "build-essential", "libpcre2-dev", "zlib1g-dev", "curl"];
const A: LabHost = { name: "node-1a", mgmtIp: "10.77.0.11", publicIp: "198.51.100.11" };
const B: LabHost = { name: "node-1b", mgmtIp: "10.77.0.12", publicIp: "198.51.100.12" };

const timings: Array<[string, number]> = [];
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const r = await fn();
  const s = (Date.now() - t0) / 1000;
  timings.push([label, s]);
  console.log(`  ${label}: ${s.toFixed(2)} s`);
  return r;
}

async function must(h: LabHost, cmd: string, stdin?: string): Promise<string> {
  const r = await sshRun(h, cmd, stdin);
  if (r.code !== 0) throw new Error(`on ${h.name}: \`${cmd}\` exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-800)}`);
  return r.stdout.trim();
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`  ok: ${what}`);
}

async function identity(h: LabHost): Promise<{ boot: string; mac: string; ip: string }> {
  const out = await must(h, "cat /proc/sys/kernel/random/boot_id; cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0 | awk '{print $4}'");
  const [boot, mac, ip] = out.split("\n");
  return { boot, mac, ip };
}

async function reachFromA(): Promise<string> {
  return must(A, "timeout 5 bash -c 'exec 3<>/dev/tcp/10.77.0.12/22; head -c 7 <&3'");
}

async function main(): Promise<void> {
  assertRootLinux();
  if (process.argv.includes("--destroy")) {
    await destroyAll();
    console.log("lab hosts destroyed (base and key cache kept)");
    return;
  }
  const t0 = Date.now();
  console.log("setup");
  await timed("ensureOuterPackages", ensureOuterPackages);
  await timed("ensureLabKey", ensureLabKey);
  await timed("ensureBase", () => ensureBase(CACHE));

  console.log("start");
  await timed("startHost node-1a + node-1b (parallel)", () => Promise.all([startHost(A), startHost(B)]));

  console.log("checks");
  for (const h of [A, B]) {
    check((await must(h, "hostname")) === h.name, `${h.name}: ssh works and hostname is ${h.name}`);
    const state = await must(h, "systemctl is-system-running --wait || true");
    const failed = await must(h, "systemctl --failed --no-legend --plain | awk '{print $1}'");
    check(state === "running" && failed === "", `${h.name}: systemctl works, state=${state}${failed ? `, failed units: ${failed}` : ""}`);
    await must(h, "mount -t tmpfs -o size=16m tmpfs /mnt && umount /mnt");
    check(true, `${h.name}: tmpfs mount/umount`);
    await must(h, "sysctl -w net.ipv4.tcp_fin_timeout=30 >/dev/null && test $(cat /proc/sys/net/ipv4/tcp_fin_timeout) = 30");
    check(true, `${h.name}: sysctl -w net.ipv4.tcp_fin_timeout=30`);
    const eth1 = await must(h, "ip -o link show eth1; ip -4 -o addr show dev eth1");
    check(/state UP|,UP/.test(eth1) && !/inet /.test(eth1), `${h.name}: eth1 up without IPv4 address`);
    const key = await hostKey(h.name);
    const inside = await must(h, "cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub");
    check(key === inside && key.startsWith("ssh-ed25519 "), `${h.name}: hostKey() matches the host's key`);
  }
  check((await hostKey(A.name)) !== (await hostKey(B.name)), "host keys differ between hosts");
  await timed("offline apt-get install -y rsync (node-1a)", () => must(A, "DEBIAN_FRONTEND=noninteractive apt-get install -y rsync >/dev/null && rsync --version | head -1"));
  check(true, "node-1a: offline apt-get install rsync");
  await timed("all cache packages present (node-1b, --no-download)", () =>
    must(B, `DEBIAN_FRONTEND=noninteractive apt-get install -y --download-only --no-download ${CACHE.join(" ")} >/dev/null`),
  );
  check(true, "node-1b: every cache package and dependency is in /var/cache/apt/archives");
  check((await reachFromA()) === "SSH-2.0", "node-1a reaches node-1b 10.77.0.12:22 (bash /dev/tcp)");

  console.log("reboot node-1b (from outside)");
  const before = await identity(B);
  await timed("rebootHost node-1b", () => rebootHost(B));
  const after = await identity(B);
  check(after.boot !== before.boot, "node-1b: new boot id");
  check(after.mac === before.mac && after.ip === before.ip, `node-1b: same MAC ${after.mac} and IP ${after.ip}`);
  check((await timed("node-1a -> node-1b:22 after reboot", reachFromA)) === "SSH-2.0", "node-1a reaches node-1b after reboot");

  console.log("reboot node-1b from inside (systemctl reboot)");
  await sshRun(B, "systemctl reboot", undefined, { timeoutMs: 10_000 });
  await timed("in-guest reboot until ssh answers", async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await sshRun(B, "cat /proc/sys/kernel/random/boot_id", undefined, { timeoutMs: 6000 });
      if (r.code === 0 && r.stdout.trim() !== after.boot) return;
      if (Date.now() > deadline) throw new Error("node-1b did not come back after an in-guest reboot");
      await new Promise((res) => setTimeout(res, 200));
    }
  });
  check(isRunning(B.name), "node-1b: supervisor restarted nspawn after in-guest reboot");

  console.log("power cut node-1b");
  await timed("stopHost node-1b hard", () => stopHost(B.name, { hard: true }));
  check(!isRunning(B.name), "node-1b: not running after hard stop");
  await timed("startHost node-1b after power cut", () => startHost(B));
  const afterCut = await identity(B);
  check(afterCut.mac === before.mac && afterCut.ip === before.ip, "node-1b: same MAC/IP after power cut");
  check((await reachFromA()) === "SSH-2.0", "node-1a reaches node-1b after power cut");
  const installed = await must(A, "dpkg-query -W -f='${Status}' rsync");
  check(installed === "install ok installed", "node-1a: rsync still installed (disk persisted)");

  console.log("idempotency");
  await timed("startHost node-1a again (no-op)", () => startHost(A));

  console.log(`total: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log("timings:");
  for (const [label, s] of timings) console.log(`  ${s.toFixed(2).padStart(7)} s  ${label}`);
  console.log("\nSMOKE PASSED. node-1a (10.77.0.11) and node-1b (10.77.0.12) are still running.");
  console.log("Destroy with: npx tsx test/lab/smoke.ts --destroy");
}

main().catch((err: Error) => {
  console.error(`SMOKE FAILED: ${err.message}`);
  process.exit(1);
});
