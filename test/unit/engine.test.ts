// The engine follows the Pulumi engine and the command provider rule for rule:
// each rule below is proven by deploying a small program
// (test/unit/engine-program) whose local commands log what ran, in order.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawnSync } from "child_process";
import { runStack, type RunResult } from "../engine";
import { lockStack } from "../engine/lock";
import { configValue, loadProject, programConfig, type StackConfig } from "../engine/project";
import { goQuote } from "../engine/providers";
import type { TestResource } from "./engine-program";

let dir: string;
let log: string;
beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "engine-test-"));
    log = path.join(dir, "log");
    writeFileSync(log, "");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A command resource that logs `<verb> <name>` for create, update and delete. */
function cmd(name: string, extra: Partial<TestResource> = {}): TestResource {
    const say = (verb: string) => `echo "${verb} ${name}" >> ${log}`;
    return { name, create: say("create"), update: say("update"), delete: say("delete"), ...extra };
}

function stack(resources: TestResource[], more: StackConfig = {}): StackConfig {
    return {
        "enginetest:resources": configValue(resources),
        "enginetest:required": configValue("yes"),
        "enginetest:token": configValue("t0ken", true),
        ...more,
    };
}

function deploy(resources: TestResource[], opts: { parallel?: number; preview?: boolean; config?: StackConfig } = {}): Promise<RunResult> {
    return runStack("t", path.join(dir, "state.json"), opts.config ?? stack(resources), {
        program: "test/unit/engine-program/index", projectFile: "test/unit/engine-program/Pulumi.yaml",
        parallel: opts.parallel, preview: opts.preview,
    });
}

const logged = () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean);

describe("the engine: create, same, update, delete", () => {
    it("creates, then changes nothing on an unchanged program, then updates what changed and deletes what is gone", async () => {
        const r1 = await deploy([cmd("a"), cmd("b", { stdin: "1" })]);
        expect(r1.ok).toBe(true);
        expect(r1.created.sort()).toEqual(["a", "b", "enginetest-t"]); // the stack is a create step too
        const r2 = await deploy([cmd("a"), cmd("b", { stdin: "1" })]);
        expect(r2.unchanged.sort()).toEqual(["a", "b", "enginetest-t"]);
        // stdin is an ordinary input: a change runs `update`, it never replaces
        const r3 = await deploy([cmd("b", { stdin: "2" })]);
        expect(r3.updated).toEqual(["b"]);
        expect(r3.deleted).toEqual(["a"]);
        expect(logged()).toEqual(["create a", "create b", "update b", "delete a"]);
        // without `update`, an update runs `create`
        const r4 = await deploy([{ name: "b", create: `echo "run $(cat)" >> ${log}`, stdin: "3" }]);
        expect(r4.updated).toEqual(["b"]);
        expect(logged().pop()).toBe("run 3");
    });

    it("names resources by the engine's URN: the parent's whole type chain without the root stack", async () => {
        const r = await deploy([{ name: "g", component: true }, { name: "h", component: true, parent: "g" }, cmd("c", { parent: "h" })]);
        expect(r.created.sort()).toEqual(["c", "enginetest-t", "g", "h"]); // components are create steps too
        expect(r.urns).toContain("urn:pulumi:t::enginetest::enginetest:index:Group$enginetest:index:Group$command:local:Command::c");
        expect(r.urns).toContain("urn:pulumi:t::enginetest::enginetest:index:Group::g");
        // and the program got the declared defaults of the stack config
        expect(r.outputs).toMatchObject({ flag: false, names: [], counted: 3 });
    });

    it("moves a resource to another parent as a new URN: the new one is created and the old one deleted, unless an alias names it", async () => {
        await deploy([{ name: "g", component: true }, cmd("c", { parent: "g" })]);
        const moved = await deploy([{ name: "g", component: true }, cmd("c")]);
        expect(moved.unchanged.sort()).toEqual(["enginetest-t", "g"]); // a kept component is a same step
        expect(moved.created).toEqual(["c"]);
        expect(moved.deleted).toEqual(["c"]);
        const renamed = await deploy([{ name: "g", component: true }, cmd("d", { aliases: ["c"] })]);
        expect(renamed.created).toEqual([]);
        expect(renamed.deleted).toEqual([]);
        expect(renamed.updated).toEqual(["d"]); // its commands changed with its name
    });
});

