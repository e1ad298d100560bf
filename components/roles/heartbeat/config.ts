// The heartbeat role's config section: `pairstore:heartbeat` (ha.cf timing,
// port, interface, the service check), its defaults, parser and messages, and
// the checks of virtual IPs and heartbeat paths across the pairs.
import type { NodeSpec, PairSpec } from "../../config/nodes";
import { IFACE, NAMESPACE, bool, int, obj, port, str, unknownFields } from "../../config/readers";
import { parseIPv4, sameSubnet } from "../../lib/net";

/** The node's service check: heartbeat runs only while nginx answers it. */
export interface ServiceCheckSpec {
    /** Seconds between two checks. */
    interval: number;
    /** Seconds a check may take (curl's -m). */
    timeout: number;
    /**
     * Failed checks in a row that stop heartbeat (the peer takes the node's
     * resources). While systemd restarts nginx (its unit is activating after a
     * crash), failed checks are forgiven for up to failAfter x interval seconds.
     */
    failAfter: number;
    /** Good checks in a row that start heartbeat again (the node takes its resources back). */
    recoverAfter: number;
}

/** heartbeat (R1 mode, haresources): moves each node's IPs to its peer. */
export interface HeartbeatSpec {
    /** Seconds between heartbeats (`keepalive`). */
    keepalive: number;
    /** Seconds of silence after which the peer is declared dead and its resources taken (`deadtime`). */
    deadtime: number;
    /** Seconds of silence after which a late heartbeat is logged (`warntime`). */
    warntime: number;
    /** Seconds a starting node waits for its peer before it takes the peer's resources (`initdead`). */
    initdead: number;
    /** UDP port of the heartbeats (`udpport`). */
    udpport: number;
    /** Resources go back to their home node when it is back (`auto_failback on`). */
    autoFailback: boolean;
    /** Interface of the internal network: heartbeats go out there to the peer (`ucast`), virtual IPs live there. */
    interface: string;
    /** syslog facility of heartbeat's messages (`logfacility`). */
    logFacility: string;
    /** The service check that puts a node whose nginx fails out of the pair. */
    serviceCheck: ServiceCheckSpec;
    /**
     * The monitor also asks the public gateway (ARP on the public interface)
     * every check: a node that cannot reach it gives up its IPs, and a node
     * takes over an address only while it reaches it.
     */
    gatewayCheck: boolean;
}

/** The reference deployment's ha.cf values; the service check is pairstore's own (the original deployment checked every 30 s with mon). */
export const HEARTBEAT_DEFAULTS = {
    keepalive: 2,
    deadtime: 30,
    warntime: 10,
    initdead: 120,
    udpport: 670,
    autoFailback: true,
    interface: "eth0",
    logFacility: "local0",
    serviceCheck: { interval: 5, timeout: 2, failAfter: 2, recoverAfter: 3 },
    gatewayCheck: true,
} as HeartbeatSpec;

