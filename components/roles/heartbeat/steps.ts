// heartbeat (Debian's heartbeat 3.0.6, R1 mode) and the failover monitor:
// each node owns its public IP and its virtual IPs (IPaddr_gw: IPaddr2, a
// duplicate address check before an address comes up, and the default route
// for the public IP); heartbeat moves them to the peer when a node dies,
// beating on every configured path (the internal network and each
// heartbeatPaths link). The monitor stops heartbeat when nginx stops
// answering or the public gateway is lost, so the peer takes them then too,
// and it carries the pair through a heartbeat partition without a duplicate
// address and through its heal without an outage (files/heartbeat/failover-monitor).
// The authkey is a Pulumi secret and travels only on the secret stdin of the
// `heartbeat-authkeys` step.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeSpec } from "../../config";
import type { HeartbeatSpec } from "./config";
import { fileStep, serviceStep, type GateNeeds, type StepSpec } from "../../step/step";
import { digest, render, shq, shqList } from "../../step/template";
import {
    FAILOVER_DEFERRED_DIR, FAILOVER_GATEWAY_STATE, FAILOVER_SPLIT, FAILOVER_STATUS, FAILOVER_UNIT, HA_DIR, HEARTBEAT_LINKS_UNIT, HEARTBEAT_UNIT,
    IPADDR_GW, LIB_DIR, NGINX_UNIT, UNIT_DIR,
} from "../../lib/paths";
import { HEARTBEAT_CONFIG_STEP } from "../../../policies/rules/step-names";
import { nginxHealthUrls } from "../nginx/sites";

type HeartbeatRoleSpec = Pick<ClusterSpec, "domains" | "heartbeat">;

/**
 * heartbeat (R1); it brings the OCF resource agents (IPaddr2) and iproute2
 * that IPaddr_gw uses. iputils-arping: IPaddr_gw's duplicate address check
 * (`arping -D`) before it brings an address up, and the monitor's gateway and
 * peer checks on the public interface.
 */
export const HEARTBEAT_PACKAGES = ["heartbeat", "iputils-arping"];

/** Secrets heartbeat needs, as Pulumi inputs (never plain config). */
export interface HeartbeatSecrets {
    /** The shared key of the pair's heartbeats (authkeys, sha1). */
    heartbeatAuthKey: pulumi.Input<string>;
}

/** The two nodes of a pair sorted by name: ha.cf and haresources list them in one order on both nodes. */
export function pairNodes(node: NodeSpec, peer: NodeSpec): [NodeSpec, NodeSpec] {
    return node.name < peer.name ? [node, peer] : [peer, node];
}

/** The service monitor's script. */
export const FAILOVER_SCRIPT = `${LIB_DIR}/failover-monitor`;
/** The script that brings up the static addresses of the extra heartbeat paths. */
export const HEARTBEAT_LINKS_SCRIPT = `${LIB_DIR}/heartbeat-links`;

/**
 * The duplicate address check (arping -D) before an address comes up, and the
 * monitor's ARP checks of the gateway and of held addresses: one RFC 5227
 * probe, answered within `wait` s (arping counts it from the probe, so a slow
 * start of arping on a busy host does not shorten it; `bound` s caps the
 * whole command). A host that has the address answers within milliseconds on
 * a LAN, so a check of a taken address returns at once; a free address costs
 * the full second. IPaddr_gw skips the check when heartbeat hands it a group
 * its peer has just released (heartbeat's standby and shutdown handovers),
 * so only takeovers from a peer declared dead pay it. A lost probe makes a
 * taken address look free: the monitor's next check of the addresses it
 * holds finds the duplicate. The rescue (the monitor bringing up the
 * addresses its failing peer has just released) waits `rescue` s in all,
 * arping's start included: a reply there comes within milliseconds.
 */
export const ARP_CHECK = { wait: 1, bound: 3, rescue: 0.6 } as const;

/**
 * The monitor's round, in ms, while the peer's nginx fails (for up to
 * interval x failAfter + 5 s): the peer's addresses are brought up here
 * within this of their release, not up to a whole interval later.
 */
export const RESCUE_ROUND_MS = 250;

/** Why a key cannot go into authkeys, or undefined when it can. */
export function heartbeatAuthKeyProblem(key: string): string | undefined {
    if (key.length < 16) return `is ${key.length} characters long; use at least 16, for example "$(openssl rand -hex 32)"`;
    if (!/^[\x21-\x7e]+$/.test(key)) return "must be printable ASCII without spaces (authkeys splits its lines on white space)";
    if (key.includes("#")) return "must not contain # (authkeys reads it as the start of a comment)";
    return undefined;
}

