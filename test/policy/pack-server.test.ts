// The real pack, served: starts policies/index.ts the way the Pulumi CLI does
// (a process in policies/ that prints its gRPC port), then sends it the
// Analyze / AnalyzeStack requests the engine sends, built from the captured
// program (secrets marked as on the wire). Proves the pack starts, and that
// secret tracking works through the SDK's real server. Network: loopback only.
import { spawn, type ChildProcess } from "child_process";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Recorded as Registered } from "../engine/record";
import { clone, COMMAND, find, plain } from "./fixtures";
import { validStack } from "./stack";

const ROOT = path.join(__dirname, "..", "..");
const POLICIES = path.join(ROOT, "policies");
const NM = path.join(POLICIES, "node_modules");
/* eslint-disable @typescript-eslint/no-var-requires */
const grpc = require(path.join(NM, "@grpc/grpc-js"));
const services = require(path.join(NM, "@pulumi/pulumi/proto/analyzer_grpc_pb"));
const pb = require(path.join(NM, "@pulumi/pulumi/proto/analyzer_pb"));
const { Struct } = require(path.join(NM, "google-protobuf/google/protobuf/struct_pb"));
/* eslint-enable @typescript-eslint/no-var-requires */

let pack: ChildProcess;
let client: any;
let stack: Registered[];

beforeAll(async () => {
    stack = await validStack();
    pack = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), ["index.ts"], { cwd: POLICIES, stdio: ["ignore", "pipe", "pipe"] });
    const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        let err = "";
        const timer = setTimeout(() => reject(new Error(`policy pack did not start in 60 s:\n${out}\n${err}`)), 60_000);
        pack.stdout!.on("data", (d) => {
            out += d;
            const m = out.match(/^(\d+)\s*$/m);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        pack.stderr!.on("data", (d) => (err += d));
        pack.on("exit", (code) => reject(new Error(`policy pack exited ${code}:\n${out}\n${err}`)));
    });
    client = new services.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 90_000);

afterAll(() => {
    client?.close();
    if (pack && pack.exitCode === null) pack.kill();
});

const call = <T>(method: string, req: unknown) =>
    new Promise<T>((resolve, reject) => client[method](req, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));

function options(r: Registered) {
    const o = new pb.AnalyzerResourceOptions();
    o.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
    o.setParent(r.parent);
    return o;
}

/** What `pulumi preview --policy-pack ./policies` sends: Analyze per resource (inputs), then AnalyzeStack (outputs). */
async function preview(rs: Registered[]): Promise<{ policy: string; message: string }[]> {
    const found: { policy: string; message: string }[] = [];
    const take = (resp: any) => {
        for (const d of resp.getDiagnosticsList()) found.push({ policy: d.getPolicyname(), message: d.getMessage() });
    };
    for (const r of rs) {
        const req = new pb.AnalyzeRequest();
        req.setUrn(r.urn);
        req.setType(r.type);
        req.setName(r.name);
        req.setProperties(Struct.fromJavaScript(r.inputs));
        req.setOptions(options(r));
        take(await call("analyze", req));
    }
    const req = new pb.AnalyzeStackRequest();
    req.setResourcesList(rs.map((r) => {
        const ar = new pb.AnalyzerResource();
        ar.setUrn(r.urn);
        ar.setType(r.type);
        ar.setName(r.name);
        ar.setProperties(Struct.fromJavaScript(r.outputs));
        ar.setOptions(options(r));
        ar.setParent(r.parent);
        ar.setDependenciesList(r.dependencies);
        return ar;
    }));
    take(await call("analyzeStack", req));
    return found;
}

describe("the served policy pack", () => {
    it("announces its six policies and their config schemas", async () => {
        const info: any = await call("getAnalyzerInfo", new (require(path.join(NM, "google-protobuf/google/protobuf/empty_pb")).Empty)());
        expect(info.getName()).toBe("pairstore");
        const policies = info.getPoliciesList().map((p: any) => p.getName());
        expect(policies).toEqual(["servers-only-in-pairs", "pair-peers", "shard-coverage", "host-keys-pinned", "secrets-stay-secret", "kernel-guard-rails"]);
        expect(info.getSupportsconfig()).toBe(true);
    });

    it("passes the valid stack", async () => {
        expect(await preview(stack)).toEqual([]);
    });

    it("reports a plain private key, a pair of one and tcp_tw_recycle, through the real server", async () => {
        const rs = clone(stack).filter((r) => r.name !== "d1" && !r.name.startsWith("d1-"));
        const conn = find(rs, COMMAND, "a1-limits");
        conn.inputs.connection = plain(conn.inputs.connection);
        const sysctl = find(rs, COMMAND, "b1-sysctl");
        sysctl.inputs.stdin = sysctl.inputs.stdin.replace("tcp_tw_recycle = 0", "tcp_tw_recycle = 1");
        const found = await preview(rs);
        expect(found.map((f) => f.policy).sort()).toEqual(["kernel-guard-rails", "secrets-stay-secret", "secrets-stay-secret", "servers-only-in-pairs"]);
        expect(found).toContainEqual({ policy: "servers-only-in-pairs", message: expect.stringContaining("NodePair p2 has one node: node c1 stands alone") });
        expect(found).toContainEqual({ policy: "secrets-stay-secret", message: expect.stringContaining('step "limits" of node a1 (a1-limits): connection.privateKey is plain text') });
        expect(found).toContainEqual({ policy: "kernel-guard-rails", message: expect.stringContaining('step "sysctl" of node b1 (b1-sysctl) sets net.ipv4.tcp_tw_recycle = 1') });
    });
});
