// pairstore:checkMode renders every converge script with CHECK=1 (drift
// report only); delete scripts stay real, and the run fails once every step
// has reported, so Pulumi runs no delete. Its own file: the SDK's state is
// process-global.
import { expect, test } from "vitest";
import { CHECK_MODE_STOP, program } from "../../components/program";
import { recordProgram } from "../engine/record";
import { clusterConfig, pulumiConfigMap, SECRET_KEYS } from "./fixtures";

test("checkMode: true renders every create/update with CHECK=1, through sudo for a non-root user, then fails the run", async () => {
    const raw = clusterConfig(1);
    for (const n of (raw.pairs as any[])[0].nodes) n.ssh.user = "deploy";
    let failure: unknown;
    const records = await recordProgram(() => (program() as Promise<unknown>).catch((e) => { failure = e; }),
        { ...pulumiConfigMap(raw), "pairstore:checkMode": "true" }, SECRET_KEYS);
    const commands = records.filter((r) => r.type === "command:remote:Command");
    expect(commands.length).toBe(2 * 58);
    for (const c of commands) {
        const inputs = c.inputs as Record<string, string>;
        expect(inputs.create, c.name).toMatch(/^sudo -n bash -c '/);
        expect(inputs.create).toMatch(/^CHECK=1$/m);
        expect(inputs.create).not.toMatch(/^CHECK=0$/m);
        expect(inputs.update).toBe(inputs.create);
        if (inputs.delete !== undefined) {
            expect(inputs.delete).toMatch(/^sudo -n bash -c '/);
            expect(inputs.delete).toMatch(/^CHECK=0$/m);
        }
    }
    // The program fails once every step has reported: the run ends before Pulumi's deletes.
    expect((failure as Error)?.message).toBe(CHECK_MODE_STOP);
});
