// The cluster's shape in the stack config: domains (and their internal
// ports), pairs, nodes (SSH, public IP, internal address, virtual IPs,
// heartbeat paths) and the checks across them (unique names and addresses,
// peers on one subnet, ports not taken twice).
import { broadcastOf, formatIPv4, networkOf, parseIPv4, sameSubnet } from "../lib/net";
import { HOSTNAME, IFACE, NAMESPACE, bool, int, list, obj, port, str, unknownFields } from "./readers";

/** How to reach a node over SSH. */
export interface SshSpec {
    /** Address or DNS name the controller connects to. */
    host: string;
    /** SSH port. */
    port: number;
    /** Login user; steps run through `sudo -n` unless it is root. */
    user: string;
    /** Pinned host key ("ssh-ed25519 AAAA..."), or undefined when the stack opted out. */
    hostKey?: string;
}

/** The public IP a node owns and heartbeat moves to its peer. */
export interface PublicIpSpec {
    /** The address. */
    address: string;
    /** Prefix length of its subnet. */
    prefix: number;
    /** Interface it is brought up on (the same name on both nodes of a pair). */
    interface: string;
    /** Broadcast address of the subnet. */
    broadcast: string;
    /** Default gateway set when the address comes up (IPaddr_gw). */
    gateway: string;
}

/** One storage host. */
export interface NodeSpec {
    /** Host name; also heartbeat's node name. */
    name: string;
    /** SSH connection. */
    ssh: SshSpec;
    /** Public address served to clients. */
    publicIp: PublicIpSpec;
    /** Address on the pair's internal network (replication, peer fallback, DAV). */
    internalAddress: string;
    /** Extra addresses on the internal network this node owns through heartbeat (moved to the peer with its public IP). */
    virtualIps: VirtualIpSpec[];
    /** Raised after the host was reinstalled or its disks replaced: every step of the node runs again (default 0). */
    generation: number;
    /** heartbeat paths besides the internal network: a static address of this node on another link. */
    heartbeatPaths: HeartbeatPathSpec[];
}

/**
 * One more heartbeat path: a static address of the node on another link (the
 * public network, or a dedicated crossover cable). heartbeat also unicasts to
 * the peer's address on that link, so losing one link is not a dead peer; the
 * address is the node's own (it never moves) and gives the node a source
 * address there even while it holds none of heartbeat's.
 */
export interface HeartbeatPathSpec {
    /** The interface of that link (the same name on both nodes of the pair). */
    interface: string;
    /** The node's static address on it. */
    address: string;
    /** Its prefix length. */
    prefix: number;
}

/** A virtual IP on the internal network (a plain IPaddr2 heartbeat resource on `heartbeat.interface`). */
export interface VirtualIpSpec {
    /** The address. */
    address: string;
    /** Prefix length of the internal network. */
    prefix: number;
}

/** Two nodes that mirror each other. */
export interface PairSpec {
    /** Pair name. */
    name: string;
    /** Exactly two nodes, first one is provisioned first. */
    nodes: [NodeSpec, NodeSpec];
    /** The pair gives its shards (with their files) to the other pairs; it may leave the config once the pinned plan gives it none. Default false. */
    retire: boolean;
    /** Remove the pair's copies of shards it no longer serves (moved away), once both nodes of the pair serving them hold every file. Default false. */
    dropUnserved: boolean;
}

/** A domain whose files the cluster stores and serves. */
export interface DomainSpec {
    /** Domain name; files are served as `<shard>.image.<name>`. */
    name: string;
    /** The internal DAV/peer port of this domain. */
    internalPort: number;
}

/** Defaults of a node's optional SSH keys. */
export const NODE_DEFAULTS = { sshPort: 22, sshUser: "root" };

/** Ports a domain's internal port must not take. */
const RESERVED_PORTS: Record<number, string> = { 22: "ssh", 873: "rsyncd", 694: "heartbeat" };

const NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$/;

/**
 * Why a pinned host key cannot be used, or undefined. The command provider
 * offers the server only the pinned key's own type (pulumi-command v1.2.1,
 * remote/connection.go: HostKeyAlgorithms = [key.Type()]); for an RSA key
 * that is "ssh-rsa", SHA-1 signatures, which OpenSSH 8.8 and later refuse,
 * so every step would fail to connect.
 */
