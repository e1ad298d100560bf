// The lab cluster: two pairs of real Debian hosts on this machine, and the
// stack config that describes them to pairstore.
import { nodePackages } from "../../components/roles/packages/steps";
import type { StackConfig } from "../engine/project";
import { planShards, planToConfig } from "../../components/lib/shards";
import { pulumiConfigOf, stackConfig } from "../stack-config";
import { MGMT_GATEWAY, MGMT_NET, MGMT_PREFIX, PUBLIC_GATEWAY, PUBLIC_NET, PUBLIC_PREFIX, type LabHost } from "./hosts";

/** The lab's stack name. */
export const LAB_STACK = "lab";

/** Lab nodes: management/internal network MGMT_NET.0/24 (10.77.0.0/24 in lab 0), public network PUBLIC_NET.0/24 (198.51.100.0/24). */
export const LAB_PAIRS = [
    { name: "pair-1", nodes: [{ name: "node-1a", octet: 11 }, { name: "node-1b", octet: 12 }] },
    { name: "pair-2", nodes: [{ name: "node-2a", octet: 13 }, { name: "node-2b", octet: 14 }] },
];

/** The pair `PAIRSTORE_LAB_PAIRS=3 npm run lab` grows the lab with, in the same address scheme. */
export const LAB_GROWTH_PAIR = { name: "pair-3", nodes: [{ name: "node-3a", octet: 15 }, { name: "node-3b", octet: 16 }] };

/** A lab pair: its name and its nodes' names and last address octets. */
export type LabPair = (typeof LAB_PAIRS)[number];

/** The pairs of a lab of `count` pairs (2 or 3). */
export function labPairs(count = 2): LabPair[] {
    return count === 3 ? [...LAB_PAIRS, LAB_GROWTH_PAIR] : LAB_PAIRS;
}

/** `PAIRSTORE_LAB_PAIRS`: how many pairs `npm run lab` brings the lab to (2, the default, or 3). */
export function labPairCount(env: NodeJS.ProcessEnv = process.env): number {
    const v = env.PAIRSTORE_LAB_PAIRS ?? "2";
    if (v !== "2" && v !== "3") throw new Error(`PAIRSTORE_LAB_PAIRS=${v}: the lab has 2 or 3 pairs (unset means 2)`);
    return Number(v);
}

/** Lab domains. */
export const LAB_DOMAINS = [
    { name: "example.com", internalPort: 8081 },
    { name: "example.org", internalPort: 8082 },
];

/** Hosts' hard nofile limit is this machine's (20000), so the lab asks for less. */
export const LAB_NOFILE = 16384;

/** Packages the lab's base image caches so hosts install them offline: what the roles install, what the lab's tests and benchmarks use. */
export const LAB_CACHE_PACKAGES = [...new Set([
    ...nodePackages({ extraPackages: [] }),
    "rsync", "lsyncd", "heartbeat", "build-essential", "libpcre2-dev", "zlib1g-dev", "curl", "bind9", "bind9-dnsutils",
    // Debian's stock nginx, the baseline of `npm run bench:serve` (never started by its package: see test/bench/serve.ts)
    "nginx",
])].sort();

/**
 * Lab heartbeat timing: failover within seconds (keepalive 1 / deadtime 5, as
 * measured in DESIGN.md), initdead at its minimum of twice deadtime, and a
 * service check every 2 s (two failures of 2 s each stop heartbeat, two good
 * checks start it). Not every second: a check round costs ~0.1 s of CPU on
 * these hosts, and the lab's nodes share two cores with the tests.
 */
export const LAB_HEARTBEAT = {
    keepalive: 1, warntime: 3, deadtime: 5, initdead: 10,
    serviceCheck: { interval: 2, timeout: 2, failAfter: 2, recoverAfter: 2 },
};

/** A node's virtual IP on the internal network: its octet + 20 (node-1a 11 -> .31). */
export function labVirtualIp(octet: number): string {
    return `${MGMT_NET}.${octet + 20}`;
}

/** A node's static address on the public network, its second heartbeat path: its octet + 100 (node-1a 11 -> .111). */
export function labHeartbeatAddress(octet: number): string {
    return `${PUBLIC_NET}.${octet + 100}`;
}

/** The controller's address on the lab network: allowed to upload (pairstore:uploaders), like an application server. */
export const LAB_CONTROLLER_IP = MGMT_GATEWAY;

/** Every lab storage node of these pairs (the DNS host is labDnsHost()). */
export function labHosts(pairs: LabPair[] = LAB_PAIRS): LabHost[] {
    return pairs.flatMap((p) => p.nodes.map((n) => ({ name: n.name, mgmtIp: `${MGMT_NET}.${n.octet}`, publicIp: `${PUBLIC_NET}.${n.octet}` })));
}

/** Secrets and files of the lab stack that live on the controller. */
export interface LabSecrets {
    /** SSH private key of the lab. */
    privateKey: string;
    /** secure_link secret of the lab. */
    secureLinkSecret: string;
    /** heartbeat's authkey of the lab. */
    heartbeatAuthKey: string;
    /** Debian's nginx orig tarball (the upstream bytes), pushed to the hosts. */
    nginxSourceFile: string;
    /** Base64 secret of the TSIG key the lab's BIND accepts updates with. */
    tsigSecret: string;
}

