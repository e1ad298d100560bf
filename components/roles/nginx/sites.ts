// nginx's service and sites: the systemd unit, the main configuration, one
// site file per domain (public port + internal DAV port), the secure_link
// secret, and the activation that checks the whole set with `nginx -t`
// before it goes live.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeSpec } from "../../config";
import { fileStep, serviceStep, type GateNeeds, type StepSpec } from "../../step/step";
import { digest, render, shq, shqList } from "../../step/template";
import {
    CLIENT_LIMITS_NFT, CLIENT_LIMITS_UNIT, HEALTH_PATH, INTERNAL_DIR, NGINX_BIN, NGINX_BUILDS_DIR, NGINX_BUILDS_PATH, NGINX_CONF_DIR, NGINX_LIVE_CONF, NGINX_PID, NGINX_UNIT, NGINX_VAR_DIR, UNIT_DIR,
    domainRootOf, domainTmpOf, logDirOf, readyFileOf, tombstonesOf,
} from "../../lib/paths";
import { secureLinkSecretProblem } from "../../lib/secure-link";
import { NO_ROUTING, type PairRouting } from "../moves/steps";
import { nginxBuildId } from "./build";

type SitesSpec = Pick<ClusterSpec, "domains" | "dataRoot" | "publicPort" | "nofile" | "nginx" | "uploaders" | "secureLinkPrefix">;

/** nftables: the kernel's per-client connection limit on the public port (one client cannot exhaust nginx's worker connections). */
export const CLIENT_LIMIT_PACKAGES = ["nftables"];

/** Secrets the sites need, as Pulumi inputs (never plain config). */
export interface SitesSecrets {
    /** The secure_link secret. */
    secureLinkSecret: pulumi.Input<string>;
}

const CANDIDATE = `${NGINX_CONF_DIR}/candidate`;

/** The health URLs of a node: one per domain's internal port, at `address` (default: asked on the node itself). */
export function nginxHealthUrls(spec: Pick<ClusterSpec, "domains">, address = "127.0.0.1"): string[] {
    return spec.domains.map((d) => `http://${address}:${d.internalPort}${HEALTH_PATH}`);
}

/** What the node's health gate waits for: nginx (and the client limits, when on) run and every domain's health URL answers. */
export function nginxGate(spec: Pick<ClusterSpec, "domains" | "nginx">): GateNeeds {
    return {
        units: [...(spec.nginx.clientLimits.connections > 0 ? [CLIENT_LIMITS_UNIT] : []), NGINX_UNIT],
        urls: nginxHealthUrls(spec),
    };
}

/** The placeholders of a limit that 0 turns off: the directive lines are commented out. */
function limitVars(spec: SitesSpec) {
    const l = spec.nginx.clientLimits;
    return {
        requests: l.requests,
        requests_off: l.requests > 0 ? "" : "# off: ",
        rate: l.rate,
        rate_off: l.rate > 0 ? "" : "# off: ",
    };
}

/** The main nginx.conf. */
export function renderNginxConf(spec: SitesSpec): string {
    return render("nginx/nginx.conf", {
        ...limitVars(spec),
        header_timeout: spec.nginx.clientLimits.headerTimeout,
        conf_dir: NGINX_CONF_DIR,
        worker_processes: spec.nginx.workerProcesses,
        worker_connections: spec.nginx.workerConnections,
        nofile: spec.nofile,
        pid_file: NGINX_PID,
        var_dir: NGINX_VAR_DIR,
        public_port: spec.publicPort,
    });
}

/** Characters a stored file's name may hold (its first one is not "."): what the layout's names use, and no escaping anywhere. */
const NAME = "[A-Za-z0-9_][A-Za-z0-9._~@+=,-]*";
const HEX = "[0-9a-f]";

/** `prefix` ("/private/") as an optional regex group in front of a path: "(?:/private)?". */
function optionalPrefix(prefix: string): string {
    return `(?:${prefix.replace(/\/$/, "").replace(/[.+*?^$()[\]{}|\\]/g, "\\$&")})?`;
}

/**
 * nginx regex of a stored file's URI: three hex folders of the storage layout
 * and a name that does not start with "." (components/lib/layout.ts), optionally
 * under the secure-link prefix. Only such paths are stored (PUT, MOVE
 * destinations) and fetched from the peer by the public fallback.
 */
export function storedUriPattern(secureLinkPrefix: string): string {
    return `^${optionalPrefix(secureLinkPrefix)}/${HEX}/${HEX}/${HEX}/${NAME}$`;
}

/** nginx regex of the URIs of `shards` ("4", or "4a" for the folders 4/a), optionally under the secure-link prefix. */
export function shardUriPattern(shards: string[], secureLinkPrefix: string): string {
    return `^${optionalPrefix(secureLinkPrefix)}/(?:${shards.map((s) => [...s].join("/")).join("|")})/`;
}

