// Rendering of shard DNS: record sets from a plan, the bind backend's zone
// include text, the records and key file of the rfc2136 backend, and the
// converge scripts (valid bash, the key never in their text).
import { spawnSync } from "child_process";
import { describe, expect, test } from "vitest";
import { parseClusterConfig } from "../../components/config";
import {
    bindIncludeScript, recordName, renderEmptyZoneInclude, renderRecordLines, renderTsigKeyFile, renderZoneInclude,
    rfc2136Script, shardRecords, type ShardDnsArgs,
} from "../../components/roles/dns/steps";
import { stepScript } from "../../components/step/step";
import { planShards } from "../../components/lib/shards";
import { baseConfig, baseFacts } from "./fixtures";

const raw = baseConfig();
const spec = parseClusterConfig(raw, baseFacts(raw));
const plan = planShards(spec.pairs.map((p) => p.name), 1);
const args: ShardDnsArgs = { domain: "example.org", ttl: 300, shards: shardRecords(plan, spec.pairs, "example.org") };
const bindSpec = {
    domain: "example.org", zone: "example.org", backend: "bind" as const, ttl: 300,
    zoneFile: "/etc/bind/db.example.org", includeFile: "/etc/bind/pairstore/example.org.shards",
};
const rfcSpec = { domain: "example.org", zone: "example.org", backend: "rfc2136" as const, ttl: 300 };
const server = { server: "10.77.0.20", port: 53, keyName: "pairstore", algorithm: "hmac-sha256" };
const SECRET = "c2VjcmV0LXRzaWcta2V5LWZvci1wYWlyc3RvcmUtdGVzdHM=";

const bashSyntaxOk = (script: string) => spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });

describe("shard records", () => {
    test("every shard gets its pair's two public IPs, alternating pairs as in the reference deployment", () => {
        expect(args.shards.length).toBe(16);
        expect(args.shards[0]).toEqual({ shard: "0", pair: "pair-1", ips: ["198.51.100.11", "198.51.100.12"] });
        expect(args.shards[1]).toEqual({ shard: "1", pair: "pair-2", ips: ["198.51.100.13", "198.51.100.14"] });
        expect(args.shards[15].pair).toBe("pair-2");
        expect(recordName("example.org", "a")).toBe("a.image.example.org.");
    });

    test("a plan naming a pair that is not configured is refused", () => {
        expect(() => shardRecords({ digits: 1, shards: [{ shard: "0", pair: "pair-9" }] }, spec.pairs, "example.org"))
            .toThrow("shard 0 of example.org is planned on pair pair-9, which is not in pairstore:pairs");
    });
});

describe("zone include (bind backend)", () => {
    const text = renderZoneInclude(args);

    test("holds two A records per shard with absolute names and the TTL, commented with the pair", () => {
        expect(text.split("\n").slice(0, 6).join("\n")).toBe([
            "; pairstore shard records of example.org: <shard>.image.example.org -> the two public IPs of the pair serving the shard.",
            "; Written by pairstore (ShardDns example.org); changes made here are overwritten.",
            "; shard 0: pair-1",
            "0.image.example.org.\t300\tIN\tA\t198.51.100.11",
            "0.image.example.org.\t300\tIN\tA\t198.51.100.12",
            "; shard 1: pair-2",
        ].join("\n"));
        expect(text.split("\n").filter((l) => /\tIN\tA\t/.test(l)).length).toBe(32);
        expect(text.endsWith("\n")).toBe(true);
    });

    test("a changed plan changes only the moved shard's lines", () => {
        const moved: ShardDnsArgs = { ...args, shards: args.shards.map((s) => (s.shard === "3" ? { ...s, pair: "pair-1", ips: ["198.51.100.11", "198.51.100.12"] } : s)) };
        const before = text.split("\n");
        const after = renderZoneInclude(moved).split("\n");
        const diff = after.filter((l, i) => l !== before[i]);
        expect(diff).toEqual(["; shard 3: pair-1", "3.image.example.org.\t300\tIN\tA\t198.51.100.11", "3.image.example.org.\t300\tIN\tA\t198.51.100.12"]);
    });

    test("the empty include has no records", () => {
        expect(renderEmptyZoneInclude("example.org")).toMatch(/^; pairstore: no shard records of example.org/);
        expect(renderEmptyZoneInclude("example.org").split("\n").filter((l) => l && !l.startsWith(";"))).toEqual([]);
    });

    test("its script checks the zone with named-checkzone, bumps the serial and reloads the zone; delete keeps the zone loading", () => {
        const apply = bindIncludeScript(args, bindSpec, "apply");
        expect(apply).toContain("ZONE=example.org\nZONE_FILE=/etc/bind/db.example.org\nINCLUDE=/etc/bind/pairstore/example.org.shards\n");
        expect(apply).toMatch(/named-checkzone "\$ZONE" "\$_tmp\/zone.check"/);
        expect(apply).toContain('rndc reload "$ZONE"');
        expect(apply).toContain("MODE=apply");
        const del = bindIncludeScript(args, bindSpec, "delete");
        expect(del).toContain("MODE=delete");
        expect(del).toContain("; pairstore: no shard records of example.org");
        for (const s of [apply, del]) expect(bashSyntaxOk(stepScript("dns-example.org", s, { check: false })).status).toBe(0);
    });
});

describe("nsupdate (rfc2136 backend)", () => {
    test("records: one line per shard, name, TTL and the two IPs sorted", () => {
        const lines = renderRecordLines(args).split("\n");
        expect(lines.length).toBe(16);
        expect(lines[0]).toBe("0.image.example.org. 300 198.51.100.11 198.51.100.12");
        expect(lines[15]).toBe("f.image.example.org. 300 198.51.100.13 198.51.100.14");
    });

    test("the key file is BIND syntax, and a malformed secret is refused without echoing it", () => {
        expect(renderTsigKeyFile("pairstore", "hmac-sha256", SECRET)).toBe(`key "pairstore" {\n    algorithm hmac-sha256;\n    secret "${SECRET}";\n};\n`);
        let message = "";
        try {
            renderTsigKeyFile("pairstore", "hmac-sha256", 'abc"; };');
        } catch (e) {
            message = (e as Error).message;
        }
        expect(message).toContain("pairstore:dnsTsigSecret is not a base64 TSIG secret");
        expect(message).not.toContain("abc");
    });

    test("the script carries server, zone, key name and records, never the key; delete removes only what it published", () => {
        const apply = rfc2136Script(args, rfcSpec, server, "apply");
        expect(apply).toContain("SERVER=10.77.0.20\nPORT=53\nZONE=example.org\nDOMAIN=example.org\nKEY_NAME=pairstore\nALGORITHM=hmac-sha256\nMODE=apply\n");
        expect(apply).toContain(`<<'RECORDS'\n${renderRecordLines(args)}\nRECORDS\n`);
        expect(apply).toContain('nsupdate -v -t 15 -k "$keyfile"');
        expect(apply).toContain("prereq yxdomain");
        expect(apply).not.toContain(SECRET);
        expect(apply).toMatch(/BADSIG means a wrong secret, BADKEY an unknown key name or algorithm/);
        const del = rfc2136Script(args, rfcSpec, server, "delete");
        expect(del).toContain("MODE=delete");
        for (const s of [apply, del]) expect(bashSyntaxOk(stepScript("dns-example.org", s, { check: false })).status).toBe(0);
    });
});
