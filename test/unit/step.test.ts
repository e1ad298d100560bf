// The step layer (components/host/step.ts and files/steps/: the file step,
// the service handler, ownership of renamed steps) and the data-folder steps
// built on it, run for real with bash against a sandbox: temporary
// directories stand in for /etc, and commands that would touch the machine
// (systemctl, mount, sysctl, ...) are bash functions that only log.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { fileStep, serviceStep } from "../../components/step/step";
import { FILES_DIR, render, shq, shqList } from "../../components/step/template";
import { INTERNAL_DIR, REPLICA_GROUP, REPLICA_MARKER, WEB_USER } from "../../components/lib/paths";
import { layoutRoot } from "./fixtures";
import { mode, run, sandbox, strays, useSandbox } from "./step-sandbox";

useSandbox();

describe("the file step (files/steps/file.sh)", () => {
    const content = "# managed\nkey = value with 'quotes' and $(not expanded) `either`\nlast line without newline";

    test("first run writes the file and says changed; the second says ok", () => {
        const dest = path.join(sandbox, "etc", "app", "app.conf");
        const step = fileStep("app-conf", { path: dest, content });
        const first = run(step.name, step.script, { stdin: step.stdin as string });
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout).toContain(`changed: write ${dest}`);
        expect(first.last).toBe("changed");
        expect(readFileSync(dest, "utf8")).toBe(content);
        expect(mode(dest)).toBe("644");

        const second = run(step.name, step.script, { stdin: step.stdin as string });
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout.trim()).toBe("ok");
        expect(strays(path.dirname(dest))).toEqual([]);
    });

    test("a changed mode alone is converged", () => {
        const dest = path.join(sandbox, "script");
        const step = fileStep("script", { path: dest, content: "#!/bin/sh\necho hi\n", mode: "755" });
        expect(run(step.name, step.script, { stdin: step.stdin as string }).last).toBe("changed");
        expect(mode(dest)).toBe("755");
        chmodSync(dest, 0o700);
        expect(run(step.name, step.script, { stdin: step.stdin as string }).last).toBe("changed");
        expect(mode(dest)).toBe("755");
        expect(run(step.name, step.script, { stdin: step.stdin as string }).last).toBe("ok");
    });

    test("CHECK=1 reports drift and leaves the file as it is", () => {
        const dest = path.join(sandbox, "app.conf");
        const step = fileStep("app-conf", { path: dest, content });
        run(step.name, step.script, { stdin: step.stdin as string });
        writeFileSync(dest, "edited by hand\n");
        const check = run(step.name, step.script, { stdin: step.stdin as string, check: true });
        expect(check.code, check.stderr).toBe(0);
        expect(check.stdout).toContain(`would: write ${dest}`);
        expect(check.stdout).not.toContain("changed:");
        expect(check.last).toBe("changed");
        expect(readFileSync(dest, "utf8")).toBe("edited by hand\n");
        expect(strays(sandbox)).toEqual([]);

        // a missing file is drift too, and check mode does not create it (nor its directory)
        const absent = path.join(sandbox, "new", "file.conf");
        const step2 = fileStep("new-file", { path: absent, content });
        expect(run(step2.name, step2.script, { stdin: content, check: true }).stdout).toContain(`would: write ${absent}`);
        expect(existsSync(path.dirname(absent))).toBe(false);

        // and the next normal run puts it back
        expect(run(step.name, step.script, { stdin: step.stdin as string }).last).toBe("changed");
        expect(readFileSync(dest, "utf8")).toBe(content);
        expect(run(step.name, step.script, { stdin: step.stdin as string, check: true }).stdout.trim()).toBe("ok");
    });

    test("a version that fails validation leaves the old file in place and fails naming the file", () => {
        const dest = path.join(sandbox, "rotate-logs");
        const good = fileStep("rotate", { path: dest, content: "#!/bin/bash\necho fine\n", mode: "755", validate: "bash -n {}" });
        expect(run(good.name, good.script, { stdin: good.stdin as string }).last).toBe("changed");

        const broken = fileStep("rotate", { path: dest, content: "#!/bin/bash\nif true; then\n", mode: "755", validate: "bash -n {}" });
        const r = run(broken.name, broken.script, { stdin: broken.stdin as string });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(`pairstore: rotate: ${dest}: the new version failed validation (bash -n {}), the old one stays in place`);
        expect(r.stderr).toMatch(/syntax error|unexpected end of file/);
        expect(r.stdout).not.toMatch(/^(ok|changed)$/m);
        expect(readFileSync(dest, "utf8")).toBe("#!/bin/bash\necho fine\n");
        expect(strays(sandbox)).toEqual([]);
    });

    test("a valid new version passes validation and replaces the file", () => {
        const dest = path.join(sandbox, "tool");
        writeFileSync(dest, "#!/bin/bash\necho old\n");
        const step = fileStep("tool", { path: dest, content: "#!/bin/bash\necho new\n", mode: "755", validate: "bash -n {}" });
        const r = run(step.name, step.script, { stdin: step.stdin as string });
        expect(r.code, r.stderr).toBe(0);
        expect(r.last).toBe("changed");
        expect(readFileSync(dest, "utf8")).toBe("#!/bin/bash\necho new\n");
    });

    test("the delete script removes the file", () => {
        const dest = path.join(sandbox, "gone.conf");
        const step = fileStep("gone", { path: dest, content: "x\n" });
        run(step.name, step.script, { stdin: "x\n" });
        const r = run(step.name, step.deleteScript!);
        expect(r.code, r.stderr).toBe(0);
        expect(existsSync(dest)).toBe(false);
    });

    // Callers run `install_file ... || true`, which turns off `set -e` inside it:
    // every action there must check itself, or a failed write would say "changed".
    test("a file that cannot be installed fails the step and names it", () => {
        writeFileSync(path.join(sandbox, "afile"), "not a directory\n");
        const dest = path.join(sandbox, "afile", "x.conf");
        const step = fileStep("blocked", { path: dest, content: "x\n" });
        const r = run(step.name, step.script, { stdin: "x\n" });
        expect(r.code).not.toBe(0);
        expect(r.stderr).toContain(dest);
        expect(r.stdout).not.toMatch(/^changed$/m);
    });

    test("a path with spaces is quoted", () => {
        const dest = path.join(sandbox, "dir with space", "a file.conf");
        const step = fileStep("spaced", { path: dest, content: "x\n" });
        expect(run(step.name, step.script, { stdin: "x\n" }).last).toBe("changed");
        expect(readFileSync(dest, "utf8")).toBe("x\n");
    });
});

