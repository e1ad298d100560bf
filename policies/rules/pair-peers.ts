// pair-peers: the two nodes of a pair point at each other and nowhere else.
//
// A node's "peer references" are every place its configuration names another
// host as its peer. Each source in PEER_REFERENCES extracts them from one
// node (its StorageNode args, or the text of one of its steps); the rule then
// checks that every reference names the other node of the same pair. To cover
// a new place (lsyncd's replication target, the rsync allow list, heartbeat's
// ucast peer), add a source that reads the step's stdin and returns the
// addresses it names.
import { buildModel, describeNodeSpec, observe, type NodeSpecLike, type NodeView, type PairstorePolicy } from "./model";
import { HEARTBEAT_CONFIG_STEP, LSYNCD_CONFIG_STEP, REPLICATE_SCRIPT_STEP, RSYNCD_CONFIG_STEP } from "./step-names";

/** One place where a node names its peer. */
export interface PeerReference {
    /** Where, for the message: "args.peer.internalAddress", "lsyncd target". */
    what: string;
    /** The name or address found there. */
    value: string;
}

/** Extracts the peer references of one node. */
export type PeerReferenceSource = (node: NodeView) => PeerReference[];

/** StorageNode args: `peer` is the spec of the node it mirrors. */
export const peerArgs: PeerReferenceSource = (node) => {
    const peer = node.inputs?.peer;
    if (!peer) return [];
    const refs: PeerReference[] = [];
    const add = (what: string, value: unknown) => {
        if (typeof value === "string" && value !== "") refs.push({ what: `args.peer.${what}`, value });
    };
    add("name", peer.name);
    add("ssh.host", peer.ssh?.host);
    add("publicIp.address", peer.publicIp?.address);
    add("internalAddress", peer.internalAddress);
    return refs;
};

