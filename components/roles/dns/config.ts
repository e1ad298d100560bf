// The DNS role's config section: `pairstore:dns` (backends rfc2136 and bind,
// per-domain zone and TTL) and the secret `pairstore:dnsTsigSecret`. Part of
// parseClusterConfig: every problem names the key and the fix.
import { hostKeyProblem, type DomainSpec, type SshSpec } from "../../config/nodes";
import { HOSTNAME, NAMESPACE, int, obj, port, str, unknownFields, type ConfigFacts } from "../../config/readers";
import { parseIPv4 } from "../../lib/net";

/** How a domain's shard records reach its DNS server. */
export type DnsBackendType = "rfc2136" | "bind";
export const DNS_BACKENDS: readonly DnsBackendType[] = ["rfc2136", "bind"];

/** TSIG algorithms nsupdate, BIND, Knot and PowerDNS all know. */
export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1", "hmac-md5"] as const;

/** RFC 2136 dynamic updates signed with TSIG, sent by nsupdate from the machine running Pulumi. */
export interface Rfc2136Spec {
    /** The primary (authoritative) server's address or name. */
    server: string;
    /** Its DNS port. */
    port: number;
    /** TSIG key name, as the server knows it. */
    keyName: string;
    /** TSIG algorithm. */
    algorithm: string;
}

/** A BIND primary reached over SSH, where pairstore writes one zone include file per domain. */
export interface BindSpec {
    /** SSH connection to the BIND host. */
    ssh: SshSpec;
    /** Address clients query (for outputs and checks); defaults to ssh.host. */
    server: string;
    /** Directory of pairstore's include files on the BIND host. */
    includeDir: string;
}

/** The DNS of one domain. */
export interface DnsDomainSpec {
    /** The domain: records are `<shard>.image.<domain>`. */
    domain: string;
    /** The zone holding them (the domain itself by default). */
    zone: string;
    /** Which backend writes them. */
    backend: DnsBackendType;
    /** TTL of the records, in seconds. */
    ttl: number;
    /** bind backend: the zone's master file on the BIND host (it gets an $INCLUDE of `includeFile`). */
    zoneFile?: string;
    /** bind backend: the include file pairstore writes. */
    includeFile?: string;
}

/** `pairstore:dns`, validated. */
export interface DnsSpec {
    rfc2136?: Rfc2136Spec;
    bind?: BindSpec;
    /** One entry per domain of `pairstore:domains`, in that order. */
    domains: DnsDomainSpec[];
}

export const DNS_DEFAULTS = {
    ttl: 3600,
    backend: "rfc2136" as DnsBackendType,
    port: 53,
    keyName: "pairstore",
    algorithm: "hmac-sha256",
    includeDir: "/etc/bind/pairstore",
    /** `{{zone}}` is replaced by the zone name. */
    zoneFile: "/etc/bind/db.{{zone}}",
};

