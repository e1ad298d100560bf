// The logs role (components/roles/logs.ts): one tmpfs log directory per domain,
// the mount step (also run against a sandbox fstab), the rotate/archive timer
// and its scripts.
import { spawnSync } from "child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { shqList } from "../../components/step/template";
import { logDirs, logsRetireStep, logsRole } from "../../components/roles/logs/steps";
import { byName, specOf } from "./role-spec";
import { run, sandbox, useSandbox } from "./step-sandbox";

useSandbox();

describe("logs role", () => {
    test("one tmpfs log directory per domain", () => {
        expect(logDirs(specOf())).toEqual(["/var/log/nginx/image.example.com", "/var/log/nginx/image.example.org"]);
    });

    test("the mount step gets the configured tmpfs size and every directory for fstab", () => {
        const mounts = byName(logsRole(specOf((c) => { c.logs = { tmpfsSize: "64m" }; })), "logs-mounts");
        expect(mounts.script).toContain("DIRS=(/var/log/nginx/image.example.com /var/log/nginx/image.example.org)");
        expect(mounts.script).toMatch(/^SIZE=64m$/m);
        expect(mounts.script).toContain(`OPTS="size=$SIZE,mode=0755,nosuid,nodev,noexec"`);
        expect(mounts.script).toContain(`echo "tmpfs $d tmpfs $OPTS 0 0"`);
        // removing the step unmounts what the block managed: the delete script lists no directory
        expect(mounts.deleteScript).toMatch(/^DIRS=\(\)$/m);
    });

    test("the timer runs at the configured interval and the scripts know the directories", () => {
        const steps = logsRole(specOf((c) => { c.logs = { interval: "10min", keepDays: 3, processCommand: "/opt/ship logs" }; }));
        const timer = byName(steps, "logs-timer-unit").stdin as string;
        expect(timer).toMatch(/^OnUnitActiveSec=10min$/m);
        expect(timer).toMatch(/^OnBootSec=10min$/m);
        const rotate = byName(steps, "logs-rotate-script").stdin as string;
        expect(rotate).toContain("DIRS=(/var/log/nginx/image.example.com /var/log/nginx/image.example.org)");
        expect(rotate).toContain("PROCESS='/opt/ship logs'");
        expect(byName(steps, "logs-archive-script").stdin).toMatch(/^KEEP_DAYS=3$/m);
        expect(byName(steps, "logs-service-unit").stdin).toContain(
            "RequiresMountsFor=/var/log/nginx/image.example.com /var/log/nginx/image.example.org");
        expect(byName(steps, "logs-rotate-script").script).toContain("VALIDATE='bash -n {}'");
    });

    test("the installed log scripts are valid bash", () => {
        for (const name of ["logs-rotate-script", "logs-archive-script"]) {
            const r = spawnSync("bash", ["-n"], { input: byName(logsRole(specOf()), name).stdin as string, encoding: "utf8" });
            expect(r.status, `${name}: ${r.stderr}`).toBe(0);
        }
    });
});

