// Stack config -> one typed, validated ClusterSpec. Every bad input fails here,
// before any resource is registered, with a message naming the key and the fix.
import { parseDns, parseShards, type DnsSpec, type ShardSpec } from "./dns-config";
import { broadcastOf, formatIPv4, networkOf, parseIPv4, sameSubnet } from "./lib/net";

/** The namespace of every pairstore stack config key. */
export const NAMESPACE = "pairstore";

/** How to reach a node over SSH. */
export interface SshSpec {
    /** Address or DNS name the controller connects to. */
    host: string;
    /** SSH port. */
    port: number;
    /** Login user; steps run through `sudo -n` unless it is root. */
    user: string;
    /** Pinned host key ("ssh-ed25519 AAAA..."), or undefined when the stack opted out. */
    hostKey?: string;
}

/** The public IP a node owns and heartbeat moves to its peer. */
export interface PublicIpSpec {
    /** The address. */
    address: string;
    /** Prefix length of its subnet. */
    prefix: number;
    /** Interface it is brought up on (the same name on both nodes of a pair). */
    interface: string;
    /** Broadcast address of the subnet. */
    broadcast: string;
    /** Default gateway set when the address comes up (IPaddr_gw). */
    gateway: string;
}

/** One storage host. */
export interface NodeSpec {
    /** Host name; also heartbeat's node name. */
    name: string;
    /** SSH connection. */
    ssh: SshSpec;
    /** Public address served to clients. */
    publicIp: PublicIpSpec;
    /** Address on the pair's internal network (replication, peer fallback, DAV). */
    internalAddress: string;
    /** Extra addresses on the internal network this node owns through heartbeat (moved to the peer with its public IP). */
    virtualIps: VirtualIpSpec[];
    /** Raised after the host was reinstalled or its disks replaced: every step of the node runs again (default 0). */
    generation: number;
    /** heartbeat paths besides the internal network: a static address of this node on another link. */
    heartbeatPaths: HeartbeatPathSpec[];
}

/**
 * One more heartbeat path: a static address of the node on another link (the
 * public network, or a dedicated crossover cable). heartbeat also unicasts to
 * the peer's address on that link, so losing one link is not a dead peer; the
 * address is the node's own (it never moves) and gives the node a source
 * address there even while it holds none of heartbeat's.
 */
export interface HeartbeatPathSpec {
    /** The interface of that link (the same name on both nodes of the pair). */
    interface: string;
    /** The node's static address on it. */
    address: string;
    /** Its prefix length. */
    prefix: number;
}

/** A virtual IP on the internal network (a plain IPaddr2 heartbeat resource on `heartbeat.interface`). */
export interface VirtualIpSpec {
    /** The address. */
    address: string;
    /** Prefix length of the internal network. */
    prefix: number;
}

/** The node's service check: heartbeat runs only while nginx answers it. */
export interface ServiceCheckSpec {
    /** Seconds between two checks. */
    interval: number;
    /** Seconds a check may take (curl's -m). */
    timeout: number;
    /**
     * Failed checks in a row that stop heartbeat (the peer takes the node's
     * resources). While systemd restarts nginx (its unit is activating after a
     * crash), failed checks are forgiven for up to failAfter x interval seconds.
     */
    failAfter: number;
    /** Good checks in a row that start heartbeat again (the node takes its resources back). */
    recoverAfter: number;
}

/** heartbeat (R1 mode, haresources): moves each node's IPs to its peer. */
export interface HeartbeatSpec {
    /** Seconds between heartbeats (`keepalive`). */
    keepalive: number;
    /** Seconds of silence after which the peer is declared dead and its resources taken (`deadtime`). */
    deadtime: number;
    /** Seconds of silence after which a late heartbeat is logged (`warntime`). */
    warntime: number;
    /** Seconds a starting node waits for its peer before it takes the peer's resources (`initdead`). */
    initdead: number;
    /** UDP port of the heartbeats (`udpport`). */
    udpport: number;
    /** Resources go back to their home node when it is back (`auto_failback on`). */
    autoFailback: boolean;
    /** Interface of the internal network: heartbeats go out there to the peer (`ucast`), virtual IPs live there. */
    interface: string;
    /** syslog facility of heartbeat's messages (`logfacility`). */
    logFacility: string;
    /** The service check that puts a node whose nginx fails out of the pair. */
    serviceCheck: ServiceCheckSpec;
    /**
     * The monitor also asks the public gateway (ARP on the public interface)
     * every check: a node that cannot reach it gives up its IPs, and a node
     * takes over an address only while it reaches it.
     */
    gatewayCheck: boolean;
}

/** Two nodes that mirror each other. */
export interface PairSpec {
    /** Pair name. */
    name: string;
    /** Exactly two nodes, first one is provisioned first. */
    nodes: [NodeSpec, NodeSpec];
}

/** A domain whose files the cluster stores and serves. */
export interface DomainSpec {
    /** Domain name; files are served as `<shard>.image.<name>`. */
    name: string;
    /** The internal DAV/peer port of this domain. */
    internalPort: number;
}

/** tmpfs log directories and their 5-minute processing. */
export interface LogsSpec {
    /** tmpfs size per log directory (mount option `size=`). */
    tmpfsSize: string;
    /** Command that receives the rotated log files as arguments. */
    processCommand: string;
    /** systemd time span between two runs of the log processing. */
    interval: string;
    /** Days the default processor keeps compressed logs on disk. */
    keepDays: number;
}

/** nginx, built from source on every node. */
export interface NginxSpec {
    /** nginx version, e.g. 1.22.1. */
    version: string;
    /** sha256 of the source tarball (hex). */
    sha256: string;
    /** Where a host downloads the tarball (unless `sourceFile` is set). */
    url: string;
    /** A tarball on the machine running the program, pushed to each host instead of downloading. */
    sourceFile?: string;
    /** `./configure` flags chosen by the operator (modules); pairstore adds its own path flags. */
    configureFlags: string[];
    /** `worker_processes`: "auto" (one per core) or a number. */
    workerProcesses: string;
    /** `worker_connections` per worker. */
    workerConnections: number;
    /** `client_max_body_size` of the internal (upload) port. */
    maxUploadSize: string;
    /** nginx directives added to every domain's public server block (free text, checked by `nginx -t`). */
    extraPublicConfig: string;
    /** What one client may take of the public port, so it cannot exhaust worker_connections. */
    clientLimits: ClientLimitsSpec;
}

/**
 * Per-client limits on the public port (a client is one IPv4 address). Their
 * defaults are sized from `worker_connections` (see clientLimitDefaults); 0
 * turns a limit off.
 */
export interface ClientLimitsSpec {
    /**
     * Open TCP connections one client may hold to the public port, enforced by
     * the kernel (nftables `ct count`): it also counts connections whose
     * request headers never arrive, which nginx's limit_conn cannot see.
     */
    connections: number;
    /** Requests one client may have in progress at once (nginx `limit_conn`). */
    requests: number;
    /** Requests per second one client may make (nginx `limit_req`, burst of one second, no delay). */
    rate: number;
    /** Seconds a client has to send its request headers (`client_header_timeout`, every port). */
    headerTimeout: number;
}

/**
 * The default per-client limits for `worker_connections` wc: a quarter of
 * one worker's connections (so a client, even if every connection of it
 * lands on one worker, leaves that worker three quarters for everyone else
 * and the health check), an eighth of them as requests in progress, and 8
 * requests per second per worker connection (a safety valve, far above what
 * one address normally asks of one node).
 */