describe("the engine: failures", () => {
    const BAD = "echo to-stdout; echo to-stderr >&2; exit 3";

    it("starts nothing new after the first failed step, lets steps in flight finish and runs no delete", async () => {
        await deploy([cmd("gone")]);
        const r = await deploy([
            cmd("slow", { create: `sleep 1; echo "create slow" >> ${log}` }),
            { name: "bad", create: BAD },
            cmd("after", { dependsOn: ["bad"] }),
            cmd("later", { dependsOn: ["slow"] }),
        ], { parallel: 8 });
        expect(r.ok).toBe(false);
        expect(r.failed.map((f) => f.name)).toEqual(["bad"]);
        // the provider's error text: the exit, the whole command, all its output
        expect(r.failed[0].message).toBe(`exit status 3: running ${goQuote(BAD)}:\nto-stdout\nto-stderr\n`);
        // slow was in flight and finished; nothing that registered after the failure ran, and "gone" was not deleted
        expect(logged()).toEqual(["create gone", "create slow"]);
        expect(r.skipped).toContain("later");
        expect(r.deleted).toEqual([]);
    });

    it("keeps no state for a failed create and the old inputs for a failed update, so the next deployment retries", async () => {
        const flag = path.join(dir, "fail");
        const flaky = (v: string) => ({ name: "x", create: `[ ! -e ${flag} ] || exit 1; echo "run ${v}" >> ${log}` });
        writeFileSync(flag, "");
        expect((await deploy([flaky("1")])).ok).toBe(false);
        rmSync(flag);
        expect((await deploy([flaky("1")])).created).toEqual(["x"]);
        writeFileSync(flag, "");
        expect((await deploy([flaky("2")])).ok).toBe(false);
        rmSync(flag);
        expect((await deploy([flaky("2")])).updated).toEqual(["x"]);
        expect(logged()).toEqual(["run 1", "run 2"]);
    });
});

describe("the engine: replacements", () => {
    it("replaces only on a `triggers` change: creates the new one, then deletes the old one at the end", async () => {
        await deploy([cmd("r", { triggers: [1] }), cmd("other", { dependsOn: ["r"] })]);
        const r = await deploy([cmd("r", { triggers: [2] }), cmd("other", { stdin: "x", dependsOn: ["r"] })]);
        expect(r.replaced).toEqual(["r"]);
        expect(logged()).toEqual(["create r", "create other", "create r", "update other", "delete r"]);
    });

    it("deletes first with deleteBeforeReplace", async () => {
        await deploy([cmd("r", { triggers: [1], deleteBeforeReplace: true })]);
        await deploy([cmd("r", { triggers: [2], deleteBeforeReplace: true })]);
        expect(logged()).toEqual(["create r", "delete r", "create r"]);
    });

    it("shows why a replaced step must not delete what its successor made: create-before-delete undoes the new create", async () => {
        const file = path.join(dir, "managed");
        const step = (v: number) => ({ name: "f", create: `echo ${v} > ${file}`, delete: `rm -f ${file}`, triggers: [v] });
        await deploy([step(1)]);
        await deploy([step(2)]);
        expect(existsSync(file)).toBe(false);
    });
});

