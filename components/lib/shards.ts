// The shard plan: which pair serves which shard. Pure data and functions.
//
// A file's shard is the first hex digit of its md5 (16 shards) or the first
// two (256 shards), see layout.ts. A plan assigns every shard to exactly one
// pair; `<shard>.image.<domain>` then resolves to that pair's two public IPs.
//
// Lifecycle (why the plan is persisted):
//   - the first plan comes from planShards: shard i goes to pair i mod N, so
//     two pairs alternate as in the reference system (0 -> pair1, 1 -> pair2,
//     2 -> pair1, ...);
//   - from then on the plan in force must be kept, because files live where
//     their shard was served when they were written. It is pinned in stack
//     config as `pairstore:shards`, pair name -> its shards:
//         pairstore:shards:
//           pair1: "0 2 4 6 8 a c e"
//           pair2: "1 3 5 7 9 b d f"
//     (planToConfig / planFromConfig; keys are pair names, never shard names,
//     so YAML cannot read a shard like "00" or "10" as a number);
//   - adding a pair grows the pinned plan with growPlan, which moves the
//     fewest shards that leave every pair with floor or ceil of shards/pairs;
//     planShards for N+1 pairs would move far more. resolvePlan does this for
//     every pair in config that the pinned plan lacks.
//   - a pair marked `retire: true` gives its shards to the others with
//     shrinkPlan (only its shards move); once the pinned plan gives it none,
//     it can leave the config. Changing the digit count is not automatic.
//   - movedShards(pinned, in force) are the shards a run moves: the pairs
//     taking them copy their files before their DNS records change.
//
// A plan is plain data `{ digits, shards: [{ shard, pair }] }` sorted by
// shard, so it can be a component arg, a stack output and a policy input.
import { shardNames, type ShardDigits } from "./layout";

export type { ShardDigits } from "./layout";

/** One shard and the pair that serves it. */
export interface ShardAssignment {
    shard: string;
    pair: string;
}

/** Every shard of a cluster and its pair, sorted by shard. */
export interface ShardPlan {
    digits: ShardDigits;
    shards: ShardAssignment[];
}

/** One shard that changes pair between two plans. */
export interface ShardMove {
    shard: string;
    from: string | undefined;
    to: string | undefined;
}

/** A plan or its inputs are wrong; `problems` lists each, naming the shard or pair. */
export class ShardPlanError extends Error {
    constructor(public readonly problems: string[]) {
        super(problems.length === 1 ? problems[0] : `shard plan problems:\n  - ${problems.join("\n  - ")}`);
        this.name = "ShardPlanError";
    }
}

/** The config key that pins the plan. */
export const SHARDS_KEY = "pairstore:shards";

const q = (v: unknown) => JSON.stringify(v);

/** The fewest shard digits that leave none of `pairs` pairs without a shard; undefined above 256 pairs. */
export function digitsFor(pairs: number): ShardDigits | undefined {
    return pairs <= 16 ? 1 : pairs <= 256 ? 2 : undefined;
}

/**
 * The first plan: 16 (digits 1) or 256 (digits 2) shards over the pairs,
 * shard i to pair i mod N; every pair gets floor or ceil of shards/N.
 */
export function planShards(pairNames: string[], digits: ShardDigits): ShardPlan {
    const names = checkDigitsArg(digits);
    checkPairNames(pairNames, "pairNames", names.length);
    return { digits, shards: names.map((shard, i) => ({ shard, pair: pairNames[i % pairNames.length] })) };
}

/**
 * The plan after adding `newPair` to `current`: moves as few shards as
 * possible while leaving every pair with floor or ceil of shards/pairs.
 * The extra (ceil) slots go to the pairs holding most shards, ties to the
 * pair appearing first; each pair over its target gives up evenly spaced
 * shards of its own. Deterministic; throws ShardPlanError on a bad plan.
 */
