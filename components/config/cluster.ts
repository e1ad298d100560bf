// Stack config -> one typed, validated ClusterSpec. Every bad input fails here,
// before any resource is registered, with a message naming the key and the fix.
// This file holds the whole-cluster keys and the order of the checks; each
// role's own section (spec, defaults, parser) lives in components/roles/<role>/config.ts.
import { parseDns, type DnsSpec } from "../roles/dns/config";
import { checkHeartbeatPaths, checkVirtualIps, HEARTBEAT_DEFAULTS, parseHeartbeat, type HeartbeatSpec } from "../roles/heartbeat/config";
import { KERNEL_DEFAULTS, parseNofile, parseSysctl } from "../roles/kernel/config";
import { LOGS_DEFAULTS, parseLogs, type LogsSpec } from "../roles/logs/config";
import {
    NGINX_DEFAULTS, parseNginx, parseSecureLinkPrefix, parseUploaders, SITES_DEFAULTS, type NginxSpec,
} from "../roles/nginx/config";
import { parseExtraPackages } from "../roles/packages/config";
import { checkInotify, parseReplication, parseRsyncAuth, REPLICATION_DEFAULTS, type ReplicationSpec } from "../roles/replication/config";
import { checkPorts, checkUniqueness, NODE_DEFAULTS, parseDomains, parsePairs, type DomainSpec, type PairSpec } from "./nodes";
import { bool, ConfigError, editDistance, NAMESPACE, port, str, type ConfigFacts, type RawConfig } from "./readers";
import { parseShards, type ShardSpec } from "./shards";

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

/** Defaults of every optional key (each role's own defaults, gathered). */
export const DEFAULTS = {
    dataRoot: "/srv/images",
    publicPort: 80,
    nofile: KERNEL_DEFAULTS.nofile,
    logs: LOGS_DEFAULTS,
    replication: REPLICATION_DEFAULTS,
    sshPort: NODE_DEFAULTS.sshPort,
    sshUser: NODE_DEFAULTS.sshUser,
    nginx: NGINX_DEFAULTS,
    uploaders: SITES_DEFAULTS.uploaders,
    secureLinkPrefix: SITES_DEFAULTS.secureLinkPrefix,
    heartbeat: HEARTBEAT_DEFAULTS,
};

/** Config keys this program reads; anything else under `pairstore:` is a typo. */
export const KNOWN_KEYS = [
    "domains", "pairs", "dataRoot", "publicPort", "extraPackages", "sysctl", "nofile", "logs",
    "checkMode", "sshPrivateKey", "allowUnpinnedHostKeys", "nginx", "uploaders", "secureLinkSecret", "secureLinkPrefix",
    "shardDigits", "shards", "shardsCopiedByHand", "dns", "dnsTsigSecret", "replication", "rsyncSecret",
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
    const nofile = parseNofile(raw.nofile, key("nofile"), bad);

    const domains = parseDomains(raw.domains, key("domains"), bad);
    const pairs = parsePairs(raw.pairs, key("pairs"), allowUnpinned, bad);
    checkUniqueness(pairs, bad);
    checkPorts(domains, publicPort, bad);

    const extraPackages = parseExtraPackages(raw.extraPackages, key("extraPackages"), bad);

    const rsyncAuth = parseRsyncAuth(facts, bad);
    const sysctl = parseSysctl(raw.sysctl, key("sysctl"), bad);
    checkInotify(raw.sysctl, sysctl, domains.length, key("sysctl"), bad);
    const logs = parseLogs(raw.logs, key("logs"), bad);
    const nginx = parseNginx(raw.nginx, key("nginx"), nofile, facts, bad);
    const uploaders = parseUploaders(raw.uploaders, key("uploaders"), bad);
    const secureLinkPrefix = parseSecureLinkPrefix(raw.secureLinkPrefix, key("secureLinkPrefix"), bad);

    const replication = parseReplication(raw.replication, key("replication"), rsyncAuth, bad);
    const heartbeat = parseHeartbeat(raw.heartbeat, key("heartbeat"), bad);
    checkVirtualIps(pairs, heartbeat, bad);
    checkHeartbeatPaths(pairs, heartbeat, bad);
    const shards = parseShards(raw.shardDigits, raw.shards, raw.shardsCopiedByHand, pairs, bad);
    const dns = parseDns(raw.dns, domains, facts, allowUnpinned, bad);

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        domains, pairs, dataRoot, publicPort, extraPackages, sysctl, nofile, logs, checkMode,
        nginx, uploaders, secureLinkPrefix, replication, heartbeat, shards, dns,
    };
}
