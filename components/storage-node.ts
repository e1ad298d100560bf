// StorageNode: one host, provisioned by running its steps in order over SSH.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { NodeSpec } from "./config";
import { sshConnection, stepCommand, type StepPhase, type StepSpec } from "./step/step";
import { nodeSteps, type NodeSettings, type PairSecrets } from "./roles";
import type { PairRouting } from "./roles/moves/steps";
import { nginxBuildId, nginxBuildSha, nginxBuildUrl, type BuildDonor } from "./roles/nginx/build";

/** Arguments of a StorageNode (plain data, except the secrets). */
export interface StorageNodeArgs {
    /** The node. */
    node: NodeSpec;
    /** Its peer in the pair. */
    peer: NodeSpec;
    /** Name of the pair it belongs to. */
    pair: string;
    /** Cluster-wide settings. */
    settings: NodeSettings;
    /** Every secret of the pair (kept out of the component's inputs). */
    secrets: PairSecrets;
    /** Name of the pair's first node: the upload owner (see roles/index.ts NodePlace). */
    owner: string;
    /** A value new to every run; kept out of the component's inputs (see roles/index.ts NodePlace). */
    runId: string;
    /** Where the node's pair sends what it does not serve, and its shard moves (see roles/index.ts NodePlace). */
    routing: PairRouting;
    /** What the node's "base" steps wait for besides its own "prepare" steps (the peer's health gate, to roll); default nothing. */
    rollAfter?: pulumi.Resource[];
    /** The node whose nginx build it installs once that node is healthy (see NodePairArgs.buildFrom); default none (it compiles). */
    buildFrom?: StorageNode;
}

type StepResource = command.remote.Command | command.remote.CopyToRemote;

export class StorageNode extends pulumi.ComponentResource {
    /** The node's name. */
    public readonly nodeName: string;
    /** The last step of the base phase: healthy once everything before it is applied. */
    public readonly healthGate: command.remote.Command;
    /** Every step resource, by step name. */
    public readonly steps: Record<string, StepResource> = {};

    private readonly pending: StepSpec[];
    /** Where this node serves its nginx build to the nodes that install it (see buildDonor). */
    private readonly buildUrl: string;
    private readonly resourceName: string;
    private readonly connection: command.types.input.remote.ConnectionArgs;
    private readonly cmdOpts: { user: string; check: boolean; generation: number };

    /**
     * Registers the node's "prepare" steps, at once, and its "base" steps, the
     * first of which waits for them and for `args.rollAfter` (NodePair rolls
     * one node at a time with it). The later phases run when NodePair calls
     * `runPhase`.
     */
    constructor(name: string, args: StorageNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        // rollAfter is not passed as the component's dependsOn: that would hold back its prepare steps too
        const { secrets, runId, routing, rollAfter, buildFrom, ...plain } = args;
        // routing stays out of the inputs: it lists every other pair (the inputs would grow with the square of the pairs)
        super("pairstore:index:StorageNode", name, { ...plain, incoming: routing.incoming }, opts);
        const { sshPrivateKey, secureLinkSecret, heartbeatAuthKey, rsyncSecret } = secrets;
        this.nodeName = args.node.name;
        this.resourceName = name;
        const { node, settings } = args;
        this.buildUrl = nginxBuildUrl(node, settings.domains[0].internalPort, nginxBuildId(settings));
        this.connection = sshConnection(node.ssh, sshPrivateKey);
        this.cmdOpts = { user: node.ssh.user, check: settings.checkMode, generation: node.generation };
        const steps = nodeSteps(settings, node, args.peer, {
            secureLinkSecret,
            heartbeatAuthKey,
            rsyncSecret: rsyncSecret === undefined ? undefined : pulumi.secret(rsyncSecret),
        }, { owner: args.owner, runId, routing: args.routing, buildDonor: buildFrom?.buildDonor() });
        this.pending = steps.filter((s) => s.phase !== "prepare" && s.phase !== "base");
        const prepared = this.chain(steps.filter((s) => s.phase === "prepare"), []);
        // The base phase ends with the health gate, a script step.
        const before = [...(prepared ? [prepared] : []), ...(rollAfter ?? [])];
        this.healthGate = this.chain(steps.filter((s) => s.phase === "base"), before) as command.remote.Command;
        this.registerOutputs({ nodeName: this.nodeName, health: this.healthGate.stdout });
    }

    /**
     * This node as a build donor: its build's URL and the sha256 its
     * nginx-build step printed, known once its health gate passed (nginx
     * serves the build then), so the taker's build step waits for both.
     */
    buildDonor(): BuildDonor {
        const build = this.steps["nginx-build"] as command.remote.Command;
        return {
            name: this.nodeName,
            url: this.buildUrl,
            sha256: pulumi.all([build.stdout, this.healthGate.stdout]).apply(([out]) => nginxBuildSha(out)),
        };
    }

    /** Registers the steps of a later phase, the first waiting for `after`; returns the phase's last step (or `after`). */
    runPhase(phase: Exclude<StepPhase, "prepare" | "base">, after: pulumi.Resource[]): pulumi.Resource[] {
        const last = this.chain(this.pending.filter((s) => s.phase === phase), after);
        return last ? [last] : after;
    }

    private chain(steps: StepSpec[], after: pulumi.Input<pulumi.Resource>[]): StepResource | undefined {
        let previous = after;
        let last: StepResource | undefined;
        for (const step of steps) {
            const name = `${this.resourceName}-${step.name}`;
            const resourceOpts = { parent: this, dependsOn: previous };
            switch (step.kind) {
                case "copy":
                    // A file from the machine running the program (the nginx tarball); re-copied when its bytes change.
                    last = new command.remote.CopyToRemote(name, {
                        connection: this.connection,
                        source: new pulumi.asset.FileAsset(step.copy.localPath),
                        remotePath: step.copy.remotePath,
                    }, resourceOpts);
                    break;
                case "script": {
                    // The resource name owns what the step manages on the host (see ScriptOptions.owner).
                    const opts = { ...this.cmdOpts, owner: name };
                    const script = stepCommand(step.name, step.script, opts);
                    last = new command.remote.Command(name, {
                        connection: this.connection,
                        create: script,
                        update: script,
                        delete: step.deleteScript === undefined ? undefined : stepCommand(step.name, step.deleteScript, { ...opts, check: false, delete: true }),
                        stdin: step.stdin,
                        logging: step.secret ? "none" : "stdoutAndStderr",
                        addPreviousOutputInEnv: false,
                    }, { ...resourceOpts, additionalSecretOutputs: step.secret ? ["stdout", "stderr"] : undefined });
                    break;
                }
                default: {
                    const _never: never = step;
                    throw new Error(`unknown step kind: ${JSON.stringify(_never)}`);
                }
            }
            this.steps[step.name] = last;
            previous = [last];
        }
        return last;
    }
}
