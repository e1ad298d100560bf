// Replication inside a pair: an rsyncd per node that only the peer may write
// to, lsyncd on both nodes pushing every domain to the peer (two-way, made
// safe by design), a first sync that merges both disks before lsyncd is first
// enabled, a refill of an empty or partial disk before lsyncd starts, a
// catch-up timer that compares and repairs the pair, tombstones that keep
// deleted files deleted, and a verify step on every apply. No step ever
// deletes a stored file the pair still holds live.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeSpec } from "../../config";
import {
    domainRootOf, DROPPED_DIRS, INTERNAL_DIR, LIB_DIR, LSYNCD_CONF, READY_DIR, readyFileOf, REPLICA_GROUP, REPLICA_MARKER, REPLICATION_STATE_DIR,
    RSYNC_PASSWORD, RSYNC_USER, RSYNCD_CONF, RSYNCD_SECRETS, UNIT_DIR, VERIFY_BIN, WEB_USER,
} from "../../lib/paths";
import { fileStep, serviceStep, type GateNeeds, type StepSpec } from "../../step/step";
import type { PairRouting } from "../moves/steps";
import { render, shq, shqList } from "../../step/template";
import { LSYNCD_CONFIG_STEP, REPLICATE_SCRIPT_STEP, RSYNCD_CONFIG_STEP } from "../../../policies/rules/step-names";
import { DIRS_PER_DOMAIN, inotifyWatchesNeeded } from "./config";

/** What the replication role reads from the cluster spec. */
export type ReplicationSettings = Pick<ClusterSpec, "domains" | "dataRoot" | "replication">;

/** Packages replication uses (rsyncd, the rsync client, lsyncd). */
export const REPLICATION_PACKAGES = ["rsync", "lsyncd"];

/** Secrets the replication role installs (Pulumi secrets, never in the spec). */
export interface ReplicationSecrets {
    /** `pairstore:rsyncSecret`, when rsync authentication is on. */
    rsyncSecret?: pulumi.Input<string>;
}

/** Where the node stands in its pair (see roles/index.ts NodePlace). */
export interface ReplicationPlace {
    /** Name of the pair's first node: its version wins a conflict (replicate repair). */
    owner: string;
    /** New to every run: the verify step runs on every apply. */
    runId: string;
    /** The shard moves of this run (its readers may read the refill modules); default none. */
    routing?: PairRouting;
}

/** The units a replicating node keeps active. */
export const REPLICATION_UNITS = ["pairstore-rsyncd.service", "pairstore-lsyncd.service", "pairstore-catchup.timer"];

/** What the node's health gate (end of the base phase) waits for: rsyncd answers the peer. */
export function replicationGate(): GateNeeds {
    return { units: [REPLICATION_UNITS[0]] };
}

/**
 * Seconds lsyncd's rsync waits before it replays deletes, then checks that
 * the image root is still intact (a wipe in progress has removed layout
 * folders by then).
 */
export const DELETE_SETTLE_SECONDS = 1;

/**
 * A tombstone is dropped only once neither node holds its file (both applied
 * the delete, the peer's root intact) and it is at least this old (never by
 * time alone: a node that still holds the file keeps it alive).
 */
export const TOMBSTONE_MIN_AGE_SECONDS = 7 * 24 * 3600;

/** Seconds the verify step waits for lsyncd to refill a recreated root before it fails. */
export const REFILL_TIMEOUT_SECONDS = 600;

/** Where lsyncd pushes a domain: the peer's write-only module (`[user@]peer::domain/`). */
export function lsyncdTarget(spec: ReplicationSettings, peer: NodeSpec, domain: string): string {
    return `${spec.replication.auth ? `${RSYNC_USER}@` : ""}${peer.internalAddress}::${domain}/`;
}

/**
 * rsyncd's config: one write-only module and one read-only refill module per
 * domain; only the peer may connect, and `readers` (nodes taking shards from
 * this pair, see moves/steps.ts) may read the refill module.
 */
export function renderRsyncdConf(spec: ReplicationSettings, node: NodeSpec, peer: NodeSpec, readers: string[] = []): string {
    const modules = spec.domains.map((d) => render("replication/rsyncd-module.conf", {
        domain: d.name, path: domainRootOf(spec.dataRoot, d.name), peer: peer.internalAddress, internal: INTERNAL_DIR, marker: REPLICA_MARKER,
        refill_hosts: [peer.internalAddress, ...readers].join(" "),
    })).join("");
    const auth = spec.replication.auth ? render("replication/rsyncd-auth.conf", { user: RSYNC_USER, secrets: RSYNCD_SECRETS }) : "";
    return render("replication/rsyncd.conf", {
        address: node.internalAddress,
        peer: peer.internalAddress,
        web_user: WEB_USER,
        replica_group: REPLICA_GROUP,
        // lsyncd's processes and the catch-up run at once, per domain
        max_connections: 4 * spec.domains.length * (spec.replication.maxProcesses + 1),
        auth: auth.trimEnd(),
        modules,
    });
}

