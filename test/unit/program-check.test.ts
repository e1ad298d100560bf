// pairstore:checkMode renders every converge script with CHECK=1 (drift
// report only); delete scripts stay real. Its own file: mocks are process-global.
import * as pulumi from "@pulumi/pulumi";
import { expect, test } from "vitest";
import { clusterConfig, pulumiConfigMap, SECRET_KEYS } from "./fixtures";
import { recordProgram, settle } from "./mocks";

test("checkMode: true renders every create/update with CHECK=1, through sudo for a non-root user", async () => {
    const raw = clusterConfig(1);
    for (const n of (raw.pairs as any[])[0].nodes) n.ssh.user = "deploy";
    const records = await recordProgram({ ...pulumiConfigMap(raw), "pairstore:checkMode": "true" }, SECRET_KEYS);
    const { program } = await import("../../components/program");
    await pulumi.runtime.runInPulumiStack(async () => program());
    await settle();
    const commands = records.filter((r) => r.type === "command:remote:Command");
    expect(commands.length).toBe(2 * 51);
    for (const c of commands) {
        expect(c.inputs.create, c.name).toMatch(/^sudo -n bash -c '/);
        expect(c.inputs.create).toMatch(/^CHECK=1$/m);
        expect(c.inputs.create).not.toMatch(/^CHECK=0$/m);
        expect(c.inputs.update).toBe(c.inputs.create);
        if (c.inputs.delete !== undefined) {
            expect(c.inputs.delete).toMatch(/^sudo -n bash -c '/);
            expect(c.inputs.delete).toMatch(/^CHECK=0$/m);
        }
    }
});
