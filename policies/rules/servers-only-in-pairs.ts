// servers-only-in-pairs: every StorageNode is a child of a NodePair, and every
// NodePair has exactly two StorageNodes. A node that stands alone has no peer
// to replicate to or to take over its IP; a third node in a pair is neither
// peer's peer. Built on resource types and parents only, so it holds whatever
// the components' args look like (args only make the names nicer).
import { buildModel, listing, observe, type PairstorePolicy } from "./model";

export const serversOnlyInPairs: PairstorePolicy = {
    name: "servers-only-in-pairs",
    description: "Every StorageNode belongs to a NodePair of exactly two nodes; no node stands alone.",
    enforcementLevel: "mandatory",
    configSchema: { properties: {} },
    validateResource: (args) => {
        observe(args);
    },
    validateStack: (args, reportViolation) => {
        const model = buildModel(args.resources);
        for (const node of model.nodes) {
            if (node.pair) continue;
            const parent = node.resource.parent;
            const where = parent ? `its parent is ${parent.type} ${parent.name}` : "it has no parent";
            reportViolation(
                `StorageNode ${node.name} stands alone: it is not one of the two nodes of a NodePair (${where}). ` +
                `Servers come in pairs: declare it with its peer as a pair in pairstore:pairs.`,
                node.resource.urn);
        }
        for (const pair of model.pairs) {
            const names = pair.nodes.map((n) => n.name);
            if (names.length === 2) continue;
            if (names.length === 0) {
                reportViolation(`NodePair ${pair.name} has no StorageNode; a pair has exactly two nodes.`, pair.resource.urn);
            } else if (names.length === 1) {
                reportViolation(
                    `NodePair ${pair.name} has one node: node ${names[0]} stands alone with no peer. ` +
                    `Add its peer to pair ${pair.name}, or remove the pair.`,
                    pair.resource.urn);
            } else {
                reportViolation(
                    `NodePair ${pair.name} has ${names.length} nodes (${listing(names)}); a pair has exactly two. ` +
                    `Move the extra nodes into a pair of their own.`,
                    pair.resource.urn);
            }
        }
    },
};