export function hostKeyProblem(key: string, at: string, host: string): string | undefined {
    const scan = `\`ssh-keyscan -t ed25519 ${host || "HOST"} | cut -d' ' -f2-\``;
    if (!HOST_KEY.test(key)) return `${at} must look like "ssh-ed25519 AAAA..." (key type and base64 key): pin the output of ${scan}`;
    if (key.startsWith("ssh-rsa ")) {
        return `${at} is an RSA key: the command provider offers only the pinned key's type, "ssh-rsa" (SHA-1 signatures), ` +
            `which OpenSSH 8.8 and later refuse, so no step could connect; pin the host's ed25519 key instead (${scan})`;
    }
    return undefined;
}

export function parseDomains(value: unknown, k: string, bad: (m: string) => void): DomainSpec[] {
    if (value === undefined) {
        bad(`${k} is missing: list the domains served, for example [{name: example.com, internalPort: 8081}]`);
        return [];
    }
    const items = list(value, k, bad);
    if (items.length === 0) bad(`${k} is empty: list at least one domain, for example [{name: example.com, internalPort: 8081}]`);
    const seen = new Set<string>();
    return items.map((item, i) => {
        const at = `${k}[${i}]`;
        const o = obj(item, at, bad);
        const name = str(o.name, `${at}.name`, "", bad).toLowerCase();
        if (!HOSTNAME.test(name) || !name.includes(".")) bad(`${at}.name "${name}" is not a domain name like example.com`);
        if (seen.has(name)) bad(`${at}.name "${name}" is listed twice; list each domain once`);
        seen.add(name);
        if (o.internalPort === undefined) bad(`${at}.internalPort is missing: give each domain its own internal DAV port, for example ${8081 + i}`);
        const internalPort = port(o.internalPort, `${at}.internalPort`, 0, bad);
        unknownFields(o, ["name", "internalPort"], at, bad);
        return { name, internalPort };
    });
}

export function parsePairs(value: unknown, k: string, allowUnpinned: boolean, bad: (m: string) => void): PairSpec[] {
    if (value === undefined) {
        bad(`${k} is missing: list the server pairs, each with exactly two nodes`);
        return [];
    }
    const items = list(value, k, bad);
    if (items.length === 0) bad(`${k} is empty: list at least one pair of two nodes`);
    let nodeCount = 0;
    const pairs = items.map((item, i) => {
        const at = `${k}[${i}]`;
        const o = obj(item, at, bad);
        const name = str(o.name, `${at}.name`, "", bad);
        if (!NODE_NAME.test(name)) bad(`${at}.name "${name}" must be lower-case letters, digits and dashes`);
        const nodes = list(o.nodes, `${at}.nodes`, bad);
        nodeCount += nodes.length;
        if (nodes.length !== 2) {
            bad(`${at} (${name}) has ${nodes.length} node${nodes.length === 1 ? "" : "s"}; a pair has exactly two: ` +
                (nodes.length < 2 ? "add its peer node" : "move the extra nodes into a pair of their own"));
        }
        unknownFields(o, ["name", "nodes", "retire", "dropUnserved"], at, bad);
        const retire = bool(o.retire, `${at}.retire`, false, bad);
        const dropUnserved = bool(o.dropUnserved, `${at}.dropUnserved`, false, bad);
        const parsed = nodes.map((n, j) => parseNode(n, `${at}.nodes[${j}]`, allowUnpinned, bad));
        if (parsed.length === 2) checkPeers(parsed[0], parsed[1], at, bad);
        return { name, nodes: parsed as [NodeSpec, NodeSpec], retire, dropUnserved };
    });
    if (nodeCount % 2 === 1) {
        bad(`${k} has ${nodeCount} nodes, an odd number; servers are added in pairs: add a node or remove one`);
    }
    return pairs;
}