/** heartbeat's timing, port, interface and the service check; every value is whole seconds or a count. */
export function parseHeartbeat(value: unknown, k: string, bad: (m: string) => void): HeartbeatSpec {
    const o = value === undefined ? {} : obj(value, k, bad);
    const d = HEARTBEAT_DEFAULTS;
    const hb: HeartbeatSpec = {
        keepalive: int(o.keepalive, `${k}.keepalive`, d.keepalive, bad),
        deadtime: int(o.deadtime, `${k}.deadtime`, d.deadtime, bad),
        warntime: int(o.warntime, `${k}.warntime`, d.warntime, bad),
        initdead: int(o.initdead, `${k}.initdead`, d.initdead, bad),
        udpport: port(o.udpport, `${k}.udpport`, d.udpport, bad),
        autoFailback: bool(o.autoFailback, `${k}.autoFailback`, d.autoFailback, bad),
        interface: str(o.interface, `${k}.interface`, d.interface, bad),
        logFacility: str(o.logFacility, `${k}.logFacility`, d.logFacility, bad),
        serviceCheck: { ...d.serviceCheck },
        gatewayCheck: bool(o.gatewayCheck, `${k}.gatewayCheck`, d.gatewayCheck, bad),
    };
    if (hb.keepalive < 1 || hb.keepalive > 60) bad(`${k}.keepalive ${hb.keepalive} must be between 1 and 60 seconds, for example ${d.keepalive}`);
    if (hb.warntime <= hb.keepalive) {
        bad(`${k}.warntime ${hb.warntime} must be longer than ${k}.keepalive ${hb.keepalive} (a heartbeat is late only after it was due); for example ${hb.keepalive * 3}`);
    }
    if (hb.deadtime <= hb.warntime) {
        bad(`${k}.deadtime ${hb.deadtime} must be longer than ${k}.warntime ${hb.warntime} (warn about late heartbeats before declaring the peer dead); ` +
            `raise ${k}.deadtime or lower ${k}.warntime`);
    }
    if (hb.initdead < 2 * hb.deadtime) {
        bad(`${k}.initdead ${hb.initdead} must be at least twice ${k}.deadtime (${2 * hb.deadtime}): a booting network needs that long ` +
            `before a starting node may take its peer's resources; raise ${k}.initdead`);
    }
    if (!IFACE.test(hb.interface)) bad(`${k}.interface "${hb.interface}" is not an interface name like eth0 (the internal network's interface)`);
    if (!/^(auth|authpriv|daemon|user|local[0-7])$/.test(hb.logFacility)) {
        bad(`${k}.logFacility "${hb.logFacility}" must be a syslog facility: daemon, auth, authpriv, user or local0-local7`);
    }
    const sc = o.serviceCheck === undefined ? {} : obj(o.serviceCheck, `${k}.serviceCheck`, bad);
    const at = `${k}.serviceCheck`;
    hb.serviceCheck = {
        interval: int(sc.interval, `${at}.interval`, d.serviceCheck.interval, bad),
        timeout: int(sc.timeout, `${at}.timeout`, d.serviceCheck.timeout, bad),
        failAfter: int(sc.failAfter, `${at}.failAfter`, d.serviceCheck.failAfter, bad),
        recoverAfter: int(sc.recoverAfter, `${at}.recoverAfter`, d.serviceCheck.recoverAfter, bad),
    };
    const c = hb.serviceCheck;
    if (c.interval < 1 || c.interval > 300) bad(`${at}.interval ${c.interval} must be between 1 and 300 seconds, for example ${d.serviceCheck.interval}`);
    if (c.timeout < 1 || c.timeout > 60) bad(`${at}.timeout ${c.timeout} must be between 1 and 60 seconds, for example ${d.serviceCheck.timeout}`);
    if (c.failAfter < 1 || c.failAfter > 100) bad(`${at}.failAfter ${c.failAfter} must be between 1 and 100 failed checks in a row`);
    if (c.recoverAfter < 1 || c.recoverAfter > 100) bad(`${at}.recoverAfter ${c.recoverAfter} must be between 1 and 100 good checks in a row`);
    unknownFields(sc, ["interval", "timeout", "failAfter", "recoverAfter"], at, bad);
    unknownFields(o, ["keepalive", "deadtime", "warntime", "initdead", "udpport", "autoFailback", "interface", "logFacility", "serviceCheck",
        "gatewayCheck"], k, bad);
    return hb;
}

/** A virtual IP moves to the peer: it must lie on the internal network of both nodes and belong to nobody else. */
export function checkVirtualIps(pairs: PairSpec[], heartbeat: HeartbeatSpec, bad: (m: string) => void) {
    const taken = new Map<string, string>();
    pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
        const at = `${NAMESPACE}:pairs[${i}].nodes[${j}] (${n.name})`;
        for (const a of [n.ssh.host, n.publicIp.address, n.internalAddress]) if (a && !taken.has(a)) taken.set(a, at);
    }));
    pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
        const at = `${NAMESPACE}:pairs[${i}].nodes[${j}].virtualIps`;
        n.virtualIps.forEach((v, m) => {
            const vip = parseIPv4(v.address);
            if (vip === undefined || v.prefix === 0) return; // reported by parseNode
            const owner = taken.get(v.address);
            if (owner) {
                bad(`${at}[${m}] ${v.address} is already used by ${owner}; give every virtual IP an address of its own`);
                return;
            }
            taken.set(v.address, `${at}[${m}]`);
            for (const x of p.nodes) {
                const inner = parseIPv4(x.internalAddress);
                if (inner !== undefined && !sameSubnet(vip, inner, v.prefix)) {
                    bad(`${at}[${m}] ${v.address}/${v.prefix} is outside the internal network of ${x.name} (${x.internalAddress}); ` +
                        `heartbeat brings it up on ${NAMESPACE}:heartbeat.interface ${heartbeat.interface} of either node, so pick an address in that subnet`);
                    break;
                }
            }
        });
    }));
}

