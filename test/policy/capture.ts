// Runs the REAL pairstore program under pulumi.runtime.setMocks and records
// every resource registration the way the engine receives it: type, name,
// parent, inputs in wire form (secrets still marked), resource options, and
// the outputs a component passes to registerOutputs. test/policy/policy-args.ts
// turns these records into what @pulumi/policy hands to policies.
import * as pulumi from "@pulumi/pulumi";

/** One registered resource, as plain JSON. */
export interface Registered {
    urn: string;
    type: string;
    name: string;
    /** Parent URN ("" for none). */
    parent: string;
    custom: boolean;
    /** Inputs in wire form: secrets are {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value}. */
    inputs: Record<string, any>;
    /** Outputs as the engine stores them: a custom resource's state, a component's registerOutputs. */
    outputs: Record<string, any>;
    additionalSecretOutputs: string[];
    dependencies: string[];
}

/** Stack config: key -> value (objects as JSON text, as `pulumi config set --path`/YAML gives them). */
export type StackConfig = Record<string, string>;

// eslint-disable-next-line @typescript-eslint/no-var-requires
const settings = require("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): any;
    waitForRPCs(): Promise<void>;
};

/** Runs `program` with `config` under mocks and returns every registration, in registration order. */
export async function captureRegistrations(
    program: () => unknown, config: StackConfig, secretKeys: string[], opts: { preview?: boolean } = {},
): Promise<Registered[]> {
    pulumi.runtime.setAllConfig(config, secretKeys);
    const mocksReady = pulumi.runtime.setMocks({
        // @pulumi/command's remote.Command echoes its inputs as outputs (plus stdout/stderr).
        newResource: (args) => ({
            id: args.custom ? `${args.name}-id` : undefined,
            state: args.custom ? { ...args.inputs, stdout: "ok", stderr: "" } : {},
        }),
        call: (args) => args.inputs,
    }, "pairstore", "policy", opts.preview ?? false);

    const records: Registered[] = [];
    const byUrn = new Map<string, Registered>();
    const monitor = settings.getMonitor();
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, resp: any) => void) => {
        const rec: Registered = {
            urn: "",
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent() ?? "",
            custom: req.getCustom(),
            inputs: req.getObject()?.toJavaScript() ?? {},
            outputs: {},
            additionalSecretOutputs: req.getAdditionalsecretoutputsList() ?? [],
            dependencies: req.getDependenciesList() ?? [],
        };
        records.push(rec);
        return registerResource(req, (err: any, resp: any) => {
            if (resp) {
                rec.urn = resp.getUrn();
                byUrn.set(rec.urn, rec);
                if (rec.custom) rec.outputs = resp.getObject()?.toJavaScript() ?? {};
            }
            callback(err, resp);
        });
    };
    const registerResourceOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: (err: any, resp: any) => void) => {
        const rec = byUrn.get(req.getUrn());
        if (rec) rec.outputs = req.getOutputs()?.toJavaScript() ?? {};
        return registerResourceOutputs(req, callback);
    };
    await mocksReady;

    await pulumi.runtime.runInPulumiStack(async () => program() as any);
    // Let every pending registration and registerOutputs call finish.
    for (let i = 0; i < 5; i++) {
        await settings.waitForRPCs();
        await new Promise((r) => setTimeout(r, 10));
    }
    const missing = records.filter((r) => r.urn === "");
    if (missing.length > 0) throw new Error(`registrations without a URN: ${missing.map((r) => r.name).join(", ")}`);
    return records;
}