/** nginx regex of a MOVE's Destination header (absolute URL or path) that names a storage path. */
export function storedDestinationPattern(secureLinkPrefix: string): string {
    return `^(?:https?://[^/]+)?${storedUriPattern(secureLinkPrefix).slice(1)}`;
}

/**
 * nginx regex of the root and of every folder of the storage layout (with or
 * without a trailing slash, under the secure-link prefix too): never deleted
 * or moved, whether it exists or not.
 */
export function layoutFolderPattern(secureLinkPrefix: string): string {
    return `^${optionalPrefix(secureLinkPrefix)}(?:/${HEX}){0,3}/?$`;
}

/** `text` matched literally in an nginx (PCRE) regex. */
function regexEscape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The nginx upstream of a domain's uploads: the owner's store, then the second node's. */
export function uploadUpstreamName(domain: string): string {
    return `pairstore_upload_${domain.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/**
 * The site file of one domain on `node`, whose peer is `peer`; `owner` is the
 * name of the pair's first node, the upload owner (see site.conf).
 */
export function renderSite(
    spec: SitesSpec, domain: ClusterSpec["domains"][number], node: NodeSpec, peer: NodeSpec, owner: string, routing: PairRouting = NO_ROUTING,
): string {
    const extra = spec.nginx.extraPublicConfig.trim();
    if (owner !== node.name && owner !== peer.name) throw new Error(`upload owner ${owner} is neither ${node.name} nor ${peer.name}`);
    const [first, second] = owner === node.name ? [node, peer] : [peer, node];
    const storeGate = owner !== node.name ? "" : [
        "        # The upload owner decides only once it is ready: it has pulled what its",
        "        # peer holds since it booted (replicate refill). Until then the peer decides.",
        `        if (!-e ${readyFileOf(domain.name)}) {`,
        `            return 503 "pairstore: ${node.name} is catching up with its peer, which stores this upload\\n";`,
        "        }",
    ].join("\n");
    const moveGate = owner !== node.name ? "" : [
        "        # (the owner decides a MOVE, too, only once it is ready)",
        `        if (!-e ${readyFileOf(domain.name)}) {`,
        '            set $pairstore_move_at "${pairstore_move_at}N";',
        "        }",
        '        if ($pairstore_move_at = "M:DN") {',
        `            return 503 "pairstore: ${node.name} is catching up with its peer, which does this MOVE\\n";`,
        "        }",
        "",
    ].join("\n");
    return render("nginx/site.conf", {
        owner,
        move_gate: moveGate,
        pair_addresses: [node.internalAddress, peer.internalAddress].map(regexEscape).join("|"),
        peer_address_pattern: regexEscape(peer.internalAddress),
        upstream: uploadUpstreamName(domain.name),
        owner_store: `${first.internalAddress}:${domain.internalPort}`,
        second_store: `${second.internalAddress}:${domain.internalPort}`,
        store_gate: storeGate,
        stored_uri: storedUriPattern(spec.secureLinkPrefix),
        stored_destination: storedDestinationPattern(spec.secureLinkPrefix),
        layout_folder_uri: layoutFolderPattern(spec.secureLinkPrefix),
        tombstones: tombstonesOf(spec.dataRoot, domain.name),
        domain: domain.name,
        node: node.name,
        peer: peer.name,
        node_address: node.internalAddress,
        peer_address: peer.internalAddress,
        public_port: spec.publicPort,
        internal_port: domain.internalPort,
        root: domainRootOf(spec.dataRoot, domain.name),
        tmp: domainTmpOf(spec.dataRoot, domain.name),
        log_dir: logDirOf(domain.name),
        secure_link_prefix: spec.secureLinkPrefix,
        health_path: HEALTH_PATH,
        builds_path: NGINX_BUILDS_PATH,
        // its peer, and a joining pair's first node (NodePairArgs.buildFrom): every other pair's nodes
        builds_allow: [peer.internalAddress, ...routing.routes.flatMap((r) => r.addresses)].map((a) => `        allow ${a};\n`).join(""),
        builds_dir: NGINX_BUILDS_DIR,
        max_upload_size: spec.nginx.maxUploadSize,
        uploader_allow: spec.uploaders.map((u) => `    allow ${u};`).join("\n"),
        extra_public_config: extra === "" ? "" : `    # nginx.extraPublicConfig\n${extra.split("\n").map((l) => `    ${l}`).join("\n")}\n`,
        ...routingFragments(spec, domain, node, routing),
    });
}

