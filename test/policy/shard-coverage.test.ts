// The shard-coverage policy (policies/rules/shard-coverage.ts): every shard of
// every domain served by exactly one pair with its two public IPs, on the real
// program's ShardDns and on hand-made ones (16 and 256 shards).
import { beforeAll, describe, expect, it } from "vitest";
import type { Recorded as Registered } from "../engine/record";
import { clone, shardDnsRecord, spread } from "./fixtures";
import { messagesOf, runPolicies } from "./policy-args";
import { dnsStack, validStack } from "./stack";

const SHARD_DNS = "pairstore:index:ShardDns";

let stack: Registered[];
let withDns: Registered[];
beforeAll(async () => {
    stack = await validStack();
    withDns = await dnsStack();
});

const IPS = { p1: ["203.0.113.11", "203.0.113.12"], p2: ["203.0.113.21", "203.0.113.22"] };
const run = async (rs: Registered[], config = {}) => messagesOf(await runPolicies(rs, { config }), "shard-coverage");

describe("shard-coverage", () => {
    it("passes a stack without pairstore:dns, which registers no ShardDns", async () => {
        expect(stack.some((r) => r.type === SHARD_DNS)).toBe(false);
        expect(await run(stack)).toEqual([]);
    });

    it("passes the ShardDns the real program registers", async () => {
        const dns = withDns.filter((r) => r.type === SHARD_DNS);
        expect(dns.map((r) => r.name)).toEqual(["example.com"]);
        expect(Object.keys(dns[0].inputs).sort()).toEqual(["domain", "shards", "ttl"]);
        expect(dns[0].inputs.shards.length).toBe(16);
        expect(dns[0].inputs.shards[0]).toEqual({ shard: "0", pair: "p1", ips: IPS.p1 });
        expect(await run(withDns)).toEqual([]);
    });

    it("fails the real program's ShardDns once a shard is dropped or points at the wrong pair's IPs", async () => {
        const broken = clone(withDns);
        const dns = broken.find((r) => r.type === SHARD_DNS)!;
        dns.inputs.shards = dns.inputs.shards.filter((s: any) => s.shard !== "e");
        dns.inputs.shards.find((s: any) => s.shard === "1").ips = IPS.p1;
        expect(await run(broken)).toEqual([
            "shard 1 of example.com (pair p2) has record set [203.0.113.11, 203.0.113.12], but pair p2's public IPs are [203.0.113.21, 203.0.113.22]; the record set holds exactly the pair's two public IPs.",
            "shard e of example.com is served by no pair; assign it to exactly one pair.",
        ]);
    });

    it("passes 16 shards, each served by one pair with its two public IPs", async () => {
        expect(await run([...stack, shardDnsRecord("example.com", spread(["p1", "p2"], 1), IPS)])).toEqual([]);
    });

    it("passes 256 two-digit shards", async () => {
        expect(await run([...stack, shardDnsRecord("example.com", spread(["p1", "p2"], 2), IPS)])).toEqual([]);
        expect(await run([...stack, shardDnsRecord("example.com", spread(["p1", "p2"], 2), IPS)], { "shard-coverage": { shardDigits: 2 } })).toEqual([]);
    });

    it("fails a shard nobody serves", async () => {
        const assign = spread(["p1", "p2"], 1);
        delete assign["7"];
        expect(await run([...stack, shardDnsRecord("example.com", assign, IPS)]))
            .toEqual(["shard 7 of example.com is served by no pair; assign it to exactly one pair."]);
    });

    it("fails a shard served by two pairs", async () => {
        const dns = shardDnsRecord("example.com", spread(["p1", "p2"], 1), IPS);
        dns.inputs.shards.push({ shard: "3", pair: "p1", ips: IPS.p1 }); // "3" is p2's
        expect(await run([...stack, dns])).toEqual(["shard 3 of example.com is served by 2 pairs (p2 and p1); a shard is served by exactly one pair."]);
    });

    it("fails a shard served by two pairs across two ShardDns resources of one domain", async () => {
        const a = shardDnsRecord("example.com", spread(["p1"], 1), IPS, "a");
        const b = shardDnsRecord("example.com", { f: "p2" }, IPS, "b");
        expect(await run([...stack, a, b])).toEqual(["shard f of example.com is served by 2 pairs (p1 and p2); a shard is served by exactly one pair."]);
    });

    it("fails a record set that does not hold the pair's two public IPs", async () => {
        const dns = shardDnsRecord("example.com", spread(["p1", "p2"], 1), IPS);
        dns.inputs.shards.find((s: any) => s.shard === "a").ips = ["203.0.113.11", "203.0.113.21"];
        dns.inputs.shards.find((s: any) => s.shard === "b").ips = ["203.0.113.21"];
        expect(await run([...stack, dns])).toEqual([
            "shard a of example.com (pair p1) has record set [203.0.113.11, 203.0.113.21], but pair p1's public IPs are [203.0.113.11, 203.0.113.12]; the record set holds exactly the pair's two public IPs.",
            "shard b of example.com (pair p2) has record set [203.0.113.21], but pair p2's public IPs are [203.0.113.21, 203.0.113.22]; the record set holds exactly the pair's two public IPs.",
        ]);
    });

    it("fails a shard served by a pair the stack does not have, and a bad shard name", async () => {
        const dns = shardDnsRecord("example.com", spread(["p1", "p2"], 1), IPS);
        dns.inputs.shards.find((s: any) => s.shard === "0").pair = "p9";
        dns.inputs.shards.push({ shard: "g", pair: "p1", ips: IPS.p1 });
        expect(await run([...stack, dns])).toEqual([
            "shard 0 of example.com is served by pair p9, which is not a NodePair of this stack.",
            'shard "g" of example.com is not a 1-hex-digit shard name (0..f).',
        ]);
    });

    it("fails a served domain without ShardDns once DNS exists", async () => {
        expect(await run([...stack, shardDnsRecord("other.org", spread(["p1", "p2"], 1), IPS)]))
            .toEqual(["domain example.com has no ShardDns: none of its shards is served by any pair."]);
    });

    it("checks the shard width the config asks for", async () => {
        expect(await run([...stack, shardDnsRecord("example.com", spread(["p1", "p2"], 1), IPS)], { "shard-coverage": { shardDigits: 2 } }))
            .toContainEqual("shard 00 of example.com is served by no pair; assign it to exactly one pair.");
    });
});