export function parseNode(value: unknown, at: string, allowUnpinned: boolean, bad: (m: string) => void): NodeSpec {
    const o = obj(value, at, bad);
    const name = str(o.name, `${at}.name`, "", bad);
    if (!NODE_NAME.test(name)) bad(`${at}.name "${name}" must be a host name: lower-case letters, digits and dashes`);
    const sshRaw = obj(o.ssh, `${at}.ssh`, bad);
    const ssh: SshSpec = {
        host: str(sshRaw.host, `${at}.ssh.host`, "", bad),
        port: port(sshRaw.port, `${at}.ssh.port`, NODE_DEFAULTS.sshPort, bad),
        user: str(sshRaw.user, `${at}.ssh.user`, NODE_DEFAULTS.sshUser, bad),
        hostKey: sshRaw.hostKey === undefined ? undefined : str(sshRaw.hostKey, `${at}.ssh.hostKey`, "", bad).trim(),
    };
    if (!ssh.host || !(parseIPv4(ssh.host) !== undefined || HOSTNAME.test(ssh.host))) {
        bad(`${at}.ssh.host "${ssh.host}" must be an IPv4 address or a host name`);
    }
    if (!/^[a-z_][a-z0-9_-]*$/.test(ssh.user)) bad(`${at}.ssh.user "${ssh.user}" is not a valid user name`);
    if (ssh.hostKey === undefined) {
        if (!allowUnpinned) {
            bad(`${at}.ssh.hostKey is missing: pin the host key (the output of \`ssh-keyscan -t ed25519 ${ssh.host || "HOST"} | cut -d' ' -f2-\`), ` +
                `or opt out for the whole stack with \`pulumi config set ${NAMESPACE}:allowUnpinnedHostKeys true\``);
        }
    } else {
        ssh.hostKey = ssh.hostKey.split(/\s+/).slice(0, 2).join(" ");
        const problem = hostKeyProblem(ssh.hostKey, `${at}.ssh.hostKey`, ssh.host);
        if (problem) bad(problem);
    }
    unknownFields(sshRaw, ["host", "port", "user", "hostKey"], `${at}.ssh`, bad);

    const ipRaw = obj(o.publicIp, `${at}.publicIp`, bad);
    const address = str(ipRaw.address, `${at}.publicIp.address`, "", bad);
    const addr = parseIPv4(address);
    if (addr === undefined) bad(`${at}.publicIp.address "${address}" is not an IPv4 address`);
    const prefix = int(ipRaw.prefix, `${at}.publicIp.prefix`, -1, bad);
    const prefixOk = prefix >= 8 && prefix <= 30;
    if (!prefixOk) bad(`${at}.publicIp.prefix ${prefix} must be a prefix length between 8 and 30, for example 24`);
    const iface = str(ipRaw.interface, `${at}.publicIp.interface`, "", bad);
    if (!IFACE.test(iface)) bad(`${at}.publicIp.interface "${iface}" is not an interface name like eth1`);
    const gateway = str(ipRaw.gateway, `${at}.publicIp.gateway`, "", bad);
    const gw = parseIPv4(gateway);
    if (gw === undefined) bad(`${at}.publicIp.gateway "${gateway}" is not an IPv4 address`);
    let broadcast = ipRaw.broadcast === undefined ? "" : str(ipRaw.broadcast, `${at}.publicIp.broadcast`, "", bad);
    if (addr !== undefined && prefixOk) {
        const net = networkOf(addr, prefix);
        const bc = formatIPv4(broadcastOf(addr, prefix));
        if (addr === parseIPv4(net.split("/")[0]) || addr === broadcastOf(addr, prefix)) {
            bad(`${at}.publicIp.address ${address} is the network or broadcast address of ${net}; pick a host address`);
        }
        if (gw !== undefined && !sameSubnet(addr, gw, prefix)) {
            bad(`${at}.publicIp.address ${address}/${prefix} is outside the subnet of its gateway ${gateway}: ` +
                `fix the address, the prefix or ${at}.publicIp.gateway`);
        }
        if (gw !== undefined && gw === addr) bad(`${at}.publicIp.gateway ${gateway} is the node's own address`);
        if (broadcast === "") broadcast = bc;
        else if (broadcast !== bc) {
            bad(`${at}.publicIp.broadcast ${broadcast} is not the broadcast address of ${net}; use ${bc} or leave it out`);
        }
    }
    unknownFields(ipRaw, ["address", "prefix", "interface", "broadcast", "gateway"], `${at}.publicIp`, bad);

    const internalAddress = str(o.internalAddress, `${at}.internalAddress`, "", bad);
    if (parseIPv4(internalAddress) === undefined) bad(`${at}.internalAddress "${internalAddress}" is not an IPv4 address`);
    const virtualIps = list(o.virtualIps, `${at}.virtualIps`, bad).map((v, i) => {
        const text = typeof v === "string" ? v.trim() : "";
        const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
        const vip = m ? parseIPv4(m[1]) : undefined;
        const vprefix = m ? Number(m[2]) : -1;
        if (vip === undefined || vprefix < 8 || vprefix > 30) {
            bad(`${at}.virtualIps[${i}] ${JSON.stringify(v)} must be an address on the internal network with its prefix, like 10.0.0.125/24`);
            return { address: text, prefix: 0 };
        }
        return { address: formatIPv4(vip), prefix: vprefix };
    });
    const heartbeatPaths = list(o.heartbeatPaths, `${at}.heartbeatPaths`, bad).map((p, i) => {
        const pat = `${at}.heartbeatPaths[${i}]`;
        const po = obj(p, pat, bad);
        const pathIface = str(po.interface, `${pat}.interface`, "", bad);
        if (!IFACE.test(pathIface)) bad(`${pat}.interface "${pathIface}" is not an interface name like eth1`);
        const text = typeof po.address === "string" ? po.address.trim() : "";
        const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
        const a = m ? parseIPv4(m[1]) : undefined;
        const pp = m ? Number(m[2]) : -1;
        if (a === undefined || pp < 8 || pp > 30) {
            bad(`${pat}.address ${JSON.stringify(po.address)} must be this node's static address on ${pathIface || "that link"} with its prefix, like 203.0.113.125/24`);
            unknownFields(po, ["interface", "address"], pat, bad);
            return { interface: pathIface, address: text, prefix: 0 };
        }
        if (a === parseIPv4(networkOf(a, pp).split("/")[0]) || a === broadcastOf(a, pp)) {
            bad(`${pat}.address ${text} is the network or broadcast address of ${networkOf(a, pp)}; pick a host address`);
        }
        unknownFields(po, ["interface", "address"], pat, bad);
        return { interface: pathIface, address: formatIPv4(a), prefix: pp };
    });
    const generation = int(o.generation, `${at}.generation`, 0, bad);
    if (generation < 0) bad(`${at}.generation ${generation} must be 0 or more (raise it by one to run every step of the node again)`);
    unknownFields(o, ["name", "ssh", "publicIp", "internalAddress", "virtualIps", "generation", "heartbeatPaths"], at, bad);
    return {
        name, ssh, internalAddress,
        publicIp: { address, prefix, interface: iface, broadcast, gateway },
        virtualIps, generation,
        heartbeatPaths,
    };
}

