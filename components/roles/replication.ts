// Replication inside a pair: an rsyncd per node that only the peer may write
// to, lsyncd on both nodes pushing every domain to the peer (two-way, made
// safe by design), a first sync that merges both disks before lsyncd is first
// enabled, a refill of an empty or partial disk before lsyncd starts, and a
// catch-up timer. No step ever deletes stored files.
import * as pulumi from "@pulumi/pulumi";
import { DIRS_PER_DOMAIN, inotifyWatchesNeeded, type ClusterSpec, type NodeSpec } from "../config";
import {
    domainRootOf, LIB_DIR, LSYNCD_CONF, REPLICA_MARKER, RSYNC_PASSWORD, RSYNC_USER, RSYNCD_CONF, RSYNCD_SECRETS, UNIT_DIR, WEB_USER,
} from "../paths";
import { fileStep, serviceStep, type StepSpec } from "../host/step";
import { render, shq, shqList } from "../host/template";

/** What the replication role reads from the cluster spec. */
export type ReplicationSettings = Pick<ClusterSpec, "domains" | "dataRoot" | "replication">;

/** Secrets the replication role installs (Pulumi secrets, never in the spec). */
export interface ReplicationSecrets {
    /** `pairstore:rsyncSecret`, when rsync authentication is on. */
    rsyncSecret?: pulumi.Input<string>;
}

/** The units a replicating node keeps active. */
export const REPLICATION_UNITS = ["pairstore-rsyncd.service", "pairstore-lsyncd.service", "pairstore-catchup.timer"];

/**
 * A file whose ctime lies this many milliseconds after its mtime came from
 * the peer (rsync keeps the sender's mtime; replication takes at least this
 * long), so lsyncd does not push it back. A file written locally has its
 * ctime at its mtime.
 */
export const ECHO_MS = 200;

/**
 * Seconds lsyncd's rsync waits before it replays deletes, then checks that
 * the image root is still intact (a wipe in progress has removed layout
 * folders by then).
 */
export const DELETE_SETTLE_SECONDS = 1;

/** Where lsyncd pushes a domain: the peer's write-only module (`[user@]peer::domain/`). */
export function lsyncdTarget(spec: ReplicationSettings, peer: NodeSpec, domain: string): string {
    return `${spec.replication.auth ? `${RSYNC_USER}@` : ""}${peer.internalAddress}::${domain}/`;
}

/** rsyncd's config: one write-only module and one read-only refill module per domain; only the peer may connect. */
export function renderRsyncdConf(spec: ReplicationSettings, node: NodeSpec, peer: NodeSpec): string {
    const modules = spec.domains.map((d) => render("replication/rsyncd-module.conf", {
        domain: d.name, path: domainRootOf(spec.dataRoot, d.name), peer: peer.internalAddress,
    })).join("");
    const auth = spec.replication.auth ? render("replication/rsyncd-auth.conf", { user: RSYNC_USER, secrets: RSYNCD_SECRETS }) : "";
    return render("replication/rsyncd.conf", {
        address: node.internalAddress,
        peer: peer.internalAddress,
        web_user: WEB_USER,
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
        password_file: spec.replication.auth ? `\n        password_file = "${RSYNC_PASSWORD}",` : "",
    })).join("");
    return render("replication/lsyncd.conf.lua", {
        peer: peer.internalAddress, marker: REPLICA_MARKER, max_processes: spec.replication.maxProcesses, syncs,
    });
}

/** The helper that prepares image roots, pulls (first sync, refill) and pushes (catch-up). */
export function renderReplicateScript(spec: ReplicationSettings, peer: NodeSpec): string {
    return render("replication/replicate", {
        peer: shq(peer.internalAddress),
        data_root: shq(spec.dataRoot),
        domains: shqList(spec.domains.map((d) => d.name)),
        web_user: shq(WEB_USER),
        marker: shq(REPLICA_MARKER),
        rsync_user: spec.replication.auth ? RSYNC_USER : "''",
        password_file: shq(RSYNC_PASSWORD),
    });
}

