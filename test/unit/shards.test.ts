// The shard plan: coverage, balance, the reference deployment's two-pair alternation, minimal
// growth by one pair, determinism, the config form, and checkPlan's messages.
import { describe, expect, test } from "vitest";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import {
    ShardPlanError, checkPlan, growPlan, isBalanced, movedShards, pairsOf, planFromConfig, planShards, planToConfig,
    resolvePlan, shardCounts, type ShardDigits, type ShardPlan,
} from "../../components/lib/shards";

const names = (n: number, prefix = "pair") => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
const hex = (digits: ShardDigits) => Array.from({ length: 16 ** digits }, (_, i) => i.toString(16).padStart(digits, "0"));

/** Every shard exactly once, sorted, only known pairs, each pair floor or ceil. */
function expectGood(plan: ShardPlan, pairs: string[]): void {
    expect(checkPlan(plan, pairs)).toEqual([]);
    expect(plan.shards.map((s) => s.shard)).toEqual(hex(plan.digits));
    const total = 16 ** plan.digits;
    const low = Math.floor(total / pairs.length);
    const counts = shardCounts(plan);
    for (const p of pairs) expect([low, low + 1]).toContain(counts[p]);
    expect(Object.keys(counts).sort()).toEqual([...pairs].sort());
    expect(isBalanced(plan)).toBe(true);
}

/**
 * The fewest shards any balanced plan over `pairs` can move from `plan`:
 * pair p keeps at most min(count, target); targets are floor, plus one for
 * `extra` pairs, which only helps a pair holding more than floor.
 */
function minimalMoves(plan: ShardPlan, pairs: string[]): number {
    const total = 16 ** plan.digits;
    const low = Math.floor(total / pairs.length);
    const extra = total % pairs.length;
    const counts = shardCounts(plan);
    const c = pairs.map((p) => counts[p] ?? 0);
    const kept = c.reduce((sum, n) => sum + Math.min(n, low), 0) + Math.min(extra, c.filter((n) => n > low).length);
    return total - kept;
}

/** The same by brute force over which pairs get the extra shard (16 shards only). */
function minimalMovesBrute(plan: ShardPlan, pairs: string[]): number {
    const total = 16 ** plan.digits;
    const low = Math.floor(total / pairs.length);
    const extra = total % pairs.length;
    const counts = shardCounts(plan);
    let best = Infinity;
    for (let mask = 0; mask < 1 << pairs.length; mask++) {
        let bits = 0;
        for (let m = mask; m; m >>= 1) bits += m & 1;
        if (bits !== extra) continue;
        const kept = pairs.reduce((sum, p, i) => sum + Math.min(counts[p] ?? 0, low + ((mask >> i) & 1)), 0);
        best = Math.min(best, total - kept);
    }
    return best;
}

function problemsOf(fn: () => unknown): string[] {
    try {
        fn();
    } catch (e) {
        if (e instanceof ShardPlanError) return e.problems;
        throw e;
    }
    throw new Error("expected a ShardPlanError");
}