export function clientLimitDefaults(workerConnections: number): ClientLimitsSpec {
    return {
        connections: Math.floor(workerConnections / 4),
        requests: Math.floor(workerConnections / 8),
        rate: workerConnections * 8,
        headerTimeout: 10,
    };
}

/** Replication inside a pair: rsyncd + two-way lsyncd + catch-up timer. */
export interface ReplicationSpec {
    /** lsyncd's delay: seconds it collects events before one rsync run. */
    delay: number;
    /** systemd time span between two catch-up runs (full rsync toward the peer, no delete). */
    catchUpInterval: string;
    /** At most this many rsync processes per lsyncd. */
    maxProcesses: number;
    /** rsync authentication: true when `pairstore:rsyncSecret` is set (the secret itself is never in the spec). */
    auth: boolean;
}

/** Everything the program needs, validated. */
export interface ClusterSpec {
    /** Domains served by every pair. */
    domains: DomainSpec[];
    /** The pairs, in config order. */
    pairs: PairSpec[];
    /** Root directory of stored files (`<dataRoot>/<domain>/image`). */
    dataRoot: string;
    /** Public HTTP port. */
    publicPort: number;
    /** Extra Debian packages to install on every node. */
    extraPackages: string[];
    /** sysctl key -> value applied from /etc/sysctl.d. */
    sysctl: Record<string, string>;
    /** `nofile` soft and hard limit. */
    nofile: number;
    /** Log tmpfs and processing. */
    logs: LogsSpec;
    /** Replication inside each pair. */
    replication: ReplicationSpec;
    /** Render every step in check mode: report drift, change nothing. */
    checkMode: boolean;
    /** nginx build and tuning. */
    nginx: NginxSpec;
    /** Networks (CIDR) allowed to PUT/DELETE/MOVE on the internal ports, besides the peer. */
    uploaders: string[];
    /** URI prefix served only through secure_link (signed, expiring links), e.g. /private/. */
    secureLinkPrefix: string;
    /** The shard plan in force (`pairstore:shardDigits`, `pairstore:shards`). */
    shards: ShardSpec;
    /** Shard DNS records (`pairstore:dns`); undefined when the stack manages none. */
    dns?: DnsSpec;
    /** heartbeat and the service check. */
    heartbeat: HeartbeatSpec;
}

/** The seed's /etc/sysctl.conf, the defaults of `pairstore:sysctl`. */
export const DEFAULT_SYSCTL: Readonly<Record<string, string>> = {
    "net.ipv4.icmp_echo_ignore_broadcasts": "1",
    "net.ipv4.conf.all.rp_filter": "1",
    "fs.inotify.max_user_watches": "65536",
    "fs.inotify.max_queued_events": "65536",
    "net.ipv4.conf.default.promote_secondaries": "1",
    "net.ipv4.conf.all.promote_secondaries": "1",
    "net.ipv4.ip_nonlocal_bind": "1",
    "net.netfilter.nf_conntrack_max": "500000",
    "net.nf_conntrack_max": "500000",
    "net.ipv4.tcp_max_syn_backlog": "30000",
    "net.ipv4.tcp_max_tw_buckets": "2000000",
    "net.core.netdev_max_backlog": "100000",
    "net.ipv4.tcp_tw_reuse": "0",
    "net.ipv4.tcp_tw_recycle": "0",
    "net.ipv4.tcp_fin_timeout": "30",
    "net.ipv4.tcp_keepalive_time": "1800",
    "net.core.wmem_max": "8388608",
    "net.core.rmem_max": "8388608",
    "net.ipv4.tcp_rmem": "4096 87380 8388608",
    "net.ipv4.tcp_wmem": "4096 87380 8388608",
    "net.core.somaxconn": "2048",
    "kernel.pid_max": "65536",
};

/** Defaults of every optional key. */
export const DEFAULTS = {
    dataRoot: "/srv/images",
    publicPort: 80,
    nofile: 75000,
    logs: {
        tmpfsSize: "256m",
        processCommand: "/usr/local/lib/pairstore/archive-logs",
        interval: "5min",
        keepDays: 14,
    } as LogsSpec,
    replication: { delay: 1, catchUpInterval: "15min", maxProcesses: 4 },
    sshPort: 22,
    sshUser: "root",
    nginx: {
        version: "1.22.1",
        sha256: "9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31",
        url: "https://nginx.org/download/nginx-{version}.tar.gz",
        configureFlags: [
            "--with-http_dav_module",
            "--with-http_secure_link_module",
            // left out: modules a static-file node never uses (the seed's choice, brought up to date)
            "--without-http_ssi_module",
            "--without-http_auth_basic_module",
            "--without-http_autoindex_module",
            "--without-http_geo_module",
            "--without-http_map_module",
            "--without-http_referer_module",
            "--without-http_fastcgi_module",
            "--without-http_uwsgi_module",
            "--without-http_scgi_module",
            "--without-http_grpc_module",
            "--without-http_memcached_module",
            "--without-http_empty_gif_module",
            "--without-http_browser_module",
            "--without-http_userid_module",
            "--without-http_split_clients_module",
            "--without-http_upstream_hash_module",
            "--without-http_upstream_ip_hash_module",
            "--without-http_upstream_least_conn_module",
            "--without-http_upstream_random_module",
            "--without-http_upstream_zone_module",
            "--without-mail_pop3_module",
            "--without-mail_imap_module",
            "--without-mail_smtp_module",
        ],
        workerProcesses: "auto",
        workerConnections: 4096,
        maxUploadSize: "100m",
        extraPublicConfig: "",
    } as Omit<NginxSpec, "sourceFile" | "clientLimits">,
    uploaders: [] as string[],
    secureLinkPrefix: "/private/",
    /** The reference deployment's ha.cf values; the service check is pairstore's own (seed 003 checked every 30 s with mon). */
    heartbeat: {
        keepalive: 2,
        deadtime: 30,
        warntime: 10,
        initdead: 120,
        udpport: 670,
        autoFailback: true,
        interface: "eth0",
        logFacility: "local0",
        serviceCheck: { interval: 5, timeout: 2, failAfter: 2, recoverAfter: 3 },
        gatewayCheck: true,
    } as HeartbeatSpec,
};

/** The pinned sha256 of each nginx version pairstore knows (the default needs no sha256 key). */
export const KNOWN_NGINX_SHA256: Readonly<Record<string, string>> = {
    "1.22.1": "9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31",
};

/** Configure flags pairstore sets itself (paths the roles rely on); the operator may not set them. */
export const NGINX_OWNED_FLAGS = [
    "--prefix", "--sbin-path", "--conf-path", "--pid-path", "--lock-path", "--error-log-path", "--http-log-path",
    "--user", "--group", "--http-client-body-temp-path", "--http-proxy-temp-path", "--http-fastcgi-temp-path",
    "--http-uwsgi-temp-path", "--http-scgi-temp-path", "--with-pcre", "--with-zlib",
];

/** Modules the sites need: their --with flag must be there and their --without flag must not. */
export const NGINX_REQUIRED_MODULES: ReadonlyArray<{ flag: string; why: string }> = [
    { flag: "--with-http_dav_module", why: "the internal port takes PUT/DELETE/MOVE" },
    { flag: "--with-http_secure_link_module", why: "the private prefix is served through secure_link" },
    { flag: "--without-http_proxy_module", why: "a missing file is fetched from the peer" },
    { flag: "--without-http_rewrite_module", why: "the sites use if/return (write-once, method checks)" },
    { flag: "--without-http_mirror_module", why: "DELETE and MOVE are forwarded to the peer" },
    { flag: "--without-http_access_module", why: "the internal port allows only the peer and uploaders" },
    { flag: "--without-http_limit_conn_module", why: "the public port limits each client's requests in progress (nginx.clientLimits.requests)" },
    { flag: "--without-http_limit_req_module", why: "the public port limits each client's request rate (nginx.clientLimits.rate)" },
    { flag: "--without-pcre", why: "the sites use regular expressions" },
];

