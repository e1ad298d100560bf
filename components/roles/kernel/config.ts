// The kernel role's config section: `pairstore:sysctl` (merged over the
// defaults below; null leaves a key alone) and `pairstore:nofile`.
import { int, obj } from "../../config/readers";

/** The original deployment's /etc/sysctl.conf, the defaults of `pairstore:sysctl`. */
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

/** Default of `pairstore:nofile`. */
export const KERNEL_DEFAULTS = { nofile: 75000 };

const SYSCTL_KEY = /^[a-z0-9_]+(\.[a-z0-9_-]+)+$/;

/** `pairstore:nofile`: the `nofile` soft and hard limit. */
export function parseNofile(value: unknown, k: string, bad: (m: string) => void): number {
    const nofile = int(value, k, KERNEL_DEFAULTS.nofile, bad);
    if (nofile < 1024 || nofile > 1048576) bad(`${k} ${nofile} must be between 1024 and 1048576`);
    return nofile;
}

export function parseSysctl(value: unknown, k: string, bad: (m: string) => void): Record<string, string> {
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
