// The kernel role (components/roles/kernel.ts): the sysctl file with the
// reference deployment's values and overrides, the sysctl step and boot unit,
// and the nofile limits file.
import { describe, expect, test } from "vitest";
import { kernelRole, renderSysctlConf, sysctlModules } from "../../components/roles/kernel";
import { byName, specOf } from "./role-spec";

describe("kernel role", () => {
    test("the sysctl file carries the reference deployment's values, one `key = value` line each", () => {
        const conf = renderSysctlConf(specOf().sysctl);
        for (const line of [
            "net.core.somaxconn = 2048",
            "fs.inotify.max_user_watches = 65536",
            "net.ipv4.tcp_rmem = 4096 87380 8388608",
            "net.ipv4.tcp_fin_timeout = 30",
            "kernel.pid_max = 65536",
            "net.ipv4.tcp_tw_recycle = 0",
        ]) {
            expect(conf.split("\n")).toContain(line);
        }
        expect(conf).toMatch(/^# Kernel tuning for a pairstore static-file node/);
        expect(conf).not.toContain("{{");
    });

    test("overrides replace a reference-deployment value, add new keys, and null removes a key", () => {
        const conf = renderSysctlConf(specOf((c) => {
            c.sysctl = { "net.core.somaxconn": 4096, "vm.swappiness": 10, "kernel.pid_max": null };
        }).sysctl);
        const lines = conf.split("\n");
        expect(lines).toContain("net.core.somaxconn = 4096");
        expect(lines).not.toContain("net.core.somaxconn = 2048");
        expect(lines).toContain("vm.swappiness = 10");
        expect(conf).not.toContain("kernel.pid_max");
        expect(lines.filter((l) => l.startsWith("net.core.somaxconn"))).toHaveLength(1);
    });

    test("the sysctl step carries the file on stdin and loads nf_conntrack only when a conntrack key is set", () => {
        const spec = specOf();
        const sysctl = byName(kernelRole(spec), "sysctl");
        expect(sysctl.stdin).toBe(renderSysctlConf(spec.sysctl));
        expect(sysctl.script).toContain("CONF=/etc/sysctl.d/60-pairstore.conf");
        expect(sysctl.script).toContain("MODULES=(nf_conntrack)");
        expect(sysctlModules(["net.core.somaxconn"])).toEqual([]);
        const without = specOf((c) => { c.sysctl = { "net.netfilter.nf_conntrack_max": null, "net.nf_conntrack_max": null }; });
        expect(byName(kernelRole(without), "sysctl").script).toContain("MODULES=()");
        expect(byName(kernelRole(without), "kernel-modules").stdin).not.toContain("nf_conntrack");
    });

    test("the boot unit applies the same file", () => {
        const unit = byName(kernelRole(specOf()), "sysctl-unit").stdin as string;
        expect(unit).toContain("ExecStart=/sbin/sysctl -q -e -p /etc/sysctl.d/60-pairstore.conf");
        expect(unit).toContain("ExecStartPre=-/sbin/modprobe -a nf_conntrack");
        expect(unit).toContain("WantedBy=multi-user.target");
    });

    test("the limits file sets soft and hard nofile for everyone and for root", () => {
        const limits = byName(kernelRole(specOf((c) => { c.nofile = 16384; })), "limits");
        const text = limits.stdin as string;
        for (const who of ["\\*", "root"]) {
            for (const kind of ["soft", "hard"]) {
                expect(text).toMatch(new RegExp(`^${who}\\s+${kind}\\s+nofile\\s+16384$`, "m"));
            }
        }
        expect(limits.script).toContain("NOFILE=16384");
        expect(limits.script).toContain("DEST=/etc/security/limits.d/60-pairstore.conf");
        // the default
        expect(byName(kernelRole(specOf()), "limits").stdin).toMatch(/^\*\s+soft\s+nofile\s+75000$/m);
    });
});
