// The servers-only-in-pairs policy (policies/rules/servers-only-in-pairs.ts):
// every StorageNode under a NodePair, two per pair; lone nodes, pairs of one
// or three, and empty pairs fail.
import { beforeAll, describe, expect, it } from "vitest";
import type { Recorded as Registered } from "../engine/record";
import { copyNode, find, NODE, PAIR, remove } from "./fixtures";
import { messagesOf, runPolicies } from "./policy-args";
import { validStack } from "./stack";

let stack: Registered[];
beforeAll(async () => {
    stack = await validStack();
});

const run = async (rs: Registered[]) => messagesOf(await runPolicies(rs), "servers-only-in-pairs");

describe("servers-only-in-pairs", () => {
    it("passes a stack of two pairs", async () => {
        expect(await run(stack)).toEqual([]);
    });

    it("fails a pair with one node, naming the pair and the lone node", async () => {
        const rs = remove(stack, find(stack, NODE, "b1"));
        expect(await run(rs)).toEqual([expect.stringMatching(/^NodePair p1 has one node: node a1 stands alone with no peer/)]);
    });

    it("fails a node outside any pair", async () => {
        const root = stack.find((r) => r.type === "pulumi:pulumi:Stack")!;
        const rs = [...stack, ...copyNode(stack, find(stack, NODE, "a1"), "e1", root.urn)];
        const msgs = await run(rs);
        expect(msgs).toEqual([expect.stringMatching(/^StorageNode e1 stands alone: it is not one of the two nodes of a NodePair \(its parent is pulumi:pulumi:Stack/)]);
    });

    it("fails a node without a parent", async () => {
        const rs = [...stack, ...copyNode(stack, find(stack, NODE, "a1"), "e1", "")];
        expect(await run(rs)).toEqual([expect.stringContaining("StorageNode e1 stands alone")]);
        expect((await run(rs))[0]).toContain("it has no parent");
    });

    it("fails a pair of three, naming the pair and its nodes", async () => {
        const p1 = find(stack, PAIR, "p1");
        const rs = [...stack, ...copyNode(stack, find(stack, NODE, "b1"), "x1", p1.urn)];
        expect(await run(rs)).toEqual(["NodePair p1 has 3 nodes (a1, b1 and x1); a pair has exactly two. Move the extra nodes into a pair of their own."]);
    });

    it("fails a pair without nodes", async () => {
        const rs = remove(remove(stack, find(stack, NODE, "c1")), find(stack, NODE, "d1"));
        expect(await run(rs)).toEqual([expect.stringMatching(/^NodePair p2 has no StorageNode/)]);
    });
});