/** Config keys this program reads; anything else under `pairstore:` is a typo. */
export const KNOWN_KEYS = [
    "domains", "pairs", "dataRoot", "publicPort", "extraPackages", "sysctl", "nofile", "logs",
    "checkMode", "sshPrivateKey", "allowUnpinnedHostKeys", "nginx", "uploaders", "secureLinkSecret", "secureLinkPrefix",
    "shardDigits", "shards", "dns", "dnsTsigSecret", "replication", "rsyncSecret",
    "heartbeat", "heartbeatAuthKey",
] as const;

/** Keys that must be set with `--secret`, with how to set them. */
const SECRET_KEYS: Record<string, string> = {
    sshPrivateKey: "< ~/.ssh/id_ed25519",
    secureLinkSecret: "\"$(openssl rand -hex 32)\"",
    heartbeatAuthKey: "\"$(openssl rand -hex 32)\"",
};

/** The secrets every stack must set (Pulumi.yaml declares exactly these without a default). */
export const REQUIRED_SECRETS = Object.keys(SECRET_KEYS);

/**
 * Directories lsyncd watches per domain: the image root and its three hex
 * folder levels (1 + 16 + 256 + 4096, see layout.ts).
 */
export const DIRS_PER_DOMAIN = 1 + 16 + 256 + 4096;

/** inotify watches a node needs: every directory of every domain, plus room for other watchers. */
export function inotifyWatchesNeeded(domainCount: number): number {
    return domainCount * DIRS_PER_DOMAIN + 8192;
}

/** Ports a domain's internal port must not take. */
const RESERVED_PORTS: Record<number, string> = { 22: "ssh", 873: "rsyncd", 694: "heartbeat" };

/** Thrown with every problem found, one per line. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid pairstore stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** The stack's raw config: key (without namespace) -> parsed value. */
export type RawConfig = Record<string, unknown>;

/** Extra facts about the raw config that are not values (secrets are never read here). */
export interface ConfigFacts {
    /** Keys present in the stack config (without namespace). */
    presentKeys: string[];
    /** Keys stored as Pulumi secrets. */
    secretKeys: string[];
    /** Tells whether a file exists on the machine running the program (for nginx.sourceFile); unchecked when absent. */
    fileExists?: (path: string) => boolean;
}

export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;

/**
 * Why a pinned host key cannot be used, or undefined. The command provider
 * offers the server only the pinned key's own type (pulumi-command v1.2.1,
 * remote/connection.go: HostKeyAlgorithms = [key.Type()]); for an RSA key
 * that is "ssh-rsa", SHA-1 signatures, which OpenSSH 8.8 and later refuse,
 * so every step would fail to connect.
 */
export function hostKeyProblem(key: string, at: string, host: string): string | undefined {
    const scan = `\`ssh-keyscan -t ed25519 ${host || "HOST"} | cut -d' ' -f2-\``;
    if (!HOST_KEY.test(key)) return `${at} must look like "ssh-ed25519 AAAA..." (key type and base64 key): pin the output of ${scan}`;
    if (key.startsWith("ssh-rsa ")) {
        return `${at} is an RSA key: the command provider offers only the pinned key's type, "ssh-rsa" (SHA-1 signatures), ` +
            `which OpenSSH 8.8 and later refuse, so no step could connect; pin the host's ed25519 key instead (${scan})`;
    }
    return undefined;
}
const IFACE = /^[a-zA-Z0-9_.-]{1,15}$/;
const SIZE = /^[1-9][0-9]*[kmg]?$/;
const TIMESPAN = /^[1-9][0-9]*(s|sec|min|m|h)$/;
const SYSCTL_KEY = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

/**
 * Validates raw stack config into a ClusterSpec. Collects every problem before
 * throwing, so a user fixes a config in one round.
 */
export function parseClusterConfig(raw: RawConfig, facts: ConfigFacts): ClusterSpec {
    const problems: string[] = [];
    const bad = (msg: string) => problems.push(msg);
    const key = (k: string) => `${NAMESPACE}:${k}`;

    for (const k of facts.presentKeys) {
        if (!(KNOWN_KEYS as readonly string[]).includes(k)) {
            const near = KNOWN_KEYS.find((known) => editDistance(known.toLowerCase(), k.toLowerCase()) <= 3);
            bad(`${key(k)} is not a pairstore setting${near ? `; did you mean ${key(near)}?` : ""} (remove it with \`pulumi config rm ${key(k)}\`)`);
        }
    }

    for (const [k, how] of Object.entries(SECRET_KEYS)) {
        if (!facts.presentKeys.includes(k)) {
            bad(`${key(k)} is missing: set it with \`pulumi config set --secret ${key(k)} ${how}\``);
        } else if (!facts.secretKeys.includes(k)) {
            bad(`${key(k)} is stored in plain text: set it again with \`pulumi config set --secret ${key(k)} ${how}\``);
        }
    }

    const allowUnpinned = bool(raw.allowUnpinnedHostKeys, key("allowUnpinnedHostKeys"), false, bad);
    const checkMode = bool(raw.checkMode, key("checkMode"), false, bad);
    const dataRoot = str(raw.dataRoot, key("dataRoot"), DEFAULTS.dataRoot, bad);
    if (!/^\/[A-Za-z0-9_.\/-]*[A-Za-z0-9_.-]$/.test(dataRoot) || dataRoot.includes("..")) {
        bad(`${key("dataRoot")} "${dataRoot}" must be an absolute path without "..", for example /srv/images`);
    }
    const publicPort = port(raw.publicPort, key("publicPort"), DEFAULTS.publicPort, bad);
    const nofile = int(raw.nofile, key("nofile"), DEFAULTS.nofile, bad);
    if (nofile < 1024 || nofile > 1048576) bad(`${key("nofile")} ${nofile} must be between 1024 and 1048576`);

    const domains = parseDomains(raw.domains, key("domains"), bad);
    const pairs = parsePairs(raw.pairs, key("pairs"), allowUnpinned, bad);
    checkUniqueness(pairs, bad);
    checkPorts(domains, publicPort, bad);

    const extraPackages = list(raw.extraPackages, key("extraPackages"), bad).map((p, i) => {
        if (typeof p !== "string" || !PACKAGE.test(p)) bad(`${key("extraPackages")}[${i}] ${JSON.stringify(p)} is not a Debian package name`);
        return String(p);
    });

    let rsyncAuth = false;
    if (facts.presentKeys.includes("rsyncSecret")) {
        if (!facts.secretKeys.includes("rsyncSecret")) {
            bad(`${key("rsyncSecret")} is stored in plain text: set it again with \`pulumi config set --secret ${key("rsyncSecret")} <secret>\` ` +
                `(or remove it with \`pulumi config rm ${key("rsyncSecret")}\` to rely on the peer-only allow list)`);
        } else {
            rsyncAuth = true;
        }
    }
    const sysctl = parseSysctl(raw.sysctl, key("sysctl"), bad);
    checkInotify(raw.sysctl, sysctl, domains.length, key("sysctl"), bad);
    const logs = parseLogs(raw.logs, key("logs"), bad);
    const nginx = parseNginx(raw.nginx, key("nginx"), nofile, facts, bad);
    const uploaders = list(raw.uploaders, key("uploaders"), bad).map((u, i) => parseCidr(u, `${key("uploaders")}[${i}]`, bad));
    const secureLinkPrefix = str(raw.secureLinkPrefix, key("secureLinkPrefix"), DEFAULTS.secureLinkPrefix, bad);
    if (!/^\/([A-Za-z0-9._-]+\/)+$/.test(secureLinkPrefix) || secureLinkPrefix.includes("..")) {
        bad(`${key("secureLinkPrefix")} "${secureLinkPrefix}" must be a path that starts and ends with "/", such as /private/`);
    }

    const replication = parseReplication(raw.replication, key("replication"), rsyncAuth, bad);
    const heartbeat = parseHeartbeat(raw.heartbeat, key("heartbeat"), bad);
    checkVirtualIps(pairs, heartbeat, bad);
    checkHeartbeatPaths(pairs, heartbeat, bad);
    const shards = parseShards(raw.shardDigits, raw.shards, pairs, bad);
    const dns = parseDns(raw.dns, domains, facts, allowUnpinned, bad);

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        domains, pairs, dataRoot, publicPort, extraPackages, sysctl, nofile, logs, checkMode,
        nginx, uploaders, secureLinkPrefix, replication, heartbeat, shards, dns,
    };
}

