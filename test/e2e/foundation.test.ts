// The foundation on real hosts: packages, kernel tuning, limits, tmpfs log
// mounts and the log timer, idempotence, reboot, drift detection (check mode,
// npm run drift), bad config.
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { beforeAll, expect, it } from "vitest";
import { DEFAULT_SYSCTL } from "../../components/roles/kernel/config";
import { applyLab, labExport, labHeartbeatAuthKey, labSecureLinkSecret, labStack, STATE_FILE } from "../lab/lab";
import { labTsigSecret } from "../lab/dns";
import { rebootHost } from "../lab/hosts";
import { LAB_DOMAINS, LAB_NOFILE } from "../lab/topology";
import { applyChanges, describeLab, labHosts, labReady, onHost } from "./lab-env";

const NODES = labHosts().map((h) => h.name);
const LOG_DIRS = LAB_DOMAINS.map((d) => `/var/log/nginx/image.${d.name}`);

/** Keys the sysctl step named as missing from the kernel or refused by the host. */
function reportedKeys(stdout: string): { missing: string[]; refused: string[] } {
    const line = (prefix: string) => stdout.split("\n").find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? "";
    return {
        missing: line("sysctl: not in this kernel, not written: ").split(" ").filter(Boolean),
        refused: [...line("sysctl: refused by this host, not written: ").matchAll(/([a-z0-9_.]+) \(wants/g)].map((m) => m[1]),
    };
}

async function sysctlValue(node: string, key: string): Promise<string> {
    return (await onHost(node, `cat /proc/sys/${key.replace(/\./g, "/")}`)).replace(/\s+/g, " ");
}

describeLab("foundation on the lab hosts", () => {
    let first: Awaited<ReturnType<typeof labReady>>;
    beforeAll(async () => {
        first = await labReady();
    });

    it("applies every kernel key the host accepts and names the others", async () => {
        for (const node of NODES) {
            const out = first.stdout[`${node}-sysctl`];
            expect(out, `${node}-sysctl output`).toBeDefined();
            const { missing, refused } = reportedKeys(out);
            // Removed in Linux 4.12: never written, always named.
            expect(missing).toContain("net.ipv4.tcp_tw_recycle");
            const conf = await onHost(node, "cat /etc/sysctl.d/60-pairstore.conf");
            expect(conf).not.toMatch(/tcp_tw_recycle/);
            for (const [key, value] of Object.entries(DEFAULT_SYSCTL)) {
                if (missing.includes(key) || refused.includes(key)) {
                    expect(conf, `${key} is reported, so it is not in the file`).not.toMatch(new RegExp(`^${key.replace(/\./g, "\\.")} =`, "m"));
                    continue;
                }
                expect(await sysctlValue(node, key), `${node} ${key}`).toBe(value);
                expect(conf).toContain(`${key} = ${value}`);
            }
            // Some keys must really be applied here (per-namespace network keys).
            expect(await sysctlValue(node, "net.ipv4.tcp_fin_timeout")).toBe("30");
            expect(await sysctlValue(node, "net.core.somaxconn")).toBe("2048");
        }
    });

    it("sets nofile limits for login sessions", async () => {
        for (const node of NODES) {
            const file = await onHost(node, "cat /etc/security/limits.d/60-pairstore.conf");
            expect(file).toMatch(new RegExp(`^\\*\\s+soft\\s+nofile\\s+${LAB_NOFILE}$`, "m"));
            expect(file).toMatch(new RegExp(`^root\\s+hard\\s+nofile\\s+${LAB_NOFILE}$`, "m"));
            expect(await onHost(node, "ulimit -Sn; ulimit -Hn")).toBe(`${LAB_NOFILE}\n${LAB_NOFILE}`);
        }
    });

    it("mounts tmpfs log directories from fstab", async () => {
        for (const node of NODES) {
            const fstab = await onHost(node, "cat /etc/fstab");
            for (const dir of LOG_DIRS) {
                expect(fstab).toMatch(new RegExp(`^tmpfs ${dir} tmpfs size=64m,`, "m"));
                expect(await onHost(node, `findmnt -n -o FSTYPE,OPTIONS --mountpoint ${dir}`)).toMatch(/^tmpfs .*size=65536k/);
            }
        }
    });

    it("processes and empties the logs with an active timer", async () => {
        const node = NODES[0];
        expect(await onHost(node, "systemctl is-active pairstore-logs.timer")).toBe("active");
        expect(await onHost(node, "systemctl show -p TimersMonotonic --value pairstore-logs.timer")).toMatch(/OnUnitActiveUSec=5min/);
        const dir = LOG_DIRS[0];
        const marker = `GET /e2e-${Date.now()} HTTP/1.1`;
        await onHost(node, `echo '${marker}' >> ${dir}/access.log && systemctl start pairstore-logs.service`);
        // emptied: nothing rotated is left, and the log files nginx reopened are empty
        expect(await onHost(node, `find ${dir} -type f ! -empty`)).toBe("");
        const archived = await onHost(node, `zcat /var/log/pairstore-archive/image.${LAB_DOMAINS[0].name}/access-*.log.gz`);
        expect(archived).toContain(marker);
    });

    it("changes nothing on a second apply", async () => {
        const again = await applyLab();
        expect(again.ok).toBe(true);
        expect(applyChanges(again)).toEqual([]);
        expect(again.changedSteps).toEqual([]);
        expect(again.unchanged.length + again.updated.length).toBe(first.created.length + first.updated.length + first.unchanged.length);
    });

    it("keeps everything in force after a reboot", async () => {
        const node = "node-1b";
        // A value changed by hand must be put back by the boot-time tuning, not survive by accident.
        await onHost(node, "sysctl -q -w net.ipv4.tcp_fin_timeout=45");
        await rebootHost(labHosts().find((h) => h.name === node)!);
        expect(await sysctlValue(node, "net.ipv4.tcp_fin_timeout")).toBe("30");
        expect(await onHost(node, "systemctl is-active pairstore-sysctl.service pairstore-logs.timer")).toBe("active\nactive");
        for (const dir of LOG_DIRS) expect(await onHost(node, `findmnt -n -o FSTYPE --mountpoint ${dir}`)).toBe("tmpfs");
        expect(await onHost(node, "ulimit -Hn")).toBe(String(LAB_NOFILE));
        // heartbeat is started by the service monitor once nginx answers, and the node takes its public IP back
        const publicIp = labHosts().find((h) => h.name === node)!.publicIp!;
        await expect.poll(() => onHost(node, "ip -o -4 addr show dev eth1"), { timeout: 60_000, interval: 500 }).toContain(` inet ${publicIp}/`);
        expect(await onHost(node, "systemctl is-active pairstore-failover.service heartbeat.service")).toBe("active\nactive");
    });

    it("npm run drift reports drift from the stack export, leaving hosts and state untouched; raising the node's generation puts it back", async () => {
        const node = "node-2b";
        const host = labHosts().find((h) => h.name === node)!;
        // A shrunk tmpfs, not an unmounted one: systemd itself remounts an fstab
        // entry when a unit that RequiresMountsFor it starts (the log timer).
        await onHost(node, "sysctl -q -w net.ipv4.tcp_keepalive_time=999 && mount -o remount,size=32m /var/log/nginx/image.example.org");
        const before = readFileSync(STATE_FILE, "utf8");
        // as a user runs it: pulumi stack export --show-secrets | npm run --silent drift
        const run = spawnSync("npx", ["tsx", "tools/drift.ts"], { input: JSON.stringify(labExport()), encoding: "utf8", timeout: 300_000 });
        expect(run.status, run.stderr).toBe(2);
        const found = run.stdout.split("\n").filter((l) => l.includes(": would: "));
        // every other step of every host reports no drift
        expect(found).toEqual([
            `  ${node}-sysctl (${host.mgmtIp}): would: set net.ipv4.tcp_keepalive_time = 1800 (now 999)`,
            `  ${node}-logs-mounts (${host.mgmtIp}): would: resize tmpfs /var/log/nginx/image.example.org to 64m (was 32768k)`,
        ]);
        expect(run.stdout).toContain(`${node}: raise its generation to 1`);
        console.log(run.stdout.split("\n")[0]);
        for (const secret of [labHeartbeatAuthKey(), labSecureLinkSecret(), labTsigSecret()]) expect(run.stdout + run.stderr).not.toContain(secret);
        expect(readFileSync(STATE_FILE, "utf8")).toBe(before);
        expect(await sysctlValue(node, "net.ipv4.tcp_keepalive_time")).toBe("999");

        const pairs = JSON.parse(labStack()["pairstore:pairs"].value);
        const at = pairs.findIndex((p: { nodes: { name: string }[] }) => p.nodes.some((n) => n.name === node));
        const raised = pairs.map((p: { nodes: { name: string }[] }, i: number) => i !== at ? p : { ...p, nodes: p.nodes.map((n) => n.name === node ? { ...n, generation: 1 } : n) });
        try {
            const fix = await applyLab({ pairs: raised });
            expect(fix.ok, fix.failed.map((f) => f.message).join("\n")).toBe(true);
            // the node's steps ran again (and no other node's): the drifted one put its value back
            expect(fix.updated.filter((n) => n.startsWith(`${node}-`)).length).toBeGreaterThan(20);
            expect(fix.changedSteps).toEqual(expect.arrayContaining([`${node}-sysctl`, `${node}-logs-mounts`]));
            expect(fix.changedSteps.filter((s) => !s.startsWith(`${node}-`))).toEqual([]);
            expect(await sysctlValue(node, "net.ipv4.tcp_keepalive_time")).toBe("1800");
            expect(await onHost(node, "findmnt -n -o OPTIONS --mountpoint /var/log/nginx/image.example.org")).toMatch(/size=65536k/);
        } finally {
            const back = await applyLab();
            expect(back.ok, back.failed.map((f) => f.message).join("\n")).toBe(true);
        }
    }, 900_000); // two applies of one node's steps

    it("undoes a pair's steps when it leaves the stack, and restores it when it comes back", async () => {
        const pairs = JSON.parse(labStack()["pairstore:pairs"].value);
        await onHost("node-2b", "echo 'GET /kept HTTP/1.1' >> /var/log/nginx/image.example.com/access.log");
        let restored = false;
        // pair-1 takes every shard in the plan (a pair that serves shards cannot leave the config) and back, edited by
        // hand: without their files, which the nodes refuse unless pairstore:shardsCopiedByHand names pair-2's shards.
        const byHand = { shardsCopiedByHand: JSON.parse(labStack()["pairstore:shards"].value)["pair-2"] };
        try {
            const shrunk = await applyLab({ pairs: pairs.slice(0, 1), shards: { "pair-1": "0 1 2 3 4 5 6 7 8 9 a b c d e f" }, ...byHand });
            expect(shrunk.ok, shrunk.failed.map((f) => f.message).join("\n")).toBe(true);
            expect(shrunk.deleted).toEqual(expect.arrayContaining(["pair-2", "node-2a-sysctl", "node-2b-logs-mounts", "node-2b-health"]));
            // pair-2's component, its nodes and their steps: nothing of pair-1 or the DNS
            const steps = shrunk.deleted.filter((n) => n !== "pair-2");
            expect(steps.every((n) => n.startsWith("node-2")), shrunk.deleted.join(" ")).toBe(true);
            expect(await onHost("node-2b", "ls /etc/sysctl.d /etc/security/limits.d")).not.toMatch(/pairstore/);
            expect(await onHost("node-2b", "systemctl is-enabled pairstore-logs.timer || true")).not.toBe("enabled");
            expect(await onHost("node-2b", "findmnt -n --mountpoint /var/log/nginx/image.example.com || echo unmounted")).toBe("unmounted");
            // Nothing lost: the logs were processed before the tmpfs went away.
            expect(await onHost("node-2b", "zcat /var/log/pairstore-archive/image.example.com/access-*.log.gz")).toContain("GET /kept");

            const back = await applyLab(byHand);
            restored = back.ok;
            expect(back.ok, back.failed.map((f) => f.message).join("\n")).toBe(true);
            expect(back.created.filter((n) => n.startsWith("node-2")).sort()).toEqual(steps.sort());
            expect(await onHost("node-2b", "systemctl is-active pairstore-logs.timer")).toBe("active");
        } finally {
            if (!restored) await applyLab(byHand);
        }
    }, 900_000); // two whole-pair applies

    it("rejects bad config before touching any host", async () => {
        await onHost("node-1a", "rm -f /tmp/e2e-untouched && touch /tmp/e2e-untouched");
        const r = await applyLab({ nofile: 5, publicPort: 22 });
        expect(r.ok).toBe(false);
        const message = r.failed.map((f) => f.message).join("\n");
        expect(message).toContain("pairstore:nofile 5 must be between 1024 and 1048576");
        expect(message).toContain("pairstore:publicPort 22 is ssh's port");
        expect(r.created.length + r.updated.length + r.deleted.length).toBe(0);
        expect(await onHost("node-1a", "ls /tmp/e2e-untouched")).toBe("/tmp/e2e-untouched");
    });

    it("refuses a nofile limit above the host's hard limit and keeps the old file", async () => {
        const r = await applyLab({ nofile: 30000 });
        expect(r.ok).toBe(false);
        expect(r.failed[0].message).toMatch(/pairstore:nofile 30000 is above this host's hard limit \(20000/);
        expect(await onHost("node-1a", "ulimit -Hn")).toBe(String(LAB_NOFILE));
        const back = await applyLab();
        expect(back.ok).toBe(true);
    });
});
