// The generic stack-config readers every config section uses: the namespace,
// ConfigError (all problems at once), the raw config and its facts, typed
// readers that report a wrong type by key and fall back to a default, and
// shared patterns (host names, interfaces, sizes, time spans).

/** The namespace of every pairstore stack config key. */
export const NAMESPACE = "pairstore";

/** Thrown with every problem found, one per line. */
export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid pairstore stack config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
            problems.map((p) => `  - ${p}`).join("\n"));
        this.name = "ConfigError";
    }
}

/** The stack's raw config: key (without namespace) -> parsed value. */
export type RawConfig = Record<string, unknown>;

/** Extra facts about the raw config that are not values (secrets are never read here). */
export interface ConfigFacts {
    /** Keys present in the stack config (without namespace). */
    presentKeys: string[];
    /** Keys stored as Pulumi secrets. */
    secretKeys: string[];
    /** Tells whether a file exists on the machine running the program (for nginx.sourceFile); unchecked when absent. */
    fileExists?: (path: string) => boolean;
}

export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** A network interface name, like eth0. */
export const IFACE = /^[a-zA-Z0-9_.-]{1,15}$/;
/** A size with an optional k/m/g suffix, like 256m. */
export const SIZE = /^[1-9][0-9]*[kmg]?$/;
/** A systemd time span, like 5min, 300s or 1h. */
export const TIMESPAN = /^[1-9][0-9]*(s|sec|min|m|h)$/;

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[b.length];
}

// --- small typed readers; each reports a wrong type by key and falls back to a default ---

export function list(v: unknown, k: string, bad: (m: string) => void): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
        bad(`${k} must be a list`);
        return [];
    }
    return v;
}

export function obj(v: unknown, k: string, bad: (m: string) => void): Record<string, unknown> {
    if (v === undefined) {
        bad(`${k} is missing`);
        return {};
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
        bad(`${k} must be an object`);
        return {};
    }
    return v as Record<string, unknown>;
}

export function str(v: unknown, k: string, dflt: string, bad: (m: string) => void): string {
    if (v === undefined) {
        if (dflt === "") bad(`${k} is missing`);
        return dflt;
    }
    if (typeof v !== "string" && typeof v !== "number") {
        bad(`${k} must be a string`);
        return dflt;
    }
    return String(v);
}

export function int(v: unknown, k: string, dflt: number, bad: (m: string) => void): number {
    if (v === undefined) return dflt;
    const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n)) {
        bad(`${k} must be a whole number`);
        return dflt;
    }
    return n;
}

export function port(v: unknown, k: string, dflt: number, bad: (m: string) => void): number {
    const p = int(v, k, dflt, bad);
    if (v !== undefined && (p < 1 || p > 65535)) bad(`${k} ${p} is not a TCP port (1-65535)`);
    return p;
}

export function bool(v: unknown, k: string, dflt: boolean, bad: (m: string) => void): boolean {
    if (v === undefined) return dflt;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    bad(`${k} must be true or false`);
    return dflt;
}

export function unknownFields(o: Record<string, unknown>, allowed: string[], at: string, bad: (m: string) => void) {
    for (const f of Object.keys(o)) {
        if (!allowed.includes(f)) bad(`${at}.${f} is not a known field; expected one of: ${allowed.join(", ")}`);
    }
}