function parseNginx(value: unknown, k: string, nofile: number, facts: ConfigFacts, bad: (m: string) => void): NginxSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = DEFAULTS.nginx;
    const version = str(o.version, `${k}.version`, d.version, bad);
    if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) bad(`${k}.version "${version}" must be an nginx release like 1.22.1`);
    let sha256 = o.sha256 === undefined ? KNOWN_NGINX_SHA256[version] ?? "" : str(o.sha256, `${k}.sha256`, "", bad).toLowerCase();
    if (sha256 === "") {
        bad(`${k}.sha256 is missing for nginx ${version}: set the tarball's checksum (sha256sum nginx-${version}.tar.gz) next to ${k}.version`);
    } else if (!/^[0-9a-f]{64}$/.test(sha256)) {
        bad(`${k}.sha256 must be 64 hex digits (the output of sha256sum)`);
        sha256 = "";
    }
    const url = str(o.url, `${k}.url`, d.url, bad).replace(/\{version\}/g, version);
    if (!/^(https?|ftp):\/\/[^\s'"]+$/.test(url)) bad(`${k}.url "${url}" must be an http(s) URL without quotes or spaces`);
    let sourceFile: string | undefined;
    if (o.sourceFile !== undefined) {
        sourceFile = str(o.sourceFile, `${k}.sourceFile`, "", bad);
        if (!sourceFile.startsWith("/")) bad(`${k}.sourceFile "${sourceFile}" must be an absolute path on the machine running pulumi`);
        else if (facts.fileExists && !facts.fileExists(sourceFile)) {
            bad(`${k}.sourceFile ${sourceFile} does not exist on this machine: download nginx-${version}.tar.gz there, or remove the key to let hosts download ${url}`);
        }
    }
    const configureFlags = o.configureFlags === undefined ? [...d.configureFlags]
        : list(o.configureFlags, `${k}.configureFlags`, bad).map((f, i) => {
            const flag = String(f);
            if (typeof f !== "string" || !/^--[a-z0-9_-]+(=[A-Za-z0-9_.\/,:=+-]+)?$/.test(flag)) {
                bad(`${k}.configureFlags[${i}] ${JSON.stringify(f)} is not a ./configure flag like --with-http_dav_module`);
            } else if (NGINX_OWNED_FLAGS.includes(flag.split("=")[0])) {
                bad(`${k}.configureFlags[${i}] ${flag} is set by pairstore (paths and libraries the roles rely on); remove it`);
            }
            return flag;
        });
    for (const m of NGINX_REQUIRED_MODULES) {
        const wanted = m.flag.startsWith("--with-");
        if (wanted !== configureFlags.includes(m.flag)) {
            bad(`${k}.configureFlags ${wanted ? "lacks" : "has"} ${m.flag}, but ${m.why}: ${wanted ? "add" : "remove"} it`);
        }
    }
    const wp = o.workerProcesses === undefined ? d.workerProcesses : String(o.workerProcesses);
    if (wp !== "auto" && !(/^[0-9]+$/.test(wp) && Number(wp) >= 1 && Number(wp) <= 512)) {
        bad(`${k}.workerProcesses "${wp}" must be auto (one per core) or a number from 1 to 512`);
    }
    const workerConnections = int(o.workerConnections, `${k}.workerConnections`, d.workerConnections, bad);
    if (workerConnections < 64 || workerConnections > 1048576) {
        bad(`${k}.workerConnections ${workerConnections} must be between 64 and 1048576`);
    } else if (workerConnections * 2 > nofile) {
        bad(`${k}.workerConnections ${workerConnections} needs up to ${workerConnections * 2} open files per worker (a proxied request holds two), ` +
            `above ${NAMESPACE}:nofile ${nofile}: lower it to ${Math.floor(nofile / 2)} or raise ${NAMESPACE}:nofile`);
    }
    const maxUploadSize = str(o.maxUploadSize, `${k}.maxUploadSize`, d.maxUploadSize, bad);
    if (!SIZE.test(maxUploadSize)) bad(`${k}.maxUploadSize "${maxUploadSize}" must be a size like 100m or 1g`);
    const extraPublicConfig = o.extraPublicConfig === undefined ? "" : str(o.extraPublicConfig, `${k}.extraPublicConfig`, "", bad);
    if (/\{\{/.test(extraPublicConfig)) bad(`${k}.extraPublicConfig must not contain "{{": it is nginx text, not a template`);
    const clientLimits = parseClientLimits(o.clientLimits, `${k}.clientLimits`, workerConnections, bad);
    unknownFields(o, ["version", "sha256", "url", "sourceFile", "configureFlags", "workerProcesses", "workerConnections",
        "maxUploadSize", "extraPublicConfig", "clientLimits"], k, bad);
    return {
        version, sha256, url, sourceFile, configureFlags, workerProcesses: wp, workerConnections, maxUploadSize, extraPublicConfig, clientLimits,
    };
}

/**
 * nginx.clientLimits: defaults from worker_connections; a connection or
 * request limit above half of one worker's connections would let one client
 * starve a worker (and the health check with it).
 */
function parseClientLimits(value: unknown, k: string, workerConnections: number, bad: (m: string) => void): ClientLimitsSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = clientLimitDefaults(workerConnections);
    const limits: ClientLimitsSpec = {
        connections: int(o.connections, `${k}.connections`, d.connections, bad),
        requests: int(o.requests, `${k}.requests`, d.requests, bad),
        rate: int(o.rate, `${k}.rate`, d.rate, bad),
        headerTimeout: int(o.headerTimeout, `${k}.headerTimeout`, d.headerTimeout, bad),
    };
    const half = Math.floor(workerConnections / 2);
    for (const f of ["connections", "requests"] as const) {
        const v = limits[f];
        if (v < 0 || v > half) {
            bad(`${k}.${f} ${v} must be between 1 and ${half} (half of ${NAMESPACE}:nginx.workerConnections ${workerConnections}, so one client ` +
                `always leaves a worker room for others and for the health check), or 0 to turn the limit off; the default is ${d[f]}`);
        }
    }
    if (limits.rate < 0 || limits.rate > 1_000_000) bad(`${k}.rate ${limits.rate} must be between 1 and 1000000 requests per second, or 0 to turn the limit off; the default is ${d.rate}`);
    if (limits.headerTimeout < 1 || limits.headerTimeout > 300) {
        bad(`${k}.headerTimeout ${limits.headerTimeout} must be between 1 and 300 seconds (how long a client may take to send its request headers); the default is ${d.headerTimeout}`);
    }
    unknownFields(o, ["connections", "requests", "rate", "headerTimeout"], k, bad);
    return limits;
}

/** An IPv4 network "a.b.c.d/n" (or a single address, taken as /32), normalized to its network address. */
function parseCidr(value: unknown, k: string, bad: (m: string) => void): string {
    const text = typeof value === "string" ? value.trim() : "";
    const m = /^([0-9.]+)(?:\/([0-9]{1,2}))?$/.exec(text);
    const addr = m ? parseIPv4(m[1]) : undefined;
    const prefix = m?.[2] === undefined ? 32 : Number(m[2]);
    if (addr === undefined || prefix > 32) {
        bad(`${k} ${JSON.stringify(value)} is not an IPv4 network like 192.0.2.0/24 or an address like 192.0.2.7`);
        return text;
    }
    const net = networkOf(addr, prefix);
    if (prefix !== 32 && net !== `${formatIPv4(addr)}/${prefix}`) {
        bad(`${k} ${text} has host bits set: write the network as ${net}`);
    }
    return prefix === 32 ? formatIPv4(addr) : net;
}

function parseDomains(value: unknown, k: string, bad: (m: string) => void): DomainSpec[] {
    if (value === undefined) {
        bad(`${k} is missing: list the domains served, for example [{name: example.com, internalPort: 8081}]`);
        return [];
    }
    const items = list(value, k, bad);
    if (items.length === 0) bad(`${k} is empty: list at least one domain, for example [{name: example.com, internalPort: 8081}]`);
    const seen = new Set<string>();
    return items.map((item, i) => {
        const at = `${k}[${i}]`;
        const o = obj(item, at, bad);
        const name = str(o.name, `${at}.name`, "", bad).toLowerCase();
        if (!HOSTNAME.test(name) || !name.includes(".")) bad(`${at}.name "${name}" is not a domain name like example.com`);
        if (seen.has(name)) bad(`${at}.name "${name}" is listed twice; list each domain once`);
        seen.add(name);
        if (o.internalPort === undefined) bad(`${at}.internalPort is missing: give each domain its own internal DAV port, for example ${8081 + i}`);
        const internalPort = port(o.internalPort, `${at}.internalPort`, 0, bad);
        unknownFields(o, ["name", "internalPort"], at, bad);
        return { name, internalPort };
    });
}

function parsePairs(value: unknown, k: string, allowUnpinned: boolean, bad: (m: string) => void): PairSpec[] {
    if (value === undefined) {
        bad(`${k} is missing: list the server pairs, each with exactly two nodes`);
        return [];
    }
    const items = list(value, k, bad);
    if (items.length === 0) bad(`${k} is empty: list at least one pair of two nodes`);
    let nodeCount = 0;
    const pairs = items.map((item, i) => {
        const at = `${k}[${i}]`;
        const o = obj(item, at, bad);
        const name = str(o.name, `${at}.name`, "", bad);
        if (!NODE_NAME.test(name)) bad(`${at}.name "${name}" must be lower-case letters, digits and dashes`);
        const nodes = list(o.nodes, `${at}.nodes`, bad);
        nodeCount += nodes.length;
        if (nodes.length !== 2) {
            bad(`${at} (${name}) has ${nodes.length} node${nodes.length === 1 ? "" : "s"}; a pair has exactly two: ` +
                (nodes.length < 2 ? "add its peer node" : "move the extra nodes into a pair of their own"));
        }
        unknownFields(o, ["name", "nodes"], at, bad);
        const parsed = nodes.map((n, j) => parseNode(n, `${at}.nodes[${j}]`, allowUnpinned, bad));
        if (parsed.length === 2) checkPeers(parsed[0], parsed[1], at, bad);
        return { name, nodes: parsed as [NodeSpec, NodeSpec] };
    });
    if (nodeCount % 2 === 1) {
        bad(`${k} has ${nodeCount} nodes, an odd number; servers are added in pairs: add a node or remove one`);
    }
    return pairs;
}

function parseNode(value: unknown, at: string, allowUnpinned: boolean, bad: (m: string) => void): NodeSpec {
    const o = obj(value, at, bad);
    const name = str(o.name, `${at}.name`, "", bad);
    if (!NODE_NAME.test(name)) bad(`${at}.name "${name}" must be a host name: lower-case letters, digits and dashes`);
    const sshRaw = obj(o.ssh, `${at}.ssh`, bad);
    const ssh: SshSpec = {
        host: str(sshRaw.host, `${at}.ssh.host`, "", bad),
        port: port(sshRaw.port, `${at}.ssh.port`, DEFAULTS.sshPort, bad),
        user: str(sshRaw.user, `${at}.ssh.user`, DEFAULTS.sshUser, bad),
        hostKey: sshRaw.hostKey === undefined ? undefined : str(sshRaw.hostKey, `${at}.ssh.hostKey`, "", bad).trim(),
    };
    if (!ssh.host || !(parseIPv4(ssh.host) !== undefined || HOSTNAME.test(ssh.host))) {
        bad(`${at}.ssh.host "${ssh.host}" must be an IPv4 address or a host name`);
    }
    if (!/^[a-z_][a-z0-9_-]*$/.test(ssh.user)) bad(`${at}.ssh.user "${ssh.user}" is not a valid user name`);
    if (ssh.hostKey === undefined) {
        if (!allowUnpinned) {
            bad(`${at}.ssh.hostKey is missing: pin the host key (the output of \`ssh-keyscan -t ed25519 ${ssh.host || "HOST"} | cut -d' ' -f2-\`), ` +
                `or opt out for the whole stack with \`pulumi config set ${NAMESPACE}:allowUnpinnedHostKeys true\``);
        }
    } else {
        ssh.hostKey = ssh.hostKey.split(/\s+/).slice(0, 2).join(" ");
        const problem = hostKeyProblem(ssh.hostKey, `${at}.ssh.hostKey`, ssh.host);
        if (problem) bad(problem);
    }
    unknownFields(sshRaw, ["host", "port", "user", "hostKey"], `${at}.ssh`, bad);

    const ipRaw = obj(o.publicIp, `${at}.publicIp`, bad);
    const address = str(ipRaw.address, `${at}.publicIp.address`, "", bad);
    const addr = parseIPv4(address);
    if (addr === undefined) bad(`${at}.publicIp.address "${address}" is not an IPv4 address`);
    const prefix = int(ipRaw.prefix, `${at}.publicIp.prefix`, -1, bad);
    const prefixOk = prefix >= 8 && prefix <= 30;
    if (!prefixOk) bad(`${at}.publicIp.prefix ${prefix} must be a prefix length between 8 and 30, for example 24`);
    const iface = str(ipRaw.interface, `${at}.publicIp.interface`, "", bad);
    if (!IFACE.test(iface)) bad(`${at}.publicIp.interface "${iface}" is not an interface name like eth1`);
    const gateway = str(ipRaw.gateway, `${at}.publicIp.gateway`, "", bad);
    const gw = parseIPv4(gateway);
    if (gw === undefined) bad(`${at}.publicIp.gateway "${gateway}" is not an IPv4 address`);
    let broadcast = ipRaw.broadcast === undefined ? "" : str(ipRaw.broadcast, `${at}.publicIp.broadcast`, "", bad);
    if (addr !== undefined && prefixOk) {
        const net = networkOf(addr, prefix);
        const bc = formatIPv4(broadcastOf(addr, prefix));
        if (addr === parseIPv4(net.split("/")[0]) || addr === broadcastOf(addr, prefix)) {
            bad(`${at}.publicIp.address ${address} is the network or broadcast address of ${net}; pick a host address`);
        }
        if (gw !== undefined && !sameSubnet(addr, gw, prefix)) {
            bad(`${at}.publicIp.address ${address}/${prefix} is outside the subnet of its gateway ${gateway}: ` +
                `fix the address, the prefix or ${at}.publicIp.gateway`);
        }
        if (gw !== undefined && gw === addr) bad(`${at}.publicIp.gateway ${gateway} is the node's own address`);
        if (broadcast === "") broadcast = bc;
        else if (broadcast !== bc) {
            bad(`${at}.publicIp.broadcast ${broadcast} is not the broadcast address of ${net}; use ${bc} or leave it out`);
        }
    }
    unknownFields(ipRaw, ["address", "prefix", "interface", "broadcast", "gateway"], `${at}.publicIp`, bad);

    const internalAddress = str(o.internalAddress, `${at}.internalAddress`, "", bad);
    if (parseIPv4(internalAddress) === undefined) bad(`${at}.internalAddress "${internalAddress}" is not an IPv4 address`);
    const virtualIps = list(o.virtualIps, `${at}.virtualIps`, bad).map((v, i) => {
        const text = typeof v === "string" ? v.trim() : "";
        const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
        const vip = m ? parseIPv4(m[1]) : undefined;
        const vprefix = m ? Number(m[2]) : -1;
        if (vip === undefined || vprefix < 8 || vprefix > 30) {
            bad(`${at}.virtualIps[${i}] ${JSON.stringify(v)} must be an address on the internal network with its prefix, like 10.0.0.125/24`);
            return { address: text, prefix: 0 };
        }
        return { address: formatIPv4(vip), prefix: vprefix };
    });
    const heartbeatPaths = list(o.heartbeatPaths, `${at}.heartbeatPaths`, bad).map((p, i) => {
        const pat = `${at}.heartbeatPaths[${i}]`;
        const po = obj(p, pat, bad);
        const pathIface = str(po.interface, `${pat}.interface`, "", bad);
        if (!IFACE.test(pathIface)) bad(`${pat}.interface "${pathIface}" is not an interface name like eth1`);
        const text = typeof po.address === "string" ? po.address.trim() : "";
        const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
        const a = m ? parseIPv4(m[1]) : undefined;
        const pp = m ? Number(m[2]) : -1;
        if (a === undefined || pp < 8 || pp > 30) {
            bad(`${pat}.address ${JSON.stringify(po.address)} must be this node's static address on ${pathIface || "that link"} with its prefix, like 203.0.113.125/24`);
            unknownFields(po, ["interface", "address"], pat, bad);
            return { interface: pathIface, address: text, prefix: 0 };
        }
        if (a === parseIPv4(networkOf(a, pp).split("/")[0]) || a === broadcastOf(a, pp)) {
            bad(`${pat}.address ${text} is the network or broadcast address of ${networkOf(a, pp)}; pick a host address`);
        }
        unknownFields(po, ["interface", "address"], pat, bad);
        return { interface: pathIface, address: formatIPv4(a), prefix: pp };
    });
    const generation = int(o.generation, `${at}.generation`, 0, bad);
    if (generation < 0) bad(`${at}.generation ${generation} must be 0 or more (raise it by one to run every step of the node again)`);
    unknownFields(o, ["name", "ssh", "publicIp", "internalAddress", "virtualIps", "generation", "heartbeatPaths"], at, bad);
    return {
        name, ssh, internalAddress,
        publicIp: { address, prefix, interface: iface, broadcast, gateway },
        virtualIps, generation,
        heartbeatPaths,
    };
}

/** Heartbeat moves each public IP to the peer, so both must live on the same subnet and interface. */
function checkPeers(a: NodeSpec, b: NodeSpec, at: string, bad: (m: string) => void) {
    const ipA = parseIPv4(a.publicIp.address);
    const ipB = parseIPv4(b.publicIp.address);
    if (ipA === undefined || ipB === undefined) return;
    if (a.publicIp.interface !== b.publicIp.interface) {
        bad(`${at}: ${b.name}'s publicIp.interface ${b.publicIp.interface} differs from ${a.name}'s ${a.publicIp.interface}; ` +
            `heartbeat brings each IP up on the peer under the same name, so use one interface name for both`);
    }
    if (a.publicIp.prefix !== b.publicIp.prefix || !sameSubnet(ipA, ipB, a.publicIp.prefix)) {
        bad(`${at}: ${a.name} (${a.publicIp.address}/${a.publicIp.prefix}) and ${b.name} (${b.publicIp.address}/${b.publicIp.prefix}) ` +
            `are not on one public subnet; each node takes over its peer's IP, so put both in the same subnet`);
    }
}

function checkUniqueness(pairs: PairSpec[], bad: (m: string) => void) {
    const first = new Map<string, string>();
    const once = (what: string, value: string, where: string) => {
        if (!value) return;
        const k = `${what}=${value}`;
        const prev = first.get(k);
        if (prev) bad(`${where} uses ${what} ${value}, already used by ${prev}; every node needs its own`);
        else first.set(k, where);
    };
    pairs.forEach((p, i) => {
        once("pair name", p.name, `${NAMESPACE}:pairs[${i}]`);
        p.nodes.forEach((n, j) => {
            const at = `${NAMESPACE}:pairs[${i}].nodes[${j}] (${n.name})`;
            once("node name", n.name, at);
            once("ssh address", `${n.ssh.host}:${n.ssh.port}`, at);
            once("public IP", n.publicIp.address, at);
            once("internal address", n.internalAddress, at);
        });
    });
}

/** heartbeat's timing, port, interface and the service check; every value is whole seconds or a count. */
function parseHeartbeat(value: unknown, k: string, bad: (m: string) => void): HeartbeatSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = DEFAULTS.heartbeat;
    const hb: HeartbeatSpec = {
        keepalive: int(o.keepalive, `${k}.keepalive`, d.keepalive, bad),
        deadtime: int(o.deadtime, `${k}.deadtime`, d.deadtime, bad),
        warntime: int(o.warntime, `${k}.warntime`, d.warntime, bad),
        initdead: int(o.initdead, `${k}.initdead`, d.initdead, bad),
        udpport: port(o.udpport, `${k}.udpport`, d.udpport, bad),
        autoFailback: bool(o.autoFailback, `${k}.autoFailback`, d.autoFailback, bad),
        interface: str(o.interface, `${k}.interface`, d.interface, bad),
        logFacility: str(o.logFacility, `${k}.logFacility`, d.logFacility, bad),
        serviceCheck: { ...d.serviceCheck },
        gatewayCheck: bool(o.gatewayCheck, `${k}.gatewayCheck`, d.gatewayCheck, bad),
    };
    if (hb.keepalive < 1 || hb.keepalive > 60) bad(`${k}.keepalive ${hb.keepalive} must be between 1 and 60 seconds, for example ${d.keepalive}`);
    if (hb.warntime <= hb.keepalive) {
        bad(`${k}.warntime ${hb.warntime} must be longer than ${k}.keepalive ${hb.keepalive} (a heartbeat is late only after it was due); for example ${hb.keepalive * 3}`);
    }
    if (hb.deadtime <= hb.warntime) {
        bad(`${k}.deadtime ${hb.deadtime} must be longer than ${k}.warntime ${hb.warntime} (warn about late heartbeats before declaring the peer dead); ` +
            `raise ${k}.deadtime or lower ${k}.warntime`);
    }
    if (hb.initdead < 2 * hb.deadtime) {
        bad(`${k}.initdead ${hb.initdead} must be at least twice ${k}.deadtime (${2 * hb.deadtime}): a booting network needs that long ` +
            `before a starting node may take its peer's resources; raise ${k}.initdead`);
    }
    if (!IFACE.test(hb.interface)) bad(`${k}.interface "${hb.interface}" is not an interface name like eth0 (the internal network's interface)`);
    if (!/^(auth|authpriv|daemon|user|local[0-7])$/.test(hb.logFacility)) {
        bad(`${k}.logFacility "${hb.logFacility}" must be a syslog facility: daemon, auth, authpriv, user or local0-local7`);
    }
    const sc = o.serviceCheck === undefined ? {} : obj(o.serviceCheck, `${k}.serviceCheck`, bad);
    const at = `${k}.serviceCheck`;
    hb.serviceCheck = {
        interval: int(sc.interval, `${at}.interval`, d.serviceCheck.interval, bad),
        timeout: int(sc.timeout, `${at}.timeout`, d.serviceCheck.timeout, bad),
        failAfter: int(sc.failAfter, `${at}.failAfter`, d.serviceCheck.failAfter, bad),
        recoverAfter: int(sc.recoverAfter, `${at}.recoverAfter`, d.serviceCheck.recoverAfter, bad),
    };
    const c = hb.serviceCheck;
    if (c.interval < 1 || c.interval > 300) bad(`${at}.interval ${c.interval} must be between 1 and 300 seconds, for example ${d.serviceCheck.interval}`);
    if (c.timeout < 1 || c.timeout > 60) bad(`${at}.timeout ${c.timeout} must be between 1 and 60 seconds, for example ${d.serviceCheck.timeout}`);
    if (c.failAfter < 1 || c.failAfter > 100) bad(`${at}.failAfter ${c.failAfter} must be between 1 and 100 failed checks in a row`);
    if (c.recoverAfter < 1 || c.recoverAfter > 100) bad(`${at}.recoverAfter ${c.recoverAfter} must be between 1 and 100 good checks in a row`);
    unknownFields(sc, ["interval", "timeout", "failAfter", "recoverAfter"], at, bad);
    unknownFields(o, ["keepalive", "deadtime", "warntime", "initdead", "udpport", "autoFailback", "interface", "logFacility", "serviceCheck",
        "gatewayCheck"], k, bad);
    return hb;
}

/** A virtual IP moves to the peer: it must lie on the internal network of both nodes and belong to nobody else. */
function checkVirtualIps(pairs: PairSpec[], heartbeat: HeartbeatSpec, bad: (m: string) => void) {
    const taken = new Map<string, string>();
    pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
        const at = `${NAMESPACE}:pairs[${i}].nodes[${j}] (${n.name})`;
        for (const a of [n.ssh.host, n.publicIp.address, n.internalAddress]) if (a && !taken.has(a)) taken.set(a, at);
    }));
    pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
        const at = `${NAMESPACE}:pairs[${i}].nodes[${j}].virtualIps`;
        n.virtualIps.forEach((v, m) => {
            const vip = parseIPv4(v.address);
            if (vip === undefined || v.prefix === 0) return; // reported by parseNode
            const owner = taken.get(v.address);
            if (owner) {
                bad(`${at}[${m}] ${v.address} is already used by ${owner}; give every virtual IP an address of its own`);
                return;
            }
            taken.set(v.address, `${at}[${m}]`);
            for (const x of p.nodes) {
                const inner = parseIPv4(x.internalAddress);
                if (inner !== undefined && !sameSubnet(vip, inner, v.prefix)) {
                    bad(`${at}[${m}] ${v.address}/${v.prefix} is outside the internal network of ${x.name} (${x.internalAddress}); ` +
                        `heartbeat brings it up on ${NAMESPACE}:heartbeat.interface ${heartbeat.interface} of either node, so pick an address in that subnet`);
                    break;
                }
            }
        });
    }));
}

