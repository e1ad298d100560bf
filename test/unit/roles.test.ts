// The roles layer (components/roles/index.ts) as a whole: every rendered step
// is a valid bash command in normal and in check mode, the templates, and the
// health gate. Each role's own tests are in test/unit/<role>.test.ts.
import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import type { ClusterSpec, RawConfig } from "../../components/config";
import { revisionOf, stepCommand, stepScript, type ScriptStep } from "../../components/step/step";
import { FILES_DIR, fill, includesOf, readTemplate, render } from "../../components/step/template";
import { bashSyntax, byName, specOf, stepsOf } from "./role-spec";

describe("rendered steps", () => {
    const spec = specOf((c) => { c.extraPackages = ["rsync"]; c.sysctl = { "net.ipv4.tcp_rmem": "4096 87380 16777216" }; });
    const steps = stepsOf(spec);
    const cases = steps.flatMap((s) => [
        { step: s.name, which: "create", body: s.script },
        ...(s.deleteScript === undefined ? [] : [{ step: s.name, which: "delete", body: s.deleteScript }]),
    ]);

    test("the node's steps, in order, end with the health gate", () => {
        expect(steps.map((s) => s.name)).toEqual([
            "packages", "kernel-modules", "sysctl-unit", "sysctl", "sysctl-service", "limits",
            "logs-rotate-script", "logs-archive-script", "logs-service-unit", "logs-timer-unit", "logs-mounts", "logs-timer",
            "nginx-build", "nginx-dirs", "client-limits-rules", "client-limits-unit", "client-limits", "nginx-unit", "nginx-mime-types",
            "nginx-main-conf", "nginx-client-limits", "nginx-site-example.com", "nginx-site-example.org", "nginx-secure-link-secret", "nginx-activate", "nginx-service", "logs-retire",
            "replication-dirs", "rsyncd-check-script", "lsyncd-check-script", "rsyncd-config", "rsyncd-unit", "rsyncd-service",
            "replicate-script", "verify-script", "lsyncd-rsync-script", "lsyncd-config", "lsyncd-unit", "catchup-service-unit", "catchup-timer-unit",
            "replication-inotify",
            "hostname", "heartbeat-ipaddr-gw", "heartbeat-config", "heartbeat-resources", "heartbeat-authkeys", "heartbeat-unit",
            "heartbeat-service", "failover-monitor-script", "failover-monitor-unit", "failover-monitor",
            "health",
            "replication-merge", "lsyncd-service", "catchup-timer", "replication-health", "replication-verify",
        ]);
        // packages and the nginx build change nothing a node serves with: both nodes of a pair run them at once
        const prepare = ["packages", "nginx-build"];
        expect(steps.map((s) => s.phase ?? "base")).toEqual([
            ...steps.slice(0, 52).map((s) => prepare.includes(s.name) ? "prepare" : "base"), "merge", "activate", "activate", "activate", "activate",
        ]);
    });

    test.each(cases)("$step ($which) passes bash -n as root and through sudo, in both modes", ({ step, body }) => {
        for (const check of [false, true]) {
            const asRoot = stepCommand(step, body, { user: "root", check });
            const r = bashSyntax(asRoot);
            expect(r.code, r.stderr).toBe(0);
            const asUser = stepCommand(step, body, { user: "deploy", check });
            expect(asUser.startsWith("sudo -n bash -c '")).toBe(true);
            expect(asUser.slice("sudo -n ".length)).toBe(asRoot);
        }
    });

    test("a syntax error in a step would be caught by this check", () => {
        expect(bashSyntax(stepCommand("broken", "if true; then echo\n", { user: "root", check: false })).code).not.toBe(0);
    });

    test("check mode is set in the script text: CHECK=1, and CHECK=0 normally", () => {
        for (const s of steps) {
            const normal = stepScript(s.name, s.script, { check: false });
            const check = stepScript(s.name, s.script, { check: true });
            expect(normal).toMatch(/^CHECK=0$/m);
            expect(normal).not.toMatch(/^CHECK=1$/m);
            expect(check).toMatch(/^CHECK=1$/m);
            expect(check).not.toMatch(/^CHECK=0$/m);
            expect(stepCommand(s.name, s.script, { user: "deploy", check: true })).toMatch(/^CHECK=1$/m);
        }
    });

    test("every script starts with the prelude and ends by saying changed or ok", () => {
        for (const s of steps) {
            const text = stepScript(s.name, s.script, { check: false });
            expect(text.startsWith("# pairstore converge-step prelude")).toBe(true);
            expect(text).toMatch(/^set -euo pipefail$/m);
            expect(text).toMatch(/^STEP=/m);
            expect(text.trimEnd().endsWith('if [ "$changed" = 1 ]; then echo changed; else echo ok; fi')).toBe(true);
        }
    });

    test("a step name with shell characters is quoted", () => {
        expect(stepScript("it's", "", { check: false })).toContain(`STEP='it'\\''s'`);
    });

    test("step names are unique per node and resource names unique per cluster", () => {
        const all: string[] = [];
        spec.pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
            const names = stepsOf(spec, i, j).map((s) => s.name);
            expect(new Set(names).size).toBe(names.length);
            all.push(...names.map((s) => `${n.name}-${s}`));
        }));
        expect(new Set(all).size).toBe(all.length);
    });

    test("no step leaves a placeholder unfilled", () => {
        for (const s of steps) {
            for (const text of [s.script, s.deleteScript ?? "", typeof s.stdin === "string" ? s.stdin : ""]) {
                expect(text, s.name).not.toMatch(/\{\{[A-Za-z0-9_]+\}\}/);
            }
        }
    });
});