/** authkeys with the key filled in; throws (without the key) when heartbeat could not read it. */
export function renderAuthkeys(key: string): string {
    const problem = heartbeatAuthKeyProblem(key);
    if (problem) throw new Error(`pairstore:heartbeatAuthKey ${problem}`);
    return render("heartbeat/authkeys", { key });
}

/** The IPaddr_gw resource of a node's public IP: `IPaddr_gw::address/prefix/interface/broadcast/gateway`. */
export function publicIpResource(node: NodeSpec): string {
    const ip = node.publicIp;
    return `IPaddr_gw::${ip.address}/${ip.prefix}/${ip.interface}/${ip.broadcast}/${ip.gateway}`;
}

/**
 * A node's resources, its public IP first; the virtual IPs are IPaddr_gw
 * resources without a gateway (the duplicate address check, no route).
 */
export function nodeResources(node: NodeSpec, hb: HeartbeatSpec): string[] {
    return [publicIpResource(node), ...node.virtualIps.map((v) => `IPaddr_gw::${v.address}/${v.prefix}/${hb.interface}`)];
}

/** The IPaddr_gw arguments of a node's resources (what the monitor hands IPaddr_gw). */
export function resourceArgs(node: NodeSpec, hb: HeartbeatSpec): string[] {
    return nodeResources(node, hb).map((r) => r.replace(/^IPaddr_gw::/, ""));
}

/** One path heartbeat beats on: the interface and the peer's address there. */
export interface HeartbeatPath {
    /** Interface the heartbeats leave from. */
    interface: string;
    /** The peer's address on that link (ucast target). */
    peerAddress: string;
}

/** Every path from `node` to `peer`: the internal network first, then each heartbeatPaths link. */
export function heartbeatPathsTo(node: NodeSpec, peer: NodeSpec, hb: HeartbeatSpec): HeartbeatPath[] {
    return [
        { interface: hb.interface, peerAddress: peer.internalAddress },
        ...node.heartbeatPaths.flatMap((p) => {
            const there = peer.heartbeatPaths.find((q) => q.interface === p.interface);
            return there ? [{ interface: p.interface, peerAddress: there.address }] : [];
        }),
    ];
}

/** The addresses a node holds when it owns its resources, as `interface=address/prefix`. */
export function ownAddresses(node: NodeSpec, hb: HeartbeatSpec): string[] {
    return [
        `${node.publicIp.interface}=${node.publicIp.address}/${node.publicIp.prefix}`,
        ...node.virtualIps.map((v) => `${hb.interface}=${v.address}/${v.prefix}`),
    ];
}

/** ha.cf of `node`, whose peer is `peer`. */
export function renderHaCf(spec: HeartbeatRoleSpec, node: NodeSpec, peer: NodeSpec): string {
    const hb = spec.heartbeat;
    return render("heartbeat/ha.cf", {
        node: node.name,
        peer: peer.name,
        peer_address: peer.internalAddress,
        log_facility: hb.logFacility,
        keepalive: hb.keepalive,
        deadtime: hb.deadtime,
        warntime: hb.warntime,
        initdead: hb.initdead,
        udpport: hb.udpport,
        ucast: heartbeatPathsTo(node, peer, hb).map((p) => `ucast ${p.interface} ${p.peerAddress}`).join("\n"),
        auto_failback: hb.autoFailback ? "on" : "off",
        nodes: pairNodes(node, peer).map((n) => `node ${n.name}`).join("\n"),
    });
}

/** haresources of a pair (the same text on both nodes). */
export function renderHaresources(spec: HeartbeatRoleSpec, node: NodeSpec, peer: NodeSpec): string {
    return render("heartbeat/haresources", {
        nodes: pairNodes(node, peer).map((n) => n.name).join(" and "),
        lines: pairNodes(node, peer).map((n) => [n.name, ...nodeResources(n, spec.heartbeat)].join(" ")).join("\n"),
    });
}

/**
 * How long a node may take to hold its own addresses after heartbeat
 * (re)starts: initdead when the peer is away, the monitor's start, its reclaim
 * when heartbeat R1 leaves them with the peer, 30 s, and time for each of the
 * pair's addresses (heartbeat takes the peer's group before its own, and its
 * resource handling takes seconds per address on a busy host: 20 s each).
 */
export function heartbeatWaitSeconds(hb: HeartbeatSpec, addresses = 2): number {
    return hb.initdead + hb.deadtime + hb.serviceCheck.recoverAfter * hb.serviceCheck.interval + reclaimAfterSeconds(hb) + 30 + 20 * addresses;
}

