// The pack as a whole: its files, its policies' metadata, and a valid stack
// captured from the real program passing every policy.
import { readFileSync } from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { ALL_POLICIES } from "../../policies/rules/all";
import type { Recorded as Registered } from "../engine/record";
import { COMMAND, find, NODE, PAIR, SIG_KEY, SECRET_SIG } from "./fixtures";
import { runPolicies } from "./policy-args";
import { dnsStack, validStack } from "./stack";

const POLICIES = path.join(__dirname, "..", "..", "policies");

let stack: Registered[];
beforeAll(async () => {
    stack = await validStack();
});

describe("policy pack files", () => {
    it("is a nodejs policy pack with its own package", () => {
        const yaml = readFileSync(path.join(POLICIES, "PulumiPolicy.yaml"), "utf8");
        expect(yaml).toMatch(/^name: pairstore-policies$/m);
        expect(yaml).toMatch(/^runtime: nodejs$/m);
        const pkg = JSON.parse(readFileSync(path.join(POLICIES, "package.json"), "utf8"));
        expect(pkg.version).toBeTruthy(); // PolicyPack refuses to start without one
        expect(pkg.dependencies["@pulumi/policy"]).toBe("1.21.0");
        const rootPkg = JSON.parse(readFileSync(path.join(POLICIES, "..", "package.json"), "utf8"));
        expect(pkg.dependencies["@pulumi/pulumi"]).toBe(rootPkg.dependencies["@pulumi/pulumi"]);
    });

    it("builds the pack in index.ts only, from the rules modules", () => {
        const index = readFileSync(path.join(POLICIES, "index.ts"), "utf8");
        expect(index).toContain('new PolicyPack("pairstore"');
        expect(index).toContain("installSecretPathTracking()");
        for (const f of ["all", "model", "servers-only-in-pairs", "pair-peers", "shard-coverage", "host-keys-pinned", "secrets-stay-secret", "kernel-guard-rails"]) {
            expect(readFileSync(path.join(POLICIES, "rules", `${f}.ts`), "utf8")).not.toMatch(/new PolicyPack|from "\.\.\/index"/);
        }
    });

    it("has uniquely named policies with descriptions and valid config schemas", () => {
        const names = ALL_POLICIES.map((p) => p.name);
        expect(new Set(names).size).toBe(names.length);
        expect(names).toEqual(["servers-only-in-pairs", "pair-peers", "shard-coverage", "host-keys-pinned", "secrets-stay-secret", "kernel-guard-rails"]);
        for (const p of ALL_POLICIES) {
            expect(p.description.length).toBeGreaterThan(20);
            expect(p.enforcementLevel).toBe("mandatory");
            // The SDK refuses a schema that declares enforcementLevel itself.
            expect(Object.keys(p.configSchema.properties)).not.toContain("enforcementLevel");
            expect(p.validateResource ?? p.validateStack).toBeTypeOf("function");
        }
    });
});

describe("the captured valid stack", () => {
    it("holds the pairs, nodes and steps the program registers", () => {
        expect(find(stack, PAIR, "p1").inputs.pair.nodes.map((n: any) => n.name)).toEqual(["a1", "b1"]);
        const a1 = find(stack, NODE, "a1");
        expect(a1.parent).toBe(find(stack, PAIR, "p1").urn);
        expect(a1.inputs.peer.name).toBe("b1");
        const sysctl = find(stack, COMMAND, "a1-sysctl");
        expect(sysctl.parent).toBe(a1.urn);
        expect(sysctl.inputs.stdin).toMatch(/^net\.ipv4\.tcp_tw_recycle = 0$/m);
        // The connection (with the private key) arrives as a secret, as the engine sends it to a policy pack:
        // @pulumi/command marks the whole connection secret.
        expect(sysctl.inputs.connection[SIG_KEY]).toBe(SECRET_SIG);
        expect(sysctl.inputs.connection.value.privateKey).toContain("PRIVATE KEY-----");
        // Components' registerOutputs are what validateStack sees of them.
        expect(find(stack, PAIR, "p1").outputs.pair).toBeUndefined();
    });

    it("passes every policy", async () => {
        expect(await runPolicies(stack)).toEqual([]);
    });

    it("passes every policy with the shard DNS the program registers", async () => {
        expect(await runPolicies(await dnsStack())).toEqual([]);
    });

    it("passes every policy in a preview too", async () => {
        // Same resources; a preview differs only in unknown outputs, which the stack rules do not read.
        expect(await runPolicies(stack.map((r) => ({ ...r, outputs: r.custom ? {} : r.outputs })))).toEqual([]);
    });
});

describe("policies/policy-config.example.json", () => {
    it("names only policies of the pack and properties of their schemas, with the schemas' defaults", () => {
        const example = JSON.parse(readFileSync(path.join(POLICIES, "policy-config.example.json"), "utf8"));
        for (const [policy, value] of Object.entries(example)) {
            if (policy === "all") {
                expect(["advisory", "mandatory", "disabled"]).toContain(value);
                continue;
            }
            const p = ALL_POLICIES.find((x) => x.name === policy);
            expect(p, policy).toBeDefined();
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                if (k === "enforcementLevel") continue;
                expect(p!.configSchema.properties[k], `${policy}.${k}`).toBeDefined();
                expect(v).toEqual((p!.configSchema.properties[k] as { default?: unknown }).default);
            }
        }
    });
});
