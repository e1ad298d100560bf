// Shard DNS as pure data and text: the records of a domain, the zone include
// file of the bind backend, the TSIG key file and the converge scripts of both
// backends. components/shard-dns.ts turns them into resources.
import type { PairSpec } from "../../config";
import type { DnsDomainSpec, Rfc2136Spec } from "./config";
import { render, shq } from "../../step/template";
import { shardHost } from "../../lib/layout";
import type { ShardPlan } from "../../lib/shards";

/** One shard's record set: `<shard>.image.<domain>` -> the pair's two public IPs. */
export interface ShardRecord {
    shard: string;
    pair: string;
    ips: [string, string];
}

/** The args of a ShardDns (plain data: the policy pack reads them). */
export interface ShardDnsArgs {
    domain: string;
    ttl: number;
    shards: ShardRecord[];
}

/** The record sets of one domain for a plan, sorted by shard; throws when the plan names a pair that is not in `pairs`. */
export function shardRecords(plan: ShardPlan, pairs: PairSpec[], domain: string): ShardRecord[] {
    const byName = new Map(pairs.map((p) => [p.name, p]));
    return plan.shards.map(({ shard, pair }) => {
        const p = byName.get(pair);
        if (!p) throw new Error(`shard ${shard} of ${domain} is planned on pair ${pair}, which is not in pairstore:pairs`);
        return { shard, pair, ips: [p.nodes[0].publicIp.address, p.nodes[1].publicIp.address] };
    });
}

/** The fully qualified name of a shard record, with the trailing dot. */
export function recordName(domain: string, shard: string): string {
    return `${shardHost(domain, shard)}.`;
}

/** The bind backend's include file: one A record per IP, absolute names, explicit TTL. */
export function renderZoneInclude(args: ShardDnsArgs): string {
    const lines = [
        `; pairstore shard records of ${args.domain}: <shard>.image.${args.domain} -> the two public IPs of the pair serving the shard.`,
        `; Written by pairstore (ShardDns ${args.domain}); changes made here are overwritten.`,
    ];
    for (const r of args.shards) {
        lines.push(`; shard ${r.shard}: ${r.pair}`);
        for (const ip of r.ips) lines.push(`${recordName(args.domain, r.shard)}\t${args.ttl}\tIN\tA\t${ip}`);
    }
    return lines.join("\n") + "\n";
}

/** The include file left when a domain's records are removed: no records, so the zone still loads. */
export function renderEmptyZoneInclude(domain: string): string {
    return `; pairstore: no shard records of ${domain} (its ShardDns was removed). Delete this file with its $INCLUDE line, or keep it.\n`;
}

/** The records the rfc2136 script converges to: `<name> <ttl> <ip> <ip>`, one line per shard. */
export function renderRecordLines(args: ShardDnsArgs): string {
    return args.shards.map((r) => `${recordName(args.domain, r.shard)} ${args.ttl} ${[...r.ips].sort().join(" ")}`).join("\n");
}

/** A TSIG key file as nsupdate -k reads it (BIND syntax). */
export function renderTsigKeyFile(keyName: string, algorithm: string, secret: string): string {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
        // Never echo the value: it is a secret even when it is malformed.
        throw new Error("pairstore:dnsTsigSecret is not a base64 TSIG secret: set the secret of the server's key again with `pulumi config set --secret pairstore:dnsTsigSecret <secret>` (tsig-keygen prints one)");
    }
    return `key "${keyName}" {\n    algorithm ${algorithm};\n    secret "${secret}";\n};\n`;
}

/** Body of the rfc2136 converge script (after the step prelude). */
export function rfc2136Script(args: ShardDnsArgs, spec: DnsDomainSpec, server: Rfc2136Spec, mode: "apply" | "delete"): string {
    return render("dns/rfc2136.sh", {
        server: shq(server.server),
        port: server.port,
        zone: shq(spec.zone),
        domain: shq(args.domain),
        key_name: shq(server.keyName),
        algorithm: shq(server.algorithm),
        mode,
        records: renderRecordLines(args),
    });
}

/** Body of the bind backend's converge script (after the step prelude); the include text comes on stdin. */
export function bindIncludeScript(args: ShardDnsArgs, spec: DnsDomainSpec, mode: "apply" | "delete"): string {
    if (!spec.zoneFile || !spec.includeFile) throw new Error(`ShardDns ${args.domain}: the bind backend needs zoneFile and includeFile`);
    return render("dns/bind-include.sh", {
        zone: shq(spec.zone),
        zone_file: shq(spec.zoneFile),
        include_file: shq(spec.includeFile),
        domain: shq(args.domain),
        mode,
        empty_include: renderEmptyZoneInclude(args.domain).trimEnd(),
    });
}
