// The step layer: one step = one idempotent converge script run over SSH by
// @pulumi/command's remote.Command. create and update run the same script;
// file content travels on stdin so `pulumi preview --diff` shows the text.
import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { SshSpec } from "../config";
import { digest, readTemplate, render, shq, shqList } from "./template";

/**
 * A step as pure data: what roles return and tests inspect. Either a script
 * run over SSH (`kind: "script"`) or a file copied from the machine running
 * the program (`kind: "copy"`); switch over `kind` exhaustively.
 */
export type StepSpec = ScriptStep | CopyStep;

/** What every step has. */
interface StepBase {
    /** Unique within a node; the resource is named `<node>-<name>`. */
    name: string;
    /**
     * When the step runs inside its pair. A pair runs both nodes' "prepare"
     * steps at once (they change nothing a node serves with: packages, the
     * nginx binary built beside the running one), the first node's "base"
     * steps, then the second node's, then both nodes' "merge" steps, then
     * both nodes' "activate" steps, then both nodes' "move" steps at once,
     * once the pairs they copy from are done, then both nodes' "drop" steps
     * at once, once the pairs serving the shards are ready (see NodePair).
     */
    phase: StepPhase;
}

/** An idempotent converge script run over SSH (`remote.Command`). */
export interface ScriptStep extends StepBase {
    kind: "script";
    /** Body of the converge script (bash), run after files/steps/prelude.sh. */
    script: string;
    /** Content handed to the script on stdin (the file it manages). */
    stdin?: pulumi.Input<string>;
    /** Body of the script run when the step is removed from the program. */
    deleteScript?: string;
    /** The step carries a secret: its output is not logged and stays secret. */
    secret?: boolean;
    /** Stands in for stdin in the node revision when stdin is not plain text. */
    stdinDigest?: string;
    /** Only a copy step copies. */
    copy?: never;
}

/** A file copied from the machine running the program to the host (`remote.CopyToRemote`). */
export interface CopyStep extends StepBase {
    kind: "copy";
    /** What to copy where; `sha256` ties the node revision to the file's bytes. */
    copy: { localPath: string; remotePath: string; sha256: string };
    /** The file's sha256: stands in for its content in the node revision. */
    stdinDigest: string;
    /** Always empty: a copy step runs no script (kept so every step has a `script` to read). */
    script: "";
    /** Only a script step has stdin. */
    stdin?: never;
    /** A copied file is left in place when the step is removed. */
    deleteScript?: never;
    /** A copied file is not secret. */
    secret?: never;
}

/** The phases of a node's steps, in the order a pair runs them. */
export const PHASES = ["prepare", "base", "merge", "activate", "move", "drop"] as const;
export type StepPhase = (typeof PHASES)[number];

/** Options of a rendered script. */
export interface ScriptOptions {
    /** Render in check mode: report what would change, change nothing. */
    check: boolean;
    /**
     * Who owns what the step manages on the host (the resource's name): a
     * delete removes a path only while it still belongs to its step, so the
     * delete of a renamed or moved step never removes what its successor
     * (created first) now manages. "" for steps that run on the machine
     * running Pulumi, which claim nothing. Default: the step name.
     */
    owner?: string;
    /** The node's generation: raising it changes every script of the node, so every step runs again. */
    generation?: number;
    /** A delete script: it runs only while the step still owns what it manages (files/steps/delete-guard.sh). */
    delete?: boolean;
}

/** Options of a rendered command. */
export interface CommandOptions extends ScriptOptions {
    /** Login user; anything but root runs the script through `sudo -n`. */
    user: string;
}

/** The SSH connection of a remote.Command: the pinned host key, the private key kept secret, retries while a host boots. */
export function sshConnection(ssh: SshSpec, privateKey: pulumi.Input<string>): command.types.input.remote.ConnectionArgs {
    return {
        host: ssh.host,
        port: ssh.port,
        user: ssh.user,
        privateKey: pulumi.secret(privateKey),
        hostKey: ssh.hostKey,
        dialErrorLimit: 20,
        perDialTimeout: 10,
    };
}

/** The full script text of a step body: prelude, body, final changed/ok line. */
export function stepScript(name: string, body: string, opts: ScriptOptions): string {
    // CHECK lives in the script text: sshd drops environment it does not AcceptEnv.
    const prelude = render("steps/prelude.sh", {
        step: shq(name), check: opts.check ? 1 : 0, owner: shq(opts.owner ?? name), generation: opts.generation ?? 0,
    });
    return opts.delete
        ? prelude + readTemplate("steps/delete-guard.sh") + body + readTemplate("steps/delete-finish.sh")
        : prelude + body + readTemplate("steps/finish.sh");
}

