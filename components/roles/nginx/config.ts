// The nginx roles' config section: `pairstore:nginx` (version, checksum,
// source, ./configure flags, workers, upload size, extra public config, the
// per-client limits), `pairstore:uploaders` and `pairstore:secureLinkPrefix`:
// their defaults, parsers and messages.
import { NAMESPACE, SIZE, int, list, obj, str, unknownFields, type ConfigFacts } from "../../config/readers";
import { formatIPv4, networkOf, parseIPv4 } from "../../lib/net";

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

/** Defaults of `pairstore:nginx` (clientLimits: see clientLimitDefaults). */
export const NGINX_DEFAULTS = {
    version: "1.22.1",
    sha256: "9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31",
    url: "https://nginx.org/download/nginx-{version}.tar.gz",
    configureFlags: [
        "--with-http_dav_module",
        "--with-http_secure_link_module",
        "--with-http_auth_request_module",
        // left out: modules a static-file node never uses (the original deployment's choice, brought up to date)
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
} as Omit<NginxSpec, "sourceFile" | "clientLimits">;

/** Defaults of `pairstore:uploaders` and `pairstore:secureLinkPrefix`. */
export const SITES_DEFAULTS = { uploaders: [] as string[], secureLinkPrefix: "/private/" };

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
    { flag: "--with-http_auth_request_module", why: "a DELETE or MOVE records its tombstone before the file goes" },
    { flag: "--without-http_proxy_module", why: "a missing file is fetched from the peer" },
    { flag: "--without-http_rewrite_module", why: "the sites use if/return (write-once, method checks)" },
    { flag: "--without-http_mirror_module", why: "DELETE and MOVE are forwarded to the peer" },
    { flag: "--without-http_access_module", why: "the internal port allows only the peer and uploaders" },
    { flag: "--without-http_limit_conn_module", why: "the public port limits each client's requests in progress (nginx.clientLimits.requests)" },
    { flag: "--without-http_limit_req_module", why: "the public port limits each client's request rate (nginx.clientLimits.rate)" },
    { flag: "--without-pcre", why: "the sites use regular expressions" },
];

export function parseNginx(value: unknown, k: string, nofile: number, facts: ConfigFacts, bad: (m: string) => void): NginxSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = NGINX_DEFAULTS;
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
export function parseClientLimits(value: unknown, k: string, workerConnections: number, bad: (m: string) => void): ClientLimitsSpec {
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
export function parseCidr(value: unknown, k: string, bad: (m: string) => void): string {
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

/** `pairstore:uploaders`: networks allowed to write on the internal ports besides the peer. */
export function parseUploaders(value: unknown, k: string, bad: (m: string) => void): string[] {
    return list(value, k, bad).map((u, i) => parseCidr(u, `${k}[${i}]`, bad));
}

/** `pairstore:secureLinkPrefix`: the URI prefix served only through secure_link. */
export function parseSecureLinkPrefix(value: unknown, k: string, bad: (m: string) => void): string {
    const secureLinkPrefix = str(value, k, SITES_DEFAULTS.secureLinkPrefix, bad);
    if (!/^\/([A-Za-z0-9._-]+\/)+$/.test(secureLinkPrefix) || secureLinkPrefix.includes("..")) {
        bad(`${k} "${secureLinkPrefix}" must be a path that starts and ends with "/", such as /private/`);
    }
    return secureLinkPrefix;
}
