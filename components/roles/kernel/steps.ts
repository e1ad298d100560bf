// Kernel tuning (sysctl from /etc/sysctl.d, applied now and at boot) and
// nofile limits for login sessions.
import type { ClusterSpec } from "../../config";
import { LIMITS_CONF, SYSCTL_CONF, UNIT_DIR } from "../../lib/paths";
import { fileStep, serviceStep, type GateNeeds, type StepSpec } from "../../step/step";
import { render, shq, shqList } from "../../step/template";

/** The unit that applies the sysctl file at boot. */
export const SYSCTL_UNIT = "pairstore-sysctl.service";

/** What the node's health gate waits for: the sysctl unit ran. */
export function kernelGate(): GateNeeds {
    return { units: [SYSCTL_UNIT] };
}

/** Kernel modules that must be loaded before their sysctl keys exist. */
export function sysctlModules(keys: string[]): string[] {
    return keys.some((k) => k.startsWith("net.netfilter.nf_conntrack") || k === "net.nf_conntrack_max") ? ["nf_conntrack"] : [];
}

/** The desired sysctl file, one `key = value` line per setting in config order. */
export function renderSysctlConf(sysctl: Record<string, string>): string {
    const settings = Object.entries(sysctl).map(([k, v]) => `${k} = ${v}`).join("\n");
    return render("kernel/60-pairstore.conf", { settings });
}

/** Steps: module list, boot unit, the sysctl step and the unit's handler. */
export function kernelRole(spec: Pick<ClusterSpec, "sysctl" | "nofile">): StepSpec[] {
    const modules = sysctlModules(Object.keys(spec.sysctl));
    const conf = renderSysctlConf(spec.sysctl);
    const modulesConf = render("kernel/modules.conf", { modules: modules.join("\n") });
    const unit = render("kernel/pairstore-sysctl.service", { conf: SYSCTL_CONF, modules: modules.join(" ") });
    return [
        fileStep("kernel-modules", { path: "/etc/modules-load.d/pairstore.conf", content: modulesConf }),
        fileStep("sysctl-unit", { path: `${UNIT_DIR}/pairstore-sysctl.service`, content: unit }),
        {
            kind: "script",
            name: "sysctl",
            phase: "base",
            script: render("kernel/sysctl.sh", { conf: shq(SYSCTL_CONF), modules: shqList(modules) }),
            stdin: conf,
            deleteScript: `rm -f ${shq(SYSCTL_CONF)}\n`,
        },
        serviceStep("sysctl-service", "pairstore-sysctl.service", [unit, conf], "restart"),
        {
            kind: "script",
            name: "limits",
            phase: "base",
            script: render("kernel/limits.sh", { path: shq(LIMITS_CONF), nofile: spec.nofile }),
            stdin: render("kernel/limits.conf", { nofile: spec.nofile }),
            deleteScript: `rm -f ${shq(LIMITS_CONF)}\n`,
        },
    ];
}
