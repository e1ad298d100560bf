// Shard DNS on the lab's DNS server (BIND on dns-1): example.com is written
// by the rfc2136 backend (signed dynamic updates from this machine),
// example.org by the bind backend (zone include file over SSH). Every shard
// name resolves to exactly its pair's two public IPs in rotating order; a
// plan change updates the records in place; a wrong TSIG key is a clear
// error; DNS that goes away takes its records with it.
import { execFileSync } from "child_process";
import * as http from "http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { locate, shardNames } from "../../components/lib/layout";
import { planShards, planToConfig } from "../../components/lib/shards";
import { dnsDigAll, labDnsServer } from "./dns-env";
import { applyLab, labOutputs, labStack } from "../lab/lab";
import { labTsigSecret, restoreLabZone, setLabZoneDynamic } from "../lab/dns";
import { LAB_DOMAINS, LAB_PAIRS, labDnsHost } from "../lab/topology";
import { applyChanges, describeLab, labReady, onHost, runsEveryApply } from "./lab-env";

const PAIRS = LAB_PAIRS.map((p) => p.name);
const DEFAULT_PLAN = planToConfig(planShards(PAIRS, 1));

/** pair name -> its two public IPs, sorted, from the lab stack's outputs. */
function pairIps(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const n of labOutputs().nodes) (out[n.pair] ??= []).push(n.publicIp);
    for (const ips of Object.values(out)) ips.sort();
    return out;
}

/** Expected answer of every shard name of every lab domain under `plan` (pair -> "0 2 4 ..."). */
function expected(plan: Record<string, string>): Record<string, string[]> {
    const ips = pairIps();
    const out: Record<string, string[]> = {};
    for (const [pair, shards] of Object.entries(plan)) {
        for (const shard of shards.split(" ")) for (const d of LAB_DOMAINS) out[`${shard}.image.${d.name}`] = ips[pair];
    }
    return out;
}

function failures(r: { failed: Array<{ name: string; message: string }> }) {
    return r.failed.map((f) => `${f.name}: ${f.message}`).join("\n");
}


