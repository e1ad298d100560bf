/**
 * Lab-wide names and numbers: the lab id (several labs side by side), LAB_DIR,
 * bridge and network names/addresses, the Debian suite and packages, the units
 * masked in every host, and the LabHost shape.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */


/**
 * Several labs can run side by side (one per work tree): PAIRSTORE_LAB_ID 0-3
 * picks the lab's directory, bridge, namespace and subnet names. Lab 0 is the default.
 */
export const LAB_ID: number = labId(process.env.PAIRSTORE_LAB_ID);
export const TAG = LAB_ID === 0 ? "ps" : `ps${LAB_ID}`;
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
export const NFT_TABLE = LAB_ID === 0 ? "pairstore_lab" : `pairstore_lab${LAB_ID}`;

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
export const BASE_RECIPE_VERSION = 3;

/** Units that are useless or slow in a container without consoles or internet. */
export const MASKED_UNITS = [
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