/**
 * Extra heartbeat paths: both nodes of a pair on the same links, each pair of
 * addresses on one subnet, on the public network inside its subnet (and not
 * the gateway), and every address used nowhere else.
 */
function checkHeartbeatPaths(pairs: PairSpec[], heartbeat: HeartbeatSpec, bad: (m: string) => void) {
    const taken = new Map<string, string>();
    pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
        const at = `${NAMESPACE}:pairs[${i}].nodes[${j}] (${n.name})`;
        for (const a of [n.ssh.host, n.publicIp.address, n.publicIp.gateway, n.internalAddress, ...n.virtualIps.map((v) => v.address)]) {
            if (a && !taken.has(a)) taken.set(a, at);
        }
    }));
    pairs.forEach((p, i) => {
        p.nodes.forEach((n, j) => {
            const at = `${NAMESPACE}:pairs[${i}].nodes[${j}].heartbeatPaths`;
            const seen = new Set<string>();
            n.heartbeatPaths.forEach((hp, m) => {
                if (hp.prefix === 0) return; // reported by parseNode
                if (hp.interface === heartbeat.interface) {
                    bad(`${at}[${m}].interface ${hp.interface} is ${NAMESPACE}:heartbeat.interface, which is always a path (to the peer's internalAddress); ` +
                        `list only other links here, such as the public interface ${n.publicIp.interface}`);
                }
                if (seen.has(hp.interface)) bad(`${at}[${m}].interface ${hp.interface} is listed twice; give each link one static address`);
                seen.add(hp.interface);
                const owner = taken.get(hp.address);
                if (owner) bad(`${at}[${m}].address ${hp.address} is already used by ${owner}; a heartbeat path needs an address of its own that never moves`);
                else taken.set(hp.address, `${at}[${m}]`);
                const addr = parseIPv4(hp.address);
                const pub = parseIPv4(n.publicIp.address);
                if (hp.interface === n.publicIp.interface && addr !== undefined && pub !== undefined && n.publicIp.prefix > 0 &&
                    (hp.prefix !== n.publicIp.prefix || !sameSubnet(addr, pub, n.publicIp.prefix))) {
                    bad(`${at}[${m}].address ${hp.address}/${hp.prefix} is on ${hp.interface}, the public interface, but outside the public subnet of ` +
                        `${n.publicIp.address}/${n.publicIp.prefix}: use an address of that subnet`);
                }
            });
        });
        const [a, b] = p.nodes;
        if (!a || !b) return;
        const ifacesOf = (n: NodeSpec) => n.heartbeatPaths.map((hp) => hp.interface);
        for (const [x, y, jy] of [[a, b, 1], [b, a, 0]] as const) {
            for (const iface of ifacesOf(x)) {
                if (!ifacesOf(y).includes(iface)) {
                    bad(`${NAMESPACE}:pairs[${i}].nodes[${jy}].heartbeatPaths has no path on ${iface}, but its peer ${x.name} has one: ` +
                        `heartbeat unicasts to the peer's address on each link, so give ${y.name} a static address on ${iface} too (or remove ${x.name}'s)`);
                }
            }
        }
        for (const hp of a.heartbeatPaths) {
            const other = b.heartbeatPaths.find((x) => x.interface === hp.interface);
            const ax = parseIPv4(hp.address);
            const bx = other ? parseIPv4(other.address) : undefined;
            if (!other || ax === undefined || bx === undefined || hp.prefix === 0 || other.prefix === 0) continue;
            if (hp.prefix !== other.prefix || !sameSubnet(ax, bx, hp.prefix)) {
                bad(`${NAMESPACE}:pairs[${i}]: the heartbeat path on ${hp.interface} of ${a.name} (${hp.address}/${hp.prefix}) and of ${b.name} ` +
                    `(${other.address}/${other.prefix}) are not on one subnet; put both addresses of a link in the same subnet`);
            }
        }
    });
}