/** Hosts of lsyncd's `target = "[user@]host::module/"` lines (the node pushes there). */
export function lsyncdTargets(text: string | undefined): string[] {
    return [...(text ?? "").matchAll(/^\s*target\s*=\s*"(?:[^"@]*@)?([^":]+)::[^"]*"/gm)].map((m) => m[1]);
}

/** Hosts of rsyncd's `hosts allow = a b, c` lines (who may write to the node). */
export function rsyncdHostsAllow(text: string | undefined): string[] {
    return [...(text ?? "").matchAll(/^\s*hosts allow\s*=\s*(.+)$/gm)].flatMap((m) => m[1].split(/[\s,]+/).filter(Boolean));
}

/** The peer the replicate helper pulls from and pushes to (`PEER=...`). */
export function replicatePeer(text: string | undefined): string[] {
    return [...(text ?? "").matchAll(/^PEER='?([^'\s]+)'?$/gm)].map((m) => m[1]);
}

/** lsyncd's replication targets (step lsyncd-config). */
export const lsyncdTargetRefs: PeerReferenceSource = (node) =>
    lsyncdTargets(stdinOf(node, LSYNCD_CONFIG_STEP)).map((value) => ({ what: "lsyncd target", value }));

/** rsyncd's allow list (step rsyncd-config). */
export const rsyncdAllowRefs: PeerReferenceSource = (node) =>
    rsyncdHostsAllow(stdinOf(node, RSYNCD_CONFIG_STEP)).map((value) => ({ what: "rsyncd hosts allow", value }));

/** The catch-up and refill peer (step replicate-script). */
export const replicatePeerRefs: PeerReferenceSource = (node) =>
    replicatePeer(stdinOf(node, REPLICATE_SCRIPT_STEP)).map((value) => ({ what: "catch-up/refill peer", value }));


/**
 * heartbeat's ha.cf (the `heartbeat-config` step's stdin): every `ucast IFACE
 * ADDRESS` line sends heartbeats to ADDRESS (one line per path: the peer's
 * internal address, then its static address on each heartbeatPaths link),
 * and every `node NAME` line other than the node's own name is the one other
 * member heartbeat knows.
 */
export const heartbeatPeers: PeerReferenceSource = (node) => {
    const text = stdinOf(node, HEARTBEAT_CONFIG_STEP);
    if (text === undefined) return [];
    const own = node.inputs?.node?.name ?? node.name;
    const refs: PeerReference[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.replace(/#.*/, "").trim();
        const ucast = /^ucast\s+\S+\s+(\S+)$/.exec(line);
        if (ucast) refs.push({ what: "heartbeat ucast in ha.cf", value: ucast[1] });
        const member = /^node\s+(.+)$/.exec(line);
        if (member) {
            for (const name of member[1].split(/\s+/)) if (name !== own) refs.push({ what: "heartbeat node in ha.cf", value: name });
        }
    }
    return refs;
};

/** Every source of peer references: component args, replication and heartbeat configs. */
export const PEER_REFERENCES: PeerReferenceSource[] = [peerArgs, lsyncdTargetRefs, rsyncdAllowRefs, replicatePeerRefs, heartbeatPeers];

/** The stdin text of one of a node's steps (for sources that parse config files). */
export function stdinOf(node: NodeView, step: string): string | undefined {
    const s = node.steps.find((x) => x.step === step);
    return typeof s?.props.stdin === "string" ? s.props.stdin : undefined;
}

/** The names and addresses a node answers to (its heartbeat paths' static addresses included). */
export function identities(spec: NodeSpecLike | undefined): Set<string> {
    const ids = new Set<string>();
    const paths = Array.isArray(spec?.heartbeatPaths) ? spec!.heartbeatPaths.map((p) => p?.address) : [];
    for (const v of [spec?.name, spec?.ssh?.host, spec?.publicIp?.address, spec?.internalAddress, ...paths]) {
        if (typeof v === "string" && v !== "") ids.add(v);
    }
    return ids;
}

export const pairPeers: PairstorePolicy = {
    name: "pair-peers",
    description: "The two nodes of a pair point at each other (peer, replication target, rsync allow list, heartbeat peer) and nowhere else.",
    enforcementLevel: "mandatory",
    configSchema: { properties: {} },
    validateResource: (args, reportViolation) => {
        const o = observe(args);
        if (args.type !== "pairstore:index:StorageNode") return;
        const node = o.props.node as NodeSpecLike | undefined;
        const peer = o.props.peer as NodeSpecLike | undefined;
        if (!node || !peer) return; // validateStack reports the missing args
        const own = identities(node);
        const shared = [...identities(peer)].filter((v) => own.has(v));
        if (shared.length > 0) {
            reportViolation(`node ${node.name} of pair ${o.props.pair} names itself as its peer (${shared.join(", ")}); its peer is the other node of the pair.`);
        }
    },
    validateStack: (args, reportViolation) => {
        const model = buildModel(args.resources);
        const owners = new Map<string, NodeView>();
        for (const n of model.nodes) for (const id of identities(n.inputs?.node)) owners.set(id, n);
        for (const pair of model.pairs) {
            if (pair.nodes.length !== 2) continue; // servers-only-in-pairs reports it
            const pairNames = pair.inputs?.pair.nodes.map((n) => n.name);
            for (const [self, other] of [[pair.nodes[0], pair.nodes[1]], [pair.nodes[1], pair.nodes[0]]]) {
                if (!self.inputs) {
                    reportViolation(
                        `node ${self.name} of pair ${pair.name}: its StorageNode args are not visible to the policy, so its peer cannot be checked ` +
                        `(is PULUMI_NODEJS_SKIP_COMPONENT_INPUTS set, or are the args not plain data?).`,
                        self.resource.urn);
                    continue;
                }
                if (self.inputs.pair !== pair.name) {
                    reportViolation(`node ${self.name} says it belongs to pair ${self.inputs.pair}, but it is a node of pair ${pair.name}.`, self.resource.urn);
                }
                if (pairNames && !pairNames.includes(self.name)) {
                    reportViolation(`node ${self.name} is registered under pair ${pair.name}, whose nodes are ${pairNames.join(" and ")}.`, self.resource.urn);
                }
                const otherSpec = other.inputs?.node ?? pair.inputs?.pair.nodes.find((n) => n.name === other.name);
                const expected = identities(otherSpec ?? { name: other.name });
                for (const source of PEER_REFERENCES) {
                    for (const ref of source(self)) {
                        if (expected.has(ref.value)) continue;
                        const owner = owners.get(ref.value);
                        const whose = owner === self ? "which is the node itself"
                            : owner ? `which is node ${owner.name}${owner.pair ? ` of pair ${owner.pair.name}` : ""}`
                                : "which is no node of this stack";
                        reportViolation(
                            `node ${self.name} of pair ${pair.name} points at ${ref.value} as its peer (${ref.what}), ${whose}; ` +
                            `its peer is ${describeNodeSpec(otherSpec, other.name)}.`,
                            self.resource.urn);
                    }
                }
            }
        }
    },
};
