// The steps whose text the policies read exist in the program: every name in
// policies/rules/step-names.ts is a remote command of every storage node of
// the lab stack, and no policy reads a step by a bare string literal (which
// a renamed step would leave silently matching nothing).
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { expect, it } from "vitest";
import { POLICY_READ_STEPS } from "../../policies/rules/step-names";
import { recordLabStack } from "./lab-stack";

const RULES = path.join(__dirname, "..", "..", "policies", "rules");

it("every step a policy reads is registered for every storage node of the lab stack", async () => {
    const regs = await recordLabStack();
    const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    const nodes = regs.filter((r) => r.type === "pairstore:index:StorageNode").map((r) => nameOf(r.urn));
    const commands = new Set(regs.filter((r) => r.type === "command:remote:Command").map((r) => nameOf(r.urn)));
    expect(nodes.length).toBeGreaterThan(0);
    expect(POLICY_READ_STEPS.length).toBeGreaterThan(0);
    const missing = nodes.flatMap((n) => POLICY_READ_STEPS.map((s) => `${n}-${s}`)).filter((name) => !commands.has(name));
    expect(missing, "steps a policy reads that the program does not register").toEqual([]);
});

it("policies read steps by the constants of step-names.ts, not by string literals", () => {
    const literal = /stdinOf\(\s*[^,]+,\s*["'`]/;
    const offenders = readdirSync(RULES).filter((f) => f.endsWith(".ts"))
        .filter((f) => literal.test(readFileSync(path.join(RULES, f), "utf8")));
    expect(offenders).toEqual([]);
});
