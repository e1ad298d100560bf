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

/** The tmpfs log directory of a domain's nginx logs. */
export function logDirOf(domain: string): string {
    return `/var/log/nginx/image.${domain}`;
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
