// Shards across pairs: where a node sends what its pair does not serve
// (reads of files it lacks, uploads: any node takes an upload for any
// shard), and the shard moves of a run: a pair taking shards (a pair added,
// or one marked retire: true) copies their files before their DNS records
// change and reads a file it lacks from the old pair meanwhile; the old pair
// lets it read its rsyncd refill modules (replication/steps.ts). Once the
// new plan is pinned, a pair with dropUnserved removes its copies of shards
// it no longer serves, verified against the pair serving them. nginx's side
// (shardUriPattern, the routes) is in nginx/sites.ts. Every node keeps the
// plan in force and refuses a shard changing pair without its files
// (shardPlanSteps). Pure data and three steps.
import type { ClusterSpec, PairSpec } from "../../config";
import { DROPPED_DIRS, INTERNAL_DIR, REPLICA_GROUP, RSYNC_PASSWORD, RSYNC_USER, SHARD_PLAN_FILE, WEB_USER } from "../../lib/paths";
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
    /** Shards moving between that pair and this one in this run: an upload stored here must not exist there (write-once across the move). */
    checks: string[];
}

/** Shards another pair serves whose copies the node drops (pairs[].dropUnserved) once that pair holds their files. */
export interface ShardDrop {
    /** The pair serving them. */
    pair: string;
    /** Its nodes' internal addresses, first node first. */
    addresses: [string, string];
    /** The shards. */
    shards: string[];
}

/** The plan in force as every node keeps it, and what may change a shard's pair (see shardPlanSteps). */
export interface PlanGuard {
    /** "<shard> <pair>" per shard of the plan in force, sorted by shard. */
    plan: string[];
    /** "<shard> <from> <to>" per move of this run. */
    moves: string[];
    /** Shards that may change pair without a copy (pairstore:shardsCopiedByHand). */
    copiedByHand: string[];
}

/** What one node knows of the other pairs in this run (both nodes of a pair get the same). */
export interface PairRouting {
    /** Shards its pair takes: copied to the node before their DNS records change, read from the old pair while missing. */
    incoming: IncomingShard[];
    /** Internal addresses of the nodes that may read its refill modules: those taking shards from its pair, and those dropping copies of shards it serves. */
    readers: string[];
    /** Every other pair, in config order (its nodes may send here too). */
    routes: PairRoute[];
    /** With pairs[].dropUnserved: the shards other pairs serve (none moving here), by pair; else empty. */
    drops: ShardDrop[];
    /** The plan the node keeps, checked against the one it kept (shardPlanSteps); none: no shard-plan step. */
    guard?: PlanGuard;
}

/** A single pair, or a plan not known: nothing goes elsewhere (and no plan is kept). */
export const NO_ROUTING: PairRouting = { incoming: [], readers: [], routes: [], drops: [] };

/**
 * Where `pair` sends what it does not hold in this run: the shards it takes
 * (copied from their old pair, read from there meanwhile), the readers of the
 * shards it gives away, and for every other pair the shards read from and
 * uploaded to it. Shards moving away stay stored here until the plan is
 * pinned (the old pair serves them until their DNS records change, and
 * clients with cached DNS after that).
 */