describe("planShards", () => {
    test("two pairs alternate as in the reference deployment: 0 -> pair1, 1 -> pair2, 2 -> pair1, ...", () => {
        const plan = planShards(["pair1", "pair2"], 1);
        expect(plan.digits).toBe(1);
        expect(plan.shards.slice(0, 4)).toEqual([
            { shard: "0", pair: "pair1" }, { shard: "1", pair: "pair2" },
            { shard: "2", pair: "pair1" }, { shard: "3", pair: "pair2" },
        ]);
        expect(planToConfig(plan)).toEqual({ pair1: "0 2 4 6 8 a c e", pair2: "1 3 5 7 9 b d f" });
    });

    test.each(Array.from({ length: 16 }, (_, i) => i + 1))("%i pairs over 16 shards", (n) => {
        const pairs = names(n);
        const plan = planShards(pairs, 1);
        expectGood(plan, pairs);
        plan.shards.forEach((s, i) => expect(s.pair).toBe(pairs[i % n]));
    });

    test.each([1, 2, 3, 5, 7, 16, 17, 100, 255, 256])("%i pairs over 256 shards", (n) => {
        const pairs = names(n);
        const plan = planShards(pairs, 2);
        expectGood(plan, pairs);
        expect(plan.shards[0]).toEqual({ shard: "00", pair: "pair1" });
        expect(plan.shards[255].shard).toBe("ff");
    });

    test("refused inputs", () => {
        expect(problemsOf(() => planShards([], 1))).toEqual(["pairNames is empty: pass at least one pair name"]);
        expect(problemsOf(() => planShards(["a", "b", "a"], 1))).toEqual([`pairNames[2] "a" is listed twice: list each pair once`]);
        expect(problemsOf(() => planShards(["a", ""], 1))).toEqual([`pairNames[1] "" is not a pair name`]);
        expect(problemsOf(() => planShards(names(17), 1)))
            .toEqual(["17 pairs for 16 shards would leave a pair without a shard: use 2 shard digits (256 shards)"]);
        expect(problemsOf(() => planShards(["a"], 3 as ShardDigits)))
            .toEqual(["digits 3 is not 1 or 2: use 1 for 16 shards or 2 for 256"]);
    });
});

describe("growPlan", () => {
    test("one pair to two gives the reference deployment's alternation", () => {
        expect(growPlan(planShards(["pair1"], 1), "pair2")).toEqual(planShards(["pair1", "pair2"], 1));
        expect(growPlan(planShards(["pair1"], 2), "pair2")).toEqual(planShards(["pair1", "pair2"], 2));
    });

    test("two pairs to three: 5 moves, all to the new pair, spread out", () => {
        const before = planShards(["pair1", "pair2"], 1);
        const after = growPlan(before, "pair3");
        expect(movedShards(before, after)).toEqual([
            { shard: "3", from: "pair2", to: "pair3" },
            { shard: "6", from: "pair1", to: "pair3" },
            { shard: "9", from: "pair2", to: "pair3" },
            { shard: "e", from: "pair1", to: "pair3" },
            { shard: "f", from: "pair2", to: "pair3" },
        ]);
        expect(shardCounts(after)).toEqual({ pair1: 6, pair2: 5, pair3: 5 });
    });

    test.each(Array.from({ length: 15 }, (_, i) => i + 1))("%i pairs plus one over 16 shards moves the minimum", (n) => {
        const before = planShards(names(n), 1);
        const pairs = names(n + 1);
        const after = growPlan(before, pairs[n]);
        expectGood(after, pairs);
        const moved = movedShards(before, after);
        expect(moved.length).toBe(minimalMoves(before, pairs));
        expect(moved.length).toBe(minimalMovesBrute(before, pairs));
        expect(moved.length).toBe(Math.floor(16 / (n + 1))); // the new pair's floor share
        for (const m of moved) expect(m.to).toBe(pairs[n]);
    });

    test.each([1, 2, 3, 7, 15, 16, 31, 100, 200, 255])("%i pairs plus one over 256 shards moves the minimum", (n) => {
        const before = planShards(names(n), 2);
        const pairs = names(n + 1);
        const after = growPlan(before, pairs[n]);
        expectGood(after, pairs);
        const moved = movedShards(before, after);
        expect(moved.length).toBe(minimalMoves(before, pairs));
        for (const m of moved) expect(m.to).toBe(pairs[n]);
    });

    test.each<[ShardDigits, number]>([[1, 16], [2, 16], [2, 64]])("repeated growth, %i digit(s), from 1 to %i pairs", (digits, last) => {
        let plan = planShards(["pair1"], digits);
        let total = 0;
        for (let n = 2; n <= last; n++) {
            const pairs = names(n);
            const next = growPlan(plan, pairs[n - 1]);
            expectGood(next, pairs);
            const moved = movedShards(plan, next).length;
            expect(moved).toBe(minimalMoves(plan, pairs));
            if (digits === 1) expect(moved).toBe(minimalMovesBrute(plan, pairs));
            total += moved;
            plan = next;
        }
        if (digits === 1) expect(Object.values(shardCounts(plan))).toEqual(Array(16).fill(1));
        expect(total).toBeGreaterThan(0);
    });

    test("an unbalanced pinned plan is balanced with the fewest moves", () => {
        const before: ShardPlan = { digits: 1, shards: hex(1).map((shard, i) => ({ shard, pair: i < 12 ? "a" : "b" })) };
        const after = growPlan(before, "c");
        expectGood(after, ["a", "b", "c"]);
        expect(movedShards(before, after).length).toBe(minimalMovesBrute(before, ["a", "b", "c"]));
        expect(shardCounts(after)).toEqual({ a: 6, b: 5, c: 5 });
        for (const m of movedShards(before, after)) expect(m.from).toBe("a");
    });

    test("deterministic, pure, and independent of the input's order", () => {
        const before = growPlan(planShards(names(3), 1), "pair4");
        const copy = JSON.parse(JSON.stringify(before));
        const a = growPlan(before, "pair5");
        expect(growPlan(before, "pair5")).toEqual(a);
        expect(before).toEqual(copy);
        const shuffled: ShardPlan = { digits: 1, shards: [...before.shards].reverse() };
        expect(growPlan(shuffled, "pair5")).toEqual(a);
    });

    test("refused inputs", () => {
        const plan = planShards(["a", "b"], 1);
        expect(problemsOf(() => growPlan(plan, "a"))).toEqual([`pair "a" already serves shards in the current plan: pass a pair that is new`]);
        expect(problemsOf(() => growPlan(plan, ""))).toEqual([`newPair "" is not a pair name: pass the new pair's name from config`]);
        expect(problemsOf(() => growPlan(planShards(names(16), 1), "x")))
            .toEqual([`17 pairs for 16 shards would leave pair "x" without a shard: use 2 shard digits (256 shards)`]);
        const broken: ShardPlan = { digits: 1, shards: plan.shards.filter((s) => s.shard !== "7") };
        expect(problemsOf(() => growPlan(broken, "c"))).toEqual([`current plan: shard "7" is served by no pair: assign it to one of "a", "b"`]);
    });
});