/** Longest TTL accepted (one week): a shard move waits one old TTL. */
export const MAX_TTL = 604800;
const ABS_PATH = /^\/[A-Za-z0-9_.\/@+-]*[A-Za-z0-9_.@+-]$/;
const KEY_NAME = /^[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*\.?$/;

const key = (k: string) => `${NAMESPACE}:${k}`;

/** An IPv4 address or a host name (a dotted number that is no IPv4 address is neither). */
function isHost(v: string): boolean {
    return parseIPv4(v) !== undefined || (HOSTNAME.test(v) && !/^[\d.]+$/.test(v));
}

/**
 * `pairstore:dns` -> DnsSpec, or undefined when the key is absent (the stack
 * then manages no DNS records). `dnsTsigSecret` is checked for presence and
 * secrecy only: its value is never read here.
 */
export function parseDns(value: unknown, domains: DomainSpec[], facts: ConfigFacts, allowUnpinned: boolean, bad: (m: string) => void): DnsSpec | undefined {
    const k = key("dns");
    const tsigKey = key("dnsTsigSecret");
    if (value === undefined) {
        if (facts.presentKeys.includes("dnsTsigSecret")) bad(`${tsigKey} is set but ${k} is not: configure ${k} (see README) or remove the secret with \`pulumi config rm ${tsigKey}\``);
        return undefined;
    }
    const o = obj(value, k, bad);
    unknownFields(o, ["ttl", "backend", "rfc2136", "bind", "domains"], k, bad);
    const ttl = parseTtl(o.ttl, `${k}.ttl`, DNS_DEFAULTS.ttl, bad);
    const backend = parseBackend(o.backend, `${k}.backend`, DNS_DEFAULTS.backend, bad);

    const perDomain = o.domains === undefined ? {} : obj(o.domains, `${k}.domains`, bad);
    const known = new Set(domains.map((d) => d.name));
    for (const name of Object.keys(perDomain)) {
        if (!known.has(name.toLowerCase())) {
            bad(`${k}.domains.${name} is not one of ${key("domains")} (${[...known].join(", ") || "none"}): fix the name or add the domain to ${key("domains")}`);
        }
    }
    const specs: DnsDomainSpec[] = domains.map((d) => {
        const at = `${k}.domains.${d.name}`;
        const entry = Object.entries(perDomain).find(([n]) => n.toLowerCase() === d.name)?.[1];
        const e = entry === undefined ? {} : obj(entry, at, bad);
        unknownFields(e, ["zone", "backend", "ttl", "zoneFile"], at, bad);
        const zone = str(e.zone, `${at}.zone`, d.name, bad).toLowerCase().replace(/\.$/, "");
        const fqdn = `image.${d.name}`;
        if (!HOSTNAME.test(zone)) bad(`${at}.zone "${zone}" is not a DNS zone name like ${d.name}`);
        else if (fqdn !== zone && !fqdn.endsWith(`.${zone}`)) {
            bad(`${at}.zone "${zone}" does not contain the shard names *.${fqdn}: use ${d.name}, a parent zone of it, or ${fqdn}`);
        }
        const b = parseBackend(e.backend, `${at}.backend`, backend, bad);
        const spec: DnsDomainSpec = { domain: d.name, zone, backend: b, ttl: parseTtl(e.ttl, `${at}.ttl`, ttl, bad) };
        if (b === "bind") {
            spec.zoneFile = str(e.zoneFile, `${at}.zoneFile`, DNS_DEFAULTS.zoneFile.replace("{{zone}}", zone), bad);
            if (!ABS_PATH.test(spec.zoneFile) || spec.zoneFile.includes("..")) {
                bad(`${at}.zoneFile "${spec.zoneFile}" must be the absolute path of the zone's master file on the BIND host, for example /etc/bind/db.${zone}`);
            }
        } else if (e.zoneFile !== undefined) {
            bad(`${at}.zoneFile is only used by the bind backend: remove it or set ${at}.backend to bind`);
        }
        return spec;
    });

    // A backend's settings are checked when set, and required when a domain uses it;
    // settings no domain uses (yet, or any more) are kept, so a domain can switch back.
    const uses = (b: DnsBackendType) => specs.some((s) => s.backend === b);
    const spec: DnsSpec = { domains: specs };
    if (uses("rfc2136") || o.rfc2136 !== undefined) spec.rfc2136 = parseRfc2136(o.rfc2136, `${k}.rfc2136`, bad);
    const tsigSet = facts.presentKeys.includes("dnsTsigSecret");
    if (tsigSet && !facts.secretKeys.includes("dnsTsigSecret")) {
        bad(`${tsigKey} is stored in plain text: set it again with \`pulumi config set --secret ${tsigKey} <secret>\``);
    } else if (!tsigSet && uses("rfc2136")) {
        bad(`${tsigKey} is missing: the rfc2136 backend signs its updates with it; set the key's base64 secret with \`pulumi config set --secret ${tsigKey} <secret>\` (tsig-keygen prints one)`);
    }
    if (uses("bind") || o.bind !== undefined) {
        spec.bind = parseBind(o.bind, `${k}.bind`, allowUnpinned, bad);
        for (const s of specs.filter((x) => x.backend === "bind")) s.includeFile = `${spec.bind.includeDir}/${s.domain}.shards`;
        const files = new Map<string, string>();
        for (const s of specs.filter((x) => x.backend === "bind")) {
            const prev = files.get(s.zoneFile!);
            if (prev && prev !== s.zone) bad(`${k}.domains.${s.domain}.zoneFile ${s.zoneFile} is also the zone file of zone ${prev}: give each zone its own file`);
            files.set(s.zoneFile!, s.zone);
        }
    }
    return spec;
}

function parseTtl(v: unknown, at: string, dflt: number, bad: (m: string) => void): number {
    const ttl = int(v, at, dflt, bad);
    if (ttl < 1 || ttl > MAX_TTL) bad(`${at} ${ttl} must be a TTL in seconds between 1 and ${MAX_TTL}, for example 3600 (lower it to 300 before moving a shard)`);
    return ttl;
}

function parseBackend(v: unknown, at: string, dflt: DnsBackendType, bad: (m: string) => void): DnsBackendType {
    const b = str(v, at, dflt, bad);
    if (!(DNS_BACKENDS as readonly string[]).includes(b)) {
        bad(`${at} "${b}" is not a DNS backend: use rfc2136 (signed dynamic updates, any RFC 2136 server) or bind (zone include file on a BIND host over SSH)`);
        return dflt;
    }
    return b as DnsBackendType;
}

function parseRfc2136(v: unknown, at: string, bad: (m: string) => void): Rfc2136Spec {
    if (v === undefined) {
        bad(`${at} is missing: give the primary DNS server and the TSIG key name, for example {server: 10.0.0.53, keyName: pairstore}`);
        return { server: "", port: DNS_DEFAULTS.port, keyName: DNS_DEFAULTS.keyName, algorithm: DNS_DEFAULTS.algorithm };
    }
    const o = obj(v, at, bad);
    unknownFields(o, ["server", "port", "keyName", "algorithm"], at, bad);
    const spec: Rfc2136Spec = {
        server: str(o.server, `${at}.server`, "", bad),
        port: port(o.port, `${at}.port`, DNS_DEFAULTS.port, bad),
        keyName: str(o.keyName, `${at}.keyName`, DNS_DEFAULTS.keyName, bad),
        algorithm: str(o.algorithm, `${at}.algorithm`, DNS_DEFAULTS.algorithm, bad).toLowerCase(),
    };
    if (spec.server !== "" && !isHost(spec.server)) {
        bad(`${at}.server "${spec.server}" must be the primary DNS server's IPv4 address or host name`);
    }
    if (!KEY_NAME.test(spec.keyName)) bad(`${at}.keyName "${spec.keyName}" is not a TSIG key name (a DNS name like pairstore or pairstore-update.example.com)`);
    if (!(TSIG_ALGORITHMS as readonly string[]).includes(spec.algorithm)) {
        bad(`${at}.algorithm "${spec.algorithm}" is not a TSIG algorithm: use one of ${TSIG_ALGORITHMS.join(", ")} (the one the server's key uses)`);
    }
    return spec;
}

function parseBind(v: unknown, at: string, allowUnpinned: boolean, bad: (m: string) => void): BindSpec {
    if (v === undefined) {
        bad(`${at} is missing: give the BIND host's SSH connection, for example {ssh: {host: 10.0.0.53, hostKey: "ssh-ed25519 AAAA..."}}`);
        return { ssh: { host: "", port: 22, user: "root" }, server: "", includeDir: DNS_DEFAULTS.includeDir };
    }
    const o = obj(v, at, bad);
    unknownFields(o, ["ssh", "server", "includeDir"], at, bad);
    const s = obj(o.ssh, `${at}.ssh`, bad);
    unknownFields(s, ["host", "port", "user", "hostKey"], `${at}.ssh`, bad);
    const ssh: SshSpec = {
        host: str(s.host, `${at}.ssh.host`, "", bad),
        port: port(s.port, `${at}.ssh.port`, 22, bad),
        user: str(s.user, `${at}.ssh.user`, "root", bad),
        hostKey: s.hostKey === undefined ? undefined : str(s.hostKey, `${at}.ssh.hostKey`, "", bad).trim().split(/\s+/).slice(0, 2).join(" "),
    };
    if (ssh.host !== "" && !isHost(ssh.host)) bad(`${at}.ssh.host "${ssh.host}" must be an IPv4 address or a host name`);
    if (!/^[a-z_][a-z0-9_-]*$/.test(ssh.user)) bad(`${at}.ssh.user "${ssh.user}" is not a valid user name`);
    if (ssh.hostKey === undefined) {
        if (!allowUnpinned) {
            bad(`${at}.ssh.hostKey is missing: pin the BIND host's key (the output of \`ssh-keyscan -t ed25519 ${ssh.host || "HOST"} | cut -d' ' -f2-\`), ` +
                `or opt out for the whole stack with \`pulumi config set ${key("allowUnpinnedHostKeys")} true\``);
        }
    } else {
        const problem = hostKeyProblem(ssh.hostKey, `${at}.ssh.hostKey`, ssh.host);
        if (problem) bad(problem);
    }
    const server = str(o.server, `${at}.server`, ssh.host || "-", bad);
    if (o.server !== undefined && !isHost(server)) bad(`${at}.server "${server}" must be the address clients query, an IPv4 address or host name`);
    const includeDir = str(o.includeDir, `${at}.includeDir`, DNS_DEFAULTS.includeDir, bad).replace(/\/$/, "");
    if (!ABS_PATH.test(includeDir) || includeDir.includes("..")) bad(`${at}.includeDir "${includeDir}" must be an absolute directory on the BIND host, for example ${DNS_DEFAULTS.includeDir}`);
    return { ssh, server, includeDir };
}
