// shard-coverage: every shard of every domain is served by exactly one pair,
// and its record set holds exactly that pair's two public IPs.
//
// Works on `pairstore:index:ShardDns` resources, whose args are
//   { domain: string, ttl: number, shards: [{ shard, pair, ips: [ip, ip] }] }
// with 16 one-hex-digit shards ("0".."f") or 256 two-digit ones ("00".."ff").
// A pair's public IPs come from its NodePair args (pair.nodes[].publicIp.address).
//
// DNS lands after the foundation: while a stack registers no ShardDns at all,
// this rule passes (nothing to check). Once one exists, every domain the
// pairs serve (NodePair settings.domains) needs its ShardDns.
import {
    buildModel, configWithDefaults, listing, observe, type PairstorePolicy, type PairView, type ShardDnsInputs,
} from "./model";

export interface ShardCoverageConfig {
    /** Hex digits per shard name: 1 (16 shards) or 2 (256); 0 = infer from the records. */
    shardDigits: number;
}

export const SHARD_COVERAGE_DEFAULTS: ShardCoverageConfig = { shardDigits: 0 };

/** "0".."f" or "00".."ff". */
export function allShards(digits: 1 | 2): string[] {
    return Array.from({ length: 16 ** digits }, (_, i) => i.toString(16).padStart(digits, "0"));
}

/** The public IPs of a pair's two nodes (from its args, else from its nodes' args). */
export function publicIpsOf(pair: PairView): string[] {
    const fromPair = pair.inputs?.pair.nodes.map((n) => n.publicIp?.address);
    const ips = fromPair && fromPair.every((x) => typeof x === "string")
        ? fromPair
        : pair.nodes.map((n) => n.inputs?.node.publicIp?.address);
    return ips.filter((x): x is string => typeof x === "string" && x !== "");
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

export const shardCoverage: PairstorePolicy = {
    name: "shard-coverage",
    description: "Every shard of every domain is served by exactly one pair, and its DNS record set holds that pair's two public IPs.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            shardDigits: {
                type: "integer",
                enum: [0, 1, 2],
                default: 0,
                description: "Hex digits per shard: 1 (16 shards) or 2 (256 shards); 0 infers it from the records.",
            },
        },
    },
    validateResource: (args) => {
        observe(args);
    },
    validateStack: (args, reportViolation) => {
        const cfg = configWithDefaults(args, SHARD_COVERAGE_DEFAULTS);
        const model = buildModel(args.resources);
        if (model.shardDns.length === 0) return; // no DNS in this stack yet
        const pairsByName = new Map(model.pairs.map((p) => [p.name, p]));

        // Merge the records per domain; a domain may be split over several resources.
        const domains = new Map<string, { urn: string; records: ShardDnsInputs["shards"] }>();
        for (const dns of model.shardDns) {
            if (!dns.inputs) {
                reportViolation(`ShardDns ${dns.resource.name}: its args are not visible to the policy, so its shards cannot be checked.`, dns.resource.urn);
                continue;
            }
            const d = domains.get(dns.inputs.domain) ?? { urn: dns.resource.urn, records: [] };
            d.records.push(...dns.inputs.shards);
            domains.set(dns.inputs.domain, d);
        }

        // Every domain served by the pairs has its shards.
        const served = new Set(model.pairs.flatMap((p) => (p.inputs?.settings?.domains ?? []).map((d) => d.name)));
        for (const name of served) {
            if (!domains.has(name)) reportViolation(`domain ${name} has no ShardDns: none of its shards is served by any pair.`);
        }

        for (const [domain, { urn, records }] of domains) {
            const digits = (cfg.shardDigits === 1 || cfg.shardDigits === 2) ? cfg.shardDigits
                : (records[0]?.shard?.length === 2 ? 2 : 1);
            const valid = new RegExp(`^[0-9a-f]{${digits}}$`);
            const servers = new Map<string, string[]>();
            for (const r of records) {
                if (typeof r.shard !== "string" || !valid.test(r.shard)) {
                    reportViolation(`shard ${JSON.stringify(r.shard)} of ${domain} is not a ${digits}-hex-digit shard name (${digits === 1 ? "0..f" : "00..ff"}).`, urn);
                    continue;
                }
                servers.set(r.shard, [...(servers.get(r.shard) ?? []), r.pair]);
                const pair = pairsByName.get(r.pair);
                if (!pair) {
                    reportViolation(`shard ${r.shard} of ${domain} is served by pair ${r.pair}, which is not a NodePair of this stack.`, urn);
                    continue;
                }
                const want = publicIpsOf(pair);
                const have = Array.isArray(r.ips) ? r.ips : [];
                if (have.length !== 2 || !sameSet(have, want)) {
                    reportViolation(
                        `shard ${r.shard} of ${domain} (pair ${r.pair}) has record set [${have.join(", ")}], ` +
                        `but pair ${r.pair}'s public IPs are [${want.join(", ")}]; the record set holds exactly the pair's two public IPs.`,
                        urn);
                }
            }
            for (const shard of allShards(digits)) {
                const by = servers.get(shard) ?? [];
                const distinct = [...new Set(by)];
                if (by.length === 0) {
                    reportViolation(`shard ${shard} of ${domain} is served by no pair; assign it to exactly one pair.`, urn);
                } else if (distinct.length > 1) {
                    reportViolation(`shard ${shard} of ${domain} is served by ${distinct.length} pairs (${listing(distinct)}); a shard is served by exactly one pair.`, urn);
                } else if (by.length > 1) {
                    reportViolation(`shard ${shard} of ${domain} is listed ${by.length} times for pair ${distinct[0]}; list each shard once.`, urn);
                }
            }
        }
    },
};
