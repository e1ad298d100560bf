// Records what the program registers under pulumi.runtime.setMocks: type,
// name, inputs (secrets in their wire form) and the dependencies the engine
// would receive. Mocks are process-global: one recording per process (per test file).
import * as pulumi from "@pulumi/pulumi";

/** The wire form of a secret in mock inputs: `{[SIG_KEY]: SECRET_SIG, value}`. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** One registered resource. */
export interface Registered {
    type: string;
    name: string;
    /** Inputs as the engine gets them; secrets stay wrapped. */
    inputs: any;
    /** URN the mock monitor gave it. */
    urn: string;
    /** URN of its parent ("" for none). */
    parent: string;
    /** URNs of its explicit and implicit dependencies (from the RegisterResource request). */
    dependencies: string[];
    /** Milliseconds since the recording started. */
    at: number;
}

/** True for a secret in wire form. */
export function isWireSecret(v: unknown): v is { value: unknown } {
    return !!v && typeof v === "object" && (v as any)[SIG_KEY] === SECRET_SIG;
}

/** Removes every wire-form secret (replaced by "[secret]"): what is left is plain text. */
export function withoutSecrets(v: any): any {
    if (isWireSecret(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(withoutSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecrets(x)]));
    return v;
}

/** Unwraps every wire-form secret (what a provider sees). */
export function unwrapSecrets(v: any): any {
    if (isWireSecret(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/**
 * Installs mocks that return inputs as outputs and records every registration,
 * sets the stack config, and returns the (live) list of registrations.
 */
export async function recordProgram(config: Record<string, string>, secretKeys: string[]): Promise<Registered[]> {
    const records: Registered[] = [];
    const start = performance.now();
    const pending = new Map<string, Registered>();
    await pulumi.runtime.setMocks({
        async newResource(args: pulumi.runtime.MockResourceArgs) {
            const r: Registered = { type: args.type, name: args.name, inputs: args.inputs, urn: "", parent: "", dependencies: [], at: performance.now() - start };
            records.push(r);
            pending.set(`${args.type}::${args.name}`, r);
            return { id: args.custom ? `${args.name}-id` : undefined as unknown as string, state: args.inputs };
        },
        call: (args: pulumi.runtime.MockCallArgs) => args.inputs,
    }, "pairstore", "unit", false);

    // The mock monitor drops the request's dependencies before calling newResource: read them from the request.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any };
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        register(req, (err: unknown, resp: any) => {
            const r = pending.get(`${req.getType()}::${req.getName()}`);
            if (r && resp) {
                r.urn = resp.getUrn();
                r.parent = req.getParent();
                r.dependencies = req.getDependenciesList();
            }
            callback(err, resp);
        });
    };
    pulumi.runtime.setAllConfig(config, secretKeys);
    return records;
}

/** Waits until every registration the program started is done. */
export async function settle(): Promise<void> {
    await (pulumi.runtime as any).waitForRPCs();
}