/**
 * Extra heartbeat paths: both nodes of a pair on the same links, each pair of
 * addresses on one subnet, on the public network inside its subnet (and not
 * the gateway), and every address used nowhere else.
 */
export function checkHeartbeatPaths(pairs: PairSpec[], heartbeat: HeartbeatSpec, bad: (m: string) => void) {
    const taken = new Map<string, string>();
    pairs.forEach((p, i) => p.nodes.forEach((n, j) => {
        const at = `${NAMESPACE}:pairs[${i}].nodes[${j}] (${n.name})`;
        for (const a of [n.ssh.host, n.publicIp.address, n.publicIp.gateway, n.internalAddress, ...n.virtualIps.map((v) => v.address)]) {
            if (a && !taken.has(a)) taken.set(a, at);
        }
    }));
    pairs.forEach((p, i) => {
        p.nodes.forEach((n, j) => {
            const at = `${NAMESPACE}:pairs[${i}].nodes[${j}].heartbeatPaths`;
            const seen = new Set<string>();
            n.heartbeatPaths.forEach((hp, m) => {
                if (hp.prefix === 0) return; // reported by parseNode
                if (hp.interface === heartbeat.interface) {
                    bad(`${at}[${m}].interface ${hp.interface} is ${NAMESPACE}:heartbeat.interface, which is always a path (to the peer's internalAddress); ` +
                        `list only other links here, such as the public interface ${n.publicIp.interface}`);
                }
                if (seen.has(hp.interface)) bad(`${at}[${m}].interface ${hp.interface} is listed twice; give each link one static address`);
                seen.add(hp.interface);
                const owner = taken.get(hp.address);
                if (owner) bad(`${at}[${m}].address ${hp.address} is already used by ${owner}; a heartbeat path needs an address of its own that never moves`);
                else taken.set(hp.address, `${at}[${m}]`);
                const addr = parseIPv4(hp.address);
                const pub = parseIPv4(n.publicIp.address);
                if (hp.interface === n.publicIp.interface && addr !== undefined && pub !== undefined && n.publicIp.prefix > 0 &&
                    (hp.prefix !== n.publicIp.prefix || !sameSubnet(addr, pub, n.publicIp.prefix))) {
                    bad(`${at}[${m}].address ${hp.address}/${hp.prefix} is on ${hp.interface}, the public interface, but outside the public subnet of ` +
                        `${n.publicIp.address}/${n.publicIp.prefix}: use an address of that subnet`);
                }
            });
        });
        const [a, b] = p.nodes;
        if (!a || !b) return;
        const ifacesOf = (n: NodeSpec) => n.heartbeatPaths.map((hp) => hp.interface);
        for (const [x, y, jy] of [[a, b, 1], [b, a, 0]] as const) {
            for (const iface of ifacesOf(x)) {
                if (!ifacesOf(y).includes(iface)) {
                    bad(`${NAMESPACE}:pairs[${i}].nodes[${jy}].heartbeatPaths has no path on ${iface}, but its peer ${x.name} has one: ` +
                        `heartbeat unicasts to the peer's address on each link, so give ${y.name} a static address on ${iface} too (or remove ${x.name}'s)`);
                }
            }
        }
        for (const hp of a.heartbeatPaths) {
            const other = b.heartbeatPaths.find((x) => x.interface === hp.interface);
            const ax = parseIPv4(hp.address);
            const bx = other ? parseIPv4(other.address) : undefined;
            if (!other || ax === undefined || bx === undefined || hp.prefix === 0 || other.prefix === 0) continue;
            if (hp.prefix !== other.prefix || !sameSubnet(ax, bx, hp.prefix)) {
                bad(`${NAMESPACE}:pairs[${i}]: the heartbeat path on ${hp.interface} of ${a.name} (${hp.address}/${hp.prefix}) and of ${b.name} ` +
                    `(${other.address}/${other.prefix}) are not on one subnet; put both addresses of a link in the same subnet`);
            }
        }
    });
}
