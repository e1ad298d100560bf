// The lab's DNS host: BIND 9, authoritative for the lab domains, set up the
// way a DNS administrator would before pointing pairstore at it. pairstore
// owns its shard records, never the DNS server: for the rfc2136 backend the
// admin creates the zone and a TSIG key allowed to update it; for the bind
// backend the admin has a static zone (pairstore adds its $INCLUDE line and
// writes the include file). Idempotent: files are written only when they
// differ, zone master files only when absent (they are the admin's and
// pairstore's from then on), and named restarts only when its config changed.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { LAB_DIR, sshRun, type LabHost } from "./hosts";
import { LAB_DNS_ZONES, LAB_TSIG_KEY_NAME } from "./topology";

/** The lab's TSIG secret (base64, 32 bytes), made once and kept under the lab dir. */
export function labTsigSecret(): string {
    const file = path.join(LAB_DIR, "dns", "tsig.secret");
    if (!existsSync(file)) {
        mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        writeFileSync(file, randomBytes(32).toString("base64") + "\n", { mode: 0o600 });
    }
    return readFileSync(file, "utf8").trim();
}

function namedConf(tsigSecret: string): Record<string, string> {
    const zones = LAB_DNS_ZONES.map((z) => [
        `zone "${z.zone}" {`,
        "    type primary;",
        `    file "${z.file}";`,
        z.backend === "rfc2136" ? `    update-policy { grant ${LAB_TSIG_KEY_NAME} zonesub A; };` : "    allow-update { none; };",
        "};",
    ].join("\n")).join("\n");
    return {
        "/etc/bind/named.conf.options": [
            "// pairstore lab: authoritative only, answers everyone on the lab networks",
            "options {",
            '    directory "/var/cache/bind";',
            "    listen-on { any; };",
            "    listen-on-v6 { none; };",
            "    allow-query { any; };",
            "    recursion no;",
            "    dnssec-validation no;",
            "    notify no;",
            "    // strict round robin: each answer starts with the next address (BIND 9.18 defaults to random order)",
            "    rrset-order { order cyclic; };",
            "};",
            "",
        ].join("\n"),
        "/etc/bind/pairstore-lab.key": `key "${LAB_TSIG_KEY_NAME}" {\n    algorithm hmac-sha256;\n    secret "${tsigSecret}";\n};\n`,
        "/etc/bind/named.conf.local": `// pairstore lab zones\ninclude "/etc/bind/pairstore-lab.key";\n${zones}\n`,
    };
}

function zoneFile(zone: string, nsIp: string): string {
    return [
        "$TTL 3600",
        `@\tIN SOA\tns1.${zone}. hostmaster.${zone}. (`,
        "\t\t1\t; serial",
        "\t\t3600\t; refresh",
        "\t\t600\t; retry",
        "\t\t604800\t; expire",
        "\t\t300 )\t; negative TTL",
        `\tIN NS\tns1.${zone}.`,
        `ns1\tIN A\t${nsIp}`,
        `www\tIN A\t${nsIp}`,
        "",
    ].join("\n");
}

/** Installs BIND on the lab's DNS host (offline, from the base image's cache) and configures the lab zones. */
export async function ensureLabDns(host: LabHost, tsigSecret: string): Promise<void> {
    const must = async (cmd: string, stdin?: string) => {
        const r = await sshRun(host, cmd, stdin, { timeoutMs: 300_000 });
        if (r.code !== 0) throw new Error(`lab: ${host.name}: \`${cmd.split("\n")[0]}\` exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
        return r.stdout;
    };
    await must("command -v named >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q bind9 bind9-dnsutils >/dev/null");
    let changed = false;
    for (const [file, text] of Object.entries(namedConf(tsigSecret))) {
        const out = await must(`f=${file}; cat > "$f.tmp"; if [ -f "$f" ] && cmp -s "$f.tmp" "$f"; then rm -f "$f.tmp"; echo same; ` +
            `else chgrp bind "$f.tmp" && chmod 640 "$f.tmp" && mv "$f.tmp" "$f" && echo written; fi`, text);
        if (out.includes("written")) changed = true;
    }
    for (const z of LAB_DNS_ZONES) {
        const out = await must(`f=${z.file}; if [ -f "$f" ]; then echo kept; else cat > "$f"; chown bind:bind "$f"; echo written; fi`, zoneFile(z.zone, host.mgmtIp));
        if (out.includes("written")) changed = true;
    }
    await must("named-checkconf -z >/dev/null");
    if (changed) await must("systemctl restart named");
    await must("systemctl enable -q named && systemctl is-active -q named || systemctl start named");
    // named answers once it has loaded the zones.
    await must(`for i in $(seq 50); do dig +short +norec @127.0.0.1 ${LAB_DNS_ZONES[0].zone} SOA | grep -q . && exit 0; sleep 0.2; done; echo "named does not answer" >&2; exit 1`);
}

/**
 * Hands a lab zone to the other backend's kind, as a DNS administrator would
 * before switching pairstore:dns.domains.<zone>.backend: dynamic (updates
 * signed with the lab key, for rfc2136) or static (the master file, for bind).
 * A dynamic zone's journal is written into its master file first.
 */
export async function setLabZoneDynamic(host: LabHost, zone: string, dynamic: boolean): Promise<void> {
    const policy = dynamic ? `update-policy { grant ${LAB_TSIG_KEY_NAME} zonesub A; };` : "allow-update { none; };";
    const script = [
        "set -e",
        `export Z=${zone} POLICY='${policy}'`,
        dynamic ? "" : 'rndc sync -clean "$Z"',
        String.raw`perl -0pi -e 's/(zone "\Q$ENV{Z}\E" \{[^}]*?)(?:update-policy \{[^}]*\};|allow-update \{[^}]*\};)/$1$ENV{POLICY}/s' /etc/bind/named.conf.local`,
        "named-checkconf -z >/dev/null",
        "systemctl restart named",
        `for i in $(seq 50); do rndc zonestatus "$Z" 2>/dev/null | grep -qx 'dynamic: ${dynamic ? "yes" : "no"}' && exit 0; sleep 0.2; done`,
        `echo "zone $Z did not come back ${dynamic ? "dynamic" : "static"}" >&2; exit 1`,
    ].filter(Boolean).join("\n");
    const r = await sshRun(host, "bash -s", script);
    if (r.code !== 0) throw new Error(`lab: ${host.name}: switching zone ${zone} failed: ${r.stderr || r.stdout}`);
}

/**
 * Puts a lab zone back as `npm run lab` makes it: named's config, and a
 * dynamic zone's master file without a pairstore $INCLUDE line it no longer uses.
 */
export async function restoreLabZone(host: LabHost, tsigSecret: string, zone: string): Promise<void> {
    await ensureLabDns(host, tsigSecret);
    const z = LAB_DNS_ZONES.find((x) => x.zone === zone)!;
    if (z.backend !== "rfc2136") return;
    const script = [
        "set -e",
        `f=${z.file}`,
        String.raw`grep -q '^\$INCLUDE' "$f" || exit 0`,
        `rndc freeze ${zone}`,
        String.raw`sed -i -e '/^; shard records of .*, written by pairstore$/d' -e '/^\$INCLUDE /d' "$f"`,
        `rndc thaw ${zone}`,
    ].join("\n");
    const r = await sshRun(host, "bash -s", script);
    if (r.code !== 0) throw new Error(`lab: ${host.name}: restoring zone ${zone} failed: ${r.stderr || r.stdout}`);
}
