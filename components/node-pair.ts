// NodePair: two StorageNodes wired as peers, rolled one node at a time.
//
// Order inside a pair:
//   0. both nodes' prepare steps at once (packages, the nginx build: nothing
//      a node serves with changes; the binary swap is rolled with the rest),
//      but the second node installs the first node's nginx build, once the
//      first is healthy, instead of compiling it again (and a joining pair's
//      first node an existing pair's: NodePairArgs.buildFrom);
//   1. the first node's base steps, ending with its health gate;
//   2. the second node's base steps (both rsyncds now answer);
//   3. the first node's, then the second node's "merge" step: each copies
//      what it lacks from its peer, never deleting or overwriting, so both
//      disks hold the union before lsyncd is first enabled on the pair;
//   4. the first node's, then the second node's "activate" steps (lsyncd,
//      catch-up timer, replication health gate, verify);
//   5. when the pair takes shards from other pairs in this run, both nodes'
//      "move" steps at once (moveShards: they copy and change nothing
//      served), once the pairs they copy from have run their steps;
//   6. with pairs[].dropUnserved, both nodes' "drop" steps at once
//      (dropUnserved: remove only files the serving pairs hold, whose reads
//      are routed there), once those pairs are ready.
// So a pair never changes both nodes at once, and lsyncd never starts on a
// pair whose disks have not been merged.
import * as pulumi from "@pulumi/pulumi";
import type { PairSpec } from "./config";
import type { NodeSettings, PairSecrets } from "./roles";
import { NO_ROUTING, type PairRouting } from "./roles/moves/steps";
import { StorageNode } from "./storage-node";

/** Arguments of a NodePair (plain data, except the secrets). */
export interface NodePairArgs {
    /** The pair and its two nodes. */
    pair: PairSpec;
    /** Cluster-wide settings. */
    settings: NodeSettings;
    /** Every secret of the pair (kept out of the component's inputs). */
    secrets: PairSecrets;
    /** A value new to every run (see roles/index.ts NodePlace); kept out of the component's inputs. */
    runId: string;
    /** Where the pair sends what it does not serve, and its shard moves in this run (roles/moves/steps.ts pairRouting); default none. */
    routing?: PairRouting;
    /** A node of another pair whose nginx build the first node installs (a joining pair's: an existing pair's first node); default none (it compiles). */
    buildFrom?: StorageNode;
}

export class NodePair extends pulumi.ComponentResource {
    /** The two nodes, in config order. */
    public readonly nodes: [StorageNode, StorageNode];
    /** The pair's own steps are done: replication is active and verified on both nodes. */
    public readonly served: pulumi.Resource[];
    /** The pair's last steps: `served`, then the copies of the shards it takes (see moveShards). */
    public ready: pulumi.Resource[];

    constructor(name: string, args: NodePairArgs, opts?: pulumi.ComponentResourceOptions) {
        const { secrets, runId, routing, buildFrom, ...plain } = args;
        // routing stays out of the inputs: it lists every other pair (the inputs would grow with the square of the pairs)
        super("pairstore:index:NodePair", name, { ...plain, incoming: routing?.incoming ?? [] }, opts);
        const [a, b] = args.pair.nodes;
        // The first node is the pair's upload owner: uploads are decided there while it is up and ready.
        const common = {
            pair: args.pair.name, settings: args.settings, secrets, owner: a.name, runId, routing: args.routing ?? NO_ROUTING,
        };
        const first = new StorageNode(a.name, { ...common, node: a, peer: b, buildFrom }, { parent: this });
        const second = new StorageNode(b.name, { ...common, node: b, peer: a, rollAfter: [first.healthGate], buildFrom: first }, { parent: this });
        let after: pulumi.Resource[] = [second.healthGate];
        for (const phase of ["merge", "activate"] as const) {
            after = first.runPhase(phase, after);
            after = second.runPhase(phase, after);
        }
        this.nodes = [first, second];
        this.served = after;
        this.ready = after;
        this.registerOutputs({ nodes: [a.name, b.name] });
    }

    /**
     * Registers both nodes' "move" steps (none without incoming shards), to run
     * once the pair is served and `sources` (the pairs it copies from) are done;
     * returns the new `ready`.
     */
    moveShards(sources: pulumi.Resource[]): pulumi.Resource[] {
        const [first, second] = this.nodes;
        const after = [...this.served, ...sources];
        const copies = [first, second].flatMap((n) => n.runPhase("move", after)).filter((r) => !after.includes(r));
        if (copies.length > 0) this.ready = copies;
        return this.ready;
    }

    /**
     * Registers both nodes' "drop" steps (none without pairs[].dropUnserved),
     * to run at once after the pair is ready and `servers` (the pairs serving
     * the shards it drops, their copies done) are.
     */
    dropUnserved(servers: pulumi.Resource[]): void {
        const after = [...this.ready, ...servers];
        for (const n of this.nodes) n.runPhase("drop", after);
    }
}
