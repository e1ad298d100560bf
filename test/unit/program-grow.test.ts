// A pair joining a running cluster installs an existing pair's nginx build
// instead of compiling it. Its own file: mocks are process-global.
import * as pulumi from "@pulumi/pulumi";
import { expect, test } from "vitest";
import { planShards, planToConfig } from "../../components/lib/shards";
import { clusterConfig, pulumiConfigMap, SECRET_KEYS } from "./fixtures";
import { startRecording } from "../engine/record";

test("a joining pair's first node installs the first existing pair's build once that node is healthy; nobody else waits", async () => {
    const raw: any = { ...clusterConfig(3), shards: planToConfig(planShards(["pair-1", "pair-2"], 1)) };
    const recording = startRecording(pulumiConfigMap(raw), SECRET_KEYS);
    const records = recording.records;
    const { program } = await import("../../components/program");
    await pulumi.runtime.runInPulumiStack(async () => program());
    await recording.settle();
    const cmd = (name: string) => records.find((r) => r.name === name)!;
    const deps = (name: string) => [...cmd(name).dependencies].sort();
    expect(deps("node-3a-nginx-build")).toEqual([cmd("node-3a-packages").urn, cmd("node-1a-nginx-build").urn, cmd("node-1a-health").urn].sort());
    expect(cmd("node-3a-nginx-build").inputs.create).toContain(`DONOR_URL=http://${raw.pairs[0].nodes[0].internalAddress}:8081/.pairstore/nginx-build/`);
    // its second node installs node-3a's; the existing pairs compile (or keep) their own
    expect(deps("node-3b-nginx-build")).toEqual([cmd("node-3b-packages").urn, cmd("node-3a-nginx-build").urn, cmd("node-3a-health").urn].sort());
    for (const n of ["node-1a", "node-2a"]) expect(deps(`${n}-nginx-build`)).toEqual([cmd(`${n}-packages`).urn]);
    // node-1a lets the other pairs' nodes fetch it
    const site = cmd("node-1a-nginx-site-example.com").inputs.stdin as string;
    const location = site.slice(site.indexOf("location ^~ /.pairstore/nginx-build/"));
    for (const n of raw.pairs.flatMap((p: any) => p.nodes).filter((n: any) => n.name !== "node-1a")) {
        expect(location.slice(0, location.indexOf("deny all;"))).toContain(`allow ${n.internalAddress};`);
    }
});