/** Heartbeat moves each public IP to the peer, so both must live on the same subnet and interface. */
export function checkPeers(a: NodeSpec, b: NodeSpec, at: string, bad: (m: string) => void) {
    const ipA = parseIPv4(a.publicIp.address);
    const ipB = parseIPv4(b.publicIp.address);
    if (ipA === undefined || ipB === undefined) return;
    if (a.publicIp.interface !== b.publicIp.interface) {
        bad(`${at}: ${b.name}'s publicIp.interface ${b.publicIp.interface} differs from ${a.name}'s ${a.publicIp.interface}; ` +
            `heartbeat brings each IP up on the peer under the same name, so use one interface name for both`);
    }
    if (a.publicIp.prefix !== b.publicIp.prefix || !sameSubnet(ipA, ipB, a.publicIp.prefix)) {
        bad(`${at}: ${a.name} (${a.publicIp.address}/${a.publicIp.prefix}) and ${b.name} (${b.publicIp.address}/${b.publicIp.prefix}) ` +
            `are not on one public subnet; each node takes over its peer's IP, so put both in the same subnet`);
    }
}

export function checkUniqueness(pairs: PairSpec[], bad: (m: string) => void) {
    const first = new Map<string, string>();
    const once = (what: string, value: string, where: string) => {
        if (!value) return;
        const k = `${what}=${value}`;
        const prev = first.get(k);
        if (prev) bad(`${where} uses ${what} ${value}, already used by ${prev}; every node needs its own`);
        else first.set(k, where);
    };
    pairs.forEach((p, i) => {
        once("pair name", p.name, `${NAMESPACE}:pairs[${i}]`);
        p.nodes.forEach((n, j) => {
            const at = `${NAMESPACE}:pairs[${i}].nodes[${j}] (${n.name})`;
            once("node name", n.name, at);
            once("ssh address", `${n.ssh.host}:${n.ssh.port}`, at);
            once("public IP", n.publicIp.address, at);
            once("internal address", n.internalAddress, at);
        });
    });
}

export function checkPorts(domains: DomainSpec[], publicPort: number, bad: (m: string) => void) {
    const used = new Map<number, string>([[publicPort, `${NAMESPACE}:publicPort`]]);
    for (const [p, what] of Object.entries(RESERVED_PORTS)) {
        if (Number(p) === publicPort) bad(`${NAMESPACE}:publicPort ${publicPort} is ${what}'s port; pick another, for example 80`);
        used.set(Number(p), what);
    }
    domains.forEach((d, i) => {
        if (!d.internalPort) return;
        const prev = used.get(d.internalPort);
        if (prev) bad(`${NAMESPACE}:domains[${i}].internalPort ${d.internalPort} is already used by ${prev}; give each domain its own port`);
        else used.set(d.internalPort, `${NAMESPACE}:domains[${i}].internalPort (${d.name})`);
    });
}