describe("movedShards", () => {
    test("lists shards whose pair differs, sorted, with missing sides undefined", () => {
        const a: ShardPlan = { digits: 1, shards: [{ shard: "1", pair: "x" }, { shard: "0", pair: "x" }, { shard: "2", pair: "y" }] };
        const b: ShardPlan = { digits: 1, shards: [{ shard: "0", pair: "x" }, { shard: "1", pair: "y" }, { shard: "3", pair: "y" }] };
        expect(movedShards(a, b)).toEqual([
            { shard: "1", from: "x", to: "y" },
            { shard: "2", from: "y", to: undefined },
            { shard: "3", from: undefined, to: "y" },
        ]);
        expect(movedShards(a, a)).toEqual([]);
    });
});

describe("checkPlan", () => {
    const good = () => planShards(["a", "b"], 1);
    const edit = (f: (shards: ShardPlan["shards"]) => ShardPlan["shards"]): ShardPlan => ({ digits: 1, shards: f(good().shards) });

    test("a good plan has no problems", () => {
        expect(checkPlan(good(), ["a", "b"])).toEqual([]);
    });

    test("a shard served by no pair", () => {
        expect(checkPlan(edit((s) => s.filter((x) => x.shard !== "c")), ["a", "b"]))
            .toEqual([`shard "c" is served by no pair: assign it to one of "a", "b"`]);
    });

    test("a shard served by two pairs", () => {
        expect(checkPlan(edit((s) => [...s, { shard: "4", pair: "b" }]), ["a", "b"]))
            .toEqual([`shard "4" is served by 2 pairs ("a", "b"): keep exactly one`]);
    });

    test("a shard listed twice for the same pair", () => {
        expect(checkPlan(edit((s) => [...s, { shard: "4", pair: "a" }]), ["a", "b"]))
            .toEqual([`shard "4" is listed 2 times for pair "a": list it once`]);
    });

    test("a shard served by an unknown pair", () => {
        expect(checkPlan(edit((s) => s.map((x) => (x.shard === "5" ? { ...x, pair: "zz" } : x))), ["a", "b"]))
            .toEqual([`shard "5" is served by pair "zz", which is not one of the cluster's pairs ("a", "b"): assign it to one of them`]);
    });

    test("bad shard names and missing pair names", () => {
        expect(checkPlan(edit((s) => [...s, { shard: "g", pair: "a" }, { shard: "00", pair: "a" }]), ["a", "b"])).toEqual([
            `shard "g" is not a shard name for 1 digit: use "0".."f" (lower-case hex)`,
            `shard "00" is not a shard name for 1 digit: use "0".."f" (lower-case hex)`,
        ]);
        expect(checkPlan({ digits: 2, shards: [{ shard: "0", pair: "a" }] }, ["a"])[0])
            .toBe(`shard "0" is not a shard name for 2 digits: use "00".."ff" (lower-case hex)`);
        expect(checkPlan(edit((s) => s.map((x) => (x.shard === "1" ? { ...x, pair: "" } : x))), ["a", "b"])).toEqual([
            `shard "1" has no pair name: assign it to one of "a", "b"`,
            `shard "1" is served by no pair: assign it to one of "a", "b"`,
        ]);
    });

    test("a pair of the cluster that serves no shard", () => {
        expect(checkPlan(good(), ["a", "b", "c"])).toEqual([`pair "c" serves no shard: grow the plan with growPlan(plan, "c") or assign it shards`]);
    });

    test("malformed plans and pair lists", () => {
        expect(checkPlan({ digits: 3, shards: [] } as unknown as ShardPlan, ["a"])).toEqual([`the plan's digits 3 is not 1 or 2: use 1 for 16 shards or 2 for 256`]);
        expect(checkPlan({ digits: 1 } as unknown as ShardPlan, ["a"])).toEqual([`the plan's shards is not a list of {shard, pair}`]);
        expect(checkPlan(null as unknown as ShardPlan, ["a"])).toEqual([`the plan null is not an object {digits, shards}`]);
        expect(checkPlan(good(), ["a", "b", "a"])).toEqual([`pair "a" is listed twice in the cluster's pairs`]);
    });

    test("several problems are all reported", () => {
        const plan = edit((s) => s.filter((x) => x.shard !== "0").map((x) => (x.shard === "1" ? { ...x, pair: "q" } : x)));
        expect(checkPlan(plan, ["a", "b"])).toHaveLength(2);
    });
});