export function growPlan(current: ShardPlan, newPair: string): ShardPlan {
    const existing = pairsOf(current);
    const problems = checkPlan(current, existing);
    if (problems.length > 0) throw new ShardPlanError(problems.map((p) => `current plan: ${p}`));
    if (typeof newPair !== "string" || newPair === "") throw new ShardPlanError([`newPair ${q(newPair)} is not a pair name: pass the new pair's name from config`]);
    if (existing.includes(newPair)) throw new ShardPlanError([`pair ${q(newPair)} already serves shards in the current plan: pass a pair that is new`]);
    const pairs = [...existing, newPair];
    const total = 16 ** current.digits;
    if (pairs.length > total) {
        throw new ShardPlanError([`${pairs.length} pairs for ${total} shards would leave pair ${q(newPair)} without a shard: use 2 shard digits (256 shards)`]);
    }

    const held = new Map<string, string[]>(pairs.map((p) => [p, []]));
    const sorted = sortPlan(current).shards;
    for (const a of sorted) held.get(a.pair)!.push(a.shard);

    // Targets: ceil for the `extra` pairs holding most shards (ties: first pair), floor for the rest.
    const low = Math.floor(total / pairs.length);
    const extra = total % pairs.length;
    const byCount = pairs.map((p, i) => ({ p, i, n: held.get(p)!.length }))
        .sort((a, b) => b.n - a.n || a.i - b.i);
    const target = new Map<string, number>(byCount.map((x, rank) => [x.p, low + (rank < extra ? 1 : 0)]));

    // Donations: each pair over its target gives up evenly spaced shards of its own.
    const donated: string[] = [];
    for (const p of pairs) {
        const mine = held.get(p)!;
        const excess = mine.length - target.get(p)!;
        for (let k = 0; k < excess; k++) donated.push(mine[Math.floor(((k + 1) * mine.length) / excess) - 1]);
    }
    donated.sort();

    // Receivers take the donated shards in turn, in pair order, until each reaches its target.
    const owner = new Map(sorted.map((a) => [a.shard, a.pair]));
    const need = pairs.map((p) => ({ p, left: target.get(p)! - held.get(p)!.length })).filter((x) => x.left > 0);
    let turn = 0;
    for (const shard of donated) {
        while (need[turn % need.length].left === 0) turn++;
        const r = need[turn % need.length];
        owner.set(shard, r.p);
        r.left--;
        turn++;
    }
    return sortPlan({ digits: current.digits, shards: [...owner].map(([shard, pair]) => ({ shard, pair })) });
}

/**
 * The plan after `leaving` gives up its shards: each goes to the remaining
 * pair serving fewest shards (ties: the pair appearing first), so only the
 * leaving pair's shards move and the others stay within floor or ceil of
 * shards/pairs when they were before. Deterministic; throws ShardPlanError.
 */
export function shrinkPlan(current: ShardPlan, leaving: string): ShardPlan {
    const existing = pairsOf(current);
    const problems = checkPlan(current, existing);
    if (problems.length > 0) throw new ShardPlanError(problems.map((p) => `current plan: ${p}`));
    if (!existing.includes(leaving)) throw new ShardPlanError([`pair ${q(leaving)} serves no shard in the current plan: nothing to give away`]);
    const rest = existing.filter((p) => p !== leaving);
    if (rest.length === 0) throw new ShardPlanError([`pair ${q(leaving)} is the only pair serving shards: keep at least one pair that does not retire`]);
    const count = new Map(rest.map((p) => [p, current.shards.filter((s) => s.pair === p).length]));
    const shards = sortPlan(current).shards.map((s) => {
        if (s.pair !== leaving) return s;
        const to = rest.reduce((best, p) => (count.get(p)! < count.get(best)! ? p : best), rest[0]);
        count.set(to, count.get(to)! + 1);
        return { shard: s.shard, pair: to };
    });
    return { digits: current.digits, shards };
}

/** The shards whose pair differs between two plans (missing on one side = undefined), sorted by shard. */
export function movedShards(a: ShardPlan, b: ShardPlan): ShardMove[] {
    const from = new Map(a.shards.map((s) => [s.shard, s.pair]));
    const to = new Map(b.shards.map((s) => [s.shard, s.pair]));
    const all = [...new Set([...from.keys(), ...to.keys()])].sort();
    return all.filter((s) => from.get(s) !== to.get(s)).map((shard) => ({ shard, from: from.get(shard), to: to.get(shard) }));
}

/**
 * Problems of a plan for a cluster with these pairs (empty when it is good):
 * a shard served by no pair, by two pairs, or by a pair not in `pairNames`;
 * a shard name of the wrong form; a pair of `pairNames` serving no shard.
 */
