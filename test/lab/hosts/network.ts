/**
 * Lab network: the management and public bridges with the no-forwarding guard,
 * and each host's network namespace, veths, addresses and routes.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import { spawnSync } from "node:child_process";
import { LAB_ID, type LabHost, MGMT_BRIDGE, MGMT_GATEWAY, MGMT_PREFIX, NFT_TABLE, PUBLIC_BRIDGE, PUBLIC_GATEWAY, PUBLIC_PREFIX } from "./constants";
import { macFor, netnsName, outerVethName } from "./naming";
import { exists, LabCommandError, run, tail } from "./util";

// ---------------------------------------------------------------------------
// network

export function linkExists(dev: string, netns?: string): boolean {
  const args = netns ? ["-n", netns, "link", "show", dev] : ["link", "show", dev];
  return spawnSync("ip", args, { stdio: "ignore" }).status === 0;
}

let bridgesReady: Promise<void> | undefined;

/** Forget the bridges set up by ensureBridges (destroyAll removed them). */
export function forgetBridges(): void {
  bridgesReady = undefined;
}

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
        // Only what differs: flushing the address of a bridge in use would cut
        // the controller's connections to the running hosts (a host added to a
        // running lab, e.g. PAIRSTORE_LAB_PAIRS=3, must not disturb the others).
        const want = `${ip}/${prefix}`;
        const have = (spawnSync("ip", ["-4", "-o", "addr", "show", "dev", br, "scope", "global"], { encoding: "utf8" }).stdout || "")
            .split("\n").map((l) => / inet (\S+) /.exec(l)?.[1]).filter((a): a is string => a !== undefined);
        for (const a of have.filter((a) => a !== want)) await run("ip", ["addr", "del", a, "dev", br]);
        if (!have.includes(want)) await run("ip", ["addr", "add", want, "dev", br]);
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

export async function ensureHostNetwork(h: LabHost): Promise<void> {
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
