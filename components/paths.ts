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
