// Shards across pairs: which pair copies what from whom while shards move,
// where a node sends reads and uploads of shards another pair serves, and
// what the rendered configs say (components/roles/moves/steps.ts).
import { describe, expect, test } from "vitest";
import { parseClusterConfig, type ClusterSpec, type RawConfig } from "../../components/config";
import { growPlan, planShards, planToConfig } from "../../components/lib/shards";
import { nodeSteps, type NodeSettings } from "../../components/roles";
import { NO_ROUTING, pairRouting } from "../../components/roles/moves/steps";
import { renderSite, shardUriPattern } from "../../components/roles/nginx/sites";
import { renderRsyncdConf } from "../../components/roles/replication/steps";
import type { ScriptStep } from "../../components/step/step";
import { baseFacts, clusterConfig, FAKE_HEARTBEAT_AUTH_KEY } from "./fixtures";
import { bashSyntax } from "./role-spec";
import { stepCommand } from "../../components/step/step";

/** Three pairs in config, the two-pair plan pinned: pair-3 takes 5 shards. */
function growing(change: (c: RawConfig) => void = () => undefined): ClusterSpec {
    const raw = clusterConfig(3);
    raw.shards = planToConfig(planShards(["pair-1", "pair-2"], 1));
    change(raw);
    return parseClusterConfig(raw, baseFacts(raw));
}

function steps(spec: ClusterSpec, pair: number, node: number) {
    const { pairs, ...settings } = spec;
    const p = pairs[pair];
    return nodeSteps(settings as NodeSettings, p.nodes[node], p.nodes[1 - node],
        { secureLinkSecret: "unit-test-secure-link-secret-0123456789", heartbeatAuthKey: FAKE_HEARTBEAT_AUTH_KEY },
        { owner: p.nodes[0].name, runId: "unit-run", routing: pairRouting(spec.shards, spec.pairs, p.name) });
}