/** The addresses the health gate waits for: the node's own, when they come back to it (auto_failback). */
export function gateAddresses(node: NodeSpec, hb: HeartbeatSpec): string[] {
    return hb.autoFailback ? ownAddresses(node, hb) : [];
}

/**
 * What the node's health gate waits for: heartbeat, its extra links and the
 * failover monitor run, the node holds its own addresses again, and the gate
 * waits long enough for heartbeat to hand them back.
 */
export function heartbeatGate(spec: Pick<ClusterSpec, "heartbeat">, node: NodeSpec, peer: NodeSpec): GateNeeds {
    return {
        units: [...(node.heartbeatPaths.length > 0 ? [HEARTBEAT_LINKS_UNIT] : []), HEARTBEAT_UNIT, FAILOVER_UNIT],
        addresses: gateAddresses(node, spec.heartbeat),
        waitSeconds: heartbeatWaitSeconds(spec.heartbeat, 2 + node.virtualIps.length + peer.virtualIps.length),
    };
}

/**
 * Seconds a failing check is forgiven while systemd restarts nginx after a
 * crash: failAfter x interval, so a service that stays down (inactive, or a
 * restart that keeps failing) still fails over within about that, plus the
 * handover.
 */
export function restartGraceSeconds(hb: HeartbeatSpec): number {
    return hb.serviceCheck.failAfter * hb.serviceCheck.interval;
}

/**
 * Seconds a node that runs heartbeat next to an active peer may go without
 * its own resources (auto_failback) before it asks for them back
 * (`hb_takeover local`): heartbeat R1 can leave them with the peer when the
 * node's heartbeat starts while the peer is still taking them over ("T_STARTING
 * received during takeover"). Twice deadtime plus 10 s, longer than any
 * handover in progress.
 */
export function reclaimAfterSeconds(hb: HeartbeatSpec): number {
    return 2 * hb.deadtime + 10;
}

/**
 * Seconds the monitor waits for `systemctl stop heartbeat` before it kills
 * heartbeat and releases the node's addresses itself (heartbeat R1 can delay a
 * shutdown during a takeover without end).
 */
export function stopTimeoutSeconds(hb: Pick<HeartbeatSpec, "deadtime">): number {
    return 2 * hb.deadtime + 10;
}

/** The failover monitor of `node`. */
export function renderFailoverMonitor(spec: HeartbeatRoleSpec, node: NodeSpec, peer: NodeSpec): string {
    const hb = spec.heartbeat;
    return render("heartbeat/failover-monitor", {
        node: node.name,
        peer: shq(peer.name),
        interval: hb.serviceCheck.interval,
        timeout: hb.serviceCheck.timeout,
        fail_after: hb.serviceCheck.failAfter,
        recover_after: hb.serviceCheck.recoverAfter,
        restart_grace: restartGraceSeconds(hb),
        auto_failback: hb.autoFailback ? 1 : 0,
        reclaim_after: reclaimAfterSeconds(hb),
        stop_timeout: stopTimeoutSeconds(hb),
        urls: shqList(nginxHealthUrls(spec)),
        peer_url: shq(nginxHealthUrls(spec, peer.internalAddress)[0]),
        nginx_unit: shq(NGINX_UNIT),
        heartbeat_unit: shq(HEARTBEAT_UNIT),
        status_file: shq(FAILOVER_STATUS),
        gateway_check: hb.gatewayCheck ? 1 : 0,
        public_if: shq(node.publicIp.interface),
        gateway: shq(node.publicIp.gateway),
        own_resources: shqList(resourceArgs(node, hb)),
        peer_resources: shqList(resourceArgs(peer, hb)),
        resource_script: shq(IPADDR_GW),
        defer_dir: shq(FAILOVER_DEFERRED_DIR),
        gateway_state: shq(FAILOVER_GATEWAY_STATE),
        split_file: shq(FAILOVER_SPLIT),
        arp_wait: ARP_CHECK.wait,
        rescue_wait: ARP_CHECK.rescue,
        hurry_ms: RESCUE_ROUND_MS,
        hurry_for: hb.serviceCheck.interval * hb.serviceCheck.failAfter + 5,
    });
}

/** IPaddr_gw, the heartbeat resource of every address (`paths` moves its state files, for tests). */
export function renderIpaddrGw(paths: { deferDir?: string; gatewayState?: string } = {}): string {
    return render("heartbeat/IPaddr_gw", {
        defer_dir: shq(paths.deferDir ?? FAILOVER_DEFERRED_DIR),
        gateway_state: shq(paths.gatewayState ?? FAILOVER_GATEWAY_STATE),
        arp_wait: ARP_CHECK.wait,
        arp_bound: ARP_CHECK.bound,
    });
}

