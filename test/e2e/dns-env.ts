// Queries of the lab's DNS server from this machine (dig, from bind9-dnsutils,
// which the lab installs here for pairstore's rfc2136 backend).
import { execFile, execFileSync } from "child_process";
import { promisify } from "util";
import { labDnsHost } from "../lab/topology";

/** The lab's DNS server address. */
export function labDnsServer(): string {
    return labDnsHost().mgmtIp;
}

const digArgs = (names: string[]) => ["+norec", "+noall", "+answer", "+time=3", "+tries=2", `@${labDnsServer()}`, ...names.flatMap((n) => [n, "A"])];

/** Asks the lab's DNS server for the A records of `names` in one dig run: name -> sorted addresses (names without A records are left out). */
export function dnsDigAll(names: string[]): Record<string, string[]> {
    return digAnswers(execFileSync("dig", digArgs(names)).toString());
}

/** dnsDigAll without blocking this process meanwhile (for loops that run beside other requests). */
export async function dnsDigAllAsync(names: string[]): Promise<Record<string, string[]>> {
    return digAnswers((await promisify(execFile)("dig", digArgs(names))).stdout);
}

function digAnswers(out: string): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    for (const line of out.split("\n")) {
        const f = line.trim().split(/\s+/);
        if (f.length === 5 && f[2] === "IN" && f[3] === "A") (result[f[0].replace(/\.$/, "")] ??= []).push(f[4]);
    }
    for (const ips of Object.values(result)) ips.sort();
    return result;
}
