// kernel-guard-rails: kernel tuning that a config change must not slip in.
//  - sysctl keys that must stay off (default net.ipv4.tcp_tw_recycle: it drops
//    connections from clients behind NAT, and Linux 4.12 removed it) are never
//    set to anything but 0, in any step's file (stdin) or script;
//  - every nofile limit a step installs (limits.conf `nofile` lines, systemd
//    LimitNOFILE=, nginx worker_rlimit_nofile) lies within [minNofile, maxNofile].
import { describeStep, observe, REMOTE_TYPES, configWithDefaults, type PairstorePolicy } from "./model";

export interface KernelGuardRailsConfig {
    /** sysctl keys that must be 0 or absent. */
    mustStayOff: string[];
    /** Largest nofile limit a node may get (the kernel's fs.nr_open defaults to 1048576). */
    maxNofile: number;
    /** Smallest nofile limit a node may get. */
    minNofile: number;
}

export const KERNEL_GUARD_RAILS_DEFAULTS: KernelGuardRailsConfig = {
    mustStayOff: ["net.ipv4.tcp_tw_recycle"],
    maxNofile: 1048576,
    minNofile: 1024,
};

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `key = value` (sysctl.conf) or `key=value` (sysctl -w) settings of one key in a text. */
export function sysctlSettings(text: string, key: string): string[] {
    const k = key.split(".").map(escape).join("[./]");
    const re = new RegExp(`(?:^|[\\s'"])${k}\\s*=\\s*["']?([^\\s"';#]*)`, "gm");
    const values: string[] = [];
    for (const m of text.matchAll(re)) {
        // A commented-out line does not count.
        const lineStart = text.lastIndexOf("\n", m.index) + 1;
        if (/^\s*[#;]/.test(text.slice(lineStart, m.index + 1))) continue;
        values.push(m[1]);
    }
    return values;
}

/** Every nofile limit a text sets: limits.conf lines, LimitNOFILE=, worker_rlimit_nofile. */
export function nofileLimits(text: string): { where: string; value: string }[] {
    const out: { where: string; value: string }[] = [];
    for (const line of text.split("\n")) {
        const l = line.replace(/#.*/, "").trim();
        let m = l.match(/^(\S+)\s+(soft|hard|-)\s+nofile\s+(\S+)$/);
        if (m) out.push({ where: `limits "${m[1]} ${m[2]} nofile"`, value: m[3] });
        m = l.match(/^LimitNOFILE\s*=\s*(\S+)$/);
        if (m) for (const v of m[1].split(":")) out.push({ where: "LimitNOFILE", value: v });
        m = l.match(/^worker_rlimit_nofile\s+(\S+?);?$/);
        if (m) out.push({ where: "worker_rlimit_nofile", value: m[1] });
    }
    return out;
}

export const kernelGuardRails: PairstorePolicy = {
    name: "kernel-guard-rails",
    description: "Kernel tuning stays safe: tcp_tw_recycle is never enabled, nofile stays within bounds.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            mustStayOff: {
                type: "array",
                items: { type: "string", pattern: "^[a-z0-9_]+(\\.[a-z0-9_-]+)+$" },
                default: KERNEL_GUARD_RAILS_DEFAULTS.mustStayOff,
                description: "sysctl keys that must be 0 or absent.",
            },
            maxNofile: { type: "integer", minimum: 1024, default: KERNEL_GUARD_RAILS_DEFAULTS.maxNofile, description: "Largest nofile limit." },
            minNofile: { type: "integer", minimum: 1, default: KERNEL_GUARD_RAILS_DEFAULTS.minNofile, description: "Smallest nofile limit." },
        },
    },
    validateResource: (args, reportViolation) => {
        const o = observe(args);
        if (!REMOTE_TYPES.includes(args.type)) return;
        const cfg = configWithDefaults(args, KERNEL_GUARD_RAILS_DEFAULTS);
        const what = describeStep(args.name, args.props);
        const texts: [string, unknown][] = [["stdin", o.props.stdin], ["create", o.props.create], ["update", o.props.update]];
        for (const [field, text] of texts) {
            if (typeof text !== "string") continue;
            for (const key of cfg.mustStayOff) {
                for (const value of sysctlSettings(text, key)) {
                    if (/^0+$/.test(value)) continue;
                    reportViolation(`${what} sets ${key} = ${value} (in its ${field}); ${key} must stay 0` +
                        (key === "net.ipv4.tcp_tw_recycle" ? " (it drops connections from clients behind NAT, and Linux 4.12 removed it)" : "") +
                        `: set it to 0 or drop it in pairstore:sysctl.`);
                }
            }
            if (field !== "stdin") continue;
            for (const { where, value } of nofileLimits(text)) {
                const n = /^\d+$/.test(value) ? Number(value) : Number.POSITIVE_INFINITY; // unlimited/infinity
                if (n >= cfg.minNofile && n <= cfg.maxNofile) continue;
                reportViolation(`${what} sets nofile to ${value} (${where}), outside [${cfg.minNofile}, ${cfg.maxNofile}]; ` +
                    `change pairstore:nofile (or this policy's maxNofile/minNofile).`);
            }
        }
    },
};
