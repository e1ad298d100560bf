// Queries of the lab's DNS server from this machine (dig, from bind9-dnsutils,
// which the lab installs here for pairstore's rfc2136 backend).
import { execFileSync } from "child_process";
import { labDnsHost } from "../lab/topology";

/** The lab's DNS server address. */
export function labDnsServer(): string {
    return labDnsHost().mgmtIp;
}

/** Asks the lab's DNS server for the A records of `names` in one dig run: name -> sorted addresses (names without A records are left out). */
export function dnsDigAll(names: string[]): Record<string, string[]> {
    const args = ["+norec", "+noall", "+answer", "+time=3", "+tries=2", `@${labDnsServer()}`, ...names.flatMap((n) => [n, "A"])];
    const out = execFileSync("dig", args).toString();
    const result: Record<string, string[]> = {};
    for (const line of out.split("\n")) {
        const f = line.trim().split(/\s+/);
        if (f.length === 5 && f[2] === "IN" && f[3] === "A") (result[f[0].replace(/\.$/, "")] ??= []).push(f[4]);
    }
    for (const ips of Object.values(result)) ips.sort();
    return result;
}
