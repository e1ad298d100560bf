// Runs a program in this process with the engine's monitor and records every
// registration instead of deploying it: type, name, engine URN, parent,
// dependencies, inputs in wire form (secrets still marked), options, and the
// outputs a component hands to registerOutputs. Custom resources echo their
// inputs as outputs (a command also "prints" `ok`), as a preview would.
// Unit tests, policy tests and the golden URN list all use this one recorder
// (it also re-exports the wire-form helpers they check secrets with).
// The SDK's state is process-global: one recording per test file.
import * as pulumi from "@pulumi/pulumi";
import { installMonitor, waitForRPCs } from "./monitor";
import type { Registration } from "./deployment";
import { COPY_TO_REMOTE } from "./providers";

export { isSecret, SECRET_SIG, SIG_KEY, unwrapSecrets, withoutSecrets } from "./wire";

/** One recorded registration. */
export interface Recorded extends Registration {
    /** Inputs in wire form (secrets wrapped), typed loosely for tests to read. */
    inputs: any;
    /** Outputs as the engine stores them: a custom resource's state, a component's registerOutputs. */
    outputs: Record<string, any>;
    /** Milliseconds since the recording started, when it registered. */
    at: number;
}

/** Stack config as the program receives it: key -> text (objects as JSON text). */
export type ProgramConfig = Record<string, string>;

/** Options of a recording. */
export interface RecordOptions {
    /** Run as a preview (`pulumi.runtime.isDryRun()`). */
    preview?: boolean;
    /** Stack name (default "unit"). */
    stack?: string;
}

/** Runs `program` with `config` and returns every registration in registration order, once all have finished. */
export async function recordProgram(program: () => unknown, config: ProgramConfig, secretKeys: string[], opts: RecordOptions = {}): Promise<Recorded[]> {
    const recording = startRecording(config, secretKeys, opts);
    await pulumi.runtime.runInPulumiStack(async () => program() as any);
    await recording.settle();
    return recording.records;
}

/** A recording in progress: `records` fills as the program registers. */
export interface Recording {
    /** Every registration so far, in registration order. */
    records: Recorded[];
    /** Waits until every registration and registerOutputs call the program started has finished. */
    settle(): Promise<void>;
}

/**
 * Installs the recording monitor and the stack config, for a test that runs
 * the program itself (to read the stack outputs, or to call it outside a stack).
 */
export function startRecording(config: ProgramConfig, secretKeys: string[], opts: RecordOptions = {}): Recording {
    const records: Recorded[] = [];
    const byUrn = new Map<string, Recorded>();
    const start = performance.now();
    installMonitor("pairstore", opts.stack ?? "unit", opts.preview ?? false, {
        async register(reg) {
            const outputs: Record<string, unknown> = reg.custom
                ? { ...reg.inputs, ...(reg.type === COPY_TO_REMOTE ? {} : { stdout: "ok", stderr: "" }) }
                : {};
            const rec: Recorded = { ...reg, outputs, at: performance.now() - start };
            records.push(rec);
            byUrn.set(reg.urn, rec);
            return outputs;
        },
        outputs(urn, outputs) {
            const rec = byUrn.get(urn);
            if (rec) rec.outputs = outputs;
        },
    });
    pulumi.runtime.setAllConfig(config, secretKeys);
    return {
        records,
        async settle() {
            // Let every pending registration and registerOutputs call finish.
            for (let i = 0; i < 5; i++) {
                await waitForRPCs();
                await new Promise((r) => setTimeout(r, 10));
            }
        },
    };
}