describe("the config form (pairstore:shards)", () => {
    test("round trip through YAML, 16 and 256 shards", () => {
        for (const plan of [planShards(names(3), 1), growPlan(planShards(names(5), 2), "pair6")]) {
            const yaml = toYaml({ config: { "pairstore:shards": planToConfig(plan) } });
            const back = planFromConfig(parseYaml(yaml).config["pairstore:shards"]);
            expect(back).toEqual(plan);
        }
    });

    test("lists, commas and upper case are accepted; order does not matter", () => {
        const plan = planFromConfig({ b: ["1", "3", "5", "7", "9", "B", "D", "F"], a: "0,2, 4 6 8 a c e" });
        expect(plan).toEqual(planShards(["a", "b"], 1));
        expect(pairsOf(plan)).toEqual(["a", "b"]);
    });

    test("refused config names the key", () => {
        expect(problemsOf(() => planFromConfig(undefined))[0]).toMatch(/^pairstore:shards must map each pair name to its shards, for example/);
        expect(problemsOf(() => planFromConfig(["0"]))[0]).toMatch(/^pairstore:shards must map/);
        expect(problemsOf(() => planFromConfig({ a: 5 }))).toEqual([`pairstore:shards.a must be the pair's shards as a string like "0 2 4" or a list of strings`]);
        expect(problemsOf(() => planFromConfig({ a: "0 1 22" })))
            .toEqual(["pairstore:shards mixes or misshapes shard names (lengths 1, 2): use one hex digit each (16 shards) or two each (256 shards)"]);
        expect(problemsOf(() => planFromConfig({ a: "" }))[0]).toMatch(/^pairstore:shards lists no shards/);
        expect(problemsOf(() => planFromConfig({ a: "abc" }, "my:key"))[0]).toMatch(/^my:key mixes or misshapes/);
    });
});

