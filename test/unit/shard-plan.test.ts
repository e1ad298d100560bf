// The shard-plan step (files/moves/shard-plan.sh), run in bash against a
// sandbox: every node keeps the plan it applied and refuses, changing
// nothing, a plan in which a shard changes pair without its files; a move
// (a pair added or retired with the plan pinned) or pairstore:shardsCopiedByHand
// lets it. Rendered from real stack configs, as the program renders it.
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { parseClusterConfig, type ClusterSpec, type RawConfig } from "../../components/config";
import { growPlan, planShards, planToConfig } from "../../components/lib/shards";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import { pairRouting, shardPlanSteps } from "../../components/roles/moves/steps";
import type { ScriptStep } from "../../components/step/step";
import { baseFacts, clusterConfig, FAKE_HEARTBEAT_AUTH_KEY, problemsOf } from "./fixtures";
import { run, sandbox, useSandbox } from "./step-sandbox";

function spec(pairs: number, values: RawConfig = {}): ClusterSpec {
    const raw = { ...clusterConfig(pairs), ...values };
    return parseClusterConfig(raw, baseFacts(raw));
}

/** The shard-plan step of `pair`'s nodes (both get the same). */
function planStep(s: ClusterSpec, pair = "pair-1"): ScriptStep {
    const [step] = shardPlanSteps(pairRouting(s.shards, s.pairs, pair));
    return step;
}

/** Applies the step of `s` on the sandbox node. */
function apply(s: ClusterSpec, pair = "pair-1") {
    const step = planStep(s, pair);
    return run(step.name, step.script, { stdin: step.stdin as string });
}

const kept = () => readFileSync(path.join(sandbox, "state", "shard-plan"), "utf8");
const two = planShards(["pair-1", "pair-2"], 1);
const three = growPlan(two, "pair-3");