/** The command line remote.Command runs: the script as one `bash -c` word. */
export function stepCommand(name: string, body: string, opts: CommandOptions): string {
    const cmd = `bash -c ${shq(stepScript(name, body, opts))}`;
    return opts.user === "root" ? cmd : `sudo -n ${cmd}`;
}

/**
 * The check-mode twin of a step command stepCommand rendered (the same
 * script with `CHECK=1`: it reports what it would change and changes
 * nothing); undefined for a command that is not a converge step of
 * pairstore's, or already one in check mode.
 */
export function checkModeCommand(cmd: string): string | undefined {
    const lines = cmd.split("\n");
    const at = lines.flatMap((l, i) => (l === "CHECK=0" ? [i] : []));
    if (at.length !== 1 || !cmd.includes("# pairstore converge-step prelude:")) return undefined;
    lines[at[0]] = "CHECK=1";
    return lines.join("\n");
}

/** A revision string that changes whenever any of the steps would run differently. */
export function revisionOf(steps: StepSpec[]): string {
    return digest(...steps.flatMap((s) => [s.name, ...revisionParts(s)]));
}

/** A step's script and the stand-in of its stdin, as revisionOf digests them. */
function revisionParts(s: StepSpec): [string, string] {
    switch (s.kind) {
        case "script":
            return [s.script, typeof s.stdin === "string" ? s.stdin : s.stdinDigest ?? ""];
        case "copy":
            return ["", s.stdinDigest];
        default: {
            const _never: never = s;
            return _never;
        }
    }
}

/** A managed file: content on stdin, installed atomically, validated first when `validate` is given. */
export function fileStep(name: string, file: { path: string; content: string; mode?: string; validate?: string }, phase: StepPhase = "base"): ScriptStep {
    return {
        kind: "script",
        name,
        phase,
        script: render("steps/file.sh", {
            path: shq(file.path),
            mode: file.mode ?? "644",
            validate: shq(file.validate ?? ""),
        }),
        stdin: file.content,
        deleteScript: render("steps/file-delete.sh", { path: shq(file.path) }),
    };
}

/** A systemd unit handler: (re)starts `unit` only when `served` (its files' content) changed. */
export function serviceStep(
    name: string, unit: string, served: string[], action: "restart" | "reload" | "none", phase: StepPhase = "base",
): ScriptStep {
    return {
        kind: "script",
        name,
        phase,
        script: render("steps/service.sh", { unit: shq(unit), hash: digest(...served), action }),
        deleteScript: render("steps/service-delete.sh", { unit: shq(unit) }),
    };
}

/** A step that copies a local file to the host (see CopyStep). */
export function copyStep(name: string, copy: { localPath: string; remotePath: string; sha256: string }, phase: StepPhase = "base"): CopyStep {
    return { kind: "copy", name, phase, script: "", copy, stdinDigest: copy.sha256 };
}

/**
 * What one role asks its node's health gate to wait for; each role module
 * exports a function returning it, and roles/index.ts gathers them in role order.
 */
export interface GateNeeds {
    /** systemd units that must be active. */
    units?: string[];
    /** Mount points that must be mounted. */
    mounts?: string[];
    /** URLs that must answer 200 (asked on the node). */
    urls?: string[];
    /** Addresses the node must hold, as `interface=address/prefix`. */
    addresses?: string[];
    /** Seconds the gate must be willing to wait for this role (the gate waits at least 60). */
    waitSeconds?: number;
}

/** What the health gate waits for, besides units and mounts. */
export interface HealthOptions {
    /** URLs that must answer 200 (asked on the node). */
    urls?: string[];
    /** Addresses the node must hold, as `interface=address/prefix` (heartbeat's resources). */
    addresses?: string[];
    /** Seconds the gate waits before it fails. */
    timeoutSeconds?: number;
    /** Step name (a node has more than one gate: "health", "replication-health"). */
    name?: string;
    /** Files that must exist (flags other services leave, such as a domain's ready flag). */
    files?: string[];
    /** The phase the gate ends (default "base"). */
    phase?: StepPhase;
}

/** The health gate of a node: waits until its units are active, mounts in place, URLs answer 200 and addresses are up. */
export function healthStep(revision: string, units: string[], mounts: string[], opts: HealthOptions = {}): ScriptStep {
    return {
        kind: "script",
        name: opts.name ?? "health",
        phase: opts.phase ?? "base",
        script: render("steps/health.sh", {
            revision,
            units: shqList(units),
            mounts: shqList(mounts),
            urls: shqList(opts.urls ?? []),
            addresses: shqList(opts.addresses ?? []),
            files: shqList(opts.files ?? []),
            timeout: opts.timeoutSeconds ?? 60,
        }),
    };
}
