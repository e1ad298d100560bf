// Shards across pairs: where a node sends what its pair does not serve
// (reads of files it lacks, uploads: any node takes an upload for any
// shard), and the shard moves of a run: a pair taking shards (a pair added,
// or one marked retire: true) copies their files before their DNS records
// change and reads a file it lacks from the old pair meanwhile; the old pair
// lets it read its rsyncd refill modules (replication/steps.ts). nginx's
// side (shardUriPattern, the routes) is in nginx/sites.ts. Pure data and one step.
import type { ClusterSpec, PairSpec } from "../../config";
import { INTERNAL_DIR, REPLICA_GROUP, RSYNC_PASSWORD, RSYNC_USER, WEB_USER } from "../../lib/paths";
import type { ScriptStep } from "../../step/step";
import { render, shq, shqList } from "../../step/template";

/** A shard the node's pair takes from another pair in this run. */
export interface IncomingShard {
    /** The shard ("4", or "4a" with two digits). */
    shard: string;
    /** The pair that served it until this run. */
    from: string;
    /** That pair's nodes' internal addresses, first node first. */
    sources: [string, string];
}

/** Another pair a node sends requests to: reads it lacks and uploads of shards it does not serve. */
export interface PairRoute {
    /** The other pair. */
    pair: string;
    /** Its nodes' internal addresses, first node first. */
    addresses: [string, string];
    /** Shards whose files missing here (and at the peer) are read from that pair: the shards it serves, or moves to this pair. */
    reads: string[];
    /** Shards whose uploads are forwarded to that pair: the shards it serves, except those moving away from this pair. */
    uploads: string[];
}

/** What one node knows of the other pairs in this run (both nodes of a pair get the same). */
export interface PairRouting {
    /** Shards its pair takes: copied to the node before their DNS records change, read from the old pair while missing. */
    incoming: IncomingShard[];
    /** Internal addresses of the nodes taking shards from its pair: they may read its refill modules meanwhile. */
    readers: string[];
    /** Every other pair, in config order (its nodes may send here too). */
    routes: PairRoute[];
}

/** A single pair, or a plan not known: nothing goes elsewhere. */
export const NO_ROUTING: PairRouting = { incoming: [], readers: [], routes: [] };

/**
 * Where `pair` sends what it does not hold in this run: the shards it takes
 * (copied from their old pair, read from there meanwhile), the readers of the
 * shards it gives away, and for every other pair the shards read from and
 * uploaded to it. Shards moving away stay stored here until the plan is
 * pinned (the old pair serves them until their DNS records change, and
 * clients with cached DNS after that).
 */
export function pairRouting(shards: Pick<ClusterSpec["shards"], "plan" | "moves">, pairs: PairSpec[], pair: string): PairRouting {
    const byName = new Map(pairs.map((p) => [p.name, p]));
    const addresses = (name: string) => byName.get(name)!.nodes.map((n) => n.internalAddress) as [string, string];
    const { moves } = shards;
    const incoming = moves.filter((m) => m.to === pair).map((m) => ({ shard: m.shard, from: m.from, sources: addresses(m.from) }));
    const readers = [...new Set(moves.filter((m) => m.from === pair).flatMap((m) => addresses(m.to)))];
    const leaving = new Set(moves.filter((m) => m.from === pair).map((m) => m.shard));
    const routes = pairs.filter((p) => p.name !== pair).map((p) => {
        const serves = shards.plan.shards.filter((s) => s.pair === p.name).map((s) => s.shard);
        const reads = [...serves, ...incoming.filter((m) => m.from === p.name).map((m) => m.shard)].sort();
        return { pair: p.name, addresses: addresses(p.name), reads, uploads: serves.filter((s) => !leaving.has(s)) };
    });
    return { incoming, readers, routes };
}

type MoveSettings = Pick<ClusterSpec, "domains" | "dataRoot" | "replication" | "secureLinkPrefix">;

/**
 * The node's shard-move step (phase "move", after replication runs on both
 * nodes; ShardDns waits for it): none without incoming shards. It carries the
 * run id, so it runs on every apply until the plan is pinned.
 */
export function shardMoveSteps(spec: MoveSettings, routing: PairRouting, runId: string): ScriptStep[] {
    if (routing.incoming.length === 0) return [];
    return [{
        kind: "script",
        name: "shard-move",
        phase: "move",
        script: render("moves/shard-move.sh", {
            run_id: runId.replace(/[^A-Za-z0-9:. -]/g, ""),
            data_root: shq(spec.dataRoot),
            domains: shqList(spec.domains.map((d) => d.name)),
            internal: shq(INTERNAL_DIR),
            web_user: shq(WEB_USER),
            replica_group: shq(REPLICA_GROUP),
            prefix: shq(spec.secureLinkPrefix.replace(/^\/|\/$/g, "")),
            rsync_user: spec.replication.auth ? RSYNC_USER : "''",
            password_file: shq(RSYNC_PASSWORD),
            bwlimit: spec.replication.moveBwLimit,
            moves: shqList(routing.incoming.map((m) => `${m.shard} ${m.from} ${m.sources[0]} ${m.sources[1]}`)),
        }),
    }];
}
