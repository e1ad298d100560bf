// pairstore:rsyncSecret reaches the hosts only as a Pulumi secret, on the
// stdin of a step that logs nothing. Its own file: mocks are process-global.
import * as pulumi from "@pulumi/pulumi";
import { expect, test } from "vitest";
import { clusterConfig, pulumiConfigMap, SECRET_KEYS } from "./fixtures";
import { isSecret as isWireSecret, unwrapSecrets, withoutSecrets, startRecording } from "../engine/record";

const SECRET = "rsync-secret-for-unit-tests";

test("the rsync secret travels as a secret stdin of a step that logs nothing", async () => {
    const config = { ...pulumiConfigMap(clusterConfig(1)), "pairstore:rsyncSecret": SECRET };
    const recording = startRecording(config, [...SECRET_KEYS, "pairstore:rsyncSecret"]);
    const records = recording.records;
    const { program } = await import("../../components/program");
    await pulumi.runtime.runInPulumiStack(async () => program());
    await recording.settle();
    const steps = records.filter((r) => r.name.endsWith("-rsync-secret"));
    expect(steps.map((s) => s.name)).toEqual(["node-1a-rsync-secret", "node-1b-rsync-secret"]);
    for (const s of steps) {
        expect(isWireSecret(s.inputs.stdin), s.name).toBe(true);
        expect(unwrapSecrets(s.inputs.stdin)).toBe(SECRET);
        expect(s.inputs.logging).toBe("none");
    }
    for (const r of records) expect(JSON.stringify(withoutSecrets(r.inputs)), r.name).not.toContain(SECRET);
    const lsyncd = records.find((r) => r.name === "node-1a-lsyncd-config")!;
    expect(lsyncd.inputs.stdin).toContain('password_file = "/etc/pairstore/rsync.password"');
    const node = records.find((r) => r.type === "pairstore:index:StorageNode")!;
    expect(node.inputs.rsyncSecret).toBeUndefined();
    expect(node.inputs.settings.replication.auth).toBe(true);
});