function checkPorts(domains: DomainSpec[], publicPort: number, bad: (m: string) => void) {
    const used = new Map<number, string>([[publicPort, `${NAMESPACE}:publicPort`]]);
    for (const [p, what] of Object.entries(RESERVED_PORTS)) {
        if (Number(p) === publicPort) bad(`${NAMESPACE}:publicPort ${publicPort} is ${what}'s port; pick another, for example 80`);
        used.set(Number(p), what);
    }
    domains.forEach((d, i) => {
        if (!d.internalPort) return;
        const prev = used.get(d.internalPort);
        if (prev) bad(`${NAMESPACE}:domains[${i}].internalPort ${d.internalPort} is already used by ${prev}; give each domain its own port`);
        else used.set(d.internalPort, `${NAMESPACE}:domains[${i}].internalPort (${d.name})`);
    });
}

function parseSysctl(value: unknown, k: string, bad: (m: string) => void): Record<string, string> {
    const merged: Record<string, string> = { ...DEFAULT_SYSCTL };
    if (value === undefined) return merged;
    const o = obj(value, k, bad);
    for (const [name, v] of Object.entries(o)) {
        if (!SYSCTL_KEY.test(name)) {
            bad(`${k}.${name} is not a sysctl key like net.core.somaxconn`);
            continue;
        }
        if (v === null) {
            delete merged[name];
            continue;
        }
        if (typeof v !== "string" && typeof v !== "number") {
            bad(`${k}.${name} must be a number or a string of numbers, or null to leave the key alone`);
            continue;
        }
        const text = String(v).trim().replace(/\s+/g, " ");
        if (!/^[0-9a-zA-Z _.:-]+$/.test(text)) bad(`${k}.${name} value "${text}" has characters a sysctl value does not take`);
        merged[name] = text;
    }
    if (merged["net.ipv4.tcp_tw_recycle"] !== undefined && merged["net.ipv4.tcp_tw_recycle"] !== "0") {
        bad(`${k}.net.ipv4.tcp_tw_recycle must stay 0: it drops connections from clients behind NAT (and Linux 4.12 removed it); set it to 0 or null`);
    }
    return merged;
}

