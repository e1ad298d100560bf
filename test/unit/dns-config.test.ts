// The shard plan and DNS keys of parseClusterConfig: pairstore:shardDigits,
// pairstore:shards, pairstore:dns, pairstore:dnsTsigSecret. Every bad input
// names its key and the fix.
import { describe, expect, test } from "vitest";
import { parseClusterConfig, type ConfigFacts, type RawConfig } from "../../components/config";
import { DNS_DEFAULTS } from "../../components/roles/dns/config";
import { movedShards } from "../../components/lib/shards";
import { baseConfig, baseFacts, clusterConfig, problemsOf } from "./fixtures";

const BIND_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyDns1AAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** A valid config with DNS: rfc2136 by default, example.org on the bind backend. */
function dnsConfig(): RawConfig {
    return {
        ...baseConfig(),
        dns: {
            ttl: 600,
            rfc2136: { server: "10.77.0.20", keyName: "pairstore" },
            bind: { ssh: { host: "10.77.0.20", hostKey: BIND_KEY } },
            domains: { "example.org": { backend: "bind" } },
        },
    };
}

function dnsFacts(raw: RawConfig): ConfigFacts {
    const f = baseFacts(raw);
    return { presentKeys: [...f.presentKeys, "dnsTsigSecret"], secretKeys: [...f.secretKeys, "dnsTsigSecret"] };
}

/** problemsOf with this file's facts (the TSIG secret set). */
const dnsProblems = (raw: RawConfig, facts: ConfigFacts = dnsFacts(raw)) => problemsOf(raw, facts);

type Any = any;
interface Row {
    what: string;
    mutate: (c: Any, facts: ConfigFacts) => void;
    key: string;
    fix: string[];
}

