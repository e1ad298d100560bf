// StorageNode: one host, provisioned by running its steps in order over SSH.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { NodeSpec } from "./config";
import { stepCommand } from "./host/step";
import { nodeSteps, type NodeSettings } from "./roles";

/** Arguments of a StorageNode (plain data, except the SSH key). */
export interface StorageNodeArgs {
    /** The node. */
    node: NodeSpec;
    /** Its peer in the pair. */
    peer: NodeSpec;
    /** Name of the pair it belongs to. */
    pair: string;
    /** Cluster-wide settings. */
    settings: NodeSettings;
    /** SSH private key (a Pulumi secret). */
    sshPrivateKey: pulumi.Input<string>;
    /** secure_link secret (a Pulumi secret). */
    secureLinkSecret: pulumi.Input<string>;
    /** heartbeat's authkey (a Pulumi secret). */
    heartbeatAuthKey: pulumi.Input<string>;
}

export class StorageNode extends pulumi.ComponentResource {
    /** The node's name. */
    public readonly nodeName: string;
    /** The last step: healthy once everything before it is applied. */
    public readonly healthGate: command.remote.Command;
    /** Every step resource, by step name. */
    public readonly steps: Record<string, command.remote.Command | command.remote.CopyToRemote> = {};

    /** `opts.dependsOn` holds back this node's first step (NodePair uses it to roll one node at a time). */
    constructor(name: string, args: StorageNodeArgs, opts?: pulumi.ComponentResourceOptions) {
        const { sshPrivateKey, secureLinkSecret, heartbeatAuthKey, ...plain } = args;
        super("pairstore:index:StorageNode", name, plain, opts);
        this.nodeName = args.node.name;
        const { node, settings } = args;
        const connection: command.types.input.remote.ConnectionArgs = {
            host: node.ssh.host,
            port: node.ssh.port,
            user: node.ssh.user,
            privateKey: pulumi.secret(sshPrivateKey),
            hostKey: node.ssh.hostKey,
            dialErrorLimit: 20,
            perDialTimeout: 10,
        };
        const cmdOpts = { user: node.ssh.user, check: settings.checkMode };
        let previous: pulumi.Input<pulumi.Resource>[] = [];
        if (opts?.dependsOn) previous = ([] as pulumi.Input<pulumi.Resource>[]).concat(opts.dependsOn as any);
        let last: command.remote.Command | undefined;
        for (const step of nodeSteps(settings, node, args.peer, { secureLinkSecret, heartbeatAuthKey })) {
            if (step.copy) {
                // A file from the machine running the program (the nginx tarball); re-copied when its bytes change.
                const copy = new command.remote.CopyToRemote(`${name}-${step.name}`, {
                    connection,
                    source: new pulumi.asset.FileAsset(step.copy.localPath),
                    remotePath: step.copy.remotePath,
                }, { parent: this, dependsOn: previous });
                this.steps[step.name] = copy;
                previous = [copy];
                continue;
            }
            const script = stepCommand(step.name, step.script, cmdOpts);
            last = new command.remote.Command(`${name}-${step.name}`, {
                connection,
                create: script,
                update: script,
                delete: step.deleteScript === undefined ? undefined : stepCommand(step.name, step.deleteScript, { ...cmdOpts, check: false }),
                stdin: step.stdin,
                logging: step.secret ? "none" : "stdoutAndStderr",
                addPreviousOutputInEnv: false,
            }, {
                parent: this,
                dependsOn: previous,
                additionalSecretOutputs: step.secret ? ["stdout", "stderr"] : undefined,
            });
            this.steps[step.name] = last;
            previous = [last];
        }
        this.healthGate = last!;
        this.registerOutputs({ nodeName: this.nodeName, health: this.healthGate.stdout });
    }
}