function parseLogs(value: unknown, k: string, bad: (m: string) => void): LogsSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const logs: LogsSpec = {
        tmpfsSize: str(o.tmpfsSize, `${k}.tmpfsSize`, DEFAULTS.logs.tmpfsSize, bad),
        processCommand: str(o.processCommand, `${k}.processCommand`, DEFAULTS.logs.processCommand, bad),
        interval: str(o.interval, `${k}.interval`, DEFAULTS.logs.interval, bad),
        keepDays: int(o.keepDays, `${k}.keepDays`, DEFAULTS.logs.keepDays, bad),
    };
    if (!SIZE.test(logs.tmpfsSize)) bad(`${k}.tmpfsSize "${logs.tmpfsSize}" must be a size like 256m or 1g`);
    if (!TIMESPAN.test(logs.interval)) bad(`${k}.interval "${logs.interval}" must be a time span like 5min, 300s or 1h`);
    if (!logs.processCommand.startsWith("/") || /['\n]/.test(logs.processCommand)) {
        bad(`${k}.processCommand must be an absolute path to a program (it gets the rotated log files as arguments), without quotes`);
    }
    if (logs.keepDays < 1) bad(`${k}.keepDays must be at least 1`);
    unknownFields(o, ["tmpfsSize", "processCommand", "interval", "keepDays"], k, bad);
    return logs;
}

