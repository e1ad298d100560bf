// heartbeat (Debian's heartbeat 3.0.6, R1 mode) and the service monitor:
// each node owns its public IP (IPaddr_gw: IPaddr2 + default route) and its
// virtual IPs; heartbeat moves them to the peer when a node dies, and the
// monitor stops heartbeat when nginx stops answering, so the peer takes them
// then too. The authkey is a Pulumi secret and travels only on the secret
// stdin of the `heartbeat-authkeys` step.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, HeartbeatSpec, NodeSpec } from "../config";
import { fileStep, serviceStep, type StepSpec } from "../host/step";
import { digest, render, shq, shqList } from "../host/template";
import { FAILOVER_STATUS, FAILOVER_UNIT, HA_DIR, HEARTBEAT_UNIT, LIB_DIR, UNIT_DIR } from "../paths";
import { nginxHealthUrls } from "./nginx-sites";

type HeartbeatRoleSpec = Pick<ClusterSpec, "domains" | "heartbeat">;

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

/** A node's resources, its public IP first. */
export function nodeResources(node: NodeSpec, hb: HeartbeatSpec): string[] {
    return [publicIpResource(node), ...node.virtualIps.map((v) => `IPaddr2::${v.address}/${v.prefix}/${hb.interface}`)];
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
        interface: hb.interface,
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
 * How long a node may take to hold its own addresses after heartbeat (re)starts:
 * initdead when the peer is away, the monitor's start, and when heartbeat R1
 * leaves them with the peer, the monitor's reclaim plus heartbeat's standby
 * protocol (about 20 s on a busy host).
 */
export function heartbeatWaitSeconds(hb: HeartbeatSpec): number {
    return hb.initdead + hb.deadtime + hb.serviceCheck.recoverAfter * hb.serviceCheck.interval + reclaimAfterSeconds(hb) + 60;
}

/** How long heartbeat may leave a node's own resources with its active peer before the monitor asks for them back: twice deadtime, plus the failback itself. */
export function reclaimAfterSeconds(hb: HeartbeatSpec): number {
    return 2 * hb.deadtime + 10;
}

/** The addresses the health gate waits for: the node's own, when they come back to it (auto_failback). */
export function gateAddresses(node: NodeSpec, hb: HeartbeatSpec): string[] {
    return hb.autoFailback ? ownAddresses(node, hb) : [];
}

/** Steps: host name, IPaddr_gw, ha.cf, haresources, authkeys, the unit drop-in, heartbeat's handler, the monitor. */
export function heartbeatRole(spec: HeartbeatRoleSpec, node: NodeSpec, peer: NodeSpec, secrets: HeartbeatSecrets): StepSpec[] {
    const hb = spec.heartbeat;
    const ipaddrGw = render("heartbeat/IPaddr_gw", {});
    const haCf = renderHaCf(spec, node, peer);
    const haresources = renderHaresources(spec, node, peer);
    const dropIn = render("heartbeat/heartbeat.conf", {});
    const monitor = render("heartbeat/failover-monitor", {
        node: node.name,
        peer: shq(peer.name),
        interval: hb.serviceCheck.interval,
        timeout: hb.serviceCheck.timeout,
        fail_after: hb.serviceCheck.failAfter,
        recover_after: hb.serviceCheck.recoverAfter,
        urls: shqList(nginxHealthUrls(spec)),
        heartbeat_unit: shq(HEARTBEAT_UNIT),
        status_file: shq(FAILOVER_STATUS),
        auto_failback: hb.autoFailback ? 1 : 0,
        reclaim_after: reclaimAfterSeconds(hb),
    });
    const monitorUnit = render("heartbeat/pairstore-failover.service", { script: FAILOVER_SCRIPT });
    const restart = render("steps/heartbeat-restart.sh", {
        unit: shq(HEARTBEAT_UNIT),
        own: shqList(gateAddresses(node, hb)),
        wait: heartbeatWaitSeconds(hb),
    });
    const authkeysPath = `${HA_DIR}/authkeys`;
    return [
        { name: "hostname", script: render("steps/hostname.sh", { name: shq(node.name) }) },
        fileStep("heartbeat-ipaddr-gw", { path: `${HA_DIR}/resource.d/IPaddr_gw`, content: ipaddrGw, mode: "755", validate: "sh -n {}" }),
        fileStep("heartbeat-config", { path: `${HA_DIR}/ha.cf`, content: haCf }),
        fileStep("heartbeat-resources", { path: `${HA_DIR}/haresources`, content: haresources }),
        {
            name: "heartbeat-authkeys",
            script: restart + render("steps/heartbeat-authkeys.sh", { path: shq(authkeysPath) }),
            stdin: pulumi.secret(pulumi.output(secrets.heartbeatAuthKey).apply(renderAuthkeys)),
            stdinDigest: "secret",
            secret: true,
            deleteScript: `rm -f ${shq(authkeysPath)}\n`,
        },
        fileStep("heartbeat-unit", { path: `${UNIT_DIR}/${HEARTBEAT_UNIT}.d/pairstore.conf`, content: dropIn }),
        {
            name: "heartbeat-service",
            script: restart + render("steps/heartbeat-service.sh", {
                hash: digest(ipaddrGw, haCf, haresources, dropIn),
                monitor: FAILOVER_UNIT,
            }),
            deleteScript: render("steps/heartbeat-delete.sh", { unit: shq(HEARTBEAT_UNIT) }),
        },
        fileStep("failover-monitor-script", { path: FAILOVER_SCRIPT, content: monitor, mode: "755", validate: "bash -n {}" }),
        fileStep("failover-monitor-unit", { path: `${UNIT_DIR}/${FAILOVER_UNIT}`, content: monitorUnit }),
        serviceStep("failover-monitor", FAILOVER_UNIT, [monitor, monitorUnit], "restart"),
    ];
}
