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
/** The health endpoint of every internal port. */
export const HEALTH_PATH = "/.pairstore/health";

/** Where a domain's files are stored. */
export function domainRootOf(dataRoot: string, domain: string): string {
    return `${dataRoot}/${domain}/image`;
}
/** nginx's temp files for a domain: next to its files, so proxy_store and PUT rename within one file system. */
export function domainTmpOf(dataRoot: string, domain: string): string {
    return `${dataRoot}/${domain}/.nginx-tmp`;
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
/** heartbeat's configuration directory (ha.cf, haresources, authkeys, resource.d/). */
export const HA_DIR = "/etc/ha.d";
/** Debian's heartbeat unit. pairstore-failover.service starts and stops it; it is not enabled at boot. */
export const HEARTBEAT_UNIT = "heartbeat.service";
/** The service monitor: runs heartbeat only while nginx answers its health check. */
export const FAILOVER_UNIT = "pairstore-failover.service";
/** What the service monitor last decided (tmpfs: gone after a reboot). */
export const FAILOVER_STATUS = "/run/pairstore/failover-status";
