// The real program with pairstore:dns under mocks: one ShardDns per domain,
// its args exactly {domain, ttl, shards} as plain data, one child per domain
// named after it, the TSIG secret only ever in a secret stdin, and the plan
// as a stack output. Its own file: mocks are process-global.
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { renderZoneInclude } from "../../components/roles/dns/steps";
import { clusterConfig, pulumiConfigMap, SECRET_KEYS } from "./fixtures";
import { isSecret as isWireSecret, type Recorded as Registered, unwrapSecrets, withoutSecrets, startRecording } from "../engine/record";

const BIND_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixtureKeyDns1AAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const TSIG = "c2VjcmV0LXRzaWcta2V5LWZvci1wYWlyc3RvcmUtdGVzdHM=";

const raw = {
    ...clusterConfig(2),
    shards: { "pair-1": "0 1 2 3 4 5 6 7", "pair-2": "8 9 a b c d e f" },
    dns: {
        ttl: 900,
        rfc2136: { server: "10.77.0.20", keyName: "pairstore" },
        bind: { ssh: { host: "10.77.0.20", hostKey: BIND_KEY } },
        domains: { "example.org": { backend: "bind", ttl: 300 } },
    },
};

let records: Registered[];
let outputs: any;
beforeAll(async () => {
    const recording = startRecording({ ...pulumiConfigMap(raw), "pairstore:dnsTsigSecret": TSIG }, [...SECRET_KEYS, "pairstore:dnsTsigSecret"]);
    records = recording.records;
    const { program } = await import("../../components/program");
    outputs = await pulumi.runtime.runInPulumiStack(async () => program());
    await recording.settle();
});

const shardDns = () => records.filter((r) => r.type === "pairstore:index:ShardDns");
const one = (type: string, name: string) => {
    const r = records.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} ${name}`);
    return r;
};

describe("program() with pairstore:dns", () => {
    test("one ShardDns per domain, named after it, with exactly {domain, ttl, shards} as plain data", () => {
        expect(shardDns().map((r) => r.name)).toEqual(["example.com", "example.org"]);
        const com = one("pairstore:index:ShardDns", "example.com");
        expect(Object.keys(com.inputs).sort()).toEqual(["domain", "shards", "ttl"]);
        expect(com.inputs.domain).toBe("example.com");
        expect(com.inputs.ttl).toBe(900);
        expect(one("pairstore:index:ShardDns", "example.org").inputs.ttl).toBe(300);
        expect(com.inputs.shards.length).toBe(16);
        expect(com.inputs.shards[1]).toEqual({ shard: "1", pair: "pair-1", ips: ["198.51.100.11", "198.51.100.12"] });
        expect(com.inputs.shards[8]).toEqual({ shard: "8", pair: "pair-2", ips: ["198.51.100.13", "198.51.100.14"] });
        expect(JSON.stringify(com.inputs)).not.toContain(SIG());
    });

    test("rfc2136: one local command under its ShardDns; the TSIG key only in a secret stdin", () => {
        const c = one("command:local:Command", "example.com-rfc2136");
        expect(c.parent).toBe(one("pairstore:index:ShardDns", "example.com").urn);
        expect(c.inputs.create).toBe(c.inputs.update);
        expect(c.inputs.create).toMatch(/^bash -c '# pairstore converge-step prelude/);
        expect(c.inputs.create).toContain("SERVER=10.77.0.20");
        expect(c.inputs.create).toContain("1.image.example.com. 900 198.51.100.11 198.51.100.12");
        expect(c.inputs.delete).toContain("MODE=delete");
        expect(isWireSecret(c.inputs.stdin)).toBe(true);
        expect(unwrapSecrets(c.inputs.stdin)).toContain(`secret "${TSIG}";`);
        for (const r of records) expect(JSON.stringify(withoutSecrets(r.inputs)), `${r.type} ${r.name}`).not.toContain(TSIG);
        expect(JSON.stringify(outputs)).not.toContain(TSIG);
    });

    test("bind: one remote command under its ShardDns, pinned to the BIND host, the include text on stdin", () => {
        const c = one("command:remote:Command", "example.org-bind");
        expect(c.parent).toBe(one("pairstore:index:ShardDns", "example.org").urn);
        const conn = unwrapSecrets(c.inputs.connection);
        expect([conn.host, conn.port, conn.user, conn.hostKey]).toEqual(["10.77.0.20", 22, "root", BIND_KEY]);
        expect(c.inputs.stdin).toBe(renderZoneInclude(one("pairstore:index:ShardDns", "example.org").inputs));
        expect(c.inputs.stdin).toContain("f.image.example.org.\t300\tIN\tA\t198.51.100.14");
        expect(c.inputs.create).toContain("ZONE_FILE=/etc/bind/db.example.org");
    });

    test("records are published after the pairs serving them are provisioned", () => {
        // dependsOn a component waits for everything under it: the engine gets every step of both pairs.
        const health = ["node-1a", "node-1b", "node-2a", "node-2b"].map((n) => one("command:remote:Command", `${n}-health`).urn);
        for (const d of shardDns()) expect(d.dependencies).toEqual(expect.arrayContaining(health));
    });

    test("the stack outputs the plan in force, as pairstore:shards takes it, and each domain's DNS", () => {
        expect(outputs.shardPlan).toEqual({ "pair-1": "0 1 2 3 4 5 6 7", "pair-2": "8 9 a b c d e f" });
        expect(outputs.shardDigits).toBe(1);
        expect(outputs.dns).toEqual([
            { domain: "example.com", zone: "example.com", backend: "rfc2136", server: "10.77.0.20", ttl: 900, names: "<shard>.image.example.com" },
            { domain: "example.org", zone: "example.org", backend: "bind", server: "10.77.0.20", ttl: 300, names: "<shard>.image.example.org" },
        ]);
    });
});

/** The wire marker of a secret: component args must hold none. */
function SIG() {
    return "4dabf18193072939515e22adb298388d";
}
