// parseClusterConfig: every bad input is refused with a message that names
// the key path and the fix; a valid config gets the documented defaults.
// Over 400 lines because of its table: one row per refused input (lines 1-307).
import { readFileSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { parse as parseYaml } from "yaml";
import {
    ConfigError, DEFAULTS, parseClusterConfig, type ConfigFacts, type RawConfig,
} from "../../components/config";
import { DEFAULT_SYSCTL } from "../../components/roles/kernel/config";
import { baseConfig, baseFacts, problemsOf } from "./fixtures";


// Shorthands into the mutable raw config.
type Any = any;
const pair = (c: RawConfig, i: number): Any => (c.pairs as Any[])[i];
const nodeOf = (c: RawConfig, i: number, j: number): Any => pair(c, i).nodes[j];
const domain = (c: RawConfig, i: number): Any => (c.domains as Any[])[i];

interface Row {
    /** What is wrong. */
    what: string;
    /** Changes the valid base config (and its facts) into the bad one. */
    mutate: (c: RawConfig, facts: ConfigFacts) => void;
    /** One problem must contain the key path and every fix fragment. */
    key: string;
    fix: string[];
}

const P1 = "pairstore:pairs[0].nodes[1]";

const rows: Row[] = [
    {
        what: "a pair with one node",
        mutate: (c) => { pair(c, 0).nodes.pop(); },
        key: "pairstore:pairs[0] (pair-1) has 1 node;",
        fix: ["a pair has exactly two", "add its peer node"],
    },
    {
        what: "a pair with three nodes",
        mutate: (c) => {
            pair(c, 0).nodes.push({ ...nodeOf(c, 1, 1), name: "node-1c", ssh: { ...nodeOf(c, 1, 1).ssh, host: "10.77.0.99" },
                publicIp: { ...nodeOf(c, 1, 1).publicIp, address: "198.51.100.99" }, internalAddress: "10.78.0.99" });
        },
        key: "pairstore:pairs[0] (pair-1) has 3 nodes;",
        fix: ["move the extra nodes into a pair of their own"],
    },
    {
        what: "an odd total number of nodes",
        mutate: (c) => { pair(c, 1).nodes.pop(); },
        key: "pairstore:pairs has 3 nodes, an odd number",
        fix: ["servers are added in pairs: add a node or remove one"],
    },
    {
        what: "duplicate node names",
        mutate: (c) => { nodeOf(c, 1, 0).name = "node-1a"; },
        key: "pairstore:pairs[1].nodes[0] (node-1a) uses node name node-1a, already used by pairstore:pairs[0].nodes[0]",
        fix: ["every node needs its own"],
    },
    {
        what: "duplicate ssh addresses",
        mutate: (c) => { nodeOf(c, 1, 1).ssh.host = "10.77.0.11"; },
        key: "pairstore:pairs[1].nodes[1] (node-2b) uses ssh address 10.77.0.11:22, already used by pairstore:pairs[0].nodes[0]",
        fix: ["every node needs its own"],
    },
    {
        what: "duplicate public IPs",
        mutate: (c) => { nodeOf(c, 1, 0).publicIp.address = "198.51.100.12"; },
        key: "pairstore:pairs[1].nodes[0] (node-2a) uses public IP 198.51.100.12, already used by pairstore:pairs[0].nodes[1]",
        fix: ["every node needs its own"],
    },
    {
        what: "duplicate internal addresses",
        mutate: (c) => { nodeOf(c, 1, 0).internalAddress = "10.78.0.11"; },
        key: "pairstore:pairs[1].nodes[0] (node-2a) uses internal address 10.78.0.11",
        fix: ["every node needs its own"],
    },
    {
        what: "a public IP outside its gateway's subnet",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.gateway = "203.0.113.1"; },
        key: `${P1}.publicIp.address 198.51.100.12/24 is outside the subnet of its gateway 203.0.113.1`,
        fix: [`fix the address, the prefix or ${P1}.publicIp.gateway`],
    },
    {
        what: "an invalid prefix",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.prefix = 33; },
        key: `${P1}.publicIp.prefix 33`,
        fix: ["must be a prefix length between 8 and 30, for example 24"],
    },
    {
        what: "a prefix that is not a number",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.prefix = "twenty-four"; },
        key: `${P1}.publicIp.prefix`,
        fix: ["must be a whole number"],
    },
    {
        what: "an invalid public address",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.address = "198.51.100.256"; },
        key: `${P1}.publicIp.address "198.51.100.256"`,
        fix: ["is not an IPv4 address"],
    },
    {
        what: "an invalid internal address",
        mutate: (c) => { nodeOf(c, 0, 1).internalAddress = "10.78.0"; },
        key: `${P1}.internalAddress "10.78.0"`,
        fix: ["is not an IPv4 address"],
    },
    {
        what: "the subnet's network address as the public IP",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.address = "198.51.100.0"; },
        key: `${P1}.publicIp.address 198.51.100.0 is the network or broadcast address of 198.51.100.0/24`,
        fix: ["pick a host address"],
    },
    {
        what: "a wrong broadcast",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.broadcast = "198.51.100.254"; },
        key: `${P1}.publicIp.broadcast 198.51.100.254 is not the broadcast address of 198.51.100.0/24`,
        fix: ["use 198.51.100.255 or leave it out"],
    },
    {
        what: "peers on different interfaces",
        mutate: (c) => { nodeOf(c, 0, 1).publicIp.interface = "eth2"; },
        key: "pairstore:pairs[0]: node-1b's publicIp.interface eth2 differs from node-1a's eth1",
        fix: ["use one interface name for both"],
    },
    {
        what: "peers on different subnets",
        mutate: (c) => { Object.assign(nodeOf(c, 0, 1).publicIp, { address: "203.0.113.12", gateway: "203.0.113.1" }); },
        key: "pairstore:pairs[0]: node-1a (198.51.100.11/24) and node-1b (203.0.113.12/24) are not on one public subnet",
        fix: ["put both in the same subnet"],
    },
    {
        what: "two domains on one internal port",
        mutate: (c) => { domain(c, 1).internalPort = 8081; },
        key: "pairstore:domains[1].internalPort 8081 is already used by pairstore:domains[0].internalPort (example.com)",
        fix: ["give each domain its own port"],
    },
    {
        what: "a domain's internal port equal to the public port",
        mutate: (c) => { domain(c, 0).internalPort = 80; },
        key: "pairstore:domains[0].internalPort 80 is already used by pairstore:publicPort",
        fix: ["give each domain its own port"],
    },
    {
        what: "a domain's internal port on ssh's port 22",
        mutate: (c) => { domain(c, 0).internalPort = 22; },
        key: "pairstore:domains[0].internalPort 22 is already used by ssh",
        fix: ["give each domain its own port"],
    },
    {
        what: "a domain's internal port on rsyncd's port 873",
        mutate: (c) => { domain(c, 1).internalPort = 873; },
        key: "pairstore:domains[1].internalPort 873 is already used by rsyncd",
        fix: ["give each domain its own port"],
    },
    {
        what: "the public port on ssh's port",
        mutate: (c) => { c.publicPort = 22; },
        key: "pairstore:publicPort 22 is ssh's port",
        fix: ["pick another, for example 80"],
    },
    {
        what: "a port out of range",
        mutate: (c) => { domain(c, 0).internalPort = 70000; },
        key: "pairstore:domains[0].internalPort 70000",
        fix: ["is not a TCP port (1-65535)"],
    },
    {
        what: "a domain without internal port",
        mutate: (c) => { delete domain(c, 1).internalPort; },
        key: "pairstore:domains[1].internalPort is missing",
        fix: ["give each domain its own internal DAV port, for example 8082"],
    },
    {
        what: "a domain listed twice",
        mutate: (c) => { domain(c, 1).name = "EXAMPLE.com"; },
        key: `pairstore:domains[1].name "example.com" is listed twice`,
        fix: ["list each domain once"],
    },
    {
        what: "a missing host key without opt-out",
        mutate: (c) => { delete nodeOf(c, 0, 1).ssh.hostKey; },
        key: `${P1}.ssh.hostKey is missing`,
        fix: ["ssh-keyscan -t ed25519 10.77.0.12", "pulumi config set pairstore:allowUnpinnedHostKeys true"],
    },
    {
        what: "a malformed host key",
        mutate: (c) => { nodeOf(c, 0, 1).ssh.hostKey = "AAAAC3NzaC1lZDI1NTE5"; },
        key: `${P1}.ssh.hostKey`,
        fix: [`must look like "ssh-ed25519 AAAA..."`],
    },
    {
        what: "sshPrivateKey missing",
        mutate: (_c, f) => { f.presentKeys = f.presentKeys.filter((k) => k !== "sshPrivateKey"); f.secretKeys = []; },
        key: "pairstore:sshPrivateKey is missing",
        fix: ["pulumi config set --secret pairstore:sshPrivateKey < ~/.ssh/id_ed25519"],
    },
    {
        what: "sshPrivateKey not a secret",
        mutate: (_c, f) => { f.secretKeys = []; },
        key: "pairstore:sshPrivateKey is stored in plain text",
        fix: ["set it again with `pulumi config set --secret pairstore:sshPrivateKey"],
    },
    {
        what: "an unknown top-level key (typo)",
        mutate: (c, f) => { c.domain = "example.com"; f.presentKeys.push("domain"); },
        key: "pairstore:domain is not a pairstore setting",
        fix: ["did you mean pairstore:domains?", "`pulumi config rm pairstore:domain`"],
    },
    {
        what: "an unknown top-level key (case typo)",
        mutate: (c, f) => { c.dataroot = "/srv"; f.presentKeys.push("dataroot"); },
        key: "pairstore:dataroot is not a pairstore setting",
        fix: ["did you mean pairstore:dataRoot?"],
    },
    {
        what: "an unknown nested field",
        mutate: (c) => { nodeOf(c, 0, 1).ssh.hostkey = nodeOf(c, 0, 1).ssh.hostKey; },
        key: `${P1}.ssh.hostkey is not a known field`,
        fix: ["expected one of: host, port, user, hostKey"],
    },
    {
        what: "an unknown field of a pair",
        mutate: (c) => { pair(c, 1).node = []; },
        key: "pairstore:pairs[1].node is not a known field",
        fix: ["expected one of: name, nodes"],
    },
    {
        what: "tcp_tw_recycle = 1",
        mutate: (c) => { c.sysctl = { "net.ipv4.tcp_tw_recycle": 1 }; },
        key: "pairstore:sysctl.net.ipv4.tcp_tw_recycle must stay 0",
        fix: ["set it to 0 or null"],
    },
    {
        what: "a malformed sysctl key",
        mutate: (c) => { c.sysctl = { "somaxconn": 4096 }; },
        key: "pairstore:sysctl.somaxconn",
        fix: ["is not a sysctl key like net.core.somaxconn"],
    },
    {
        what: "a sysctl value with shell characters",
        mutate: (c) => { c.sysctl = { "net.core.somaxconn": "1; reboot" }; },
        key: `pairstore:sysctl.net.core.somaxconn value "1; reboot"`,
        fix: ["has characters a sysctl value does not take"],
    },
    {
        what: "a bad logs.interval",
        mutate: (c) => { c.logs = { interval: "5 minutes" }; },
        key: `pairstore:logs.interval "5 minutes"`,
        fix: ["must be a time span like 5min, 300s or 1h"],
    },
    {
        what: "a bad logs.tmpfsSize",
        mutate: (c) => { c.logs = { tmpfsSize: "256MB" }; },
        key: `pairstore:logs.tmpfsSize "256MB"`,
        fix: ["must be a size like 256m or 1g"],
    },
    {
        what: "a relative logs.processCommand",
        mutate: (c) => { c.logs = { processCommand: "archive-logs" }; },
        key: "pairstore:logs.processCommand",
        fix: ["must be an absolute path to a program"],
    },
    {
        what: "an unknown logs field",
        mutate: (c) => { c.logs = { interval: "5min", size: "64m" }; },
        key: "pairstore:logs.size is not a known field",
        fix: ["expected one of: tmpfsSize, processCommand, interval, keepDays"],
    },
    {
        what: "nofile too low",
        mutate: (c) => { c.nofile = 100; },
        key: "pairstore:nofile 100",
        fix: ["must be between 1024 and 1048576"],
    },
    {
        what: "a relative dataRoot",
        mutate: (c) => { c.dataRoot = "srv/../images"; },
        key: `pairstore:dataRoot "srv/../images"`,
        fix: [`must be an absolute path without ".."`],
    },
    {
        what: "missing domains",
        mutate: (c, f) => { delete c.domains; f.presentKeys = f.presentKeys.filter((k) => k !== "domains"); },
        key: "pairstore:domains is missing",
        fix: ["list the domains served, for example [{name: example.com, internalPort: 8081}]"],
    },
    {
        what: "empty domains",
        mutate: (c) => { c.domains = []; },
        key: "pairstore:domains is empty",
        fix: ["list at least one domain"],
    },
    {
        what: "missing pairs",
        mutate: (c, f) => { delete c.pairs; f.presentKeys = f.presentKeys.filter((k) => k !== "pairs"); },
        key: "pairstore:pairs is missing",
        fix: ["list the server pairs, each with exactly two nodes"],
    },
    {
        what: "pairs not a list",
        mutate: (c) => { c.pairs = { name: "pair-1" }; },
        key: "pairstore:pairs must be a list",
        fix: [],
    },
];