/** The nginx upstream of a domain's requests to another pair's nodes. */
export function pairUpstreamName(domain: string, pair: string): string {
    return `pairstore_${domain.replace(/[^A-Za-z0-9]/g, "_")}_to_${pair.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/**
 * The parts of a site that send requests to other pairs (see
 * moves/steps.ts pairRouting): their nodes may connect to the internal
 * port; a file missing here and at the peer is read from the pair that
 * serves its shard (or moves it here); an upload of a shard another pair
 * serves is forwarded there. Empty for a cluster of one pair.
 */
function routingFragments(spec: SitesSpec, domain: ClusterSpec["domains"][number], node: NodeSpec, routing: PairRouting) {
    const uri = (shards: string[]) => shardUriPattern(shards, spec.secureLinkPrefix);
    const used = routing.routes.filter((r) => r.reads.length > 0 || r.uploads.length > 0);
    const upstream = (pair: string) => pairUpstreamName(domain.name, pair);
    // `if ($uri ~ <its shards>) { set $<variable> <the pair's upstream>; }`
    const route = (variable: string, pair: string, shards: string[]) =>
        render("nginx/shard-route.conf", { subject: "$uri", variable, shard_uri: uri(shards), value: upstream(pair) });
    // the same for a MOVE's Destination header (absolute URL or path)
    const destinationRoute = (variable: string, value: string, shards: string[]) =>
        render("nginx/shard-route.conf", { subject: "$http_destination", variable, shard_uri: `^(?:https?://[^/]+)?${uri(shards).slice(1)}`, value });
    const reads = used.filter((r) => r.reads.length > 0);
    const uploads = used.filter((r) => r.uploads.length > 0);
    const checks = used.filter((r) => r.checks.length > 0);
    return {
        cluster_allow: routing.routes.length === 0 ? "" : "    # the other pairs' nodes: reads and uploads they forward\n" +
            routing.routes.flatMap((r) => r.addresses.map((a) => `    allow ${a};  # ${r.pair}\n`)).join(""),
        pair_upstreams: used.length === 0 ? "" : "# The other pairs' nodes, for what this pair does not serve (@pairs, /.pairstore/forward).\n" +
            used.map((r) => render("nginx/pair-upstream.conf", {
                upstream: upstream(r.pair),
                first: `${r.addresses[0]}:${domain.internalPort}`, second: `${r.addresses[1]}:${domain.internalPort}`,
            })).join(""),
        read_fallback: reads.length === 0 ? "" : "        proxy_intercept_errors on;\n        error_page 404 502 504 = @pairs;\n",
        pairs_location: reads.length === 0 ? "" : render("nginx/pairs-read.conf", {
            moving: routing.incoming.length === 0 ? "none" : routing.incoming.map((m) => `${m.shard} from ${m.from}`).join(", "),
            stored_uri: storedUriPattern(spec.secureLinkPrefix),
            tombstones: tombstonesOf(spec.dataRoot, domain.name),
            node: node.name,
            node_address: node.internalAddress,
            routes: reads.map((r) => route("pairstore_read", r.pair, r.reads)).join(""),
        }),
        upload_routes: uploads.map((r) => route("pairstore_forward", r.pair, r.uploads)).join(""),
        file_op_forward: uploads.length === 0 ? "" : render("nginx/forward-file-op.conf", {}),
        move_routes: routing.routes.length === 0 ? "" : render("nginx/move-routes.conf", {
            away_routes: uploads.map((r) => destinationRoute("pairstore_move_away", r.pair, r.uploads)).join(""),
            source_routes: checks.map((r) => destinationRoute("pairstore_move_source", upstream(r.pair), r.checks)).join(""),
        }),
        move_check: checks.length === 0 ? "" : render("nginx/move-check.conf", { internal_port: domain.internalPort }),
        forward_location: uploads.length === 0 ? "" : render("nginx/forward.conf", { node: node.name, node_address: node.internalAddress, internal_port: domain.internalPort }),
        source_routes: checks.map((r) => route("pairstore_source", r.pair, r.checks)).join(""),
        source_gate: checks.length === 0 ? "" : "        auth_request /.pairstore/absent-elsewhere;\n        error_page 403 = @exists_elsewhere;\n",
        moving_check: checks.length === 0 ? "" : render("nginx/moving-check.conf", { node_address: node.internalAddress }),
        absent_probe: routing.routes.length === 0 ? "" : render("nginx/absent.conf", { root: domainRootOf(spec.dataRoot, domain.name) }),
    };
}

/** client-limits.conf: the per-client limits every public server includes. */
export function renderClientLimitsConf(spec: SitesSpec): string {
    return render("nginx/client-limits.conf", limitVars(spec));
}

/** The nftables table of the kernel's per-client connection limit on the public port. */
export function renderClientLimitsNft(spec: SitesSpec): string {
    return render("nginx/client-limits.nft", { public_port: spec.publicPort, connections: spec.nginx.clientLimits.connections });
}

/** Steps of the kernel's per-client connection limit (none when nginx.clientLimits.connections is 0). */
export function clientLimitSteps(spec: SitesSpec): StepSpec[] {
    if (spec.nginx.clientLimits.connections === 0) return [];
    const rules = renderClientLimitsNft(spec);
    const unit = render("nginx/pairstore-client-limits.service", { rules: CLIENT_LIMITS_NFT });
    return [
        fileStep("client-limits-rules", { path: CLIENT_LIMITS_NFT, content: rules, validate: "nft -c -f {}" }),
        fileStep("client-limits-unit", { path: `${UNIT_DIR}/${CLIENT_LIMITS_UNIT}`, content: unit }),
        serviceStep("client-limits", CLIENT_LIMITS_UNIT, [rules, unit], "restart"),
    ];
}

/** The secure_link include with the secret filled in; throws (without the secret) when nginx could not read it. */
export function renderSecureLinkConf(secret: string): string {
    const problem = secureLinkSecretProblem(secret);
    if (problem) throw new Error(`pairstore:secureLinkSecret ${problem}`);
    return render("nginx/secure-link.conf", { secret });
}

/** Steps: data directories, unit, configuration files, secret, activation, service. */
export function nginxSitesRole(spec: SitesSpec, node: NodeSpec, peer: NodeSpec, secrets: SitesSecrets, owner: string, routing: PairRouting = NO_ROUTING): StepSpec[] {
    const dirs = spec.domains.flatMap((d) => {
        const root = domainRootOf(spec.dataRoot, d.name);
        const tmp = domainTmpOf(spec.dataRoot, d.name);
        return [root, `${root}/${INTERNAL_DIR}`, tmp, `${tmp}/body`, `${tmp}/rsync`, tombstonesOf(spec.dataRoot, d.name)];
    });
    const unit = render("nginx/pairstore-nginx.service", {
        mounts: [...spec.domains.map((d) => logDirOf(d.name)), spec.dataRoot].join(" "),
        pid_file: NGINX_PID,
        bin: NGINX_BIN,
        conf: NGINX_LIVE_CONF,
        nofile: spec.nofile,
    });
    const files = [
        { step: "nginx-mime-types", path: `${CANDIDATE}/mime.types`, content: render("nginx/mime.types", {}) },
        { step: "nginx-main-conf", path: `${CANDIDATE}/nginx.conf`, content: renderNginxConf(spec) },
        { step: "nginx-client-limits", path: `${CANDIDATE}/client-limits.conf`, content: renderClientLimitsConf(spec) },
        ...spec.domains.map((d) => ({
            step: `nginx-site-${d.name}`, path: `${CANDIDATE}/sites/${d.name}.conf`, content: renderSite(spec, d, node, peer, owner, routing),
        })),
    ];
    // The placeholders of nginx-activate.sh, which nginx-secret.sh includes.
    const activateVars = (setDigest: string) => ({
        set_digest: setDigest,
        conf_dir: shq(NGINX_CONF_DIR),
        bin: shq(NGINX_BIN),
        unit: shq(NGINX_UNIT),
        sites: shqList(spec.domains.map((d) => `${d.name}.conf`)),
    });
    const secretPath = `${CANDIDATE}/secure-link.conf`;
    return [
        { kind: "script", name: "nginx-dirs", phase: "base", script: render("nginx/nginx-dirs.sh", { dirs: shqList(dirs) }) },
        ...clientLimitSteps(spec),
        fileStep("nginx-unit", { path: `${UNIT_DIR}/${NGINX_UNIT}`, content: unit }),
        ...files.map((f) => fileStep(f.step, { path: f.path, content: f.content })),
        {
            kind: "script",
            name: "nginx-secure-link-secret",
            phase: "base",
            // Written, then activated here: the activation step's inputs cannot carry the secret.
            script: render("nginx/nginx-secret.sh", { ...activateVars("(with a new secret)"), path: shq(secretPath) }),
            stdin: pulumi.secret(pulumi.output(secrets.secureLinkSecret).apply(renderSecureLinkConf)),
            stdinDigest: "secret",
            secret: true,
            deleteScript: `rm -f ${shq(secretPath)}\n`,
        },
        { kind: "script", name: "nginx-activate", phase: "base", script: render("nginx/nginx-activate.sh", activateVars(digest(...files.map((f) => f.content)))) },
        serviceStep("nginx-service", NGINX_UNIT, [unit, nginxBuildId(spec)], "restart"),
    ];
}