export function pairRouting(shards: Pick<ClusterSpec["shards"], "plan" | "moves" | "copiedByHand">, pairs: PairSpec[], pair: string): PairRouting {
    const byName = new Map(pairs.map((p) => [p.name, p]));
    const addresses = (name: string) => byName.get(name)!.nodes.map((n) => n.internalAddress) as [string, string];
    const { moves } = shards;
    const incoming = moves.filter((m) => m.to === pair).map((m) => ({ shard: m.shard, from: m.from, sources: addresses(m.from) }));
    const servesOf = (name: string) => shards.plan.shards.filter((s) => s.pair === name).map((s) => s.shard);
    const droppers = servesOf(pair).length > 0 ? pairs.filter((p) => p.dropUnserved && p.name !== pair).map((p) => p.name) : [];
    const readers = [...new Set([...moves.filter((m) => m.from === pair).map((m) => m.to), ...droppers].flatMap(addresses))];
    const leaving = new Set(moves.filter((m) => m.from === pair).map((m) => m.shard));
    const others = pairs.filter((p) => p.name !== pair);
    const routes = others.map((p) => {
        const serves = servesOf(p.name);
        const reads = [...serves, ...incoming.filter((m) => m.from === p.name).map((m) => m.shard)].sort();
        const checks = moves.filter((m) => (m.to === pair && m.from === p.name) || (m.from === pair && m.to === p.name)).map((m) => m.shard).sort();
        return { pair: p.name, addresses: addresses(p.name), reads, uploads: serves.filter((s) => !leaving.has(s)), checks };
    });
    const arriving = new Set(incoming.map((m) => m.shard));
    const drops = byName.get(pair)!.dropUnserved
        ? others.map((p) => ({ pair: p.name, addresses: addresses(p.name), shards: servesOf(p.name).filter((s) => !arriving.has(s)) })).filter((d) => d.shards.length > 0)
        : [];
    const guard = {
        plan: shards.plan.shards.map((s) => `${s.shard} ${s.pair}`).sort(),
        moves: moves.map((m) => `${m.shard} ${m.from} ${m.to}`),
        copiedByHand: shards.copiedByHand,
    };
    return { incoming, readers, routes, drops, guard };
}

type MoveSettings = Pick<ClusterSpec, "domains" | "dataRoot" | "replication" | "secureLinkPrefix">;

/** The run id as a script comment shows it. */
function runIdText(runId: string): string {
    return runId.replace(/[^A-Za-z0-9:. -]/g, "");
}

/** What both shard scripts need: the image roots, the shard folders (files/moves/shard-common.sh), the other pairs' rsyncd. */
function rsyncSettings(spec: MoveSettings) {
    return {
        data_root: shq(spec.dataRoot),
        domains: shqList(spec.domains.map((d) => d.name)),
        internal: shq(INTERNAL_DIR),
        prefix: shq(spec.secureLinkPrefix.replace(/^\/|\/$/g, "")),
        rsync_user: spec.replication.auth ? RSYNC_USER : "''",
        password_file: shq(RSYNC_PASSWORD),
        dropped_dirs: shq(DROPPED_DIRS),
    };
}

/**
 * The node's shard-plan step, its first (phase "prepare", before anything it
 * serves with changes): keeps the plan in force on the node and refuses,
 * changing nothing, a plan in which a shard changes pair without its files
 * (files/moves/shard-plan.sh). None without a guard.
 */
export function shardPlanSteps(routing: PairRouting): ScriptStep[] {
    if (!routing.guard) return [];
    const { plan, moves, copiedByHand } = routing.guard;
    return [{
        kind: "script",
        name: "shard-plan",
        phase: "prepare",
        script: render("moves/shard-plan.sh", { plan_file: SHARD_PLAN_FILE, moves: shqList(moves), by_hand: shqList(copiedByHand) }),
        stdin: plan.map((l) => `${l}\n`).join(""),
        deleteScript: render("steps/file-delete.sh", { path: `"$STATE_DIR"/${SHARD_PLAN_FILE}` }),
    }];
}

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
            ...rsyncSettings(spec),
            run_id: runIdText(runId),
            web_user: shq(WEB_USER),
            replica_group: shq(REPLICA_GROUP),
            bwlimit: spec.replication.moveBwLimit,
            moves: shqList(routing.incoming.map((m) => `${m.shard} ${m.from} ${m.sources[0]} ${m.sources[1]}`)),
        }),
    }];
}

/**
 * The node's drop-unserved step (phase "drop", after the pairs serving the
 * shards are ready): none without pairs[].dropUnserved. It carries the run
 * id: every apply drops what reached the pair since (cheap when nothing did).
 */
export function dropUnservedSteps(spec: MoveSettings, routing: PairRouting, runId: string): ScriptStep[] {
    if (routing.drops.length === 0) return [];
    return [{
        kind: "script",
        name: "drop-unserved",
        phase: "drop",
        script: render("moves/drop-unserved.sh", {
            ...rsyncSettings(spec),
            run_id: runIdText(runId),
            ports: spec.domains.map((d) => d.internalPort).join(" "),
            drops: shqList(routing.drops.map((d) => `${d.pair} ${d.addresses[0]} ${d.addresses[1]} ${d.shards.join(" ")}`)),
        }),
    }];
}
