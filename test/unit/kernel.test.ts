// The kernel role (components/roles/kernel.ts): the sysctl file with the
// reference deployment's values and overrides, the sysctl step and boot unit,
// the nofile limits file, and the sysctl step run against a fake /proc/sys.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { shq } from "../../components/step/template";
import { kernelRole, renderSysctlConf, sysctlModules } from "../../components/roles/kernel/steps";
import { byName, specOf } from "./role-spec";
import { run, sandbox, useSandbox } from "./step-sandbox";

useSandbox();

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

describe("the sysctl step (files/kernel/sysctl.sh) against a fake /proc/sys", () => {
    // A fake /proc/sys: somaxconn accepts writes, pid_max "accepts" (exit 0) but keeps its value, tcp_tw_recycle is absent.
    function fakeProc() {
        const proc = path.join(sandbox, "proc", "sys");
        for (const [k, v] of Object.entries({ "net/core/somaxconn": "128", "kernel/pid_max": "4194304", "net/ipv4/tcp_rmem": "4096\t131072\t6291456" })) {
            mkdirSync(path.dirname(path.join(proc, k)), { recursive: true });
            writeFileSync(path.join(proc, k), `${v}\n`);
        }
        return proc;
    }
    const shims = {
        sysctl: `local kv=\${@: -1} k v
            k=\${kv%%=*}; v=\${kv#*=}
            echo "sysctl -w $k=$v" >> "$SANDBOX/calls"
            [ "$k" = kernel.pid_max ] && return 0
            printf '%s\\n' "$v" > "$SANDBOX/proc/sys/\${k//.//}"`,
        modprobe: `echo "modprobe $*" >> "$SANDBOX/calls"`,
    };
    const conf = ["net.core.somaxconn = 2048", "kernel.pid_max = 65536", "net.ipv4.tcp_tw_recycle = 0", "net.ipv4.tcp_rmem = 4096 87380 8388608", ""].join("\n");

    test("applies what the kernel takes, reports missing and refused keys by name, writes only accepted keys", () => {
        fakeProc();
        const step = kernelRole({ sysctl: { "net.core.somaxconn": "2048" }, nofile: 75000 }).find((s) => s.name === "sysctl")!;
        const dest = path.join(sandbox, "sysctl.d", "60-pairstore.conf");
        const subst: Array<[string | RegExp, string]> = [
            [/^CONF=.*$/m, `CONF=${shq(dest)}`],
            ["path=/proc/sys/", `path=${shq(path.join(sandbox, "proc", "sys"))}/`],
        ];
        const r = run("sysctl", step.script, { stdin: conf, shims, subst });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain("changed: set net.core.somaxconn = 2048 (was 128)");
        expect(r.stdout).toContain("changed: set net.ipv4.tcp_rmem = 4096 87380 8388608 (was 4096 131072 6291456)");
        expect(r.stdout).toContain("sysctl: not in this kernel, not written: net.ipv4.tcp_tw_recycle");
        expect(r.stdout).toContain("sysctl: refused by this host, not written: kernel.pid_max (wants 65536, stays 4194304)");
        expect(r.last).toBe("changed");
        const written = readFileSync(dest, "utf8");
        expect(written).toContain("net.core.somaxconn = 2048\n");
        expect(written).toContain("net.ipv4.tcp_rmem = 4096 87380 8388608\n");
        expect(written).not.toContain("pid_max");
        expect(written).not.toContain("tcp_tw_recycle");
        expect(readFileSync(path.join(sandbox, "proc/sys/net/core/somaxconn"), "utf8").trim()).toBe("2048");

        // second run: nothing to do, the refused key is remembered and still reported, not retried
        rmSync(path.join(sandbox, "calls"), { force: true });
        const again = run("sysctl", step.script, { stdin: conf, shims, subst });
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toContain("refused by this host, not written: kernel.pid_max");
        expect(again.stdout).toContain("not in this kernel, not written: net.ipv4.tcp_tw_recycle");
        expect(again.last).toBe("ok");
        expect(existsSync(path.join(sandbox, "calls"))).toBe(false);

        // drift by hand: check mode reports it and changes nothing; a normal run puts it back
        writeFileSync(path.join(sandbox, "proc/sys/net/core/somaxconn"), "512\n");
        const check = run("sysctl", step.script, { stdin: conf, shims, subst, check: true });
        expect(check.stdout).toContain("would: set net.core.somaxconn = 2048 (now 512)");
        expect(readFileSync(path.join(sandbox, "proc/sys/net/core/somaxconn"), "utf8").trim()).toBe("512");
        expect(run("sysctl", step.script, { stdin: conf, shims, subst }).stdout).toContain("changed: set net.core.somaxconn = 2048 (was 512)");
    });
});
