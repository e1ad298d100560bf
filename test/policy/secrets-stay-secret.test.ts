// The secrets-stay-secret policy (policies/rules/secrets-stay-secret.ts), and
// how @pulumi/policy shows secrets to it: connections and secret steps pass,
// a private key or a secret step's content in plain inputs fails.
import { beforeAll, describe, expect, it } from "vitest";
import { installSecretPathTracking, isSecretAt, secretPathsOfWire } from "../../policies/rules/secret-paths";
import type { Recorded as Registered } from "../engine/record";
import { clone, COMMAND, find, NODE, plain, PRIVATE_KEY, secret } from "./fixtures";
import { messagesOf, policyProps, runPolicies } from "./policy-args";
import { validStack } from "./stack";

let stack: Registered[];
beforeAll(async () => {
    stack = await validStack();
});

const run = async (rs: Registered[]) => messagesOf(await runPolicies(rs), "secrets-stay-secret");

describe("how @pulumi/policy shows secrets", () => {
    it("unwraps secrets for validateResource: without tracking a secret looks like plain text", () => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { deserializeProperties } = require("../../policies/node_modules/@pulumi/policy/deserialize");
        const wire = { connection: secret({ host: "h", privateKey: PRIVATE_KEY }), stdin: "x" };
        // (the tracking wrapper is installed by policy-args.ts; call through to see the SDK's own result)
        const props = deserializeProperties({ toJavaScript: () => wire }, false);
        expect(props.connection.privateKey).toBe(PRIVATE_KEY);
        expect(JSON.stringify(props)).not.toContain("4dabf18193072939515e22adb298388d");
    });

    it("keeps the secret paths with the pack's tracking, and nothing else changes", () => {
        const wire = { connection: secret({ host: "h", privateKey: PRIVATE_KEY }), stdin: "x", list: ["a", secret("b")] };
        expect(secretPathsOfWire(wire)).toEqual([["connection"], ["list", "1"]]);
        const props = policyProps(wire); // SDK deserializer + tracking + SDK unknown-checking proxy
        expect(props.connection.privateKey).toBe(PRIVATE_KEY);
        expect(Object.keys(props)).toEqual(["connection", "stdin", "list"]);
        expect(isSecretAt(props, ["connection", "privateKey"])).toBe(true);
        expect(isSecretAt(props, ["stdin"])).toBe(false);
        expect(isSecretAt(props, ["list", "1"])).toBe(true);
        expect(isSecretAt({ stdin: "x" }, ["stdin"])).toBeUndefined(); // no tracking: cannot tell
        installSecretPathTracking(); // idempotent, and finds the SDK module by itself
        expect(isSecretAt(policyProps(wire), ["connection"])).toBe(true);
    });
});

describe("secrets-stay-secret", () => {
    it("passes the program: connections (with the private key) are secret", async () => {
        expect(await run(stack)).toEqual([]);
    });

    it("fails a plain private key in a connection, naming the node", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "d1-sysctl");
        step.inputs.connection = plain(step.inputs.connection);
        expect(await run(rs)).toEqual([
            'step "sysctl" of node d1 (d1-sysctl): input connection.privateKey holds key material ("PRIVATE KEY-----") in plain text; pass it as a Pulumi secret (pulumi.secret, or config set with --secret).',
            'step "sysctl" of node d1 (d1-sysctl): connection.privateKey is plain text; it must be a Pulumi secret (pairstore:sshPrivateKey set with --secret, passed through pulumi.secret).',
        ]);
    });

    it("fails a private key anywhere in plain inputs, components included", async () => {
        const rs = clone(stack);
        find(rs, COMMAND, "a1-health").inputs.create += `\ncat > /root/.ssh/id <<'K'\n${PRIVATE_KEY}K\n`;
        find(rs, NODE, "b1").inputs.settings.note = PRIVATE_KEY;
        // (sorted: violations come in resource registration order)
        expect((await run(rs)).sort()).toEqual([
            expect.stringMatching(/^StorageNode b1: input settings\.note holds key material/),
            expect.stringMatching(/^step "health" of node a1 \(a1-health\): input create holds key material/),
        ]);
    });

    it("passes a secret step done right: logging none, secret stdin, secret outputs", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "a1-limits");
        step.name = "a1-heartbeat-authkeys";
        step.inputs.logging = "none";
        step.inputs.stdin = secret("auth 1\n1 sha1 0123456789abcdef\n");
        step.additionalSecretOutputs = ["connection", "stdout", "stderr"];
        expect(await run(rs)).toEqual([]);
    });

    it("fails a step that logs nothing but takes its secret as plain stdin and leaks its output", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "c1-limits");
        step.inputs.logging = "none";
        expect(await run(rs)).toEqual([
            'step "limits" of node c1 (c1-limits) logs nothing because it carries a secret, but its stdin is plain text; pass the content as a Pulumi secret.',
            'step "limits" of node c1 (c1-limits) carries a secret but its stdout and stderr are not secret outputs; add them to additionalSecretOutputs.',
        ]);
    });

    it("fails a step named for a secret that logs its output", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "b1-limits");
        step.name = "b1-rsync-secret";
        step.inputs.stdin = secret("pairstore:s3cret\n");
        step.additionalSecretOutputs = ["connection", "stdout", "stderr"];
        expect(await run(rs)).toEqual([
            'step "rsync-secret" of node b1 (b1-rsync-secret) carries a secret but logs its output (logging "stdoutAndStderr"); set logging "none".',
        ]);
    });

    it("checks the program's heartbeat-authkeys steps: secret stdin, nothing logged, and fails one that logs", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "c1-heartbeat-authkeys");
        expect(step.inputs.logging).toBe("none");
        step.inputs.logging = "stdoutAndStderr";
        expect(await run(rs)).toEqual([
            'step "heartbeat-authkeys" of node c1 (c1-heartbeat-authkeys) carries a secret but logs its output (logging "stdoutAndStderr"); set logging "none".',
        ]);
    });

    it("accepts a secret stdin that is unknown during preview", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "d1-limits");
        step.inputs.logging = "none";
        step.inputs.stdin = secret("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
        step.additionalSecretOutputs = ["connection", "stdout", "stderr"];
        expect(await run(rs)).toEqual([]);
    });
});
