// Pulumi.yaml and the lab's stack config, checked the way the Pulumi CLI
// checks them before it runs the program (test/engine/project.ts), the
// `pulumi config` calls the lab makes when it drives the real CLI, and the
// stack-config builder's large clusters (bench:program's sizes).
import * as path from "path";
import { describe, expect, test } from "vitest";
import { REQUIRED_SECRETS } from "../../components/config";
import { configValue, loadProject, programConfig, type StackConfig } from "../engine/project";
import { pulumiConfigCalls } from "../lab/lab";
import { LAB_DNS, LAB_SECRET_KEYS, labConfig, labHosts } from "../lab/topology";
import { hostIn } from "../stack-config";
import { clusterConfig, problemsOf } from "./fixtures";

const project = loadProject(path.join(__dirname, "..", "..", "Pulumi.yaml"));

function labStack(): StackConfig {
    const keys = Object.fromEntries([...labHosts().map((h) => h.name), LAB_DNS.name].map((n) => [n, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnit"]));
    return labConfig(keys, {
        privateKey: "key", secureLinkSecret: "s".repeat(32), heartbeatAuthKey: "h".repeat(32), nginxSourceFile: __filename, tsigSecret: "dA==",
    });
}

describe("Pulumi.yaml as the CLI reads it", () => {
    test("every declared key has a default or is one the program requires", () => {
        const required = Object.entries(project.config).filter(([, d]) => d.default === undefined && d.value === undefined).map(([k]) => k.replace(/^pairstore:/, ""));
        expect(required.sort()).toEqual([...REQUIRED_SECRETS].sort());
        for (const k of required) expect(project.config[`pairstore:${k}`].secret, k).toBe(true);
    });

    test("optional keys without a default are not declared (the CLI would require them)", () => {
        for (const k of ["rsyncSecret", "dnsTsigSecret", "dns", "shards"]) expect(project.config[`pairstore:${k}`], k).toBeUndefined();
    });

    test("the lab's stack passes, and the program gets the declared defaults", () => {
        const { config, secretKeys } = programConfig(project, "lab", labStack());
        expect(secretKeys.sort()).toEqual(LAB_SECRET_KEYS.map((k) => `pairstore:${k}`).sort());
        expect(config["pairstore:dataRoot"]).toBe("/srv/images");
        expect(config["pairstore:extraPackages"]).toBe("[]");
        expect(JSON.parse(config["pairstore:uploaders"])).toEqual(["10.77.0.1/32"]);
    });

    test("a stack with only the required secrets and no rsyncSecret passes", () => {
        const stack = Object.fromEntries(REQUIRED_SECRETS.map((k) => [`pairstore:${k}`, configValue("x", true)]));
        expect(() => programConfig(project, "prod", stack)).not.toThrow();
    });

    test("a list stored as a string, a plain secret and a missing secret fail as in the CLI", () => {
        const asString = { ...labStack(), "pairstore:uploaders": configValue(JSON.stringify(["10.0.0.0/24"])) };
        expect(() => programConfig(project, "lab", asString)).toThrow("Stack 'lab' with configuration key 'pairstore:uploaders' must be of type 'array<string>'");
        const plain = { ...labStack(), "pairstore:heartbeatAuthKey": configValue("h".repeat(32)) };
        expect(() => programConfig(project, "lab", plain)).toThrow("Stack 'lab' with configuration key 'pairstore:heartbeatAuthKey' must be encrypted as it's secret");
        const missing = labStack();
        delete missing["pairstore:sshPrivateKey"];
        expect(() => programConfig(project, "lab", missing)).toThrow("Stack 'lab' is missing configuration value 'pairstore:sshPrivateKey'");
    });
});

describe("the lab's pulumi config calls", () => {
    const want: StackConfig = {
        "pairstore:uploaders": configValue(["10.77.0.1/32"]),
        "pairstore:publicPort": configValue(80),
        "pairstore:sshPrivateKey": configValue("PRIVATE KEY", true),
    };
    const calls = pulumiConfigCalls("lab", want, ["pairstore:uploaders", "pairstore:checkMode", "pairstore:sshPrivateKey"]);

    test("structured values go through set-all --json as objectValue, so a list stays a list", () => {
        const setAll = calls.find((c) => c.args.includes("set-all"))!;
        const json = JSON.parse(setAll.args[setAll.args.indexOf("--json") + 1]);
        expect(json["pairstore:uploaders"]).toEqual({ value: '["10.77.0.1/32"]', objectValue: ["10.77.0.1/32"], secret: false });
        expect(json["pairstore:publicPort"]).toEqual({ value: "80", secret: false });
        expect(JSON.stringify(setAll)).not.toContain("PRIVATE KEY");
    });

    test("secrets go on stdin, never on a command line, and keys no longer wanted are removed", () => {
        expect(calls).toContainEqual({ args: ["config", "set", "--stack", "lab", "--secret", "pairstore:sshPrivateKey"], stdin: "PRIVATE KEY" });
        expect(calls).toContainEqual({ args: ["config", "rm", "--stack", "lab", "pairstore:checkMode"] });
        for (const c of calls) expect(c.args.join(" ")).not.toContain("PRIVATE KEY");
    });
});

describe("the stack-config builder at scale", () => {
    test("a host number past 255 spills into the third octet of a /16 network", () => {
        expect(hostIn("10.77.0", 12)).toBe("10.77.0.12");
        expect(hostIn("10.77", 12)).toBe("10.77.0.12");
        expect(hostIn("10.77", 300)).toBe("10.77.1.44");
    });

    test.each([16, 17, 120, 121, 256])("a fixture cluster of %i pairs is valid (two shard digits above 16 pairs)", (pairs) => {
        const raw = clusterConfig(pairs);
        expect(problemsOf(raw)).toEqual([]);
        expect(raw.shardDigits).toBe(pairs > 16 ? 2 : undefined);
    });
});
