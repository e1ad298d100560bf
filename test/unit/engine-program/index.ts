// A program built from its config, for the engine's own tests: components and
// local commands with the options the rules under test depend on.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** One resource of the test program. */
export interface TestResource {
    name: string;
    /** A component (no provider) instead of a command. */
    component?: boolean;
    /** Name of the parent component. */
    parent?: string;
    /** Names of the resources it depends on. */
    dependsOn?: string[];
    create?: string;
    update?: string;
    delete?: string;
    stdin?: string;
    /** stdin as a Pulumi secret. */
    secretStdin?: string;
    triggers?: unknown[];
    deleteBeforeReplace?: boolean;
    /** Old names (aliases). */
    aliases?: string[];
}

class Group extends pulumi.ComponentResource {
    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("enginetest:index:Group", name, {}, opts);
        this.registerOutputs({ name });
    }
}

export function program() {
    const config = new pulumi.Config("enginetest");
    const specs = config.requireObject<TestResource[]>("resources");
    const made = new Map<string, pulumi.Resource>();
    for (const s of specs) {
        const opts: pulumi.CustomResourceOptions = {
            parent: s.parent ? made.get(s.parent) : undefined,
            dependsOn: (s.dependsOn ?? []).map((d) => made.get(d)!),
            deleteBeforeReplace: s.deleteBeforeReplace,
            aliases: s.aliases?.map((name) => ({ name })),
        };
        made.set(s.name, s.component ? new Group(s.name, opts) : new command.local.Command(s.name, {
            create: s.create, update: s.update, delete: s.delete,
            stdin: s.secretStdin !== undefined ? pulumi.secret(s.secretStdin) : s.stdin,
            triggers: s.triggers,
        }, opts));
    }
    return { count: specs.length, flag: config.getBoolean("flag"), names: config.getObject<string[]>("names"), counted: config.getNumber("count") };
}