describe("the service handler (files/steps/service.sh)", () => {
    // systemctl stand-in: logs its calls; the unit is active and enabled once started/enabled.
    const shims = {
        systemctl: `echo "systemctl $*" >> "$SANDBOX/calls"
            local u=\${@: -1}
            case "$1" in
                is-active) [ -e "$SANDBOX/active" ] ;;
                is-enabled) [ -e "$SANDBOX/enabled" ] ;;
                enable) touch "$SANDBOX/enabled" ;;
                start|restart) touch "$SANDBOX/active" ;;
                *) true ;;
            esac`,
    };
    const calls = () => (existsSync(path.join(sandbox, "calls")) ? readFileSync(path.join(sandbox, "calls"), "utf8").trim().split("\n") : []);
    const reset = () => rmSync(path.join(sandbox, "calls"), { force: true });

    test("fires only when what it serves changed", () => {
        const v1 = serviceStep("svc", "demo.service", ["unit v1"], "restart");
        const first = run(v1.name, v1.script, { shims });
        expect(first.code, first.stderr).toBe(0);
        expect(first.last).toBe("changed");
        expect(calls()).toContain("systemctl daemon-reload");
        expect(calls()).toContain("systemctl enable -q demo.service");
        expect(calls()).toContain("systemctl start demo.service");

        reset();
        const again = run(v1.name, v1.script, { shims });
        expect(again.stdout.trim()).toBe("ok");
        expect(calls().filter((c) => !c.startsWith("systemctl is-"))).toEqual([]);

        reset();
        const v2 = serviceStep("svc", "demo.service", ["unit v2"], "restart");
        const changed = run(v2.name, v2.script, { shims });
        expect(changed.last).toBe("changed");
        expect(changed.stdout).toContain("demo.service: configuration changed, daemon-reload and restart");
        expect(calls()).toContain("systemctl restart demo.service");

        reset();
        expect(run(v2.name, v2.script, { shims }).stdout.trim()).toBe("ok");
    });

    test("in check mode it reports and records nothing", () => {
        const v1 = serviceStep("svc", "demo.service", ["unit v1"], "restart");
        const r = run(v1.name, v1.script, { shims, check: true });
        expect(r.stdout).toContain("would: demo.service: configuration changed");
        expect(r.stdout).toContain("would: start demo.service");
        expect(calls().filter((c) => !c.startsWith("systemctl is-"))).toEqual([]);
        expect(existsSync(path.join(sandbox, "state", "handlers"))).toBe(false);
    });
});

