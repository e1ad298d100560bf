// The logs role's config section: `pairstore:logs` (tmpfs size, the
// processing command and interval, days kept), its defaults and parser.
import { SIZE, TIMESPAN, int, obj, str, unknownFields } from "../../config/readers";

/** tmpfs log directories and their 5-minute processing. */
export interface LogsSpec {
    /** tmpfs size per log directory (mount option `size=`). */
    tmpfsSize: string;
    /** Command that receives the rotated log files as arguments. */
    processCommand: string;
    /** systemd time span between two runs of the log processing. */
    interval: string;
    /** Days the default processor keeps compressed logs on disk. */
    keepDays: number;
}

/** Defaults of `pairstore:logs`. */
export const LOGS_DEFAULTS = {
    tmpfsSize: "256m",
    processCommand: "/usr/local/lib/pairstore/archive-logs",
    interval: "5min",
    keepDays: 14,
} as LogsSpec;

export function parseLogs(value: unknown, k: string, bad: (m: string) => void): LogsSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const logs: LogsSpec = {
        tmpfsSize: str(o.tmpfsSize, `${k}.tmpfsSize`, LOGS_DEFAULTS.tmpfsSize, bad),
        processCommand: str(o.processCommand, `${k}.processCommand`, LOGS_DEFAULTS.processCommand, bad),
        interval: str(o.interval, `${k}.interval`, LOGS_DEFAULTS.interval, bad),
        keepDays: int(o.keepDays, `${k}.keepDays`, LOGS_DEFAULTS.keepDays, bad),
    };
    if (!SIZE.test(logs.tmpfsSize)) bad(`${k}.tmpfsSize "${logs.tmpfsSize}" must be a size like 256m or 1g`);
    if (!TIMESPAN.test(logs.interval)) bad(`${k}.interval "${logs.interval}" must be a time span like 5min, 300s or 1h`);
    if (!logs.processCommand.startsWith("/") || /['\n]/.test(logs.processCommand)) {
        bad(`${k}.processCommand must be an absolute path to a program (it gets the rotated log files as arguments), without quotes`);
    }
    if (logs.keepDays < 1) bad(`${k}.keepDays must be at least 1`);
    unknownFields(o, ["tmpfsSize", "processCommand", "interval", "keepDays"], k, bad);
    return logs;
}
