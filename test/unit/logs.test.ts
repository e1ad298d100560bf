// The logs role (components/roles/logs.ts): one tmpfs log directory per domain,
// the mount step, the rotate/archive timer and its scripts.
import { spawnSync } from "child_process";
import { describe, expect, test } from "vitest";
import { logDirs, logsRole } from "../../components/roles/logs";
import { byName, specOf } from "./role-spec";

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