/** lsyncd's config: one sync per domain toward the peer's module. */
export function renderLsyncdConf(spec: ReplicationSettings, peer: NodeSpec): string {
    const syncs = spec.domains.map((d) => render("replication/lsyncd-sync.lua", {
        domain: d.name,
        source: domainRootOf(spec.dataRoot, d.name),
        target: lsyncdTarget(spec, peer, d.name),
        delay: spec.replication.delay,
        wrapper: `${LIB_DIR}/lsyncd-rsync`,
        internal: INTERNAL_DIR,
        marker: REPLICA_MARKER,
        password_file: spec.replication.auth ? `\n        password_file = "${RSYNC_PASSWORD}",` : "",
    })).join("");
    return render("replication/lsyncd.conf.lua", {
        peer: peer.internalAddress, marker: REPLICA_MARKER, max_processes: spec.replication.maxProcesses, syncs,
    });
}

/** The helper that prepares image roots, applies tombstones, refills, merges, verifies and repairs (files/replication/replicate). */
export function renderReplicateScript(spec: ReplicationSettings, node: NodeSpec, peer: NodeSpec, owner: string): string {
    return render("replication/replicate", {
        peer: shq(peer.internalAddress),
        peer_name: shq(peer.name),
        node_name: shq(node.name),
        owner: owner === node.name ? 1 : 0,
        data_root: shq(spec.dataRoot),
        domains: shqList(spec.domains.map((d) => d.name)),
        web_user: shq(WEB_USER),
        replica_group: shq(REPLICA_GROUP),
        marker: shq(REPLICA_MARKER),
        internal: shq(INTERNAL_DIR),
        ready_dir: shq(READY_DIR),
        state_dir: shq(REPLICATION_STATE_DIR),
        rsync_user: spec.replication.auth ? RSYNC_USER : "''",
        password_file: shq(RSYNC_PASSWORD),
        tombstone_min_age: TOMBSTONE_MIN_AGE_SECONDS,
    });
}

/** lsyncd's rsync wrapper (files/replication/lsyncd-rsync): no echo, delete guard, tombstones, never replacing a file. */
export function renderLsyncdWrapper(spec: ReplicationSettings, peer: NodeSpec): string {
    return render("replication/lsyncd-rsync", {
        data_root: shq(spec.dataRoot),
        marker: shq(REPLICA_MARKER),
        internal: shq(INTERNAL_DIR),
        replica_group: shq(REPLICA_GROUP),
        settle: DELETE_SETTLE_SECONDS,
        peer_name: shq(peer.name),
        replicate: shq(`${LIB_DIR}/replicate`),
        web_user: shq(WEB_USER),
        dropped_dirs: shq(DROPPED_DIRS),
    });
}