describe("the data folders' steps", () => {
    // A pull from the peer (refill, merge, repair: rsync --chown as root) gives
    // every folder it touches the replica group, the image root included. nginx
    // writes as www-data whatever the group: a check must not call that drift.
    const shims = {
        stat: `case "$2" in %U) echo ${WEB_USER} ;; %U:%G) echo ${WEB_USER}:${REPLICA_GROUP} ;; *) command stat "$@" ;; esac`,
        getent: "return 0",
        systemctl: "return 1",
        // (the tombstone folders' owner: every folder here is root's)
        find: `case "$*" in *"! -user ${WEB_USER}"*) ;; *) command find "$@" ;; esac`,
    };

    test("nginx-dirs and replication-dirs check the owner only: a root with the replica group is no drift", () => {
        const root = layoutRoot(sandbox);
        const subs = ["", "/tmp", "/tmp/body", "/tmp/rsync", "/tombstones", "/conflicts"].map((s) => `${INTERNAL_DIR}${s}`);
        for (const sub of subs) mkdirSync(path.join(root, sub), { recursive: true });
        writeFileSync(path.join(root, REPLICA_MARKER), "");
        const nginxDirs = render("nginx/nginx-dirs.sh", { dirs: shqList([root, ...subs.map((s) => path.join(root, s))]) });
        const replicationDirs = render("replication/replication-dirs.sh", {
            roots: shqList([root]), web_user: shq(WEB_USER), marker: shq(REPLICA_MARKER), internal: shq(INTERNAL_DIR), replica_group: shq(REPLICA_GROUP),
        });
        for (const [name, body] of [["nginx-dirs", nginxDirs], ["replication-dirs", replicationDirs]]) {
            const r = run(name, body, { shims, check: true });
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout.trim(), name).toBe("ok");
        }
    });
});

describe("scripts that run under pipefail", () => {
    // With `set -o pipefail`, a reader that exits early (grep -q, grep -m, head,
    // sed ...q) can kill the writer before it is done: SIGPIPE fails the pipeline
    // although the reader found its match. Once in a few hundred runs, logs-retire
    // took a configured log directory for a retired one and unmounted it. Match on
    // captured output instead (`grep -q PATTERN <<<"$out"`).
    const early = [/^grep\b.*\s-(?:[A-Za-z]*[qm][A-Za-z]*|-quiet|-max-count)\b/, /^head\b/, /^sed\b.*q[;}'"]/, /^awk\b.*\bexit\b/];
    const scripts = readdirSync(FILES_DIR, { recursive: true, encoding: "utf8" })
        .filter((f) => statSync(path.join(FILES_DIR, f)).isFile())
        .filter((f) => f.endsWith(".sh") || readFileSync(path.join(FILES_DIR, f), "utf8").includes("pipefail"));

    test.each(scripts)("%s pipes into no reader that exits early", (f) => {
        const offending = readFileSync(path.join(FILES_DIR, f), "utf8").split("\n")
            .map((line, i) => ({ line, n: i + 1 }))
            .filter(({ line }) => !line.trim().startsWith("#"))
            .filter(({ line }) => line.replace(/\|\|/g, " OR ").split("|").slice(1).some((stage) => early.some((re) => re.test(stage.trim()))));
        expect(offending.map(({ line, n }) => `${f}:${n}: ${line.trim()}`)).toEqual([]);
    });
});

describe("ownership: a renamed step's delete never removes what its successor manages", () => {
    // A renamed node: the engine creates the new resource (node-1x-app-conf) before it
    // deletes the old one (node-1a-app-conf); both manage the same file on the same host.
    const dest = () => path.join(sandbox, "etc", "app.conf");
    const step = () => fileStep("app-conf", { path: dest(), content: "v1\n" });

    test("the old delete finds the step claimed by its successor and keeps the file", () => {
        const s = step();
        expect(run(s.name, s.script, { stdin: s.stdin as string, owner: "node-1a-app-conf" }).code).toBe(0);
        expect(run(s.name, s.script, { stdin: s.stdin as string, owner: "node-1x-app-conf" }).code).toBe(0);
        const del = run(s.name, s.deleteScript!, { owner: "node-1a-app-conf", delete: true });
        expect(del.code, del.stderr).toBe(0);
        expect(del.stdout).toContain("kept: app-conf is now managed by node-1x-app-conf");
        expect(readFileSync(dest(), "utf8")).toBe("v1\n");
    });

    test("the delete of a step nobody took over removes the file, and one from before claims existed too", () => {
        const s = step();
        expect(run(s.name, s.script, { stdin: s.stdin as string, owner: "node-1a-app-conf" }).code).toBe(0);
        expect(run(s.name, s.deleteScript!, { owner: "node-1a-app-conf", delete: true }).code).toBe(0);
        expect(existsSync(dest())).toBe(false);
        writeFileSync(dest(), "unclaimed\n");
        expect(run(s.name, s.deleteScript!, { owner: "node-1a-app-conf", delete: true }).code).toBe(0);
        expect(existsSync(dest())).toBe(false);
    });

    test("check mode claims nothing", () => {
        const s = step();
        expect(run(s.name, s.script, { stdin: s.stdin as string, owner: "node-1a-app-conf" }).code).toBe(0);
        expect(run(s.name, s.script, { stdin: s.stdin as string, owner: "node-1x-app-conf", check: true }).code).toBe(0);
        expect(run(s.name, s.deleteScript!, { owner: "node-1a-app-conf", delete: true }).code).toBe(0);
        expect(existsSync(dest())).toBe(false);
    });
});