const rows: Row[] = [
    { what: "a shard digit count other than 1 or 2", mutate: (c) => { c.shardDigits = 3; }, key: "pairstore:shardDigits 3", fix: ["1 (16 shards 0..f) or 2 (256 shards 00..ff)"] },
    { what: "a pinned plan that is not a map", mutate: (c) => { c.shards = ["0", "1"]; }, key: "pairstore:shards must map each pair name to its shards", fix: ["for example"] },
    { what: "a pinned plan that is not JSON text", mutate: (c) => { c.shards = "pair-1: 0 2"; }, key: "pairstore:shards is not valid JSON", fix: ["map each pair name to its shards"] },
    { what: "a pinned plan missing a shard", mutate: (c) => { c.shards = { "pair-1": "0 2 4 6 8 a c e", "pair-2": "1 3 5 7 9 b d" }; }, key: 'pairstore:shards: shard "f" is served by no pair', fix: ['assign it to one of "pair-1", "pair-2"'] },
    { what: "a pinned plan giving shards to a pair no longer in config", mutate: (c) => { c.shards = { "pair-1": "0 2 4 6 8 a c e", "pair-9": "1 3 5 7 9 b d f" }; }, key: 'gives shards to pair "pair-9"', fix: ["set retire: true on it", "pin the new plan, then remove it"] },
    { what: "a pinned plan of other digits than shardDigits", mutate: (c) => { c.shardDigits = 2; c.shards = { "pair-1": "0 2 4 6 8 a c e", "pair-2": "1 3 5 7 9 b d f" }; }, key: "pairstore:shards has 1-digit shards but the cluster uses 2", fix: ["write a new plan by hand"] },
    { what: "dns that is not an object", mutate: (c) => { c.dns = "rfc2136"; }, key: "pairstore:dns must be an object", fix: [] },
    { what: "an unknown dns field", mutate: (c) => { c.dns.server = "10.0.0.1"; }, key: "pairstore:dns.server is not a known field", fix: ["ttl, backend, rfc2136, bind, domains"] },
    { what: "a TTL of 0", mutate: (c) => { c.dns.ttl = 0; }, key: "pairstore:dns.ttl 0", fix: ["between 1 and 604800", "lower it to 300 before moving a shard"] },
    { what: "a per-domain TTL above a week", mutate: (c) => { c.dns.domains["example.org"].ttl = 999999; }, key: "pairstore:dns.domains.example.org.ttl 999999", fix: ["between 1 and 604800"] },
    { what: "an unknown backend", mutate: (c) => { c.dns.backend = "route53"; }, key: 'pairstore:dns.backend "route53" is not a DNS backend', fix: ["use rfc2136", "or bind"] },
    { what: "dns settings of a domain that is not served", mutate: (c) => { c.dns.domains["example.net"] = { ttl: 60 }; }, key: "pairstore:dns.domains.example.net is not one of pairstore:domains", fix: ["fix the name or add the domain to pairstore:domains"] },
    { what: "a zone that does not hold the shard names", mutate: (c) => { c.dns.domains["example.org"].zone = "example.net"; }, key: 'pairstore:dns.domains.example.org.zone "example.net" does not contain the shard names *.image.example.org', fix: ["use example.org, a parent zone of it, or image.example.org"] },
    { what: "a zone file on a domain of the rfc2136 backend", mutate: (c) => { c.dns.domains["example.com"] = { zoneFile: "/etc/bind/db.example.com" }; }, key: "pairstore:dns.domains.example.com.zoneFile is only used by the bind backend", fix: ["set pairstore:dns.domains.example.com.backend to bind"] },
    { what: "a relative zone file", mutate: (c) => { c.dns.domains["example.org"].zoneFile = "db.example.org"; }, key: 'pairstore:dns.domains.example.org.zoneFile "db.example.org" must be the absolute path', fix: ["for example /etc/bind/db.example.org"] },
    { what: "rfc2136 settings missing", mutate: (c) => { delete c.dns.rfc2136; }, key: "pairstore:dns.rfc2136 is missing", fix: ["give the primary DNS server and the TSIG key name"] },
    { what: "an rfc2136 server that is not an address", mutate: (c) => { c.dns.rfc2136.server = "10.0.0.300"; }, key: 'pairstore:dns.rfc2136.server "10.0.0.300"', fix: ["IPv4 address or host name"] },
    { what: "an rfc2136 server missing", mutate: (c) => { delete c.dns.rfc2136.server; }, key: "pairstore:dns.rfc2136.server is missing", fix: [] },
    { what: "a bad DNS port", mutate: (c) => { c.dns.rfc2136.port = 70000; }, key: "pairstore:dns.rfc2136.port 70000 is not a TCP port", fix: [] },
    { what: "a bad TSIG key name", mutate: (c) => { c.dns.rfc2136.keyName = "pair store"; }, key: 'pairstore:dns.rfc2136.keyName "pair store" is not a TSIG key name', fix: [] },
    { what: "an unknown TSIG algorithm", mutate: (c) => { c.dns.rfc2136.algorithm = "hmac-sha3"; }, key: 'pairstore:dns.rfc2136.algorithm "hmac-sha3" is not a TSIG algorithm', fix: ["hmac-sha256", "the one the server's key uses"] },
    {
        what: "the TSIG secret missing", key: "pairstore:dnsTsigSecret is missing", fix: ["pulumi config set --secret pairstore:dnsTsigSecret", "tsig-keygen"],
        mutate: (_c, f) => { f.presentKeys = f.presentKeys.filter((k) => k !== "dnsTsigSecret"); f.secretKeys = f.secretKeys.filter((k) => k !== "dnsTsigSecret"); },
    },
    { what: "the TSIG secret in plain text", mutate: (_c, f) => { f.secretKeys = f.secretKeys.filter((k) => k !== "dnsTsigSecret"); }, key: "pairstore:dnsTsigSecret is stored in plain text", fix: ["pulumi config set --secret pairstore:dnsTsigSecret"] },
    { what: "a TSIG secret without dns", mutate: (c) => { delete c.dns; }, key: "pairstore:dnsTsigSecret is set but pairstore:dns is not", fix: ["pulumi config rm pairstore:dnsTsigSecret"] },
    { what: "bind settings missing", mutate: (c) => { delete c.dns.bind; }, key: "pairstore:dns.bind is missing", fix: ["give the BIND host's SSH connection"] },
    { what: "an unpinned BIND host key", mutate: (c) => { delete c.dns.bind.ssh.hostKey; }, key: "pairstore:dns.bind.ssh.hostKey is missing", fix: ["ssh-keyscan -t ed25519 10.77.0.20", "pairstore:allowUnpinnedHostKeys true"] },
    { what: "a malformed BIND host key", mutate: (c) => { c.dns.bind.ssh.hostKey = "AAAAC3Nza"; }, key: "pairstore:dns.bind.ssh.hostKey must look like", fix: [] },
    { what: "a BIND host that is not an address", mutate: (c) => { c.dns.bind.ssh.host = "bad host"; }, key: 'pairstore:dns.bind.ssh.host "bad host"', fix: ["IPv4 address or a host name"] },
    { what: "a relative include directory", mutate: (c) => { c.dns.bind.includeDir = "pairstore"; }, key: 'pairstore:dns.bind.includeDir "pairstore" must be an absolute directory', fix: ["/etc/bind/pairstore"] },
    { what: "an unknown BIND field", mutate: (c) => { c.dns.bind.rndcKey = "x"; }, key: "pairstore:dns.bind.rndcKey is not a known field", fix: ["ssh, server, includeDir"] },
    {
        what: "two zones in one zone file", key: "zoneFile /etc/bind/db.shared is also the zone file of zone example.com", fix: ["give each zone its own file"],
        mutate: (c) => { c.dns.domains["example.com"] = { backend: "bind", zoneFile: "/etc/bind/db.shared" }; c.dns.domains["example.org"].zoneFile = "/etc/bind/db.shared"; },
    },
];

describe("DNS and shard plan config: bad input names the key and the fix", () => {
    test("the DNS fixture is valid", () => {
        expect(dnsProblems(dnsConfig())).toEqual([]);
    });

    test.each(rows)("$what", ({ mutate, key, fix }) => {
        const raw = dnsConfig();
        const facts = dnsFacts(raw);
        mutate(raw, facts);
        const problems = dnsProblems(raw, facts);
        const hit = problems.find((p) => p.includes(key));
        expect(hit, `no problem contains ${JSON.stringify(key)}; got:\n${problems.join("\n")}`).toBeDefined();
        for (const f of fix) expect(hit).toContain(f);
    });
});

