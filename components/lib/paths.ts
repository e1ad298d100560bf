// Where pairstore puts things on a node. One place, so roles agree.

/** Scripts pairstore installs. */
export const LIB_DIR = "/usr/local/lib/pairstore";
/** systemd units pairstore installs. */
export const UNIT_DIR = "/etc/systemd/system";
/** nginx's pid file; the log rotation signals it to reopen logs. */
export const NGINX_PID = "/run/nginx.pid";
/** Compressed logs kept by the default log processor. */
export const LOG_ARCHIVE_DIR = "/var/log/pairstore-archive";
/** Kernel tuning file. */
export const SYSCTL_CONF = "/etc/sysctl.d/60-pairstore.conf";
/** Login-session limits file. */
export const LIMITS_CONF = "/etc/security/limits.d/60-pairstore.conf";

/** Where nginx's per-domain log directories live. */
export const LOG_ROOT = "/var/log/nginx";

/** The tmpfs log directory of a domain's nginx logs. */
export function logDirOf(domain: string): string {
    return `${LOG_ROOT}/image.${domain}`;
}

/** The nginx binary pairstore builds (Debian's own nginx, if installed, stays at /usr/sbin/nginx). */
export const NGINX_BIN = "/usr/local/sbin/nginx";
/** Install prefix of the nginx build (nginx's own defaults; pairstore's config lives elsewhere). */
export const NGINX_PREFIX = "/usr/local/nginx";
/** The systemd unit running pairstore's nginx. */
export const NGINX_UNIT = "pairstore-nginx.service";
/** nginx configuration: `candidate/` is written by the steps, `live` points at the last release that passed `nginx -t`. */
export const NGINX_CONF_DIR = "/etc/pairstore/nginx";
/** The configuration nginx runs with (through the `live` link). */
export const NGINX_LIVE_CONF = `${NGINX_CONF_DIR}/live/nginx.conf`;
/** nginx's own temp directories and its main error log. */
export const NGINX_VAR_DIR = "/var/lib/pairstore-nginx";
/** Where a node keeps a copy of its installed nginx build, by build id, for other nodes to install (served on the internal port). */
export const NGINX_BUILDS_DIR = `${NGINX_VAR_DIR}/builds`;
/** The internal port's path of NGINX_BUILDS_DIR. */
export const NGINX_BUILDS_PATH = "/.pairstore/nginx-build/";
/** Where the build step keeps verified source tarballs. */
export const NGINX_SRC_CACHE = "/var/cache/pairstore/nginx";
/**
 * Where a tarball pushed from the controller lands (any login user may write
 * there). The name carries `host`, a digest of the node's pinned host key and
 * generation: CopyToRemote copies again only when its source or remotePath
 * changes, so a reinstalled node (a new host key, or a raised generation)
 * gets the tarball again instead of a state that says it is there.
 */
export function nginxUploadPath(version: string, host: string): string {
    return `/var/tmp/pairstore/nginx-${version}-${host}.tar.gz`;
}
/** The nftables table file of the kernel's per-client connection limit on the public port. */
export const CLIENT_LIMITS_NFT = "/etc/pairstore/client-limits.nft";
/** The unit that loads it. */
export const CLIENT_LIMITS_UNIT = "pairstore-client-limits.service";
/** The health endpoint of every internal port. */
export const HEALTH_PATH = "/.pairstore/health";

/** Where a domain's files are stored. */
export function domainRootOf(dataRoot: string, domain: string): string {
    return `${dataRoot}/${domain}/image`;
}
/**
 * pairstore's own folder inside a domain's image root (a dot-folder: never
 * served, stored through DAV or replicated as a file). Inside the root, so
 * that it is on the same file system as the files, whatever is mounted where:
 * temporary files become stored files by link(2)/rename(2), never by a copy.
 */
export const INTERNAL_DIR = ".pairstore";

/** pairstore's folder inside a domain's image root. */
export function internalDirOf(dataRoot: string, domain: string): string {
    return `${domainRootOf(dataRoot, domain)}/${INTERNAL_DIR}`;
}
/** Temporary files of a domain (nginx's request bodies, rsync's transfers): inside the image root, on its file system. */
export function domainTmpOf(dataRoot: string, domain: string): string {
    return `${internalDirOf(dataRoot, domain)}/tmp`;
}
/** Tombstones of a domain: one empty file per deleted path, its mtime the time of the delete. */
export function tombstonesOf(dataRoot: string, domain: string): string {
    return `${internalDirOf(dataRoot, domain)}/tombstones`;
}
/** Where a domain keeps the losing version of a conflict (two different files under one name). */
export function conflictsOf(dataRoot: string, domain: string): string {
    return `${internalDirOf(dataRoot, domain)}/conflicts`;
}

