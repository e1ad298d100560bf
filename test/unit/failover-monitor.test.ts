// The failover monitor (files/heartbeat/failover-monitor) run for real with
// bash, its host commands stubbed: the rendered values, decide() over the
// situations it tells apart (partition, heal, blip, rescue, gateway), the
// address tending, the fast handover and the cost of a quiet round.
import { spawn, spawnSync } from "child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { DEFAULTS } from "../../components/config";
import {
    ARP_CHECK, renderFailoverMonitor, resourceArgs, restartGraceSeconds, stopTimeoutSeconds,
} from "../../components/roles/heartbeat/steps";
import { nginxHealthUrls } from "../../components/roles/nginx/sites";
import { failoverSpec, specOf } from "./role-spec";

describe("the failover monitor", () => {
    const spec = failoverSpec();
    const [a, b] = spec.pairs[0].nodes;
    const PUB_B = "198.51.100.12/24/eth1/198.51.100.255/198.51.100.1";

    /** Runs `fn` with the monitor rendered for node a into a fresh folder, removed afterwards. */
    function withMonitor<T>(fn: (file: string, dir: string) => T): T {
        const dir = mkdtempSync(path.join(tmpdir(), "pairstore-monitor-"));
        try {
            const file = path.join(dir, "failover-monitor");
            writeFileSync(file, renderFailoverMonitor(spec, a, b));
            return fn(file, dir);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }

    test("the monitor: every path's peer resources, the gateway and the restart grace filled in", () => {
        const text = renderFailoverMonitor(spec, a, b);
        expect(spawnSync("bash", ["-n"], { input: text }).status).toBe(0);
        for (const line of ["OWN=(198.51.100.11/24/eth1/198.51.100.255/198.51.100.1 10.78.0.111/24/eth0)",
            "FOREIGN=(198.51.100.12/24/eth1/198.51.100.255/198.51.100.1)", "GATEWAY=198.51.100.1", "PUBLIC_IF=eth1", "GATEWAY_CHECK=1",
            "RESTART_GRACE=2", "AUTO_FAILBACK=1", "RECLAIM_AFTER=20", "NGINX=pairstore-nginx.service", "RESOURCE=/etc/ha.d/resource.d/IPaddr_gw"]) {
            expect(text.split("\n"), line).toContain(line);
        }
        expect(restartGraceSeconds(DEFAULTS.heartbeat)).toBe(10);
        expect(renderFailoverMonitor(specOf((c) => { c.heartbeat = { gatewayCheck: false }; }), a, b)).toMatch(/^GATEWAY_CHECK=0$/m);
    });

    // The monitor's decision, run by bash on the rendered script with the facts of each case.
    type Facts = {
        hb_up: 0 | 1; hb_state?: string; nginx_bad?: 0 | 1; nginx_blip?: 0 | 1; gw_bad?: 0 | 1; oks?: number; peer?: string; deferred?: 0 | 1; split?: 0 | 1;
        rsc?: string; wrong_for?: number; rsc_busy?: 0 | 1; orphans?: 0 | 1;
    };
    const decideAll = (cases: Facts[]): string[] => {
        return withMonitor((file) => {
        const body = cases.map((c) => {
            const f = { hb_state: c.hb_up ? "active" : "inactive", nginx_bad: 0, nginx_blip: 0, gw_bad: 0, oks: 0, peer: "active", deferred: 0, split: 0, rsc: "local", wrong_for: 0, rsc_busy: 0, orphans: 0, ...c };
            return Object.entries(f).map(([k, v]) => `${k}=${v}`).join(" ") + '; decide; echo "$action"';
        }).join("\n");
        const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}\n${body}`], { encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout.trim().split("\n");
        });
    };

    test.each<[string, Facts, string]>([
        ["healthy, peer up", { hb_up: 1 }, "serving"],
        ["nginx fails", { hb_up: 1, nginx_bad: 1 }, "stop-nginx"],
        ["nginx fails, the peer is gone (dead, nothing of it deferred)", { hb_up: 1, nginx_bad: 1, peer: "dead" }, "alone"],
        ["nginx fails during a partition (the peer holds its addresses)", { hb_up: 1, nginx_bad: 1, peer: "dead", deferred: 1 }, "stop-nginx"],
        ["the gateway is lost, even with the peer gone", { hb_up: 1, gw_bad: 1, peer: "dead" }, "stop-gateway"],
        ["systemd restarts nginx", { hb_up: 1, nginx_blip: 1 }, "blip"],
        ["held down, still failing", { hb_up: 0, nginx_bad: 1 }, "held"],
        ["held down, not enough good checks", { hb_up: 0, oks: 1 }, "recovering"],
        ["held down, enough good checks", { hb_up: 0, oks: 2 }, "start"],
        ["heartbeat still stopping", { hb_up: 0, hb_state: "deactivating", oks: 5 }, "recovering"],
        ["partition: peer dead to heartbeat but answering for its addresses", { hb_up: 1, peer: "dead", deferred: 1 }, "split-restart"],
        ["partition, heartbeat already restarted", { hb_up: 1, peer: "dead", deferred: 1, split: 1 }, "split-wait"],
        ["the partition healed", { hb_up: 1, peer: "active", split: 1 }, "heal-restart"],
        ["the peer really died (its addresses taken here)", { hb_up: 1, peer: "dead" }, "serving"],
        ["after the partition restart, before initdead: still the partition", { hb_up: 1, peer: "init", split: 1 }, "split-wait"],
        ["after the partition restart, the peer really died (nothing of it answers)", { hb_up: 1, peer: "dead", split: 1 }, "serving"],
        ["the peer keeps this node's resources although both run (20 s)", { hb_up: 1, rsc: "none", wrong_for: 20 }, "reclaim"],
        ["this node keeps the peer's resources although both run (20 s)", { hb_up: 1, rsc: "all", wrong_for: 20 }, "give-back"],
        ["heartbeat stuck in transition next to an active peer (25 s)", { hb_up: 1, rsc: "transition", wrong_for: 25 }, "unstick"],
        ["a slow takeover: in transition for 25 s, its ResourceManager still working", { hb_up: 1, rsc: "transition", wrong_for: 25, rsc_busy: 1 }, "serving"],
        ["a takeover working for three times the bound (60 s)", { hb_up: 1, rsc: "transition", wrong_for: 60, rsc_busy: 1 }, "unstick"],
        ["a handover still in progress (19 s)", { hb_up: 1, rsc: "foreign", wrong_for: 19 }, "serving"],
        ["the peer's nginx fails and some of its addresses are not here", { hb_up: 1, orphans: 1 }, "rescue"],
        ["the peer's nginx fails, and this node's too", { hb_up: 1, nginx_bad: 1, orphans: 1 }, "stop-nginx"],
        ["the peer's nginx fails during a partition", { hb_up: 1, peer: "dead", deferred: 1, split: 1, orphans: 1 }, "split-wait"],
    ])("decides: %s", (_what, facts, expected) => {
        expect(decideAll([facts])).toEqual([expected]);
    });

    test("a partition is a peer's address deferred because another host answers it, not one deferred for a lost gateway", () => {
        withMonitor((file, dir) => {
        const deferred = path.join(dir, "deferred");
        mkdirSync(deferred);
        const probe = (markers: Record<string, string>) => {
            for (const f of readdirSync(deferred)) rmSync(path.join(deferred, f));
            for (const [ip, text] of Object.entries(markers)) writeFileSync(path.join(deferred, ip), text);
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; DEFER_DIR=${deferred}
                peer_deferred && echo yes || echo no; for m in "$DEFER_DIR"/*; do marker "$m"; [ -n "$MRES" ] && echo "$MRES"; done; true`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            return r.stdout.trim().split("\n");
        };
        expect(probe({})).toEqual(["no"]);
        expect(probe({ "198.51.100.12": `${PUB_B}\nanswered\n` })).toEqual(["yes", PUB_B]);
        // the takeover of a dead peer's address that met a failed gateway check: not a partition
        expect(probe({ "198.51.100.12": `${PUB_B}\ngateway\n` })).toEqual(["no", PUB_B]);
        // this node's own address deferred (its peer still held it): not a partition either
        expect(probe({ "10.78.0.111": "10.78.0.111/24/eth0\nanswered\n" })).toEqual(["no", "10.78.0.111/24/eth0"]);
        });
    });

    test("tending deferred addresses: a free one is started; one deferred for the gateway that another host answers becomes a partition's", () => {
        withMonitor((file, dir) => {
        const deferred = path.join(dir, "deferred");
        mkdirSync(deferred);
        const resource = path.join(dir, "IPaddr_gw");
        writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
        const tend = (why: string, answers: boolean) => {
            rmSync(path.join(dir, "calls"), { force: true });
            writeFileSync(path.join(deferred, "198.51.100.12"), `${PUB_B}\n${why}\n`);
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; DEFER_DIR=${deferred}; RESOURCE=${resource}
                answered() { ${answers ? "true" : "false"}; }; held() { false; }; tend_addresses`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            try { return readFileSync(path.join(dir, "calls"), "utf8").trim(); } catch { return ""; }
        };
        expect(tend("answered", false)).toBe(`${PUB_B} start`);
        expect(tend("gateway", false)).toBe(`${PUB_B} start`);
        expect(tend("answered", true)).toBe("");
        expect(tend("gateway", true)).toBe(`${PUB_B} yield`);
        });
    });

    test("fast handover: a failing node releases its own addresses; its peer takes every address of it that is not here", () => {
        withMonitor((file, dir) => {
        const resource = path.join(dir, "IPaddr_gw");
        writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
        const calls = (fn: string, heldIps: string[], answeredIps: string[] = []) => {
            rmSync(path.join(dir, "calls"), { force: true });
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; RESOURCE=${resource}
                answered_soon() { case " ${answeredIps.join(" ")} " in *" $2 "*) return 0 ;; esac; return 1; }
                held() { res "$1"; case " ${heldIps.join(" ")} " in *" $RIP "*) return 0 ;; esac; return 1; }; ${fn}`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            try { return readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n").sort(); } catch { return []; }
        };
        const own = resourceArgs(a, spec.heartbeat);
        const foreign = resourceArgs(b, spec.heartbeat);
        expect(calls('release "${OWN[@]}"', own.map((r) => r.split("/")[0]))).toEqual(own.map((r) => `${r} stop`).sort());
        expect(calls('release "${OWN[@]}"', [])).toEqual([]);
        expect(calls("take_orphans", [])).toEqual(foreign.map((r) => `${r} take`).sort());
        expect(calls("take_orphans", [foreign[0].split("/")[0]])).toEqual(foreign.slice(1).map((r) => `${r} take`).sort());
        // one of them still answered elsewhere (a cut link, not a released peer): none is taken
        expect(calls("take_orphans", [], [foreign[0].split("/")[0]])).toEqual([]);
        // the peer's health is asked on its internal address
        const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith("PEER_URL="));
        expect(line).toContain(`http://${b.internalAddress}:`);
        expect(line).toContain("/.pairstore/health");
        });
    });

    test("the rescue's ARP probe gives up after ARP_CHECK.rescue s, arping's start included (a slow arping reads as free, a reply as taken)", () => {
        withMonitor((file, dir) => {
        const probe = (arping: string) => {
            writeFileSync(path.join(dir, "arping"), `#!/bin/sh\n${arping}\n`, { mode: 0o755 });
            const started = Date.now();
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; PATH=${dir}:$PATH; answered_soon eth0 192.0.2.1 && echo answered || echo free`], { encoding: "utf8" });
            return { said: r.stdout.trim(), ms: Date.now() - started };
        };
        const slow = probe("sleep 5; exit 1");
        expect(slow.said).toBe("free");
        expect(slow.ms).toBeGreaterThanOrEqual(ARP_CHECK.rescue * 1000 - 50);
        expect(slow.ms).toBeLessThan(ARP_CHECK.rescue * 1000 + 1500);
        expect(probe("exit 1").said).toBe("answered");
        expect(probe("exit 0").said).toBe("free");
        });
    });

    test("a restart that keeps this node's addresses defers the rest of a group heartbeat would take for held (its first address is up)", () => {
        withMonitor((file, dir) => {
        const deferred = path.join(dir, "deferred");
        const resource = path.join(dir, "IPaddr_gw");
        writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
        const own = resourceArgs(a, spec.heartbeat);
        const ips = own.map((r) => r.split("/")[0]);
        const restart = (heldIps: string[]) => {
            rmSync(deferred, { recursive: true, force: true });
            mkdirSync(deferred);
            // a marker of the killed run is forgotten
            writeFileSync(path.join(deferred, "192.0.2.9"), "192.0.2.9/24/eth0\nanswered\n");
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; DEFER_DIR=${deferred}; RESOURCE=${resource}
                systemctl() { :; }; kill_heartbeat() { :; }; snapshot() { :; }
                held() { res "$1"; case " ${heldIps.join(" ")} " in *" $RIP "*) return 0 ;; esac; return 1; }; restart_keeping_own`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            return Object.fromEntries(readdirSync(deferred).map((f) => [f, readFileSync(path.join(deferred, f), "utf8")]));
        };
        expect(own.length).toBeGreaterThan(1);
        // killed between the group's first and second start: the second is deferred (not as a partition's)
        expect(restart([ips[0]])).toEqual(Object.fromEntries(own.slice(1).map((r) => [r.split("/")[0], `${r}\nrestart\n`])));
        // whole, or none of it (heartbeat asks for the group): nothing deferred
        expect(restart(ips)).toEqual({});
        expect(restart([])).toEqual({});
        expect(restart(ips.slice(1))).toEqual({});
        });
    });

    test("heartbeat counts as busy while its ResourceManager runs", () => {
        withMonitor((file) => {
            const script = path.join(path.dirname(file), "heartbeat", "ResourceManager");
            mkdirSync(path.dirname(script));
            writeFileSync(script, "#!/bin/sh\nsleep 5\n", { mode: 0o755 });
            const busy = () => spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; heartbeat_busy && echo busy || echo idle`], { encoding: "utf8" }).stdout.trim();
            expect(busy()).toBe("idle");
            const child = spawn(script, ["takegroup", "x"], { stdio: "ignore" });
            try {
                expect(busy()).toBe("busy");
            } finally {
                child.kill("SIGKILL");
            }
        });
    });

    test("a heartbeat that does not stop in time is killed, and the node releases every address itself", () => {
        withMonitor((file, dir) => {
        const resource = path.join(dir, "IPaddr_gw");
        writeFileSync(resource, `#!/bin/sh\necho "$*" >> ${dir}/calls\n`, { mode: 0o755 });
        const stop = (stops: boolean) => {
            rmSync(path.join(dir, "calls"), { force: true });
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; RESOURCE=${resource}
                timeout() { echo "timeout $*" >> ${dir}/calls; ${stops ? "true" : "return 124"}; }
                systemctl() { echo "systemctl $*" >> ${dir}/calls; }; held() { true; }; stop_heartbeat`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            return readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n");
        };
        const wait = stopTimeoutSeconds(spec.heartbeat);
        expect(stop(true)).toEqual([`timeout ${wait} systemctl stop heartbeat.service`]);
        const calls = stop(false);
        expect(calls[0]).toBe(`timeout ${wait} systemctl stop heartbeat.service`);
        expect(calls.slice(1, -1).sort()).toEqual([...resourceArgs(a, spec.heartbeat), ...resourceArgs(b, spec.heartbeat)].map((r) => `${r} stop`).sort());
        expect(calls.at(-1)).toBe("systemctl kill --kill-whom=all --signal=SIGKILL heartbeat.service");
        });
    });

    test("the peer's nginx fails on an HTTP error or a refused connection, not on a timeout (a link that drops packets)", () => {
        withMonitor((file) => {
            const peerUrl = nginxHealthUrls(spec, b.internalAddress)[0];
            // curl -w '%{http_code} %{exitcode} %{url_effective}': 7 couldn't connect, 28 timed out
            const failing = (line: string) => spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}
                curl() { echo ${JSON.stringify(line)}; }
                probe 1; peer_failing && echo failing || echo "not failing"`], { encoding: "utf8" }).stdout.trim();
            expect(failing(`503 0 ${peerUrl}`)).toBe("failing");
            expect(failing(`000 7 ${peerUrl}`)).toBe("failing");
            expect(failing(`000 28 ${peerUrl}`)).toBe("not failing");
            expect(failing(`200 0 ${peerUrl}`)).toBe("not failing");
        });
    });

    test("a quiet round's facts come from one curl and /proc: addresses, heartbeat's process, every health answer", () => {
        withMonitor((file, dir) => {
        // /proc/net/fib_trie as the kernel writes it (abridged): 10.78.0.111 and 198.51.100.12 are local
        writeFileSync(path.join(dir, "fib_trie"), [
            "Main:", "  +-- 0.0.0.0/0 3 0 5", "     |-- 10.78.0.0", "        /24 link UNICAST", "     |-- 10.78.0.111", "        /32 host LOCAL",
            "     |-- 10.78.0.255", "        /32 link BROADCAST", "     |-- 198.51.100.11", "        /32 link UNICAST",
            "     |-- 198.51.100.12", "        /32 host LOCAL", "     |-- 127.0.0.0", "        /8 host LOCAL", ""].join("\n"));
        writeFileSync(path.join(dir, "heartbeat.pid"), `     ${process.pid}\n`);
        const urls = nginxHealthUrls(spec);
        const peerUrl = nginxHealthUrls(spec, b.internalAddress)[0];
        const round = (pidfile: string) => {
            const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}; FIB_TRIE=${dir}/fib_trie; HB_PIDFILE=${pidfile}
                systemctl() { echo "systemctl $*" >> ${dir}/systemctl; case $* in *ActiveState\\ -p\\ Result*) printf '%s\\n' Result=exit-code ActiveState=activating ;; *) echo failed ;; esac; }
                curl() { echo "200 0 ${urls[0]}"; echo "000 7 ${peerUrl}"; }
                snapshot; heartbeat_state; probe 1
                for r in "\${OWN[@]}" "\${FOREIGN[@]}"; do held "$r" && echo "held $RIP" || echo "free $RIP"; done
                echo "heartbeat $hb_up $hb_state"; nginx_restarting && echo "nginx restarting"
                healthy && echo healthy || echo "unhealthy: $why"; peer_failing && echo "peer failing"`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            const calls = existsSync(path.join(dir, "systemctl")) ? readFileSync(path.join(dir, "systemctl"), "utf8") : "";
            rmSync(path.join(dir, "systemctl"), { force: true });
            return { out: r.stdout.trim().split("\n"), systemctl: calls.trim().split("\n").filter(Boolean) };
        };
        const own = resourceArgs(a, spec.heartbeat).map((x) => x.split("/")[0]);
        const foreign = resourceArgs(b, spec.heartbeat).map((x) => x.split("/")[0]);
        const isUp = (ip: string) => ["10.78.0.111", "198.51.100.12"].includes(ip);
        // this test's own process stands in for heartbeat's master only by pid; its comm is not "heartbeat"
        const { out, systemctl } = round(path.join(dir, "heartbeat.pid"));
        expect(out).toEqual([
            ...[...own, ...foreign].map((ip) => `${isUp(ip) ? "held" : "free"} ${ip}`),
            "heartbeat 0 failed", "nginx restarting",
            urls.length === 1 ? "healthy" : `unhealthy: ${urls[1]} does not answer`, "peer failing",
        ]);
        expect(systemctl).toEqual(["systemctl show -P ActiveState heartbeat.service", "systemctl show -p ActiveState -p Result pairstore-nginx.service"]);
        // heartbeat's master alive (a process named heartbeat): no systemctl for it
        copyFileSync("/bin/sleep", path.join(dir, "heartbeat"));
        chmodSync(path.join(dir, "heartbeat"), 0o755);
        const master = spawn(path.join(dir, "heartbeat"), ["30"], { stdio: "ignore" });
        try {
            writeFileSync(path.join(dir, "hb.pid"), `${master.pid}\n`);
            const alive = round(path.join(dir, "hb.pid"));
            expect(alive.out).toContain("heartbeat 1 active");
            expect(alive.systemctl).toEqual(["systemctl show -p ActiveState -p Result pairstore-nginx.service"]);
        } finally {
            master.kill();
        }
        });
    });

    /**
     * Runs `fn` beside node a as it serves: its own addresses up (a fib_trie
     * of them), heartbeat's master alive (a process named heartbeat). `prelude`
     * sources the monitor with its state files in `dir`.
     */
    function withServingNode(fn: (dir: string, prelude: string) => void): void {
        withMonitor((file, dir) => {
            const own = resourceArgs(a, spec.heartbeat).map((x) => x.split("/")[0]);
            writeFileSync(path.join(dir, "fib_trie"), own.map((ip) => `  |-- ${ip}\n     /32 host LOCAL\n`).join(""));
            copyFileSync("/bin/sleep", path.join(dir, "heartbeat"));
            chmodSync(path.join(dir, "heartbeat"), 0o755);
            const master = spawn(path.join(dir, "heartbeat"), ["30"], { stdio: "ignore" });
            try {
                writeFileSync(path.join(dir, "hb.pid"), `${master.pid}\n`);
                fn(dir, `PAIRSTORE_MONITOR_LIB=1 source ${file}; FIB_TRIE=${dir}/fib_trie; HB_PIDFILE=${dir}/hb.pid
                    STATUS=${dir}/status; GATEWAY_STATE=${dir}/gateway; DEFER_DIR=${dir}/deferred; SPLIT=${dir}/split; mkdir -p ${dir}/deferred`);
            } finally {
                master.kill();
            }
        });
    }

    test("quiet rounds start only curl and arping: cl_status every 5th round, systemctl never, the status file written once", () => {
        withServingNode((dir, prelude) => {
            const urls = [...nginxHealthUrls(spec), nginxHealthUrls(spec, b.internalAddress)[0]];
            const r = spawnSync("bash", ["-c", `${prelude}
                log() { echo "$*" >> ${dir}/calls; }
                curl() { log curl; printf '200 0 %s\\n' ${urls.join(" ")}; }
                arping() { log arping; return 1; }
                systemctl() { log systemctl "$@"; }
                cl_status() { log cl_status "$1"; case $1 in nodestatus) echo active ;; rscstatus) echo local ;; esac; }
                mv() { log mv; command mv "$@"; }
                for i in 1 2 3 4 5 6; do check; echo "= $action" >> ${dir}/calls; done`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            const rounds = readFileSync(path.join(dir, "calls"), "utf8").trim().split(/\n= serving(?:\n|$)/).map((x) => x.split("\n").filter(Boolean).sort());
            const quiet = ["arping", "curl"];
            expect(rounds).toEqual([
                ["arping", "curl", "mv", "mv"], // the status and gateway files, first written
                quiet, quiet, quiet,
                ["arping", "cl_status nodestatus", "cl_status rscstatus", "curl"],
                quiet, [],
            ]);
            expect(readFileSync(path.join(dir, "status"), "utf8")).toBe("serving: heartbeat running: nginx answers its health check\n");
            expect(readFileSync(path.join(dir, "gateway"), "utf8")).toBe("ok\n");
        });
    });

    test("a crash systemd repairs is forgiven until the new nginx answers (the unit active again), not once more after it answered", () => {
        withServingNode((dir, prelude) => {
            const urls = nginxHealthUrls(spec);
            const peerUrl = nginxHealthUrls(spec, b.internalAddress)[0];
            // each round: nginx's health answer and the unit's state (the restart grace, 2 s, outlasts the rounds)
            const rounds = [["000", "activating"], ["000", "active"], ["200", "active"], ["000", "active"], ["000", "active"]];
            const r = spawnSync("bash", ["-c", `${prelude}
                curl() { printf "$health_code 0 %s\\n" ${urls.join(" ")}; printf '200 0 %s\\n' ${peerUrl}; }
                arping() { return 1; }
                systemctl() { printf '%s\\n' Result=signal ActiveState=$unit_state; }
                cl_status() { case $1 in nodestatus) echo active ;; rscstatus) echo local ;; esac; }
                release() { :; }; stop_heartbeat() { :; }
                for r_ in ${rounds.map(([c, st]) => `${c}:${st}`).join(" ")}; do health_code=\${r_%%:*} unit_state=\${r_#*:}; check >/dev/null; echo "$action"; done`], { encoding: "utf8" });
            expect(r.status, r.stderr).toBe(0);
            expect(r.stdout.trim().split("\n")).toEqual(["blip", "blip", "serving", "serving", "stop-nginx"]);
        });
    });

    test("the monitor reads an IPaddr_gw argument's address and interface", () => {
        withMonitor((file) => {
        const r = spawnSync("bash", ["-c", `PAIRSTORE_MONITOR_LIB=1 source ${file}
            for r in 198.51.100.12/24/eth1/198.51.100.255/198.51.100.1 10.78.0.111/24/eth0 10.78.0.111/24/eth0:vip; do res "$r"; echo "$RIP $RDEV"; done`], { encoding: "utf8" });
        expect(r.stdout.trim().split("\n")).toEqual(["198.51.100.12 eth1", "10.78.0.111 eth0", "10.78.0.111 eth0"]);
        });
    });
});