describeLab("shard DNS on the lab's DNS server", () => {
    beforeAll(async () => {
        const r = await labReady();
        expect(r.ok, failures(r)).toBe(true);
    });

    afterAll(async () => {
        // Leave the lab as `npm run lab` makes it.
        await applyLab();
    });

    it("resolves every shard name of every lab domain to exactly its pair's two public IPs", async () => {
        const outputs = labOutputs();
        expect(outputs.shardPlan).toEqual(DEFAULT_PLAN);
        expect(outputs.dns.map((d: any) => [d.domain, d.backend, d.server])).toEqual([
            ["example.com", "rfc2136", labDnsServer()],
            ["example.org", "bind", labDnsServer()],
        ]);
        const want = expected(DEFAULT_PLAN);
        expect(Object.keys(want).length).toBe(16 * LAB_DOMAINS.length);
        expect(dnsDigAll(Object.keys(want))).toEqual(want);
        // One A record set per shard and nothing else for those names: exactly two addresses.
        for (const d of LAB_DOMAINS) {
            for (const shard of shardNames(1)) {
                const answer = execFileSync("dig", ["+short", "+norec", `@${labDnsServer()}`, `${shard}.image.${d.name}`, "A"]).toString().trim().split("\n");
                expect(answer.length, `${shard}.image.${d.name}`).toBe(2);
            }
        }
    });

    it("rotates the order of the two addresses between answers", () => {
        for (const d of LAB_DOMAINS) {
            const name = `7.image.${d.name}`;
            const orders = new Set<string>();
            for (let i = 0; i < 4; i++) {
                orders.add(execFileSync("dig", ["+short", "+norec", `@${labDnsServer()}`, name, "A"]).toString().trim().replace(/\n/g, " "));
            }
            expect(orders.size, `${name} answered ${[...orders].join(" | ")}`).toBe(2);
        }
    });

    it("changes nothing on a second apply", async () => {
        const again = await applyLab();
        expect(again.ok, failures(again)).toBe(true);
        expect(applyChanges(again)).toEqual([]);
        expect(again.unchanged).toEqual(expect.arrayContaining(["example.com-rfc2136", "example.org-bind"]));
    });

    it("updates the records in place when the plan changes, and a second apply changes nothing", async () => {
        // Swap shards 3 and 4 between the pairs: a plan edited by hand, so their files stay where they are.
        const moved = { "pair-1": "0 2 3 6 8 a c e", "pair-2": "1 4 5 7 9 b d f" };
        const serialBefore = await onHost("dns-1", "rndc zonestatus example.org | sed -n 's/^serial: //p'");
        // The restore below runs with the key too, whatever fails (also if the refusal did not happen).
        const byHand = { shardsCopiedByHand: "3 4" };
        try {
            // Refused by the nodes first (they keep the plan they applied), naming the shards and the key; nothing changed.
            const refused = await applyLab({ shards: moved });
            expect(refused.ok).toBe(false);
            expect(refused.failed.length).toBeGreaterThan(0);
            expect(refused.failed.every((f) => /^node-\d[ab]-shard-plan$/.test(f.name)), failures(refused)).toBe(true);
            expect(refused.failed[0].message).toContain("3 (pair-2 -> pair-1), 4 (pair-1 -> pair-2)");
            expect(refused.failed[0].message).toContain("pulumi config set pairstore:shardsCopiedByHand '3 4'");
            // (the components and the failed checks are listed too)
            const steps = (names: string[]) => names.filter((n) => !/^(pair-\d|node-\d[ab]|example\.(com|org))$/.test(n) && !refused.failed.some((f) => f.name === n));
            expect(steps([...refused.created, ...refused.updated, ...refused.deleted])).toEqual([]);
            expect(dnsDigAll(Object.keys(expected(DEFAULT_PLAN)))).toEqual(expected(DEFAULT_PLAN));
            // Accepted with the key, both ways (the lab's files of shards 3 and 4 stay on their pairs meanwhile).
            const r = await applyLab({ shards: moved, ...byHand });
            expect(r.ok, failures(r)).toBe(true);
            // the records, every node's plan and sites (they route shards 3 and 4 to their new pairs) with its health gate
            const sites = /^node-\d[ab]-(shard-plan|nginx-(site-example\.(com|org)|activate)|health)$/;
            expect(r.updated.filter((n) => !runsEveryApply(n) && !sites.test(n)).sort()).toEqual(["example.com-rfc2136", "example.org-bind"]);
            expect([...r.created, ...r.deleted]).toEqual([]);
            // Only the two moved names changed, in one signed transaction / one zone reload.
            expect(r.logs["example.com-rfc2136"].split("\n").filter((l) => l.startsWith("changed: set")).map((l) => l.split(" ")[2]))
                .toEqual(["3.image.example.com.", "4.image.example.com."]);
            expect(r.logs["example.org-bind"]).toContain("changed: bump the SOA serial of example.org and reload it");
            expect(Number(await onHost("dns-1", "rndc zonestatus example.org | sed -n 's/^serial: //p'"))).toBe(Number(serialBefore) + 1);
            expect(labOutputs().shardPlan).toEqual(moved);
            expect(dnsDigAll(Object.keys(expected(moved)))).toEqual(expected(moved));

            const again = await applyLab({ shards: moved, ...byHand });
            expect(again.ok, failures(again)).toBe(true);
            expect(applyChanges(again)).toEqual([]);
        } finally {
            // back to the lab's plan, whatever failed above
            const back = await applyLab(byHand);
            expect(back.ok, failures(back)).toBe(true);
            expect(dnsDigAll(Object.keys(expected(DEFAULT_PLAN)))).toEqual(expected(DEFAULT_PLAN));
        }
    });

    it("stops with a clear error when the server rejects the TSIG key, and changes no record", async () => {
        const wrong = Buffer.from("not-the-lab-key-not-the-lab-key!").toString("base64");
        try {
            const r = await applyLab({ dnsTsigSecret: wrong });
            expect(r.ok).toBe(false);
            const f = r.failed.find((x) => x.name === "example.com-rfc2136");
            expect(f, failures(r)).toBeDefined();
            expect(f!.message).toContain('DNS server 10.77.');
            expect(f!.message).toContain('rejected TSIG key "pairstore-lab" (hmac-sha256) for zone example.com');
            expect(f!.message).toContain("BADSIG");
            expect(f!.message).toContain("pairstore:dnsTsigSecret");
            expect(f!.message).not.toContain(wrong);
            expect(JSON.stringify(r)).not.toContain(wrong);
            expect(dnsDigAll(Object.keys(expected(DEFAULT_PLAN)))).toEqual(expected(DEFAULT_PLAN));
        } finally {
            const fixed = await applyLab();
            expect(fixed.ok, failures(fixed)).toBe(true);
        }
    });

    it("removes each backend's records when DNS goes away, and publishes them again when it comes back", async () => {
        // Without pairstore:dns (and its TSIG secret) the stack has no ShardDns: both
        // backends' deletes run. The nodes do not change, so this costs two short applies.
        const [com, org] = LAB_DOMAINS;
        const names = (d: string) => shardNames(1).map((s) => `${s}.image.${d}`);
        let restored = false;
        try {
            const none = await applyLab({ dns: undefined, dnsTsigSecret: undefined });
            expect(none.ok, failures(none)).toBe(true);
            // each domain's ShardDns and its records step
            expect(none.deleted.sort()).toEqual(["example.com", "example.com-rfc2136", "example.org", "example.org-bind"]);
            expect(applyChanges({ ...none, deleted: [] })).toEqual([]);
            // example.com (rfc2136): its names are deleted on the server, the zone still answers
            expect(dnsDigAll(names(com.name))).toEqual({});
            expect(execFileSync("dig", ["+short", `@${labDnsServer()}`, `www.${com.name}`]).toString().trim()).not.toBe("");
            // example.org (bind): its include file is emptied, the zone reloaded and still served
            expect(dnsDigAll(names(org.name))).toEqual({});
            expect(await onHost("dns-1", "awk '$3 == \"IN\" && $4 == \"A\"' /etc/bind/pairstore/example.org.shards | wc -l")).toBe("0");
            expect(execFileSync("dig", ["+short", `@${labDnsServer()}`, `www.${org.name}`]).toString().trim()).not.toBe("");

            const back = await applyLab();
            restored = back.ok;
            expect(back.ok, failures(back)).toBe(true);
            expect(back.created.sort()).toEqual(["example.com", "example.com-rfc2136", "example.org", "example.org-bind"]);
            expect(dnsDigAll(Object.keys(expected(DEFAULT_PLAN)))).toEqual(expected(DEFAULT_PLAN));
        } finally {
            if (!restored) await applyLab();
        }
    }, 600_000); // two applies that change only the DNS

    it("switching a domain between the rfc2136 and bind backends keeps its records: the old backend's delete leaves them to the new one", async () => {
        const com = LAB_DOMAINS[0].name;
        const want = Object.fromEntries(Object.entries(expected(DEFAULT_PLAN)).filter(([n]) => n.endsWith(`.image.${com}`)));
        try {
            // The administrator makes example.com a static zone, then the stack moves it to the bind backend.
            await setLabZoneDynamic(labDnsHost(), com, false);
            const dns = JSON.parse(labStack()["pairstore:dns"].value);
            dns.domains[com] = { backend: "bind", zoneFile: "/var/lib/bind/db.example.com" };
            const toBind = await applyLab({ dns });
            expect(toBind.ok, failures(toBind)).toBe(true);
            expect(toBind.created).toContain(`${com}-bind`);
            expect(toBind.deleted).toContain(`${com}-rfc2136`);
            expect(toBind.log).toContain(`[${com}-rfc2136] kept: zone ${com}`);
            expect(dnsDigAll(Object.keys(want))).toEqual(want);

            // And back: the zone takes dynamic updates again, the stack returns to rfc2136.
            await setLabZoneDynamic(labDnsHost(), com, true);
            const toRfc = await applyLab();
            expect(toRfc.ok, failures(toRfc)).toBe(true);
            expect(toRfc.created).toContain(`${com}-rfc2136`);
            expect(toRfc.deleted).toContain(`${com}-bind`);
            expect(toRfc.log).toContain(`[${com}-bind] kept: zone ${com} is a dynamic zone now`);
            expect(dnsDigAll(Object.keys(want))).toEqual(want);
        } finally {
            await restoreLabZone(labDnsHost(), labTsigSecret(), com);
            const back = await applyLab();
            expect(back.ok, failures(back)).toBe(true);
        }
    }, 600_000); // three applies and two zone changes

    it("stores a file with PUT on its pair's internal port and serves it through its shard name", async () => {
        const domain = LAB_DOMAINS[0];
        const uid = "42";
        const name = `e2e-${Date.now()}.txt`;
        const body = `stored by the dns e2e test at ${new Date().toISOString()}\n`;
        const loc = locate(uid, name, 1);
        const outputs = labOutputs();
        const pair = Object.entries(outputs.shardPlan as Record<string, string>).find(([, shards]) => shards.split(" ").includes(loc.shard))![0];
        const node = outputs.nodes.find((n: any) => n.pair === pair);

        const put = await request({ host: node.internalAddress, port: domain.internalPort, method: "PUT", path: `/${loc.path}`, body });
        expect([201, 204]).toContain(put.status);

        const host = `${loc.shard}.image.${domain.name}`;
        const ips = dnsDigAll([host])[host];
        expect(ips).toEqual(pairIps()[pair]);
        for (const ip of ips) {
            const got = await request({ host: ip, port: 80, method: "GET", path: `/${loc.path}`, hostHeader: host });
            expect(got.status, `GET http://${host}/${loc.path} via ${ip}`).toBe(200);
            expect(got.body).toBe(body);
        }
    });
});

function request(o: { host: string; port: number; method: string; path: string; body?: string; hostHeader?: string }): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: o.host, port: o.port, method: o.method, path: o.path, headers: o.hostHeader ? { Host: o.hostHeader } : {}, timeout: 10_000 }, (res) => {
            let data = "";
            res.on("data", (d) => (data += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
        });
        req.on("timeout", () => req.destroy(new Error(`${o.method} ${o.host}:${o.port}${o.path} timed out`)));
        req.on("error", reject);
        req.end(o.body);
    });
}
