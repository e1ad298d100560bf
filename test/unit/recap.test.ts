// The lab's apply recap (test/lab/recap.ts): per host, as Ansible's PLAY RECAP.
import { describe, expect, it } from "vitest";
import { applyRecap, formatRecap } from "../lab/recap";

const urn = (type: string, name: string) => `urn:pulumi:lab::pairstore::${type}::${name}`;
const STEP = "pairstore:index:NodePair$pairstore:index:StorageNode$command:remote:Command";

describe("applyRecap", () => {
    const result = {
        urns: [
            urn("pulumi:pulumi:Stack", "pairstore-lab"),
            urn("pairstore:index:NodePair", "pair-1"),
            urn("pairstore:index:NodePair$pairstore:index:StorageNode", "node-1a"),
            urn("pairstore:index:NodePair$pairstore:index:StorageNode", "node-1b"),
            urn(STEP, "node-1a-packages"), urn(STEP, "node-1a-nginx-build"), urn(STEP, "node-1a-health"),
            urn(STEP, "node-1b-packages"), urn(STEP, "node-1b-nginx-build"),
            urn("pairstore:index:ShardDns$command:local:Command", "example.com-rfc2136"),
        ],
        created: ["node-1a-nginx-build", "node-1b-nginx-build"],
        updated: ["example.com-rfc2136"],
        replaced: [],
        unchanged: ["pairstore-lab", "pair-1", "node-1a", "node-1b", "node-1a-packages", "node-1b-packages"],
        deleted: ["node-1a-old-step", "node-2a-packages"],
        skipped: ["node-1a-health"],
        changedSteps: ["node-1a-nginx-build", "example.com-rfc2136"],
        failed: [{ name: "node-1b-nginx-build", message: "make failed" }],
        timings: {
            "node-1a-nginx-build": [1000, 61_000] as [number, number],
            "node-1b-nginx-build": [2000, 32_000] as [number, number],
            "example.com-rfc2136": [70_000, 71_500] as [number, number],
        },
    };

    it("counts each host's steps as ok, changed, failed, skipped and deleted, components left out", () => {
        const rows = applyRecap(result, ["node-1a", "node-1b", "node-2a"]);
        expect(rows.map((r) => [r.host, r.ok, r.changed, r.failed, r.skipped, r.deleted])).toEqual([
            ["node-1a", 1, 1, 0, 1, 1],
            ["node-1b", 1, 0, 1, 0, 0],
            ["node-2a", 0, 0, 0, 0, 1],
            ["other", 0, 1, 0, 0, 0],
        ]);
    });

    it("times each host from its first step's start to its last step's end, slowest steps first", () => {
        const rows = applyRecap(result, ["node-1a", "node-1b"]);
        expect(rows.find((r) => r.host === "node-1a")).toMatchObject({ seconds: 60, slowest: [["node-1a-nginx-build", 60]] });
        expect(rows.find((r) => r.host === "other")?.seconds).toBe(1.5);
        expect(rows.find((r) => r.host === "node-2a")).toBeUndefined();
    });

    it("prints one line per host", () => {
        const text = formatRecap(applyRecap(result, ["node-1a", "node-1b"]));
        expect(text.split("\n")).toEqual([
            "APPLY RECAP",
            "node-1a : ok=1 changed=1 failed=0 skipped=1 deleted=1 time=60.0s (slowest: nginx-build 60.0)",
            "node-1b : ok=1 changed=0 failed=1 skipped=0 deleted=0 time=30.0s (slowest: nginx-build 30.0)",
            "other   : ok=0 changed=1 failed=0 skipped=0 deleted=1 time=1.5s (slowest: example.com-rfc2136 1.5)",
        ]);
    });
});