describe("a valid DNS config", () => {
    test("gets defaults: the domain is its zone, the rfc2136 port and algorithm, the bind files", () => {
        const raw = dnsConfig();
        const spec = parseClusterConfig(raw, dnsFacts(raw));
        expect(spec.dns!.rfc2136).toEqual({ server: "10.77.0.20", port: 53, keyName: "pairstore", algorithm: DNS_DEFAULTS.algorithm });
        expect(spec.dns!.bind).toEqual({ ssh: { host: "10.77.0.20", port: 22, user: "root", hostKey: BIND_KEY }, server: "10.77.0.20", includeDir: "/etc/bind/pairstore" });
        expect(spec.dns!.domains).toEqual([
            { domain: "example.com", zone: "example.com", backend: "rfc2136", ttl: 600 },
            { domain: "example.org", zone: "example.org", backend: "bind", ttl: 600, zoneFile: "/etc/bind/db.example.org", includeFile: "/etc/bind/pairstore/example.org.shards" },
        ]);
    });

    test("backend settings no domain uses are kept (and checked), so a domain can switch back", () => {
        const raw = dnsConfig();
        (raw.dns as Any).backend = "bind";
        delete (raw.dns as Any).domains;
        const spec = parseClusterConfig(raw, dnsFacts(raw));
        expect(spec.dns!.domains.every((d) => d.backend === "bind")).toBe(true);
        expect(spec.dns!.rfc2136!.server).toBe("10.77.0.20");
        (raw.dns as Any).rfc2136.algorithm = "md5";
        expect(dnsProblems(raw)).toEqual([expect.stringContaining('pairstore:dns.rfc2136.algorithm "md5" is not a TSIG algorithm')]);
    });

    test("without pairstore:dns there is no DNS, and the plan alternates the two pairs", () => {
        const raw = baseConfig();
        const spec = parseClusterConfig(raw, baseFacts(raw));
        expect(spec.dns).toBeUndefined();
        expect(spec.shards.digits).toBe(1);
        expect(spec.shards.pinned).toBe(false);
        expect(spec.shards.plan.shards.map((s) => s.pair)).toEqual(Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? "pair-1" : "pair-2")));
    });

    test("a pinned plan is kept, and a new pair grows it by the fewest moves", () => {
        const raw = { ...baseConfig(), shards: { "pair-1": "0 1 2 3 4 5 6 7", "pair-2": "8 9 a b c d e f" } };
        const spec = parseClusterConfig(raw, baseFacts(raw));
        expect(spec.shards.pinned).toBe(true);
        expect(spec.shards.added).toEqual([]);
        expect(spec.shards.plan.shards.find((s) => s.shard === "1")!.pair).toBe("pair-1");

        const grown = { ...clusterConfig(3), shards: raw.shards };
        const next = parseClusterConfig(grown, baseFacts(grown)).shards;
        expect(next.added).toEqual(["pair-3"]);
        const moved = movedShards(spec.shards.plan, next.plan);
        expect(moved.length).toBe(5);
        expect(moved.every((m) => m.to === "pair-3")).toBe(true);
    });

    test("the pinned plan is accepted as JSON text, as `pulumi config set` stores it", () => {
        const raw = { ...baseConfig(), shards: JSON.stringify({ "pair-1": "0 2 4 6 8 a c e", "pair-2": "1 3 5 7 9 b d f" }) };
        expect(parseClusterConfig(raw, baseFacts(raw)).shards.pinned).toBe(true);
    });

    test("256 shards with shardDigits 2", () => {
        const raw = { ...baseConfig(), shardDigits: "2" };
        const spec = parseClusterConfig(raw, baseFacts(raw));
        expect(spec.shards.plan.shards.length).toBe(256);
        expect(spec.shards.plan.shards[255]).toEqual({ shard: "ff", pair: "pair-2" });
    });

    test.each([
        { pairs: 17, digits: 1, fix: "set pairstore:shardDigits to 2 (256 shards 00..ff)" },
        { pairs: 257, digits: 2, fix: "use at most 256 pairs" },
    ])("$pairs pairs for shardDigits $digits: one problem naming the keys and the fix", ({ pairs, digits, fix }) => {
        const raw = { ...clusterConfig(pairs), shardDigits: digits };
        expect(problemsOf(raw)).toEqual([`pairstore:pairs has ${pairs} pairs but pairstore:shardDigits ${digits} gives ${16 ** digits} shards, and every pair needs one: ${fix}`]);
    });

    test("a zone may be a parent of the domain, or image.<domain> itself; names are case-folded", () => {
        const raw = dnsConfig();
        (raw.dns as Any).domains = { "Example.org": { backend: "bind", zone: "image.example.org." }, "example.com": { zone: "com" } };
        const spec = parseClusterConfig(raw, dnsFacts(raw));
        expect(spec.dns!.domains.map((d) => d.zone)).toEqual(["com", "image.example.org"]);
        expect(spec.dns!.domains[1].zoneFile).toBe("/etc/bind/db.image.example.org");
    });
});