describe("templates", () => {
    test("a missing placeholder throws naming the file and the placeholder", () => {
        expect(() => fill("a = {{alpha}}\nb = {{beta}}\n", { alpha: 1 }, "files/x/y.conf"))
            .toThrow("files/x/y.conf: no value for placeholder {{beta}}");
        expect(() => render("kernel/60-pairstore.conf", {})).toThrow("files/kernel/60-pairstore.conf: no value for placeholder {{settings}}");
        expect(() => render("steps/file.sh", { path: "/x", mode: "644" })).toThrow("files/steps/file.sh: no value for placeholder {{validate}}");
    });

    test("fill replaces every occurrence and leaves other braces alone", () => {
        expect(fill("{{a}} {{a}} ${x} {b} {{ c }}", { a: 7 }, "t")).toBe("7 7 ${x} {b} {{ c }}");
    });

    test("every file under files/ is used by the components", () => {
        const files: string[] = [];
        const walk = (dir: string, into: string[], keep: (p: string) => boolean) => {
            for (const e of readdirSync(dir)) {
                const p = path.join(dir, e);
                if (statSync(p).isDirectory()) walk(p, into, keep);
                else if (keep(p)) into.push(p);
            }
        };
        walk(FILES_DIR, files, () => true);
        const sources: string[] = [];
        walk(path.join(FILES_DIR, "..", "components"), sources, (p) => p.endsWith(".ts"));
        const code = sources.map((p) => readFileSync(p, "utf8")).join("\n");
        expect(files.length).toBeGreaterThan(10);
        // A file is used when a component names it, or a used file includes it (#include).
        const rels = files.map((f) => path.relative(FILES_DIR, f));
        const used = new Set(rels.filter((rel) => code.includes(`"${rel}"`)));
        for (let grew = true; grew;) {
            grew = false;
            for (const rel of [...used]) {
                for (const inc of includesOf(readFileSync(path.join(FILES_DIR, rel), "utf8"))) {
                    if (!used.has(inc)) { used.add(inc); grew = true; }
                }
            }
        }
        for (const rel of rels) {
            expect(used.has(rel), `files/${rel} is neither referenced by a component nor included by a file that is`).toBe(true);
            expect(() => readTemplate(rel)).not.toThrow();
        }
    });
});

describe("the health gate", () => {
    const gateOf = (spec: ClusterSpec) => byName(stepsOf(spec), "health").script;
    const baseSteps = (spec: ClusterSpec) => stepsOf(spec).filter((s): s is ScriptStep => s.kind === "script" && s.phase === "base" && s.name !== "health");

    test("its revision is stable for the same spec", () => {
        expect(gateOf(specOf())).toBe(gateOf(specOf()));
        const steps = baseSteps(specOf());
        expect(revisionOf(steps)).toBe(revisionOf(steps.map((s) => ({ ...s }))));
    });

    test("its revision changes when any step's script or content changes", () => {
        const steps = baseSteps(specOf());
        const base = revisionOf(steps);
        const seen = new Set([base]);
        steps.forEach((s, i) => {
            const script = steps.map((x, j) => (j === i ? { ...x, script: x.script + "\n# changed" } : x));
            expect(revisionOf(script), `${s.name} script`).not.toBe(base);
            seen.add(revisionOf(script));
            const stdin = steps.map((x, j) => (j === i ? { ...x, stdin: `${typeof x.stdin === "string" ? x.stdin : ""}x` } : x));
            expect(revisionOf(stdin), `${s.name} stdin`).not.toBe(base);
            const digest = steps.map((x, j) => (j === i ? { ...x, stdin: undefined, stdinDigest: "other" } : x));
            expect(revisionOf(digest), `${s.name} stdinDigest`).not.toBe(base);
        });
        expect(seen.size).toBe(steps.length + 1);
    });

    test("the gate's script changes with every config that changes a step", () => {
        const base = gateOf(specOf());
        const variants: Array<[string, (c: RawConfig) => void]> = [
            ["sysctl", (c) => { c.sysctl = { "net.core.somaxconn": 4096 }; }],
            ["nofile", (c) => { c.nofile = 65536; }],
            ["tmpfs size", (c) => { c.logs = { tmpfsSize: "128m" }; }],
            ["interval", (c) => { c.logs = { interval: "1h" }; }],
            ["packages", (c) => { c.extraPackages = ["htop"]; }],
            ["domains", (c) => { c.domains = [{ name: "example.net", internalPort: 8081 }]; }],
        ];
        for (const [what, change] of variants) expect(gateOf(specOf(change)), what).not.toBe(base);
    });

    test("it waits for the units, the log mounts and the node's own heartbeat addresses", () => {
        const gate = gateOf(specOf());
        expect(gate).toContain("UNITS=(pairstore-sysctl.service pairstore-logs.timer pairstore-client-limits.service pairstore-nginx.service pairstore-rsyncd.service heartbeat.service pairstore-failover.service)");
        expect(gate).toContain("ADDRESSES=(eth1=198.51.100.11/24)");
        expect(gate).toContain("URLS=(http://127.0.0.1:8081/.pairstore/health http://127.0.0.1:8082/.pairstore/health)");
        expect(gate).toContain("MOUNTS=(/var/log/nginx/image.example.com /var/log/nginx/image.example.org)");
        expect(gate).toMatch(/^# Node revision \(reruns the gate whenever the node changed\): [0-9a-f]{16}$/m);
    });
});