export function checkPlan(plan: ShardPlan, pairNames: string[]): string[] {
    const problems: string[] = [];
    if (!plan || typeof plan !== "object") return [`the plan ${q(plan)} is not an object {digits, shards}`];
    if (plan.digits !== 1 && plan.digits !== 2) {
        return [`the plan's digits ${q(plan.digits)} is not 1 or 2: use 1 for 16 shards or 2 for 256`];
    }
    if (!Array.isArray(plan.shards)) return [`the plan's shards is not a list of {shard, pair}`];
    const known = new Set(pairNames);
    const seenPairs = new Set<string>();
    pairNames.forEach((p) => {
        if (seenPairs.has(p)) problems.push(`pair ${q(p)} is listed twice in the cluster's pairs`);
        seenPairs.add(p);
    });
    const valid = new Set(shardNames(plan.digits));
    const servers = new Map<string, string[]>();
    for (const entry of plan.shards) {
        const shard = entry?.shard;
        const pair = entry?.pair;
        if (typeof shard !== "string" || !valid.has(shard)) {
            problems.push(`shard ${q(shard)} is not a shard name for ${plan.digits} digit${plan.digits === 1 ? "" : "s"}: use ${plan.digits === 1 ? `"0".."f"` : `"00".."ff"`} (lower-case hex)`);
            continue;
        }
        if (typeof pair !== "string" || pair === "") {
            problems.push(`shard ${q(shard)} has no pair name: assign it to one of ${listing(pairNames)}`);
            continue;
        }
        if (!known.has(pair)) {
            problems.push(`shard ${q(shard)} is served by pair ${q(pair)}, which is not one of the cluster's pairs (${listing(pairNames)}): assign it to one of them`);
        }
        servers.set(shard, [...(servers.get(shard) ?? []), pair]);
    }
    for (const shard of valid) {
        const by = servers.get(shard);
        if (!by) {
            problems.push(`shard ${q(shard)} is served by no pair: assign it to one of ${listing(pairNames)}`);
        } else if (new Set(by).size > 1) {
            problems.push(`shard ${q(shard)} is served by ${by.length} pairs (${listing([...new Set(by)])}): keep exactly one`);
        } else if (by.length > 1) {
            problems.push(`shard ${q(shard)} is listed ${by.length} times for pair ${q(by[0])}: list it once`);
        }
    }
    const serving = new Set([...servers.values()].flat());
    for (const p of seenPairs) {
        if (!serving.has(p)) problems.push(`pair ${q(p)} serves no shard: grow the plan with growPlan(plan, ${q(p)}) or assign it shards`);
    }
    return problems;
}

/** Pairs of a plan, in the order they first appear by shard. */
export function pairsOf(plan: ShardPlan): string[] {
    if (!Array.isArray(plan?.shards)) return [];
    const wellFormed = plan.shards.filter((s) => typeof s?.shard === "string" && typeof s?.pair === "string" && s.pair !== "");
    return [...new Set(sortPlan({ digits: plan.digits, shards: wellFormed }).shards.map((s) => s.pair))];
}

/** How many shards each pair of a plan serves. */
export function shardCounts(plan: ShardPlan): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const s of plan.shards) counts[s.pair] = (counts[s.pair] ?? 0) + 1;
    return counts;
}

/** True when every pair of the plan serves floor or ceil of shards/pairs. */
export function isBalanced(plan: ShardPlan): boolean {
    const counts = Object.values(shardCounts(plan));
    const low = Math.floor(plan.shards.length / counts.length);
    return counts.every((n) => n === low || n === low + 1);
}

/** The plan in the config form of `pairstore:shards`: pair name -> its shards, space separated. */
export function planToConfig(plan: ShardPlan): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of pairsOf(plan)) out[p] = sortPlan(plan).shards.filter((s) => s.pair === p).map((s) => s.shard).join(" ");
    return out;
}

/**
 * Reads `pairstore:shards` (pair name -> shards as a space or comma separated
 * string or a list). Digits come from the shard names. Throws ShardPlanError
 * naming `key` and the pair; coverage is checked by checkPlan/resolvePlan.
 */
export function planFromConfig(value: unknown, key: string = SHARDS_KEY): ShardPlan {
    const example = `for example {pair1: "0 2 4 6 8 a c e", pair2: "1 3 5 7 9 b d f"}`;
    if (!value || typeof value !== "object" || Array.isArray(value)) {
        throw new ShardPlanError([`${key} must map each pair name to its shards, ${example}`]);
    }
    const problems: string[] = [];
    const shards: ShardAssignment[] = [];
    for (const [pair, list] of Object.entries(value as Record<string, unknown>)) {
        const items = typeof list === "string" ? list.split(/[\s,]+/).filter((s) => s !== "")
            : Array.isArray(list) && list.every((s) => typeof s === "string") ? (list as string[]) : undefined;
        if (!items) {
            problems.push(`${key}.${pair} must be the pair's shards as a string like "0 2 4" or a list of strings`);
            continue;
        }
        for (const shard of items) shards.push({ shard: shard.toLowerCase(), pair });
    }
    const lengths = new Set(shards.map((s) => s.shard.length));
    if (problems.length === 0 && shards.length === 0) problems.push(`${key} lists no shards: ${example}`);
    if (problems.length === 0 && (lengths.size !== 1 || !(lengths.has(1) || lengths.has(2)))) {
        problems.push(`${key} mixes or misshapes shard names (lengths ${[...lengths].sort().join(", ")}): use one hex digit each (16 shards) or two each (256 shards)`);
    }
    if (problems.length > 0) throw new ShardPlanError(problems);
    return sortPlan({ digits: [...lengths][0] as ShardDigits, shards });
}

