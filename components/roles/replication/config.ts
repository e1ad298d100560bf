// The replication role's config section: `pairstore:replication` (lsyncd
// delay, catch-up interval, rsync processes), whether `pairstore:rsyncSecret`
// turns rsync authentication on, and the inotify watches lsyncd needs.
import { NAMESPACE, TIMESPAN, int, obj, str, unknownFields, type ConfigFacts } from "../../config/readers";

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
    /** Bandwidth of a node's copy of shards moving to its pair, KiB/s (rsync --bwlimit); 0: unlimited. Default 40960 (40 MiB/s). */
    moveBwLimit: number;
}

/** Defaults of `pairstore:replication`. */
export const REPLICATION_DEFAULTS = { delay: 1, catchUpInterval: "15min", maxProcesses: 4, moveBwLimit: 40960 };

/**
 * Directories lsyncd watches per domain: the image root and its three hex
 * folder levels (1 + 16 + 256 + 4096, see components/lib/layout.ts).
 */
export const DIRS_PER_DOMAIN = 1 + 16 + 256 + 4096;

/** inotify watches a node needs: every directory of every domain, plus room for other watchers. */
export function inotifyWatchesNeeded(domainCount: number): number {
    return domainCount * DIRS_PER_DOMAIN + 8192;
}

/** rsync authentication is on when `pairstore:rsyncSecret` is set, as a secret (its value is never read here). */
export function parseRsyncAuth(facts: ConfigFacts, bad: (m: string) => void): boolean {
    const key = (k: string) => `${NAMESPACE}:${k}`;
    let rsyncAuth = false;
    if (facts.presentKeys.includes("rsyncSecret")) {
        if (!facts.secretKeys.includes("rsyncSecret")) {
            bad(`${key("rsyncSecret")} is stored in plain text: set it again with \`pulumi config set --secret ${key("rsyncSecret")} <secret>\` ` +
                `(or remove it with \`pulumi config rm ${key("rsyncSecret")}\` to rely on the peer-only allow list)`);
        } else {
            rsyncAuth = true;
        }
    }
    return rsyncAuth;
}

/**
 * lsyncd watches every directory: fs.inotify.max_user_watches must lie above
 * their number. The default grows with the domains; an explicit lower value is
 * an error. (A host that refuses the key is reported by the sysctl and
 * replication-inotify steps.)
 */
export function checkInotify(rawSysctl: unknown, sysctl: Record<string, string>, domainCount: number, k: string, bad: (m: string) => void) {
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

export function parseReplication(value: unknown, k: string, auth: boolean, bad: (m: string) => void): ReplicationSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = REPLICATION_DEFAULTS;
    const delay = int(o.delay, `${k}.delay`, d.delay, bad);
    // At least 1 s: a received file is told from a local write by its ctime lying after its mtime (see ECHO_MS).
    if (delay < 1 || delay > 3600) bad(`${k}.delay ${delay} must be between 1 and 3600 seconds (lsyncd's delay; 1 is a good start)`);
    const catchUpInterval = str(o.catchUpInterval, `${k}.catchUpInterval`, d.catchUpInterval, bad);
    if (!TIMESPAN.test(catchUpInterval)) bad(`${k}.catchUpInterval "${catchUpInterval}" must be a time span like 15min, 900s or 1h`);
    const maxProcesses = int(o.maxProcesses, `${k}.maxProcesses`, d.maxProcesses, bad);
    if (maxProcesses < 1 || maxProcesses > 64) bad(`${k}.maxProcesses ${maxProcesses} must be between 1 and 64`);
    const moveBwLimit = int(o.moveBwLimit, `${k}.moveBwLimit`, d.moveBwLimit, bad);
    if (moveBwLimit < 0) bad(`${k}.moveBwLimit ${moveBwLimit} must be KiB/s, 0 or more (0: unlimited; the default 40960 is 40 MiB/s)`);
    unknownFields(o, ["delay", "catchUpInterval", "maxProcesses", "moveBwLimit"], k, bad);
    return { delay, catchUpInterval, maxProcesses, auth, moveBwLimit };
}