/** Steps of a replicating node, in three phases (see NodePair for their order across the pair). */
export function replicationRole(spec: ReplicationSettings, node: NodeSpec, peer: NodeSpec, secrets: ReplicationSecrets, place: ReplicationPlace): StepSpec[] {
    const roots = spec.domains.map((d) => domainRootOf(spec.dataRoot, d.name));
    const rsyncdConf = renderRsyncdConf(spec, node, peer, place.routing?.readers);
    const lsyncdConf = renderLsyncdConf(spec, peer);
    const replicate = renderReplicateScript(spec, node, peer, place.owner);
    const wrapper = renderLsyncdWrapper(spec, peer);
    const verify = render("replication/pairstore-verify", { peer_name: peer.name, replicate: `${LIB_DIR}/replicate` });
    const checkRsyncd = render("replication/check-rsyncd-conf", {});
    const checkLsyncd = render("replication/check-lsyncd-conf", {});
    const unitVars = { peer: peer.internalAddress, data_root: spec.dataRoot, lib: LIB_DIR };
    const rsyncdUnit = render("replication/pairstore-rsyncd.service", { ...unitVars, conf: RSYNCD_CONF });
    const lsyncdUnit = render("replication/pairstore-lsyncd.service", { ...unitVars, conf: LSYNCD_CONF });
    const catchupService = render("replication/pairstore-catchup.service", unitVars);
    const catchupTimer = render("replication/pairstore-catchup.timer", { interval: spec.replication.catchUpInterval });
    const auth = spec.replication.auth;
    if (auth && secrets.rsyncSecret === undefined) {
        throw new Error("pairstore:rsyncSecret is set but was not passed to the replication role");
    }
    const rsyncdValidate = [`${LIB_DIR}/check-rsyncd-conf`, "{}", peer.internalAddress, ...(auth ? [RSYNC_USER, RSYNC_PASSWORD] : [])].join(" ");

    const base: StepSpec[] = [
        {
            kind: "script",
            name: "replication-dirs",
            phase: "base",
            script: render("replication/replication-dirs.sh", {
                roots: shqList(roots), web_user: shq(WEB_USER), marker: shq(REPLICA_MARKER), internal: shq(INTERNAL_DIR), replica_group: shq(REPLICA_GROUP),
            }),
            deleteScript: render("replication/replication-dirs-delete.sh", { roots: roots.join(" ") }),
        },
        ...(auth ? [{
            kind: "script",
            name: "rsync-secret",
            phase: "base",
            script: render("replication/rsync-secret.sh", { user: RSYNC_USER, secrets: shq(RSYNCD_SECRETS), password: shq(RSYNC_PASSWORD) }),
            stdin: secrets.rsyncSecret,
            // The secret's digest cannot be computed at plan time; rsync reads both files per connection, so no handler needs it.
            stdinDigest: "pairstore:rsyncSecret",
            secret: true,
            deleteScript: `rm -f ${shq(RSYNCD_SECRETS)} ${shq(RSYNC_PASSWORD)}\n`,
        } satisfies StepSpec] : []),
        fileStep("rsyncd-check-script", { path: `${LIB_DIR}/check-rsyncd-conf`, content: checkRsyncd, mode: "755", validate: "bash -n {}" }),
        fileStep("lsyncd-check-script", { path: `${LIB_DIR}/check-lsyncd-conf`, content: checkLsyncd, mode: "755", validate: "bash -n {}" }),
        fileStep(RSYNCD_CONFIG_STEP, { path: RSYNCD_CONF, content: rsyncdConf, validate: rsyncdValidate }),
        fileStep("rsyncd-unit", { path: `${UNIT_DIR}/pairstore-rsyncd.service`, content: rsyncdUnit }),
        serviceStep("rsyncd-service", "pairstore-rsyncd.service", [rsyncdConf, rsyncdUnit], "restart"),
        fileStep(REPLICATE_SCRIPT_STEP, { path: `${LIB_DIR}/replicate`, content: replicate, mode: "755", validate: "bash -n {}" }),
        fileStep("verify-script", { path: VERIFY_BIN, content: verify, mode: "755", validate: "bash -n {}" }),
        fileStep("lsyncd-rsync-script", { path: `${LIB_DIR}/lsyncd-rsync`, content: wrapper, mode: "755", validate: "bash -n {}" }),
        fileStep(LSYNCD_CONFIG_STEP, { path: LSYNCD_CONF, content: lsyncdConf, validate: `${LIB_DIR}/check-lsyncd-conf {}` }),
        fileStep("lsyncd-unit", { path: `${UNIT_DIR}/pairstore-lsyncd.service`, content: lsyncdUnit }),
        fileStep("catchup-service-unit", { path: `${UNIT_DIR}/pairstore-catchup.service`, content: catchupService }),
        fileStep("catchup-timer-unit", { path: `${UNIT_DIR}/pairstore-catchup.timer`, content: catchupTimer }),
        {
            kind: "script",
            name: "replication-inotify",
            phase: "base",
            script: render("replication/replication-inotify.sh", {
                roots: shqList(roots), layout_dirs: DIRS_PER_DOMAIN, needed: inotifyWatchesNeeded(spec.domains.length),
            }),
        },
    ];
    const merge: StepSpec[] = [{
        kind: "script",
        name: "replication-merge",
        phase: "merge",
        script: render("replication/replication-merge.sh", { replicate: shq(`${LIB_DIR}/replicate`) }),
    }];
    const activate: StepSpec[] = [
        serviceStep("lsyncd-service", "pairstore-lsyncd.service", [lsyncdConf, lsyncdUnit, replicate, wrapper, rsyncdConf], "restart", "activate"),
        serviceStep("catchup-timer", "pairstore-catchup.timer", [catchupService, catchupTimer, replicate], "restart", "activate"),
    ];
    return [...base, ...merge, ...activate];
}

/**
 * The node's verify step (activate phase, after the replication health
 * gate): on every apply (its script carries the run id) it recreates and
 * refills a wiped or replaced image root, then compares the pair and repairs
 * it; in check mode it reports each difference. Preview therefore always
 * lists it as an update.
 */
export function replicationVerifyStep(spec: ReplicationSettings, place: ReplicationPlace): StepSpec {
    return {
        kind: "script",
        name: "replication-verify",
        phase: "activate",
        script: render("replication/replication-verify.sh", {
            run_id: place.runId.replace(/[^A-Za-z0-9:. -]/g, ""),
            replicate: shq(`${LIB_DIR}/replicate`),
            ready_files: shqList(spec.domains.map((d) => readyFileOf(d.name))),
            refill_timeout: REFILL_TIMEOUT_SECONDS,
        }),
    };
}