/** Steps of the extra heartbeat paths' static addresses (none without heartbeatPaths). */
function heartbeatLinkSteps(node: NodeSpec): StepSpec[] {
    if (node.heartbeatPaths.length === 0) return [];
    const script = render("heartbeat/heartbeat-links", {
        node: node.name,
        addresses: shqList(node.heartbeatPaths.map((p) => `${p.interface}=${p.address}/${p.prefix}`)),
    });
    const unit = render("heartbeat/pairstore-heartbeat-links.service", { script: HEARTBEAT_LINKS_SCRIPT });
    return [
        fileStep("heartbeat-links-script", { path: HEARTBEAT_LINKS_SCRIPT, content: script, mode: "755", validate: "bash -n {}" }),
        fileStep("heartbeat-links-unit", { path: `${UNIT_DIR}/${HEARTBEAT_LINKS_UNIT}`, content: unit }),
        serviceStep("heartbeat-links", HEARTBEAT_LINKS_UNIT, [script, unit], "restart"),
    ];
}

/** Steps: host name, the heartbeat paths' addresses, IPaddr_gw, ha.cf, haresources, authkeys, the unit drop-in, heartbeat's handler, the monitor. */
export function heartbeatRole(spec: HeartbeatRoleSpec, node: NodeSpec, peer: NodeSpec, secrets: HeartbeatSecrets): StepSpec[] {
    const hb = spec.heartbeat;
    const ipaddrGw = renderIpaddrGw();
    const haCf = renderHaCf(spec, node, peer);
    const haresources = renderHaresources(spec, node, peer);
    const dropIn = render("heartbeat/heartbeat.conf", {});
    const monitor = renderFailoverMonitor(spec, node, peer);
    const monitorUnit = render("heartbeat/pairstore-failover.service", { script: FAILOVER_SCRIPT });
    // The placeholders of heartbeat-restart.sh, which the authkeys and service scripts include.
    const restart = {
        unit: shq(HEARTBEAT_UNIT),
        own: shqList(gateAddresses(node, hb)),
        wait: heartbeatWaitSeconds(hb, nodeResources(node, hb).length + nodeResources(peer, hb).length),
        peer: shq(`${hb.interface}=${peer.internalAddress}`),
        monitor: shq(FAILOVER_UNIT),
        arp_wait: ARP_CHECK.wait,
        arp_bound: ARP_CHECK.bound,
    };
    const authkeysPath = `${HA_DIR}/authkeys`;
    return [
        { kind: "script", name: "hostname", phase: "base", script: render("heartbeat/hostname.sh", { name: shq(node.name) }) },
        ...heartbeatLinkSteps(node),
        fileStep("heartbeat-ipaddr-gw", { path: IPADDR_GW, content: ipaddrGw, mode: "755", validate: "sh -n {}" }),
        fileStep(HEARTBEAT_CONFIG_STEP, { path: `${HA_DIR}/ha.cf`, content: haCf }),
        fileStep("heartbeat-resources", { path: `${HA_DIR}/haresources`, content: haresources }),
        {
            kind: "script",
            name: "heartbeat-authkeys",
            phase: "base",
            script: render("heartbeat/heartbeat-authkeys.sh", { ...restart, path: shq(authkeysPath) }),
            stdin: pulumi.secret(pulumi.output(secrets.heartbeatAuthKey).apply(renderAuthkeys)),
            stdinDigest: "secret",
            secret: true,
            deleteScript: `rm -f ${shq(authkeysPath)}\n`,
        },
        fileStep("heartbeat-unit", { path: `${UNIT_DIR}/${HEARTBEAT_UNIT}.d/pairstore.conf`, content: dropIn }),
        {
            kind: "script",
            name: "heartbeat-service",
            phase: "base",
            script: render("heartbeat/heartbeat-service.sh", { ...restart, hash: digest(ipaddrGw, haCf, haresources, dropIn) }),
            deleteScript: render("heartbeat/heartbeat-delete.sh", { unit: shq(HEARTBEAT_UNIT) }),
        },
        fileStep("failover-monitor-script", { path: FAILOVER_SCRIPT, content: monitor, mode: "755", validate: "bash -n {}" }),
        fileStep("failover-monitor-unit", { path: `${UNIT_DIR}/${FAILOVER_UNIT}`, content: monitorUnit }),
        serviceStep("failover-monitor", FAILOVER_UNIT, [monitor, monitorUnit], "restart"),
    ];
}
