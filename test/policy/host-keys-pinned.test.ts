// The host-keys-pinned policy (policies/rules/host-keys-pinned.ts) on the real
// program's registrations: an unpinned node's steps fail unless the policy
// config opts out too; malformed keys fail; unknown keys wait for the update.
import { beforeAll, describe, expect, it } from "vitest";
import { program } from "../../components/program";
import { recordProgram, type Recorded as Registered } from "../engine/record";
import { clone, COMMAND, find, validConfig } from "./fixtures";
import { messagesOf, runPolicies } from "./policy-args";

let unpinned: Registered[];
beforeAll(async () => {
    // The real program, for a stack that opted out and left node b1 unpinned.
    const { config, secretKeys } = validConfig({ allowUnpinned: true, unpinned: ["b1"] });
    unpinned = await recordProgram(program, config, secretKeys, { stack: "policy" });
});

describe("host-keys-pinned", () => {
    it("fails every step of an unpinned node, naming the node and host", async () => {
        const msgs = messagesOf(await runPolicies(unpinned), "host-keys-pinned");
        const steps = unpinned.filter((r) => r.type === COMMAND && r.name.startsWith("b1-"));
        expect(msgs).toHaveLength(steps.length);
        expect(msgs).toContain(
            'step "sysctl" of node b1 (b1-sysctl) connects to root@10.0.0.12:22 without a pinned host key (connection.hostKey). ' +
            "Set ssh.hostKey of the node in pairstore:pairs (`ssh-keyscan -t ed25519 10.0.0.12`), or opt out for the whole stack " +
            "with pairstore:allowUnpinnedHostKeys and this policy's allowUnpinnedHostKeys.");
        expect(msgs.every((m) => m.includes("of node b1"))).toBe(true);
    });

    it("passes the same stack when the policy config opts out too", async () => {
        const config = { "host-keys-pinned": { allowUnpinnedHostKeys: true } };
        expect(messagesOf(await runPolicies(unpinned, { config }), "host-keys-pinned")).toEqual([]);
    });

    it("is disabled by enforcementLevel disabled", async () => {
        const config = { "host-keys-pinned": { enforcementLevel: "disabled" } };
        expect(messagesOf(await runPolicies(unpinned, { config }), "host-keys-pinned")).toEqual([]);
    });

    it("fails a host key that is not an OpenSSH public key", async () => {
        const rs = clone(unpinned);
        find(rs, COMMAND, "a1-limits").inputs.connection.value.hostKey = "AAAA-not-a-key";
        const msgs = messagesOf(await runPolicies(rs, { config: { "host-keys-pinned": { allowUnpinnedHostKeys: true } } }), "host-keys-pinned");
        expect(msgs).toEqual([expect.stringMatching(/^step "limits" of node a1 \(a1-limits\) connects to root@10\.0\.0\.11:22 with a host key that is not an OpenSSH public key/)]);
    });

    it("leaves a host key that is unknown during preview to the update run", async () => {
        const rs = clone(unpinned).filter((r) => !r.name.startsWith("b1"));
        find(rs, COMMAND, "a1-limits").inputs.connection.value.hostKey = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // the SDK's unknown string
        const violations = await runPolicies(rs);
        expect(violations.filter((v) => v.policy === "host-keys-pinned")).toEqual([]);
    });
});
