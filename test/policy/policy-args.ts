// Turns captured registrations into exactly what @pulumi/policy hands to
// policies, using the policy SDK's own deserializer (with the pack's
// secret-path tracking installed, as policies/index.ts does) and its
// unknown-checking proxy, then runs policies the way the SDK's server does:
// validateResource per resource in registration order (inputs), then
// validateStack once over every resource (outputs, parents linked).
import type { PolicyResource, ResourceValidationArgs, StackValidationArgs } from "../../policies/node_modules/@pulumi/policy";
import { ALL_POLICIES } from "../../policies/rules/all";
import { resetObservations, type PairstorePolicy } from "../../policies/rules/model";
import { installSecretPathTracking, type DeserializeModule } from "../../policies/rules/secret-paths";
import type { Recorded as Registered } from "../engine/record";

// The policy SDK's internals, from the pack's own node_modules (the copy the
// pack runs with). Loading them does not start a policy pack.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const deserialize = require("../../policies/node_modules/@pulumi/policy/deserialize") as DeserializeModule;
// eslint-disable-next-line @typescript-eslint/no-var-requires
const proxy = require("../../policies/node_modules/@pulumi/policy/proxy") as { unknownCheckingProxy<T>(o: T): T };

installSecretPathTracking(deserialize);

/** Props as the SDK builds them from a wire property map. */
export function policyProps(wire: Record<string, any>): Record<string, any> {
    return proxy.unknownCheckingProxy(deserialize.deserializeProperties({ toJavaScript: () => wire }, false));
}

/** Policy config as a --policy-pack-config file holds it: policy name -> {enforcementLevel?, ...values}. */
export type PolicyPackConfig = Record<string, Record<string, unknown>>;

function getConfigFor(config: PolicyPackConfig, policy: string) {
    return <T extends object>(): T => {
        const { enforcementLevel: _ignored, ...values } = (config[policy] ?? {}) as Record<string, unknown>;
        return values as T;
    };
}

class NotApplicable extends Error {}

function options(r: Registered) {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [...r.additionalSecretOutputs],
        parent: r.parent || undefined,
    };
}

/** validateResource's args for one registration. */
export function resourceArgs(r: Registered, config: PolicyPackConfig, policy: string): ResourceValidationArgs {
    const props = policyProps(r.inputs);
    return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props,
        opts: options(r),
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: getConfigFor(config, policy),
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    } as ResourceValidationArgs;
}

/** validateStack's resources: outputs as props, parents and dependencies linked (server.js does the same). */
export function stackResources(records: Registered[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const resources = records.map((r) => {
        const res = {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: policyProps(r.outputs),
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        } as unknown as PolicyResource;
        byUrn.set(r.urn, res);
        return res;
    });
    records.forEach((r, i) => {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) resources[i].parent = parent;
        resources[i].dependencies = r.dependencies.map((d) => byUrn.get(d)).filter((d): d is PolicyResource => !!d);
    });
    return resources;
}

/** One reported violation. */
export interface Violation {
    policy: string;
    message: string;
    urn?: string;
}

/** Runs policies over a stack as a preview would; returns every violation. */
export async function runPolicies(
    records: Registered[], opts: { config?: PolicyPackConfig; policies?: PairstorePolicy[] } = {},
): Promise<Violation[]> {
    const config = opts.config ?? {};
    const policies = opts.policies ?? ALL_POLICIES;
    const violations: Violation[] = [];
    const enabled = (p: PairstorePolicy) => (config[p.name]?.enforcementLevel ?? p.enforcementLevel) !== "disabled";
    resetObservations(); // a fresh policy-pack process
    for (const r of records) {
        for (const p of policies) {
            if (!p.validateResource || !enabled(p)) continue;
            const fns = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
            for (const fn of fns) {
                try {
                    await fn(resourceArgs(r, config, p.name), (message: string) => violations.push({ policy: p.name, message, urn: r.urn }));
                } catch (e) {
                    if (!(e instanceof NotApplicable)) throw e;
                }
            }
        }
    }
    for (const p of policies) {
        if (!p.validateStack || !enabled(p)) continue;
        const args: StackValidationArgs = {
            resources: stackResources(records),
            stackTags: new Map(),
            getConfig: getConfigFor(config, p.name),
            notApplicable: (reason?: string): never => {
                throw new NotApplicable(reason);
            },
        };
        try {
            await p.validateStack(args, (message: string, urn?: string) => violations.push({ policy: p.name, message, urn }));
        } catch (e) {
            if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return violations;
}

/** Violations of one policy, messages only. */
export function messagesOf(violations: Violation[], policy: string): string[] {
    return violations.filter((v) => v.policy === policy).map((v) => v.message);
}