describe("shard moves", () => {
    test("growing: the new pair takes the shards growPlan gives it, from the pairs that served them", () => {
        const spec = growing();
        const want = growPlan(planShards(["pair-1", "pair-2"], 1), "pair-3").shards.filter((s) => s.pair === "pair-3").map((s) => s.shard);
        expect(spec.shards.moves.map((m) => m.shard)).toEqual(want);
        expect(spec.shards.moves.every((m) => m.to === "pair-3" && ["pair-1", "pair-2"].includes(m.from))).toBe(true);
        const p3 = spec.pairs[2];
        const into3 = pairRouting(spec.shards, spec.pairs, "pair-3");
        expect(into3.readers).toEqual([]);
        for (const m of into3.incoming) {
            const from = spec.pairs.find((p) => p.name === m.from)!;
            expect(m.sources).toEqual(from.nodes.map((n) => n.internalAddress));
        }
        const from1 = pairRouting(spec.shards, spec.pairs, "pair-1");
        expect(from1.incoming).toEqual([]);
        expect(from1.readers).toEqual(p3.nodes.map((n) => n.internalAddress));
        expect(spec.pairs[0].retire).toBe(false);
    });

    test("routes: reads of another pair's shards (and of shards moving here) go there; uploads too, except shards moving away", () => {
        const spec = growing();
        const served = (pair: string) => spec.shards.plan.shards.filter((s) => s.pair === pair).map((s) => s.shard);
        const leaving1 = spec.shards.moves.filter((m) => m.from === "pair-1").map((m) => m.shard);
        const r1 = pairRouting(spec.shards, spec.pairs, "pair-1");
        expect(r1.routes.map((r) => r.pair)).toEqual(["pair-2", "pair-3"]);
        expect(r1.routes[0]).toEqual({ pair: "pair-2", addresses: spec.pairs[1].nodes.map((n) => n.internalAddress), reads: served("pair-2"), uploads: served("pair-2"), checks: [] });
        // pair-3's shards from pair-1 stay uploadable on pair-1 until the plan is pinned (pair-1 still serves them)
        expect(r1.routes[1].reads).toEqual(served("pair-3"));
        expect(r1.routes[1].uploads).toEqual(served("pair-3").filter((s) => !leaving1.includes(s)));
        const r3 = pairRouting(spec.shards, spec.pairs, "pair-3");
        const from1 = spec.shards.moves.filter((m) => m.from === "pair-1").map((m) => m.shard);
        expect(r3.routes[0].reads).toEqual([...served("pair-1"), ...from1].sort());
        expect(r3.routes[0].uploads).toEqual(served("pair-1"));
        // the shards moving between two pairs: an upload stored on either first asks the other
        expect(r1.routes[1].checks).toEqual(leaving1);
        expect(r3.routes[0].checks).toEqual(from1);
        // pinned: the same routes without the moves
        const pinned = growing((c) => { c.shards = planToConfig(spec.shards.plan); });
        expect(pairRouting(pinned.shards, pinned.pairs, "pair-3").routes[0].reads).toEqual(served("pair-1"));
    });

    test("pinned again, nothing moves; retire: true moves the pair's shards back", () => {
        const grown = growPlan(planShards(["pair-1", "pair-2"], 1), "pair-3");
        const pinned = growing((c) => { c.shards = planToConfig(grown); });
        expect(pinned.shards.moves).toEqual([]);
        const shrinking = growing((c) => { c.shards = planToConfig(grown); (c.pairs as any)[2].retire = true; });
        expect(shrinking.shards.retired).toEqual(["pair-3"]);
        expect(shrinking.shards.moves.map((m) => m.shard)).toEqual(grown.shards.filter((s) => s.pair === "pair-3").map((s) => s.shard));
        expect(shrinking.shards.moves.every((m) => m.from === "pair-3")).toBe(true);
        expect(shrinking.shards.plan.shards.some((s) => s.pair === "pair-3")).toBe(false);
    });

    test("the old pair lets the new pair's nodes read its refill modules; the push modules stay the peer's", () => {
        const spec = growing();
        const [p1, , p3] = spec.pairs;
        const readers = p3.nodes.map((n) => n.internalAddress);
        const conf = renderRsyncdConf(spec, p1.nodes[0], p1.nodes[1], readers);
        expect(conf).toMatch(new RegExp(`^hosts allow = ${p1.nodes[1].internalAddress.replace(/\./g, "\\.")}$`, "m"));
        expect(conf).toMatch(new RegExp(`\\[example\\.com-refill\\][^[]*hosts allow = ${[p1.nodes[1].internalAddress, ...readers].join(" ").replace(/\./g, "\\.")}\\n`));
        expect(conf).not.toMatch(/\[example\.com\]\n[^[]*hosts allow/);
    });

    test("a site reads what another pair holds and forwards uploads there, for those shards only, never a file deleted here", () => {
        const spec = growing();
        const p3 = spec.pairs[2];
        const routing = pairRouting(spec.shards, spec.pairs, "pair-3");
        const site = renderSite(spec, spec.domains[0], p3.nodes[0], p3.nodes[1], p3.nodes[0].name, routing);
        const [to1] = routing.routes;
        expect(site).toContain(`upstream pairstore_example_com_to_pair_1 {\n    server ${to1.addresses[0]}:8081 max_fails=0;\n    server ${to1.addresses[1]}:8081 max_fails=0;\n}`);
        const peer = site.slice(site.indexOf("location @peer {"), site.indexOf("location @pairs {"));
        expect(peer).toContain("error_page 404 502 504 = @pairs;");
        const pairs = site.slice(site.indexOf("location @pairs {"));
        expect(pairs).toContain("if (-e /srv/images/example.com/image/.pairstore/tombstones$uri) {");
        expect(pairs).toContain(`if ($uri ~ "${shardUriPattern(to1.reads, "/private/")}") {\n            set $pairstore_read pairstore_example_com_to_pair_1;\n        }`);
        expect(pairs).toContain("proxy_pass http://$pairstore_read;");
        const internal = site.slice(site.indexOf("# Internal:"));
        for (const r of routing.routes) for (const a of r.addresses) expect(internal).toContain(`    allow ${a};  # ${r.pair}\n`);
        expect(internal).toContain(`if ($uri ~ "${shardUriPattern(to1.uploads, "/private/")}") {\n            set $pairstore_forward pairstore_example_com_to_pair_1;\n        }`);
        expect(internal).toContain("location = /.pairstore/forward {");
        expect(internal).toContain("proxy_pass http://$pairstore_forward$pairstore_path;");
        // a DELETE or MOVE of those shards goes there too; a DELETE removes this node's copy over loopback (not forwarded again)
        expect(internal).toContain("if ($request_method ~ ^(DELETE|MOVE)$) {\n            set $pairstore_file_op_to X;");
        expect(internal).toContain('set $pairstore_file_op_to "${pairstore_file_op_to}${pairstore_here}${pairstore_peer}${pairstore_forward}";\n        if ($pairstore_file_op_to ~ ^Xpairstore_) {\n            rewrite ^ /.pairstore/forward last;');
        expect(internal).toContain("if ($remote_addr = 127.0.0.1) {\n            set $pairstore_here $http_x_pairstore_here;");
        expect(internal).toContain("mirror /.pairstore/delete-here;");
        // a MOVE stays with this pair: onto another pair's shard 502, onto a shard moving from pair-1 checked there first
        const destination = (shards: string[]) => `^(?:https?://[^/]+)?${shardUriPattern(shards, "/private/").slice(1)}`;
        expect(internal).toContain(`if ($http_destination ~ "${destination(to1.uploads)}") {\n            set $pairstore_move_away pair-1;\n        }`);
        expect(internal).toContain("return 502 \"pairstore: MOVE to $http_destination refused: $1 serves its shard;");
        expect(internal).toContain(`if ($http_destination ~ "${destination(to1.checks)}") {\n            set $pairstore_move_source pairstore_example_com_to_pair_1;\n        }`);
        expect(internal).toContain("location = /.pairstore/move-check {");
        expect(internal).toContain("proxy_pass http://127.0.0.1:8081$pairstore_move_from;");
        const dest = new RegExp(destination(["4"]));
        expect(["/4/0/0/x.jpg", "http://n:8081/private/4/1/2/x.jpg"].every((u) => dest.test(u))).toBe(true);
        expect(["/5/0/0/x.jpg", "http://n:8081/5/4/0/x.jpg"].some((u) => dest.test(u))).toBe(false);
        // uploads of shards moving from pair-1 ask pair-1 first (write-once across the move), which answers at /.pairstore/absent/
        expect(internal).toContain(`if ($uri ~ "${shardUriPattern(to1.checks, "/private/")}") {\n            set $pairstore_source pairstore_example_com_to_pair_1;\n        }`);
        expect(internal).toContain("location = /.pairstore/put {\n        internal;\n        auth_request /.pairstore/absent-elsewhere;\n        error_page 403 = @exists_elsewhere;\n");
        expect(internal).toContain("proxy_pass http://$pairstore_source/.pairstore/absent$pairstore_path;");
        expect(internal).toContain("location ^~ /.pairstore/absent/ {\n        alias /srv/images/example.com/image/;");
        expect(internal).toContain("proxy_pass http://127.0.0.1:8081$pairstore_path;\n        proxy_set_header Host $host;\n        proxy_set_header X-Pairstore-Here 1;");
        const re = new RegExp(shardUriPattern(["4", "9e"], "/private/"));
        expect(["/4/0/0/x.jpg", "/private/4/1/2/x.jpg", "/9/e/0/x.jpg"].every((u) => re.test(u))).toBe(true);
        expect(["/5/0/0/x.jpg", "/9/f/0/x.jpg", "/x/4/0/0/x.jpg"].some((u) => re.test(u))).toBe(false);
        // one pair: nothing goes elsewhere
        const alone = renderSite(spec, spec.domains[0], p3.nodes[0], p3.nodes[1], p3.nodes[0].name, NO_ROUTING);
        expect(alone).not.toContain("location @pairs");
        expect(alone).not.toContain("upstream pairstore_example_com_to_");
        expect(alone).not.toContain("location = /.pairstore/forward");
        expect(alone).not.toContain("pairstore_file_op_to");
        expect(alone).not.toContain("pairstore_move_away");
        expect(alone).not.toContain("move-check");
        expect(alone).not.toContain("auth_request /.pairstore/absent-elsewhere");
    });

    test("only the new pair's nodes get the shard-move step, last, in the move phase, with every shard and its sources", () => {
        const spec = growing((c) => { c.replication = { moveBwLimit: 1000 }; });
        expect(steps(spec, 0, 0).some((s) => s.name === "shard-move")).toBe(false);
        for (const node of [0, 1]) {
            const all = steps(spec, 2, node);
            const move = all[all.length - 1] as ScriptStep;
            expect(move.name).toBe("shard-move");
            expect(move.phase).toBe("move");
            for (const m of spec.shards.moves) {
                const from = spec.pairs.find((p) => p.name === m.from)!;
                expect(move.script).toContain(`'${m.shard} ${m.from} ${from.nodes[0].internalAddress} ${from.nodes[1].internalAddress}'`);
            }
            expect(move.script).toContain("BWLIMIT=1000");
            expect(move.script).toContain("PREFIX=private");
            expect(move.script).toContain("(this run: unit-run)");
            const syntax = bashSyntax(stepCommand(move.name, move.script, { user: "root", check: false, owner: "x" }));
            expect(syntax.code, syntax.stderr).toBe(0);
        }
    });

    test("dropUnserved: the pair drops copies of the shards other pairs serve (none moving here), checked against them; they may read its refill modules", () => {
        const grown = growPlan(planShards(["pair-1", "pair-2"], 1), "pair-3");
        const served = (pair: string) => grown.shards.filter((s) => s.pair === pair).map((s) => s.shard);
        const spec = growing((c) => { c.shards = planToConfig(grown); (c.pairs as any)[0].dropUnserved = true; });
        expect(spec.pairs.map((p) => p.dropUnserved)).toEqual([true, false, false]);
        const r1 = pairRouting(spec.shards, spec.pairs, "pair-1");
        expect(r1.drops).toEqual([2, 3].map((i) => ({ pair: `pair-${i}`, addresses: spec.pairs[i - 1].nodes.map((n) => n.internalAddress), shards: served(`pair-${i}`) })));
        expect(pairRouting(spec.shards, spec.pairs, "pair-2").drops).toEqual([]);
        // pair-1's nodes list the files of the pairs it drops from
        expect(pairRouting(spec.shards, spec.pairs, "pair-3").readers).toEqual(spec.pairs[0].nodes.map((n) => n.internalAddress));
        for (const node of [0, 1]) {
            const all = steps(spec, 0, node);
            const drop = all[all.length - 1] as ScriptStep;
            expect(drop.name).toBe("drop-unserved");
            expect(drop.phase).toBe("drop");
            expect(drop.script).toContain(`'pair-3 ${spec.pairs[2].nodes[0].internalAddress} ${spec.pairs[2].nodes[1].internalAddress} ${served("pair-3").join(" ")}'`);
            expect(drop.script).toContain("PORTS=(8081 8082)");
            const syntax = bashSyntax(stepCommand(drop.name, drop.script, { user: "root", check: false, owner: "x" }));
            expect(syntax.code, syntax.stderr).toBe(0);
        }
        expect(steps(spec, 1, 0).some((s) => s.name === "drop-unserved")).toBe(false);
        // while shards move to pair-1, their copies there are not dropped
        const moving = growing((c) => { (c.pairs as any)[0].dropUnserved = true; (c.pairs as any)[2].retire = true; c.shards = planToConfig(grown); });
        const into1 = moving.shards.moves.filter((m) => m.to === "pair-1").map((m) => m.shard);
        expect(into1.length).toBeGreaterThan(0);
        expect(pairRouting(moving.shards, moving.pairs, "pair-1").drops.flatMap((d) => d.shards).some((s) => into1.includes(s))).toBe(false);
    });

    test("pairs[].dropUnserved must be a boolean", () => {
        expect(() => growing((c) => { (c.pairs as any)[0].dropUnserved = "yes"; })).toThrow(/pairs\[0\]\.dropUnserved/);
    });
});
