// npm run drift (tools/drift.ts): a real step deployed by the engine, changed
// by hand, checked from the stack export; and the tool's bounds and report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkModeCommand, fileStep, stepCommand } from "../../components/step/step";
import { DriftInputError, MAX_PER_HOST, drift, driftChecks, driftReport, runChecks, type DriftCheck } from "../../tools/drift";
import { runStack } from "../engine";
import { configValue } from "../engine/project";
import { StateFile } from "../engine/state";

describe("checkModeCommand", () => {
    it("is the step rendered in check mode, for root and through sudo", () => {
        for (const user of ["root", "deploy"]) {
            const opts = { user, owner: "n-x", generation: 3 };
            expect(checkModeCommand(stepCommand("x", "echo hi", { ...opts, check: false }))).toBe(stepCommand("x", "echo hi", { ...opts, check: true }));
        }
    });

    it("leaves alone what is not a converge step of pairstore's, or already checks", () => {
        expect(checkModeCommand("echo CHECK=0")).toBeUndefined();
        expect(checkModeCommand("bash -c 'CHECK=0\nrm -rf /x'")).toBeUndefined();
        expect(checkModeCommand(stepCommand("x", "echo hi", { user: "root", check: true }))).toBeUndefined();
    });
});

describe("npm run drift on a deployed step", () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), "drift-test-")); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reports a file changed by hand, changes neither the file nor the state, and keeps the step's secret stdin out of its report", async () => {
        const file = path.join(dir, "managed.conf");
        const secret = "managed text, secret-7f3a";
        const step = fileStep("managed-conf", { path: file, content: `${secret}\n` });
        const cmd = stepCommand("managed-conf", step.script, { user: "root", check: false, owner: "" });
        const state = path.join(dir, "state.json");
        const r = await runStack("t", state, {
            "enginetest:resources": configValue([{ name: "node-9a-managed-conf", create: cmd, update: cmd, secretStdin: `${secret}\n` }]),
            "enginetest:required": configValue("yes"),
            "enginetest:token": configValue("t0ken", true),
        }, { program: "test/unit/engine-program/index", projectFile: "test/unit/engine-program/Pulumi.yaml" });
        expect(r.ok, r.failed.map((f) => f.message).join("\n")).toBe(true);
        expect(readFileSync(file, "utf8")).toBe(`${secret}\n`);
        const exported = new StateFile(state).exportWithSecrets();
        expect(JSON.stringify(exported)).toContain('"plaintext"');

        writeFileSync(file, "changed by hand\n");
        const before = readFileSync(state, "utf8");
        const found = await drift(exported);
        expect(found.code).toBe(2);
        expect(found.results.map((x) => [x.check.name, x.check.host, x.check.node])).toEqual([["node-9a-managed-conf", "local", "node-9a"]]);
        expect(found.results[0].would).toEqual([`would: write ${file}`]);
        expect(found.text).toContain(`node-9a-managed-conf (local): would: write ${file}`);
        expect(found.text).toContain("node-9a: raise its generation to 1");
        expect(found.text).not.toContain("secret-7f3a");
        expect(readFileSync(file, "utf8")).toBe("changed by hand\n");
        expect(readFileSync(state, "utf8")).toBe(before);

        writeFileSync(file, `${secret}\n`);
        const clean = await drift(exported);
        expect([clean.code, clean.text.split("\n").pop()]).toEqual([0, "no drift"]);
    });

    it("refuses an export whose secrets are encrypted, naming the command to run", () => {
        const exported = { version: 3, deployment: { resources: [{
            urn: "urn:pulumi:s::p::command:remote:Command::node-1a-x", type: "command:remote:Command",
            inputs: { create: stepCommand("x", "true", { user: "root", check: false }), connection: { host: "h", privateKey: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" } } },
        }] } };
        expect(() => driftChecks(exported)).toThrow(DriftInputError);
        expect(() => driftChecks(exported)).toThrow(/pulumi stack export --show-secrets/);
        expect(() => driftChecks({ hello: 1 })).toThrow(/not a stack export/);
    });

    it("skips commands that are not pairstore steps and resources pending deletion", () => {
        const step = (name: string, more: object = {}) => ({
            urn: `urn:pulumi:s::p::command:remote:Command::${name}`, type: "command:remote:Command",
            inputs: { create: stepCommand("x", "true", { user: "root", check: false }), connection: { host: "h" } }, ...more,
        });
        const { checks, skipped } = driftChecks({ resources: [
            step("node-1a-x"), step("old-x", { delete: true }),
            { urn: "urn:pulumi:s::p::command:local:Command::hook", type: "command:local:Command", inputs: { create: "echo hi" } },
        ] });
        expect(checks.map((c) => c.name)).toEqual(["node-1a-x"]);
        expect(skipped).toEqual(["hook"]);
    });
});

describe("npm run drift: bounds and report", () => {
    const check = (i: number, host: string): DriftCheck => ({ name: `${host}-s${i}`, host, node: host, generation: 0, command: "x" });

    it("runs checks at once, at most --parallel in all and MAX_PER_HOST on one host, every result in the export's order", async () => {
        const checks = [...Array(40)].map((_, i) => check(i, i % 4 === 0 ? "b" : "a"));
        let now = 0; let peak = 0; const perHost = new Map<string, number>(); let hostPeak = 0;
        const results = await runChecks(checks, async (c) => {
            now++; peak = Math.max(peak, now);
            perHost.set(c.host, (perHost.get(c.host) ?? 0) + 1); hostPeak = Math.max(hostPeak, perHost.get(c.host)!);
            await new Promise((r) => setTimeout(r, 5));
            now--; perHost.set(c.host, perHost.get(c.host)! - 1);
            return { code: 0, stdout: `would: fix ${c.name}\nchanged\n`, stderr: "", combined: "" };
        }, 12);
        expect(peak).toBeLessThanOrEqual(12);
        expect(peak).toBeGreaterThan(MAX_PER_HOST); // both hosts at once
        expect(hostPeak).toBe(MAX_PER_HOST);
        expect(results.map((r) => r.would[0])).toEqual(checks.map((c) => `would: fix ${c.name}`));
    });

    it("exit 0 without drift, 2 with drift (the nodes to run again named), 1 when a check failed", () => {
        const ok = { check: check(1, "a"), would: [] };
        const drifted = { check: { ...check(2, "node-2a"), generation: 4 }, would: ["would: set x = 1 (now 2)"] };
        expect(driftReport([ok], 1, []).code).toBe(0);
        const two = driftReport([ok, drifted], 1, []);
        expect(two.code).toBe(2);
        expect(two.text).toContain("node-2a-s2 (node-2a): would: set x = 1 (now 2)");
        expect(two.text).toContain("node-2a: raise its generation to 5");
        const failed = driftReport([ok, drifted, { check: check(3, "a"), would: [], error: "exit 1: boom" }], 1, []);
        expect(failed.code).toBe(1);
        expect(failed.text).toContain("a-s3 (a): the check failed: exit 1: boom");
    });
});