describe("shard-plan step", () => {
    useSandbox();

    test("is every node's first step, and keeps the plan in force: changed once, then ok", () => {
        const s = spec(2, { shards: planToConfig(two) });
        const { pairs, ...settings } = s;
        const first = nodeSteps(settings as NodeSettings, pairs[1].nodes[1], pairs[1].nodes[0],
            { secureLinkSecret: "unit-test-secure-link-secret-0123456789", heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY },
            { owner: pairs[1].nodes[0].name, runId: "unit-run", routing: pairRouting(s.shards, s.pairs, "pair-2") })[0];
        expect(first.name).toBe("shard-plan");
        expect(first.phase).toBe("prepare");

        const r = apply(s);
        expect(r.code, r.stderr).toBe(0);
        expect(r.last).toBe("changed");
        expect(kept()).toBe(two.shards.map((x) => `${x.shard} ${x.pair}\n`).join(""));
        expect(apply(s).last).toBe("ok");
    });

    test("a grow with the plan pinned moves shards: accepted on every pair's nodes", () => {
        expect(apply(spec(2, { shards: planToConfig(two) })).code).toBe(0);
        const growing = spec(3, { shards: planToConfig(two) });
        expect(growing.shards.moves.length).toBe(5);
        for (const pair of ["pair-1", "pair-2"]) {
            const r = apply(growing, pair);
            expect(r.code, r.stderr).toBe(0);
        }
        expect(kept()).toBe(three.shards.map((x) => `${x.shard} ${x.pair}\n`).join(""));
    });

    test("removing a pair before its plan was pinned is refused, naming its shards, the plan to pin and the key, and changes nothing", () => {
        expect(apply(spec(3, { shards: planToConfig(two) })).code).toBe(0); // grown: pair-3 serves 5 shards, plan not pinned
        const before = kept();
        const r = apply(spec(2, { shards: planToConfig(two) }));
        expect(r.code).toBe(1);
        const taken = three.shards.filter((x) => x.pair === "pair-3");
        for (const x of taken) {
            const back = two.shards.find((y) => y.shard === x.shard)!.pair;
            expect(r.stderr).toContain(`${x.shard} (pair-3 -> ${back})`);
        }
        expect(r.stderr).toContain(`pulumi config set pairstore:shards '${JSON.stringify(planToConfig(three))}'`);
        expect(r.stderr).toContain(`pulumi config set pairstore:shardsCopiedByHand '${taken.map((x) => x.shard).sort().join(" ")}'`);
        expect(r.stdout).not.toMatch(/changed/);
        expect(kept()).toBe(before);
    });

    test("growing without a pinned plan is refused: the alternating plan would move shards without their files", () => {
        expect(apply(spec(2)).code).toBe(0);
        const r = apply(spec(3));
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/refused: shards would change pair without their files: 2 \(pair-1 -> pair-3\)/);
    });

    test("retiring a pair with the plan pinned moves its shards back: accepted", () => {
        expect(apply(spec(3, { shards: planToConfig(three) })).code).toBe(0);
        const raw: RawConfig = { ...clusterConfig(3), shards: planToConfig(three) };
        (raw.pairs as { retire?: boolean }[])[2].retire = true;
        const r = apply(parseClusterConfig(raw, baseFacts(raw)));
        expect(r.code, r.stderr).toBe(0);
        expect(kept()).not.toMatch(/pair-3/);
    });

    test("a plan edited by hand is refused unless pairstore:shardsCopiedByHand names exactly the shards that change", () => {
        expect(apply(spec(2, { shards: planToConfig(two) })).code).toBe(0);
        const swapped = { "pair-1": "0 2 3 6 8 a c e", "pair-2": "1 4 5 7 9 b d f" };
        const refused = apply(spec(2, { shards: swapped }));
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain("3 (pair-2 -> pair-1), 4 (pair-1 -> pair-2)");
        expect(apply(spec(2, { shards: swapped, shardsCopiedByHand: "3" })).code).toBe(1);
        const r = apply(spec(2, { shards: swapped, shardsCopiedByHand: "3 4" }));
        expect(r.code, r.stderr).toBe(0);
        expect(kept()).toContain("3 pair-1\n");
    });

    test("another shardDigits: a two-digit shard may stay with the pair of the one-digit shard it splits from", () => {
        expect(apply(spec(2, { shards: planToConfig(two) })).code).toBe(0);
        const split = planShards(["pair-1", "pair-2"], 2);
        const same = { digits: 2 as const, shards: split.shards.map((x) => ({ shard: x.shard, pair: two.shards.find((y) => y.shard === x.shard[0])!.pair })) };
        expect(apply(spec(2, { shardDigits: 2, shards: planToConfig(same) })).code).toBe(0);
        expect(kept()).toContain("6a pair-1\n");
        const moved = { ...same, shards: same.shards.map((x) => x.shard === "6a" ? { ...x, pair: "pair-2" } : x) };
        const r = apply(spec(2, { shardDigits: 2, shards: planToConfig(moved) }));
        expect(r.code).toBe(1);
        expect(r.stderr).toContain("6a (pair-1 -> pair-2)");
    });

    test("its delete removes the kept plan (a host reused in another cluster starts clean)", () => {
        const s = spec(2, { shards: planToConfig(two) });
        const step = planStep(s);
        apply(s);
        const r = run(step.name, step.deleteScript!, { delete: true });
        expect(r.code, r.stderr).toBe(0);
        expect(existsSync(path.join(sandbox, "state", "shard-plan"))).toBe(false);
    });

    test("pairstore:shardsCopiedByHand takes shards only, naming the key", () => {
        expect(problemsOf({ ...clusterConfig(2), shardsCopiedByHand: "6 g" }))
            .toEqual([expect.stringContaining(`pairstore:shardsCopiedByHand names "g", which is not a shard`)]);
        expect(problemsOf({ ...clusterConfig(2), shardsCopiedByHand: 6 })).toEqual([expect.stringContaining("pairstore:shardsCopiedByHand must list shards")]);
        expect(spec(2, { shardsCopiedByHand: ["e", "6", "6"] }).shards.copiedByHand).toEqual(["6", "e"]);
    });
});