/**
 * lsyncd watches every directory: fs.inotify.max_user_watches must lie above
 * their number. The default grows with the domains; an explicit lower value is
 * an error. (A host that refuses the key is reported by the sysctl and
 * replication-inotify steps.)
 */
function checkInotify(rawSysctl: unknown, sysctl: Record<string, string>, domainCount: number, k: string, bad: (m: string) => void) {
    const name = "fs.inotify.max_user_watches";
    const needed = inotifyWatchesNeeded(domainCount);
    const explicit = rawSysctl && typeof rawSysctl === "object" && name in (rawSysctl as object);
    const value = sysctl[name];
    if (value === undefined) return; // null: the stack leaves the host's value alone
    if (!/^\d+$/.test(value)) {
        bad(`${k}.${name} "${value}" must be a whole number of watches, at least ${needed}`);
    } else if (Number(value) < needed) {
        if (explicit) {
            bad(`${k}.${name} ${value} is below the ${needed} inotify watches lsyncd needs for ${domainCount} domain(s) ` +
                `(${DIRS_PER_DOMAIN} directories each, plus 8192); raise it to at least ${needed}, or null to leave the host's value`);
        } else {
            sysctl[name] = String(Math.ceil(needed / 65536) * 65536);
        }
    }
}

function parseReplication(value: unknown, k: string, auth: boolean, bad: (m: string) => void): ReplicationSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = DEFAULTS.replication;
    const delay = int(o.delay, `${k}.delay`, d.delay, bad);
    // At least 1 s: a received file is told from a local write by its ctime lying after its mtime (see ECHO_MS).
    if (delay < 1 || delay > 3600) bad(`${k}.delay ${delay} must be between 1 and 3600 seconds (lsyncd's delay; 1 is a good start)`);
    const catchUpInterval = str(o.catchUpInterval, `${k}.catchUpInterval`, d.catchUpInterval, bad);
    if (!TIMESPAN.test(catchUpInterval)) bad(`${k}.catchUpInterval "${catchUpInterval}" must be a time span like 15min, 900s or 1h`);
    const maxProcesses = int(o.maxProcesses, `${k}.maxProcesses`, d.maxProcesses, bad);
    if (maxProcesses < 1 || maxProcesses > 64) bad(`${k}.maxProcesses ${maxProcesses} must be between 1 and 64`);
    unknownFields(o, ["delay", "catchUpInterval", "maxProcesses"], k, bad);
    return { delay, catchUpInterval, maxProcesses, auth };
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[b.length];
}

// --- small typed readers; each reports a wrong type by key and falls back to a default ---

export function list(v: unknown, k: string, bad: (m: string) => void): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
        bad(`${k} must be a list`);
        return [];
    }
    return v;
}

export function obj(v: unknown, k: string, bad: (m: string) => void): Record<string, unknown> {
    if (v === undefined) {
        bad(`${k} is missing`);
        return {};
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        bad(`${k} must be an object`);
        return {};
    }
    return v as Record<string, unknown>;
}

export function str(v: unknown, k: string, dflt: string, bad: (m: string) => void): string {
    if (v === undefined) {
        if (dflt === "") bad(`${k} is missing`);
        return dflt;
    }
    if (typeof v !== "string" && typeof v !== "number") {
        bad(`${k} must be a string`);
        return dflt;
    }
    return String(v);
}

export function int(v: unknown, k: string, dflt: number, bad: (m: string) => void): number {
    if (v === undefined) return dflt;
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n)) {
        bad(`${k} must be a whole number`);
        return dflt;
    }
    return n;
}

export function port(v: unknown, k: string, dflt: number, bad: (m: string) => void): number {
    const p = int(v, k, dflt, bad);
    if (v !== undefined && (p < 1 || p > 65535)) bad(`${k} ${p} is not a TCP port (1-65535)`);
    return p;
}

export function bool(v: unknown, k: string, dflt: boolean, bad: (m: string) => void): boolean {
    if (v === undefined) return dflt;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    bad(`${k} must be true or false`);
    return dflt;
}

export function unknownFields(o: Record<string, unknown>, allowed: string[], at: string, bad: (m: string) => void) {
    for (const f of Object.keys(o)) {
        if (!allowed.includes(f)) bad(`${at}.${f} is not a known field; expected one of: ${allowed.join(", ")}`);
    }
}