describe("the log mounts step (files/logs/log-mounts.sh) against a sandbox fstab", () => {
    // mount tools stand-ins: a "mounted" directory is one listed in $SANDBOX/mounted.
    const shims = {
        mount: `echo "mount $*" >> "$SANDBOX/calls"; echo "\${@: -1}" >> "$SANDBOX/mounted"`,
        umount: `echo "umount $*" >> "$SANDBOX/calls"`,
        mountpoint: `grep -qxF "\${@: -1}" "$SANDBOX/mounted" 2>/dev/null`,
        findmnt: `local d=\${@: -1}
            grep -qxF "$d" "$SANDBOX/mounted" 2>/dev/null || return 1
            case "$*" in *FSTYPE*) echo tmpfs ;; *OPTIONS*) echo "rw,nosuid,nodev,noexec,size=65536k,mode=755" ;; esac`,
        systemctl: `echo "systemctl $*" >> "$SANDBOX/calls"`,
    };

    test("writes one managed fstab block with the size, mounts each directory, then is ok", () => {
        const fstab = path.join(sandbox, "fstab");
        writeFileSync(fstab, "UUID=abc / ext4 defaults 0 1\n");
        const dirs = [path.join(sandbox, "log", "image.example.com"), path.join(sandbox, "log", "image.example.org")];
        const step = logsRole({ domains: [{ name: "example.com", internalPort: 8081 }, { name: "example.org", internalPort: 8082 }],
            logs: { tmpfsSize: "64m", interval: "5min", keepDays: 14, processCommand: "/bin/true" } }).find((s) => s.name === "logs-mounts")!;
        const subst: Array<[string | RegExp, string]> = [
            ["/etc/fstab", fstab],
            [/^DIRS=\(.*\)$/m, `DIRS=(${shqList(dirs)})`],
        ];
        const r = run("logs-mounts", step.script, { shims, subst });
        expect(r.code, r.stderr).toBe(0);
        expect(r.last).toBe("changed");
        const text = readFileSync(fstab, "utf8");
        expect(text.startsWith("UUID=abc / ext4 defaults 0 1\n")).toBe(true);
        for (const d of dirs) {
            expect(text).toContain(`tmpfs ${d} tmpfs size=64m,mode=0755,nosuid,nodev,noexec 0 0`);
            expect(existsSync(d)).toBe(true);
            expect(r.stdout).toContain(`changed: mount tmpfs on ${d} (64m)`);
        }
        expect(text.match(/# BEGIN pairstore log tmpfs/g)).toHaveLength(1);

        const again = run("logs-mounts", step.script, { shims, subst });
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout.trim()).toBe("ok");
        expect(readFileSync(fstab, "utf8")).toBe(text);
    });

    test("logs-retire unmounts only the log directories no longer configured, and keeps their files", () => {
        const root = path.join(sandbox, "log");
        const kept = ["example.com", "example.org", "a.example", "b.example"].map((d) => path.join(root, `image.${d}`));
        const gone = path.join(root, "image.old.example");
        for (const d of [...kept, gone]) mkdirSync(d, { recursive: true });
        writeFileSync(path.join(gone, "access.log"), "GET /x\n");
        writeFileSync(path.join(sandbox, "mounted"), [...kept, gone, path.join(sandbox, "other")].join("\n") + "\n");
        const retireShims = {
            ...shims,
            findmnt: `cat "$SANDBOX/mounted"`,
            umount: `echo "umount $*" >> "$SANDBOX/calls"; grep -vxF "\${@: -1}" "$SANDBOX/mounted" > "$SANDBOX/m" || true; mv "$SANDBOX/m" "$SANDBOX/mounted"`,
        };
        const step = logsRetireStep({ domains: ["example.com", "example.org", "a.example", "b.example"].map((name) => ({ name, internalPort: 8081 })) });
        const subst: Array<[string | RegExp, string]> = [
            [/^DIRS=\(.*\)$/m, `DIRS=(${shqList(kept)})`],
            ["/var/log/nginx", root],
            ["/usr/local/lib/pairstore/rotate-logs", "true"],
        ];
        const check = run("logs-retire", step.script, { shims: retireShims, subst, check: true });
        expect(check.stdout).toContain(`would: process and unmount ${gone} (no longer configured)`);
        expect(existsSync(path.join(sandbox, "calls"))).toBe(false);
        const r = run("logs-retire", step.script, { shims: retireShims, subst });
        expect(r.code, r.stderr).toBe(0);
        expect(readFileSync(path.join(sandbox, "calls"), "utf8")).toBe(`umount ${gone}\n`);
        expect(readFileSync(path.join(`${gone}.retired`, "access.log"), "utf8")).toBe("GET /x\n");
        expect(run("logs-retire", step.script, { shims: retireShims, subst }).stdout.trim()).toBe("ok");
    });
});