/** Steps of a replicating node, in three phases (see NodePair for their order across the pair). */
export function replicationRole(spec: ReplicationSettings, node: NodeSpec, peer: NodeSpec, secrets: ReplicationSecrets = {}): StepSpec[] {
    const roots = spec.domains.map((d) => domainRootOf(spec.dataRoot, d.name));
    const rsyncdConf = renderRsyncdConf(spec, node, peer);
    const lsyncdConf = renderLsyncdConf(spec, peer);
    const replicate = renderReplicateScript(spec, peer);
    const wrapper = render("replication/lsyncd-rsync", { data_root: shq(spec.dataRoot), marker: shq(REPLICA_MARKER), echo_ms: ECHO_MS, settle: DELETE_SETTLE_SECONDS });
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
            name: "replication-dirs",
            script: render("steps/replication-dirs.sh", { roots: shqList(roots), web_user: shq(WEB_USER), marker: shq(REPLICA_MARKER) }),
            deleteScript: render("steps/replication-dirs-delete.sh", { roots: roots.join(" ") }),
        },
        ...(auth ? [{
            name: "rsync-secret",
            script: render("steps/rsync-secret.sh", { user: RSYNC_USER, secrets: shq(RSYNCD_SECRETS), password: shq(RSYNC_PASSWORD) }),
            stdin: secrets.rsyncSecret,
            // The secret's digest cannot be computed at plan time; rsync reads both files per connection, so no handler needs it.
            stdinDigest: "pairstore:rsyncSecret",
            secret: true,
            deleteScript: `rm -f ${shq(RSYNCD_SECRETS)} ${shq(RSYNC_PASSWORD)}\n`,
        } satisfies StepSpec] : []),
        fileStep("rsyncd-check-script", { path: `${LIB_DIR}/check-rsyncd-conf`, content: checkRsyncd, mode: "755", validate: "bash -n {}" }),
        fileStep("lsyncd-check-script", { path: `${LIB_DIR}/check-lsyncd-conf`, content: checkLsyncd, mode: "755", validate: "bash -n {}" }),
        fileStep("rsyncd-config", { path: RSYNCD_CONF, content: rsyncdConf, validate: rsyncdValidate }),
        fileStep("rsyncd-unit", { path: `${UNIT_DIR}/pairstore-rsyncd.service`, content: rsyncdUnit }),
        serviceStep("rsyncd-service", "pairstore-rsyncd.service", [rsyncdConf, rsyncdUnit], "restart"),
        fileStep("replicate-script", { path: `${LIB_DIR}/replicate`, content: replicate, mode: "755", validate: "bash -n {}" }),
        fileStep("lsyncd-rsync-script", { path: `${LIB_DIR}/lsyncd-rsync`, content: wrapper, mode: "755", validate: "bash -n {}" }),
        fileStep("lsyncd-config", { path: LSYNCD_CONF, content: lsyncdConf, validate: `${LIB_DIR}/check-lsyncd-conf {}` }),
        fileStep("lsyncd-unit", { path: `${UNIT_DIR}/pairstore-lsyncd.service`, content: lsyncdUnit }),
        fileStep("catchup-service-unit", { path: `${UNIT_DIR}/pairstore-catchup.service`, content: catchupService }),
        fileStep("catchup-timer-unit", { path: `${UNIT_DIR}/pairstore-catchup.timer`, content: catchupTimer }),
        {
            name: "replication-inotify",
            script: render("steps/replication-inotify.sh", {
                roots: shqList(roots), layout_dirs: DIRS_PER_DOMAIN, needed: inotifyWatchesNeeded(spec.domains.length),
            }),
        },
    ];
    const merge: StepSpec[] = [{
        name: "replication-merge",
        script: render("steps/replication-merge.sh", { replicate: shq(`${LIB_DIR}/replicate`) }),
        phase: "merge",
    }];
    const activate: StepSpec[] = [
        { ...serviceStep("lsyncd-service", "pairstore-lsyncd.service", [lsyncdConf, lsyncdUnit, replicate, wrapper, rsyncdConf], "restart"), phase: "activate" },
        { ...serviceStep("catchup-timer", "pairstore-catchup.timer", [catchupService, catchupTimer, replicate], "restart"), phase: "activate" },
    ];
    return [...base, ...merge, ...activate];
}