describe("the engine: deletes", () => {
    it("deletes in reverse dependency order, children before their parent, with the inputs stored in the state", async () => {
        await deploy([
            { name: "g", component: true },
            cmd("a", { parent: "g", delete: `echo "delete a $(cat)" >> ${log}`, stdin: "stored" }),
            cmd("b", { parent: "g", dependsOn: ["a"] }),
            cmd("c", { dependsOn: ["b"] }),
        ]);
        writeFileSync(log, "");
        const r = await deploy([]);
        expect(r.ok).toBe(true);
        expect(logged()).toEqual(["delete c", "delete b", "delete a stored"]);
        expect(r.deleted.sort()).toEqual(["a", "b", "c", "g"]);
    });

    it("stops at the first failed delete and keeps what it did not delete", async () => {
        await deploy([cmd("a"), cmd("b", { dependsOn: ["a"], delete: "exit 1" })]);
        const r = await deploy([]);
        expect(r.ok).toBe(false);
        expect(logged()).toEqual(["create a", "create b"]);
        const again = await deploy([cmd("a"), cmd("b", { dependsOn: ["a"] })]);
        expect(again.unchanged).toContain("a");
    });
});

describe("the engine: parallelism", () => {
    it("runs at most `parallel` steps at once, and 4 x CPUs by default as the CLI", async () => {
        const counter = path.join(dir, "running");
        const step = (i: number) => ({
            name: `p${i}`,
            create: `mkdir ${counter}.$$; echo "n $(ls -d ${counter}.* | wc -l)" >> ${log}; sleep 0.4; rmdir ${counter}.$$`,
        });
        await deploy(Array.from({ length: 12 }, (_, i) => step(i)), { parallel: 3 });
        const most = Math.max(...logged().map((l) => Number(l.split(" ")[1])));
        expect(most).toBeLessThanOrEqual(3);
        expect(most).toBeGreaterThanOrEqual(2);
    });
});

describe("the engine: stack config as the CLI checks it", () => {
    const project = loadProject(path.join(__dirname, "engine-program", "Pulumi.yaml"));

    it("refuses a stack without a declared key that has no default, before the program runs", async () => {
        const config = stack([cmd("never")]);
        delete config["enginetest:required"];
        const r = await deploy([], { config });
        expect(r.failed).toEqual([{ name: "config", message: "Stack 't' is missing configuration value 'enginetest:required'" }]);
        expect(logged()).toEqual([]);
    });

    it("refuses a list stored as a string, and a declared secret stored in plain text", () => {
        const asString = { ...stack([]), "enginetest:names": configValue(JSON.stringify(["x"])) };
        expect(() => programConfig(project, "t", asString)).toThrow("Stack 't' with configuration key 'enginetest:names' must be of type 'array<string>'");
        const plain = { ...stack([]), "enginetest:token": configValue("t0ken") };
        expect(() => programConfig(project, "t", plain)).toThrow("Stack 't' with configuration key 'enginetest:token' must be encrypted as it's secret");
    });
});

describe("the engine: state", () => {
    it("keeps secret inputs only as ciphertext", async () => {
        await deploy([cmd("s", { secretStdin: "hunter2-very-secret" })]);
        expect(readFileSync(path.join(dir, "state.json"), "utf8")).not.toContain("hunter2-very-secret");
        // and still gives the delete its stored stdin
        const r = await deploy([]);
        expect(r.ok).toBe(true);
    });

    it("locks the stack for one update at a time, as the file backend: a second one is refused, a dead holder's lock is taken over", async () => {
        const state = path.join(dir, "state.json");
        const release = lockStack(state);
        try {
            expect(() => lockStack(state)).toThrow(/the stack is currently locked by 1 lock\(s\).*pulumi cancel/s);
        } finally {
            release();
        }
        // a lock left by a process that is gone (a killed run)
        const gone = spawnSync("true").pid;
        writeFileSync(`${state}.lock`, JSON.stringify({ pid: gone }));
        lockStack(state)();
        expect(existsSync(`${state}.lock`)).toBe(false);
        expect((await deploy([cmd("a")])).ok).toBe(true);
        expect(existsSync(`${state}.lock`)).toBe(false);
    });
});