/**
 * The plan in force for a cluster: `pinned` (from `pairstore:shards`) grown
 * by every pair of `pairNames` it lacks, in config order; without a pinned
 * plan, planShards. Pairs in `retiring` give their shards away (shrinkPlan)
 * and get none. `added` and `retired` name the pairs grown in and shrunk
 * away: when either is not empty, pin the returned plan (planToConfig)
 * once its moves are done, so the next change starts from it.
 * Throws ShardPlanError when the pinned plan is broken, uses a pair no
 * longer in config, or has other digits than the cluster.
 */
export function resolvePlan(
    pinned: ShardPlan | undefined, pairNames: string[], digits: ShardDigits, retiring: string[] = [],
): { plan: ShardPlan; added: string[]; retired: string[] } {
    checkDigitsArg(digits);
    checkPairNames(pairNames, "pairNames", 16 ** digits);
    const staying = pairNames.filter((p) => !retiring.includes(p));
    if (staying.length === 0) throw new ShardPlanError([`every pair retires: keep at least one pair without retire: true to serve the shards`]);
    if (pinned === undefined) return { plan: planShards(staying, digits), added: [], retired: [] };
    if (pinned.digits !== digits) {
        throw new ShardPlanError([`${SHARDS_KEY} has ${pinned.digits}-digit shards but the cluster uses ${digits}: changing the shard digits moves files; write a new plan by hand`]);
    }
    const inPlan = pairsOf(pinned);
    const gone = inPlan.filter((p) => !pairNames.includes(p));
    // Coverage first (pairs in config order), then one problem per removed pair.
    const problems = checkPlan(pinned, [...pairNames.filter((p) => inPlan.includes(p)), ...gone]);
    for (const p of gone) {
        problems.push(`${SHARDS_KEY} gives shards to pair ${q(p)}, which is not in the cluster's pairs: put it back and set retire: true on it, ` +
            `apply (its shards move to the other pairs with their files), pin the new plan, then remove it`);
    }
    if (problems.length > 0) throw new ShardPlanError(problems.map((p) => p.startsWith(SHARDS_KEY) ? p : `${SHARDS_KEY}: ${p}`));
    const added = staying.filter((p) => !inPlan.includes(p));
    const retired = retiring.filter((p) => inPlan.includes(p));
    let plan = added.reduce((plan, p) => growPlan(plan, p), sortPlan(pinned));
    plan = retired.reduce((plan, p) => shrinkPlan(plan, p), plan);
    return { plan, added, retired };
}

/** A copy of the plan sorted by shard. */
export function sortPlan(plan: ShardPlan): ShardPlan {
    return { digits: plan.digits, shards: [...plan.shards].map((s) => ({ shard: s.shard, pair: s.pair })).sort((a, b) => (a.shard < b.shard ? -1 : a.shard > b.shard ? 1 : 0)) };
}

function checkDigitsArg(digits: ShardDigits): string[] {
    if (digits !== 1 && digits !== 2) {
        throw new ShardPlanError([`digits ${q(digits)} is not 1 or 2: use 1 for 16 shards or 2 for 256`]);
    }
    return shardNames(digits);
}

function checkPairNames(pairNames: string[], arg: string, shardCount: number): void {
    if (!Array.isArray(pairNames) || pairNames.length === 0) throw new ShardPlanError([`${arg} is empty: pass at least one pair name`]);
    const problems: string[] = [];
    const seen = new Set<string>();
    pairNames.forEach((p, i) => {
        if (typeof p !== "string" || p === "") problems.push(`${arg}[${i}] ${q(p)} is not a pair name`);
        else if (seen.has(p)) problems.push(`${arg}[${i}] ${q(p)} is listed twice: list each pair once`);
        seen.add(p);
    });
    if (pairNames.length > shardCount) {
        problems.push(`${pairNames.length} pairs for ${shardCount} shards would leave a pair without a shard: use 2 shard digits (256 shards)`);
    }
    if (problems.length > 0) throw new ShardPlanError(problems);
}

function listing(names: string[]): string {
    return names.length === 0 ? "(none)" : names.map((n) => q(n)).join(", ");
}
