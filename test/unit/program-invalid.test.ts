// A config that fails validation registers nothing at all: no SSH, no state.
// (Its own file: mocks are process-global and vitest isolates files.)
import * as pulumi from "@pulumi/pulumi";
import { expect, test } from "vitest";
import { clusterConfig, pulumiConfigMap, SECRET_KEYS } from "./fixtures";
import { startRecording } from "../engine/record";

test("a ConfigError config registers no resource", async () => {
    const raw = clusterConfig(2);
    (raw.pairs as any[])[1].nodes.pop();
    (raw.domains as any[])[1].internalPort = 22;
    const config = { ...pulumiConfigMap(raw), "pairstore:nofiles": "1" };
    const recording = startRecording(config, SECRET_KEYS);
    const records = recording.records;
    const { program } = await import("../../components/program");
    let err: unknown;
    try {
        program();
    } catch (e) {
        err = e;
    }
    await recording.settle();
    // program() rethrows the ConfigError as a RunError: the CLI prints the message without a stack trace.
    expect(pulumi.RunError.isInstance(err), String(err)).toBe(true);
    const message = (err as Error).message;
    expect(message).toMatch(/^invalid pairstore stack config \(\d+ problems\):/);
    const problems = message.split("\n").slice(1).map((l) => l.replace(/^  - /, ""));
    expect(problems.some((p) => p.startsWith("pairstore:pairs[1] (pair-2) has 1 node"))).toBe(true);
    expect(problems.some((p) => p.includes("pairstore:domains[1].internalPort 22 is already used by ssh"))).toBe(true);
    expect(problems.some((p) => p.includes("pairstore:nofiles is not a pairstore setting; did you mean pairstore:nofile?"))).toBe(true);
    expect(records).toEqual([]);
});

test("a private key set in plain text is refused before anything is registered", async () => {
    const raw = clusterConfig(1);
    const recording = startRecording(pulumiConfigMap(raw), []);
    const records = recording.records;
    const { program } = await import("../../components/program");
    expect(() => program()).toThrow(/pairstore:sshPrivateKey is stored in plain text/);
    await recording.settle();
    expect(records).toEqual([]);
});
