// nginx logs on tmpfs (fstab + mounted), handed to a processing command and
// emptied by a systemd timer every `logs.interval`.
import type { ClusterSpec } from "../../config";
import { LIB_DIR, LOG_ARCHIVE_DIR, LOG_ROOT, NGINX_PID, UNIT_DIR, logDirOf } from "../../lib/paths";
import { fileStep, serviceStep, type GateNeeds, type StepSpec } from "../../step/step";
import { render, shq, shqList } from "../../step/template";

/** The tmpfs log directories of a node, one per domain. */
export function logDirs(spec: Pick<ClusterSpec, "domains">): string[] {
    return spec.domains.map((d) => logDirOf(d.name));
}

/** The timer that hands the logs to the processing command. */
export const LOGS_TIMER = "pairstore-logs.timer";

/** What the node's health gate waits for: the timer runs and every log tmpfs is mounted. */
export function logsGate(spec: Pick<ClusterSpec, "domains">): GateNeeds {
    return { units: [LOGS_TIMER], mounts: logDirs(spec) };
}

/** Steps: scripts, units, mounts and the timer's handler. */
export function logsRole(spec: Pick<ClusterSpec, "domains" | "logs">): StepSpec[] {
    const dirs = logDirs(spec);
    const rotate = render("logs/rotate-logs", {
        dirs: shqList(dirs),
        process_command: shq(spec.logs.processCommand),
        nginx_pid: shq(NGINX_PID),
    });
    const archive = render("logs/archive-logs", { archive_dir: shq(LOG_ARCHIVE_DIR), keep_days: spec.logs.keepDays });
    const service = render("logs/pairstore-logs.service", { dirs: dirs.join(" ") });
    const timer = render("logs/pairstore-logs.timer", { interval: spec.logs.interval });
    return [
        fileStep("logs-rotate-script", { path: `${LIB_DIR}/rotate-logs`, content: rotate, mode: "755", validate: "bash -n {}" }),
        fileStep("logs-archive-script", { path: `${LIB_DIR}/archive-logs`, content: archive, mode: "755", validate: "bash -n {}" }),
        fileStep("logs-service-unit", { path: `${UNIT_DIR}/pairstore-logs.service`, content: service }),
        fileStep("logs-timer-unit", { path: `${UNIT_DIR}/pairstore-logs.timer`, content: timer }),
        {
            kind: "script",
            name: "logs-mounts",
            phase: "base",
            script: render("logs/log-mounts.sh", { dirs: shqList(dirs), size: shq(spec.logs.tmpfsSize) }),
            // Gone from the stack (after nginx, which is deleted first): leave fstab, process the logs, unmount.
            deleteScript: render("logs/log-mounts-delete.sh", { ...retireVars([]), size: shq(spec.logs.tmpfsSize) }),
        },
        serviceStep("logs-timer", "pairstore-logs.timer", [rotate, archive, service, timer], "restart"),
    ];
}

/** The placeholders of logs-retire.sh (log-mounts-delete.sh includes it, with no directories left). */
function retireVars(dirs: string[]): Record<string, string> {
    return { dirs: shqList(dirs), log_root: LOG_ROOT, rotate: `${LIB_DIR}/rotate-logs` };
}

/** Unmounts log directories of domains that left the stack; runs after nginx dropped their sites. */
export function logsRetireStep(spec: Pick<ClusterSpec, "domains">): StepSpec {
    return { kind: "script", name: "logs-retire", phase: "base", script: render("logs/logs-retire.sh", retireVars(logDirs(spec))) };
}