/** The lab's DNS host: BIND, authoritative for the lab domains (test/lab/dns.ts sets it up). */
export const LAB_DNS = { name: "dns-1", octet: 20 };

/** TSIG key name the lab's BIND accepts updates of the RFC 2136 zone from. */
export const LAB_TSIG_KEY_NAME = "pairstore-lab";

/**
 * How the lab's DNS host serves the lab domains: example.com is a dynamic
 * zone updated over RFC 2136 (TSIG), example.org a static zone whose
 * master file includes pairstore's zone include file (bind backend).
 */
export const LAB_DNS_ZONES = [
    { zone: "example.com", backend: "rfc2136" as const, file: "/var/lib/bind/db.example.com" },
    { zone: "example.org", backend: "bind" as const, file: "/etc/bind/db.example.org" },
];

/** The lab's DNS host as a lab host. */
export function labDnsHost(): LabHost {
    return { name: LAB_DNS.name, mgmtIp: `${MGMT_NET}.${LAB_DNS.octet}` };
}

/** The lab's `pairstore:dns`: rfc2136 by default, the bind backend for example.org, short TTL so tests can move shards. */
export function labDnsConfig(dnsHostKey: string) {
    const server = `${MGMT_NET}.${LAB_DNS.octet}`;
    return {
        ttl: 300,
        backend: "rfc2136",
        rfc2136: { server, keyName: LAB_TSIG_KEY_NAME, algorithm: "hmac-sha256" },
        bind: { ssh: { host: server, user: "root", hostKey: dnsHostKey } },
        domains: Object.fromEntries(LAB_DNS_ZONES.filter((z) => z.backend === "bind").map((z) => [z.zone, { backend: "bind", zoneFile: z.file }])),
    };
}

/** The lab's secret config keys, each set with `pulumi config set --secret`. */
export const LAB_SECRET_KEYS = ["sshPrivateKey", "secureLinkSecret", "dnsTsigSecret", "heartbeatAuthKey"] as const;

/** Which pairs the lab stack lists, which of them retire, and the pinned shard plan (pairstore:shards). */
export interface LabLayout {
    /** The pairs, in config order. */
    pairs: LabPair[];
    /** Pairs marked retire: true (their shards move to the others). */
    retire: string[];
    /** Pairs marked dropUnserved: true (they drop their copies of shards they gave away); default none. */
    drop?: string[];
    /** Other `pairstore:` keys of the stack (a test's, e.g. replication.moveBwLimit); default none. */
    overrides?: Record<string, unknown>;
    /** The pinned plan, in config form. */
    shards: Record<string, string>;
}

/** The lab's first layout: two pairs, the alternating plan pinned. */
export function labLayout(): LabLayout {
    return { pairs: LAB_PAIRS, retire: [], shards: planToConfig(planShards(LAB_PAIRS.map((p) => p.name), 1)) };
}

/** The lab stack config, in the shape of `pulumi config --json`. */
export function labConfig(hostKeys: Record<string, string>, secrets: LabSecrets, overrides: Record<string, unknown> = {}, layout: LabLayout = labLayout()): StackConfig {
    overrides = { ...layout.overrides, ...overrides };
    const stack = stackConfig({
        networks: { ssh: MGMT_NET, internal: MGMT_NET, public: PUBLIC_NET, publicPrefix: PUBLIC_PREFIX, publicGateway: PUBLIC_GATEWAY, sshUser: "root" },
        pairs: layout.pairs.map((p) => ({
            name: p.name,
            ...(layout.retire.includes(p.name) ? { retire: true } : {}),
            ...(layout.drop?.includes(p.name) ? { dropUnserved: true } : {}),
            nodes: p.nodes.map((n) => ({
                name: n.name,
                octet: n.octet,
                hostKey: hostKeys[n.name],
                extra: {
                    virtualIps: [`${labVirtualIp(n.octet)}/${MGMT_PREFIX}`],
                    // A second heartbeat path: a static address of the node on the public network.
                    heartbeatPaths: [{ interface: "eth1", address: `${labHeartbeatAddress(n.octet)}/${PUBLIC_PREFIX}` }],
                },
            })),
        })),
        values: {
            domains: LAB_DOMAINS,
            nofile: LAB_NOFILE,
            logs: { tmpfsSize: "64m", interval: "5min" },
            // Hosts are offline: they get the tarball from the controller instead of nginx.org.
            nginx: { sourceFile: secrets.nginxSourceFile },
            uploaders: [`${LAB_CONTROLLER_IP}/32`],
            dns: labDnsConfig(hostKeys[LAB_DNS.name]),
            heartbeat: LAB_HEARTBEAT,
            shards: layout.shards,
            ...overrides,
        },
        secrets: {
            sshPrivateKey: secrets.privateKey,
            secureLinkSecret: secrets.secureLinkSecret,
            dnsTsigSecret: secrets.tsigSecret,
            heartbeatAuthKey: secrets.heartbeatAuthKey,
        } satisfies Record<(typeof LAB_SECRET_KEYS)[number], string>,
    });
    return pulumiConfigOf(stack);
}
