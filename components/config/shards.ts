// The shard plan in the stack config: `pairstore:shardDigits` and
// `pairstore:shards` (the pinned plan) -> the plan in force for the pairs.
import { shardNames } from "../lib/layout";
import { digitsFor, movedShards, planFromConfig, resolvePlan, ShardPlanError, type ShardDigits, type ShardPlan } from "../lib/shards";
import type { PairSpec } from "./nodes";
import { NAMESPACE, int } from "./readers";

/** The shard plan in force and what resolvePlan added to the pinned one. */
export interface ShardSpec {
    digits: ShardDigits;
    plan: ShardPlan;
    /** Pairs that got shards in this run (pin the plan when not empty). */
    added: string[];
    /** Pairs marked retire: true that gave their shards away in this run (pin the plan when not empty). */
    retired: string[];
    /** Shards this run moves from one pair to another (pinned plan -> plan in force), sorted by shard. */
    moves: { shard: string; from: string; to: string }[];
    /** True when `pairstore:shards` pinned a plan. */
    pinned: boolean;
    /** Shards allowed to change pair without a copy in this run (`pairstore:shardsCopiedByHand`); default none. */
    copiedByHand: string[];
}

const key = (k: string) => `${NAMESPACE}:${k}`;

/**
 * `pairstore:shardsCopiedByHand`: shards (of either digit count, "6" or "6a",
 * as a space-separated string or a list) whose change of pair the nodes
 * accept without a copy (files/moves/shard-plan.sh refuses it otherwise).
 */
export function parseCopiedByHand(raw: unknown, bad: (m: string) => void): string[] {
    const k = key("shardsCopiedByHand");
    if (raw === undefined) return [];
    // A list arrives parsed (readClusterSpec parses config text as JSON); "6 e" stays text.
    const list = typeof raw === "string" ? raw.trim().split(/\s+/).filter((s) => s !== "") : raw;
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
        bad(`${k} must list shards, for example "6 e": pulumi config set ${k} '6 e'`);
        return [];
    }
    const valid = new Set([...shardNames(1), ...shardNames(2)]);
    const wrong = list.filter((s) => !valid.has(s));
    if (wrong.length > 0) bad(`${k} names ${wrong.map((s) => JSON.stringify(s)).join(", ")}, which ${wrong.length > 1 ? "are not shards" : "is not a shard"}: ` +
        `shards are 0..f (or 00..ff with shardDigits 2), lower case, for example "6 e"`);
    return [...new Set(list as string[])].filter((s) => valid.has(s)).sort();
}

/** `pairstore:shardDigits` and `pairstore:shards` -> the plan in force for these pairs. */
export function parseShards(rawDigits: unknown, rawShards: unknown, rawByHand: unknown, pairs: PairSpec[], bad: (m: string) => void): ShardSpec {
    const copiedByHand = parseCopiedByHand(rawByHand, bad);
    const digitsNum = int(rawDigits, key("shardDigits"), 1, bad);
    let digits: ShardDigits = 1;
    if (digitsNum === 1 || digitsNum === 2) digits = digitsNum;
    else bad(`${key("shardDigits")} ${digitsNum} must be 1 (16 shards 0..f) or 2 (256 shards 00..ff)`);
    const names = pairs.map((p) => p.name).filter((n) => n !== "");
    const empty: ShardSpec = { digits, plan: { digits, shards: [] }, added: [], retired: [], moves: [], pinned: rawShards !== undefined, copiedByHand };
    if (names.length === 0 || new Set(names).size !== names.length) return empty; // reported by parsePairs
    const needed = digitsFor(names.length);
    if (needed === undefined || needed > digits) {
        // Checked here, not left to resolvePlan, so the problem names the keys to change.
        bad(`${key("pairs")} has ${names.length} pairs but ${key("shardDigits")} ${digits} gives ${16 ** digits} shards, and every pair needs one: ` +
            (needed === undefined ? "use at most 256 pairs" : `set ${key("shardDigits")} to ${needed} (256 shards 00..ff)`));
        return empty;
    }
    try {
        let pinned: ShardPlan | undefined;
        if (rawShards !== undefined) {
            // `pulumi config set pairstore:shards '<json>'` stores text; YAML gives an object.
            const value = typeof rawShards === "string" ? JSON.parse(rawShards) : rawShards;
            pinned = planFromConfig(value, key("shards"));
        }
        const retiring = pairs.filter((p) => p.retire).map((p) => p.name);
        const { plan, added, retired } = resolvePlan(pinned, names, digits, retiring);
        const moves = pinned === undefined ? [] : movedShards(pinned, plan)
            .filter((m) => m.from !== undefined && m.to !== undefined)
            .map((m) => ({ shard: m.shard, from: m.from!, to: m.to! }));
        return { digits, plan, added, retired, moves, pinned: pinned !== undefined, copiedByHand };
    } catch (e) {
        if (e instanceof ShardPlanError) e.problems.forEach((p) => bad(p));
        else if (e instanceof SyntaxError) bad(`${key("shards")} is not valid JSON: map each pair name to its shards, for example {"pair-1": "0 2 4 6 8 a c e", "pair-2": "1 3 5 7 9 b d f"}`);
        else throw e;
        return empty;
    }
}