describe("resolvePlan", () => {
    test("without a pinned plan: planShards", () => {
        expect(resolvePlan(undefined, ["a", "b"], 1)).toEqual({ plan: planShards(["a", "b"], 1), added: [], retired: [] });
    });

    test("a pinned plan with the same pairs is kept as is", () => {
        const pinned = growPlan(planShards(["a", "b"], 1), "c");
        expect(resolvePlan(pinned, ["c", "a", "b"], 1)).toEqual({ plan: pinned, added: [], retired: [] });
    });

    test("new pairs in config are grown in, one at a time, in config order", () => {
        const pinned = planShards(["a", "b"], 1);
        const { plan, added } = resolvePlan(pinned, ["a", "b", "c", "d"], 1);
        expect(added).toEqual(["c", "d"]);
        expect(plan).toEqual(growPlan(growPlan(pinned, "c"), "d"));
        expectGood(plan, ["a", "b", "c", "d"]);
    });

    test("a removed pair, other digits or a broken pinned plan are refused", () => {
        const pinned = planShards(["a", "b"], 1);
        expect(problemsOf(() => resolvePlan(pinned, ["a"], 1))).toEqual([
            `pairstore:shards gives shards to pair "b", which is not in the cluster's pairs: put it back and set retire: true on it, ` +
            `apply (its shards move to the other pairs with their files), pin the new plan, then remove it`,
        ]);
        expect(problemsOf(() => resolvePlan(pinned, ["a", "b"], 2))[0]).toMatch(/^pairstore:shards has 1-digit shards but the cluster uses 2/);
        const broken: ShardPlan = { digits: 1, shards: pinned.shards.slice(1) };
        expect(problemsOf(() => resolvePlan(broken, ["a", "b"], 1))).toEqual([`pairstore:shards: shard "0" is served by no pair: assign it to one of "a", "b"`]);
    });

    test("a retiring pair gives only its own shards away, balanced, and then serves none", () => {
        const pinned = growPlan(planShards(["a", "b"], 1), "c");
        const { plan, retired } = resolvePlan(pinned, ["a", "b", "c"], 1, ["c"]);
        expect(retired).toEqual(["c"]);
        expectGood(plan, ["a", "b"]);
        const moves = movedShards(pinned, plan);
        expect(moves.map((m) => m.shard)).toEqual(pinned.shards.filter((s) => s.pair === "c").map((s) => s.shard));
        expect(moves.every((m) => m.from === "c" && m.to !== "c")).toBe(true);
        // pinned afterwards, the retired pair keeps none and may leave the config
        expect(resolvePlan(plan, ["a", "b", "c"], 1, ["c"])).toEqual({ plan, added: [], retired: [] });
        expect(resolvePlan(plan, ["a", "b"], 1)).toEqual({ plan, added: [], retired: [] });
        expect(problemsOf(() => resolvePlan(pinned, ["c"], 1, ["c"]))).toEqual([
            "every pair retires: keep at least one pair without retire: true to serve the shards",
        ]);
    });

    test("grow then retire the same pair: every shard comes back to a pair that stays, 256 shards too", () => {
        for (const digits of [1, 2] as const) {
            const start = planShards(["a", "b"], digits);
            const grown = resolvePlan(start, ["a", "b", "c"], digits).plan;
            const shrunk = resolvePlan(grown, ["a", "b", "c"], digits, ["c"]).plan;
            expectGood(shrunk, ["a", "b"]);
            expect(movedShards(grown, shrunk)).toHaveLength(grown.shards.filter((s) => s.pair === "c").length);
        }
    });
});