/** The web user: owns stored files (nginx's DAV writes them, rsyncd receives them as this user). */
export const WEB_USER = "www-data";
/** pairstore's own config directory (rsyncd, lsyncd, rsync credentials). */
export const ETC_DIR = "/etc/pairstore";
/** rsyncd's config (pairstore runs its own rsyncd unit, Debian's stays off). */
export const RSYNCD_CONF = `${ETC_DIR}/rsyncd.conf`;
/** rsyncd's secrets file (`user:secret`), only when pairstore:rsyncSecret is set. */
export const RSYNCD_SECRETS = `${ETC_DIR}/rsyncd.secrets`;
/** The rsync client's password file (lsyncd, catch-up and refill use it). */
export const RSYNC_PASSWORD = `${ETC_DIR}/rsync.password`;
/** The rsync user peers authenticate as. */
export const RSYNC_USER = "pairstore";
/** lsyncd's config. */
export const LSYNCD_CONF = `${ETC_DIR}/lsyncd.conf.lua`;
/** Marker file in a domain's image root: a node without it never replays deletes to its peer. */
export const REPLICA_MARKER = ".pairstore-replica";
/**
 * The group of every file a node received from its peer (rsyncd runs with it,
 * refills write with it): lsyncd pushes a file only when it is not received,
 * whatever its timestamps say. Nothing else writes files with this group.
 */
export const REPLICA_GROUP = "pairstore-replica";
/**
 * A domain is "ready" on a node (`<READY_DIR>/<domain>`) once the node has
 * pulled what its peer held (or found the peer unreachable) since it booted
 * or its root was recreated; only then does the pair's first node decide
 * uploads (tmpfs: gone after a reboot).
 */
export const READY_DIR = "/run/pairstore/ready";
/** The ready flag of a domain on a node (see READY_DIR). */
export function readyFileOf(domain: string): string {
    return `${READY_DIR}/${domain}`;
}
/** Replication state that is not stored files: the peer's tombstones as last fetched, conflict counters. */
export const REPLICATION_STATE_DIR = "/var/lib/pairstore/replication";
/** Folders ("/4/") of the shards whose copies the node dropped (moves/drop-unserved.sh): lsyncd replays no removal there. */
export const DROPPED_DIRS = `${REPLICATION_STATE_DIR}/dropped-dirs`;
/** The shard plan a node last applied ("<shard> <pair>" lines), under the steps' state directory (/var/lib/pairstore): moves/shard-plan.sh. */
export const SHARD_PLAN_FILE = "shard-plan";
/** The command operators run to compare (and repair) both nodes of a pair. */
export const VERIFY_BIN = "/usr/local/sbin/pairstore-verify";
/** heartbeat's configuration directory (ha.cf, haresources, authkeys, resource.d/). */
export const HA_DIR = "/etc/ha.d";
/** Debian's heartbeat unit. pairstore-failover.service starts and stops it; it is not enabled at boot. */
export const HEARTBEAT_UNIT = "heartbeat.service";
/** The service monitor: runs heartbeat only while nginx answers its health check. */
export const FAILOVER_UNIT = "pairstore-failover.service";
/** What the service monitor last decided (tmpfs: gone after a reboot). */
export const FAILOVER_STATUS = "/run/pairstore/failover-status";
/** Addresses heartbeat took but IPaddr_gw left down (another host answers for them): one marker file per address, holding its resource argument. */
export const FAILOVER_DEFERRED_DIR = "/run/pairstore/deferred";
/** The monitor's last answer from the public gateway (`ok` or `lost`), which IPaddr_gw reads before it takes an address. */
export const FAILOVER_GATEWAY_STATE = "/run/pairstore/gateway";
/** Present while the monitor handles a heartbeat partition (it restarted heartbeat once and restarts it again after the heal). */
export const FAILOVER_SPLIT = "/run/pairstore/partition";
/** The heartbeat resource script pairstore installs (IPaddr2 + duplicate address check + default route). */
export const IPADDR_GW = `${HA_DIR}/resource.d/IPaddr_gw`;
/** Brings up the node's static addresses of its extra heartbeat paths. */
export const HEARTBEAT_LINKS_UNIT = "pairstore-heartbeat-links.service";
