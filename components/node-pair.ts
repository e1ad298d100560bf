// NodePair: two StorageNodes wired as peers. The second node's steps wait for
// the first node's health gate, so a pair never changes both nodes at once.
import * as pulumi from "@pulumi/pulumi";
import type { PairSpec } from "./config";
import type { NodeSettings } from "./roles";
import { StorageNode } from "./storage-node";

/** Arguments of a NodePair (plain data, except the SSH key). */
export interface NodePairArgs {
    /** The pair and its two nodes. */
    pair: PairSpec;
    /** Cluster-wide settings. */
    settings: NodeSettings;
    /** SSH private key (a Pulumi secret). */
    sshPrivateKey: pulumi.Input<string>;
    /** secure_link secret (a Pulumi secret). */
    secureLinkSecret: pulumi.Input<string>;
    /** heartbeat's authkey (a Pulumi secret). */
    heartbeatAuthKey: pulumi.Input<string>;
}

export class NodePair extends pulumi.ComponentResource {
    /** The two nodes, in config order. */
    public readonly nodes: [StorageNode, StorageNode];

    constructor(name: string, args: NodePairArgs, opts?: pulumi.ComponentResourceOptions) {
        const { sshPrivateKey, secureLinkSecret, heartbeatAuthKey, ...plain } = args;
        super("pairstore:index:NodePair", name, plain, opts);
        const [a, b] = args.pair.nodes;
        const common = { pair: args.pair.name, settings: args.settings, sshPrivateKey, secureLinkSecret, heartbeatAuthKey };
        const first = new StorageNode(a.name, { ...common, node: a, peer: b }, { parent: this });
        const second = new StorageNode(b.name, { ...common, node: b, peer: a }, { parent: this, dependsOn: [first.healthGate] });
        this.nodes = [first, second];
        this.registerOutputs({ nodes: [a.name, b.name] });
    }
}