describe("parseClusterConfig refuses bad input, naming the key and the fix", () => {
    test("the base fixture is valid", () => {
        expect(problemsOf(baseConfig())).toEqual([]);
    });

    test.each(rows)("$what", ({ mutate, key, fix }) => {
        const raw = baseConfig();
        const facts = baseFacts(raw);
        mutate(raw, facts);
        const problems = problemsOf(raw, facts);
        const hit = problems.find((p) => p.includes(key));
        expect(hit, `no problem names "${key}"; got:\n${problems.join("\n")}`).toBeDefined();
        for (const f of fix) expect(hit).toContain(f);
        expect(hit).toMatch(/pairstore:/);
    });

    test("every problem message names a pairstore: key", () => {
        for (const row of rows) {
            const raw = baseConfig();
            const facts = baseFacts(raw);
            row.mutate(raw, facts);
            for (const p of problemsOf(raw, facts)) expect(p, row.what).toMatch(/pairstore:[A-Za-z]+/);
        }
    });

    test("a missing host key is accepted with allowUnpinnedHostKeys: true", () => {
        const raw = baseConfig();
        delete nodeOf(raw, 0, 1).ssh.hostKey;
        raw.allowUnpinnedHostKeys = true;
        const spec = parseClusterConfig(raw, baseFacts(raw));
        expect(spec.pairs[0].nodes[1].ssh.hostKey).toBeUndefined();
        expect(spec.pairs[0].nodes[0].ssh.hostKey).toMatch(/^ssh-ed25519 /);
    });

    test("a host key pasted with its comment is pinned without it", () => {
        const raw = baseConfig();
        const key = nodeOf(raw, 0, 0).ssh.hostKey as string;
        nodeOf(raw, 0, 0).ssh.hostKey = `  ${key} root@node-1a\n`;
        expect(parseClusterConfig(raw, baseFacts(raw)).pairs[0].nodes[0].ssh.hostKey).toBe(key);
    });

    test("the error message lists every problem, one per line", () => {
        const raw = baseConfig();
        domain(raw, 1).internalPort = 8081;
        delete nodeOf(raw, 0, 1).ssh.hostKey;
        nodeOf(raw, 1, 0).publicIp.prefix = 31;
        raw.logs = { interval: "often", tmpfsSize: "big" };
        raw.sysctl = { "net.ipv4.tcp_tw_recycle": "1" };
        const facts = baseFacts(raw);
        facts.secretKeys = [];
        let err: unknown;
        try {
            parseClusterConfig(raw, facts);
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(ConfigError);
        const { problems, message } = err as ConfigError;
        const expected = [
            "pairstore:sshPrivateKey is stored in plain text",
            "pairstore:domains[1].internalPort 8081 is already used",
            "pairstore:pairs[0].nodes[1].ssh.hostKey is missing",
            "pairstore:pairs[1].nodes[0].publicIp.prefix 31",
            "pairstore:logs.interval",
            "pairstore:logs.tmpfsSize",
            "pairstore:sysctl.net.ipv4.tcp_tw_recycle",
        ];
        for (const e of expected) expect(problems.some((p) => p.includes(e)), e).toBe(true);
        expect(problems.length).toBeGreaterThanOrEqual(expected.length);
        expect(message).toContain(`(${problems.length} problems)`);
        for (const p of problems) expect(message).toContain(`  - ${p}`);
    });
});

describe("a valid config", () => {
    const raw = baseConfig();
    const spec = parseClusterConfig(raw, baseFacts(raw));

    test("gets the documented defaults", () => {
        expect(spec.dataRoot).toBe("/srv/images");
        expect(spec.publicPort).toBe(80);
        expect(spec.nofile).toBe(75000);
        expect(spec.extraPackages).toEqual([]);
        expect(spec.checkMode).toBe(false);
        expect(spec.logs).toEqual({ tmpfsSize: "256m", interval: "5min", keepDays: 14, processCommand: "/usr/local/lib/pairstore/archive-logs" });
        expect(spec.sysctl).toEqual(DEFAULT_SYSCTL);
        for (const n of spec.pairs.flatMap((p) => p.nodes)) {
            expect(n.ssh.port).toBe(22);
            expect(n.ssh.user).toBe("root");
            expect(n.publicIp.broadcast).toBe("198.51.100.255");
        }
        expect(spec.domains).toEqual([{ name: "example.com", internalPort: 8081 }, { name: "example.org", internalPort: 8082 }]);
        expect(spec.pairs.map((p) => [p.name, p.nodes.map((n) => n.name)])).toEqual([
            ["pair-1", ["node-1a", "node-1b"]], ["pair-2", ["node-2a", "node-2b"]],
        ]);
    });

    test("the defaults agree with Pulumi.yaml's config block", () => {
        const project = parseYaml(readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8"));
        const declared = project.config as Record<string, { default?: unknown }>;
        const asParsed: Record<string, unknown> = {
            "pairstore:dataRoot": spec.dataRoot,
            "pairstore:publicPort": spec.publicPort,
            "pairstore:nofile": spec.nofile,
            "pairstore:extraPackages": spec.extraPackages,
            "pairstore:checkMode": spec.checkMode,
        };
        for (const [k, v] of Object.entries(asParsed)) expect(declared[k]?.default, k).toEqual(v);
        expect(declared["pairstore:allowUnpinnedHostKeys"].default).toBe(false);
        expect(declared["pairstore:sshPrivateKey"]).toMatchObject({ secret: true });
        expect(DEFAULTS.logs).toEqual(spec.logs);
    });

    test("string-typed values from `pulumi config set` are accepted", () => {
        const r = baseConfig();
        Object.assign(r, { publicPort: "8080", nofile: "65536", checkMode: "true", allowUnpinnedHostKeys: "false" });
        const s = parseClusterConfig(r, baseFacts(r));
        expect([s.publicPort, s.nofile, s.checkMode]).toEqual([8080, 65536, true]);
    });

    test("sysctl overrides merge over the reference deployment's values and null drops a key", () => {
        const r = baseConfig();
        r.sysctl = { "net.core.somaxconn": 4096, "kernel.pid_max": null, "vm.swappiness": "10", "net.ipv4.tcp_rmem": "4096   87380  16777216" };
        const s = parseClusterConfig(r, baseFacts(r));
        expect(s.sysctl["net.core.somaxconn"]).toBe("4096");
        expect(s.sysctl["vm.swappiness"]).toBe("10");
        expect(s.sysctl["net.ipv4.tcp_rmem"]).toBe("4096 87380 16777216");
        expect("kernel.pid_max" in s.sysctl).toBe(false);
        expect(s.sysctl["fs.inotify.max_user_watches"]).toBe("65536");
    });
});
