// The kernel-guard-rails policy (policies/rules/kernel-guard-rails.ts): the
// program's sysctl and nofile limits pass; tcp_tw_recycle enabled (by file or
// script) and nofile out of bounds fail, naming the node.
import { beforeAll, describe, expect, it } from "vitest";
import { nofileLimits, sysctlSettings } from "../../policies/rules/kernel-guard-rails";
import type { Recorded as Registered } from "../engine/record";
import { clone, COMMAND, find } from "./fixtures";
import { messagesOf, runPolicies } from "./policy-args";
import { validStack } from "./stack";

let stack: Registered[];
beforeAll(async () => {
    stack = await validStack();
});

const run = async (rs: Registered[], config = {}) => messagesOf(await runPolicies(rs, { config }), "kernel-guard-rails");

describe("kernel-guard-rails", () => {
    it("passes the program's sysctl and limits (tcp_tw_recycle = 0, nofile 75000)", async () => {
        expect(find(stack, COMMAND, "a1-sysctl").inputs.stdin).toContain("net.ipv4.tcp_tw_recycle = 0");
        expect(await run(stack)).toEqual([]);
    });

    it("fails a sysctl step that enables tcp_tw_recycle, naming the node", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "c1-sysctl");
        step.inputs.stdin = step.inputs.stdin.replace("net.ipv4.tcp_tw_recycle = 0", "net.ipv4.tcp_tw_recycle = 1");
        expect(await run(rs)).toEqual([
            'step "sysctl" of node c1 (c1-sysctl) sets net.ipv4.tcp_tw_recycle = 1 (in its stdin); net.ipv4.tcp_tw_recycle must stay 0 ' +
            "(it drops connections from clients behind NAT, and Linux 4.12 removed it): set it to 0 or drop it in pairstore:sysctl.",
        ]);
    });

    it("fails tcp_tw_recycle enabled by a script (sysctl -w)", async () => {
        const rs = clone(stack);
        find(rs, COMMAND, "a1-packages").inputs.create += "\nsysctl -w net.ipv4.tcp_tw_recycle=1\n";
        expect(await run(rs)).toEqual([expect.stringMatching(/^step "packages" of node a1 \(a1-packages\) sets net\.ipv4\.tcp_tw_recycle = 1 \(in its create\)/)]);
    });

    it("fails nofile above the configured bound, naming the node", async () => {
        const msgs = await run(stack, { "kernel-guard-rails": { maxNofile: 65536 } });
        expect(msgs).toContain('step "limits" of node a1 (a1-limits) sets nofile to 75000 (limits "* soft nofile"), outside [1024, 65536]; ' +
            "change pairstore:nofile (or this policy's maxNofile/minNofile).");
        // four nodes, six nofile settings each: four limits lines, nginx's LimitNOFILE and worker_rlimit_nofile
        expect(msgs).toHaveLength(4 * 6);
    });

    it("fails an unlimited nofile", async () => {
        const rs = clone(stack);
        const step = find(rs, COMMAND, "b1-limits");
        step.inputs.stdin = step.inputs.stdin.replace(/^root\s+hard\s+nofile\s+\d+$/m, "root hard nofile unlimited");
        expect(await run(rs)).toEqual([expect.stringMatching(/^step "limits" of node b1 \(b1-limits\) sets nofile to unlimited \(limits "root hard nofile"\)/)]);
    });

    it("parses sysctl and nofile settings, ignoring comments", () => {
        expect(sysctlSettings("# net.ipv4.tcp_tw_recycle = 1\nnet.ipv4.tcp_tw_recycle=2\n", "net.ipv4.tcp_tw_recycle")).toEqual(["2"]);
        expect(sysctlSettings("echo 1 > /proc/sys/net/ipv4/tcp_tw_recycle_x\nsysctl -w 'net/ipv4/tcp_tw_recycle=1'", "net.ipv4.tcp_tw_recycle")).toEqual(["1"]);
        expect(nofileLimits("[Service]\nLimitNOFILE=4096:200000\n# * soft nofile 1\nworker_rlimit_nofile 100000;\n")).toEqual([
            { where: "LimitNOFILE", value: "4096" }, { where: "LimitNOFILE", value: "200000" }, { where: "worker_rlimit_nofile", value: "100000" },
        ]);
    });
});
