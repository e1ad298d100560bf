// nginx's service and sites: the systemd unit, the main configuration, one
// site file per domain (public port + internal DAV port), the secure_link
// secret, and the activation that checks the whole set with `nginx -t`
// before it goes live.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeSpec } from "../config";
import { fileStep, serviceStep, type StepSpec } from "../host/step";
import { digest, render, shq, shqList } from "../host/template";
import {
    HEALTH_PATH, NGINX_BIN, NGINX_CONF_DIR, NGINX_LIVE_CONF, NGINX_PID, NGINX_UNIT, NGINX_VAR_DIR, UNIT_DIR,
    domainRootOf, domainTmpOf, logDirOf,
} from "../paths";
import { secureLinkSecretProblem } from "../secure-link";
import { nginxBuildId } from "./nginx-build";

type SitesSpec = Pick<ClusterSpec, "domains" | "dataRoot" | "publicPort" | "nofile" | "nginx" | "uploaders" | "secureLinkPrefix">;

/** Secrets the sites need, as Pulumi inputs (never plain config). */
export interface SitesSecrets {
    /** The secure_link secret. */
    secureLinkSecret: pulumi.Input<string>;
}

const CANDIDATE = `${NGINX_CONF_DIR}/candidate`;

/** The health URLs of a node: one per domain's internal port, asked on the node itself. */
export function nginxHealthUrls(spec: Pick<ClusterSpec, "domains">): string[] {
    return spec.domains.map((d) => `http://127.0.0.1:${d.internalPort}${HEALTH_PATH}`);
}

/** The main nginx.conf. */
export function renderNginxConf(spec: SitesSpec): string {
    return render("nginx/nginx.conf", {
        conf_dir: NGINX_CONF_DIR,
        worker_processes: spec.nginx.workerProcesses,
        worker_connections: spec.nginx.workerConnections,
        nofile: spec.nofile,
        pid_file: NGINX_PID,
        var_dir: NGINX_VAR_DIR,
        public_port: spec.publicPort,
    });
}

/** The site file of one domain on `node`, whose peer is `peer`. */
export function renderSite(spec: SitesSpec, domain: ClusterSpec["domains"][number], node: NodeSpec, peer: NodeSpec): string {
    const extra = spec.nginx.extraPublicConfig.trim();
    return render("nginx/site.conf", {
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
        max_upload_size: spec.nginx.maxUploadSize,
        uploader_allow: spec.uploaders.map((u) => `    allow ${u};`).join("\n"),
        extra_public_config: extra === "" ? "" : `    # nginx.extraPublicConfig\n${extra.split("\n").map((l) => `    ${l}`).join("\n")}\n`,
    });
}

/** The secure_link include with the secret filled in; throws (without the secret) when nginx could not read it. */
export function renderSecureLinkConf(secret: string): string {
    const problem = secureLinkSecretProblem(secret);
    if (problem) throw new Error(`pairstore:secureLinkSecret ${problem}`);
    return render("nginx/secure-link.conf", { secret });
}

/** Steps: data directories, unit, configuration files, secret, activation, service. */
export function nginxSitesRole(spec: SitesSpec, node: NodeSpec, peer: NodeSpec, secrets: SitesSecrets): StepSpec[] {
    const dirs = spec.domains.flatMap((d) => {
        const tmp = domainTmpOf(spec.dataRoot, d.name);
        return [domainRootOf(spec.dataRoot, d.name), tmp, `${tmp}/proxy`, `${tmp}/body`];
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
        ...spec.domains.map((d) => ({
            step: `nginx-site-${d.name}`, path: `${CANDIDATE}/sites/${d.name}.conf`, content: renderSite(spec, d, node, peer),
        })),
    ];
    const activate = (setDigest: string) => render("steps/nginx-activate.sh", {
        set_digest: setDigest,
        conf_dir: shq(NGINX_CONF_DIR),
        bin: shq(NGINX_BIN),
        unit: shq(NGINX_UNIT),
        sites: shqList(spec.domains.map((d) => `${d.name}.conf`)),
    });
    const secretPath = `${CANDIDATE}/secure-link.conf`;
    return [
        { name: "nginx-dirs", script: render("steps/nginx-dirs.sh", { dirs: shqList(dirs) }) },
        fileStep("nginx-unit", { path: `${UNIT_DIR}/${NGINX_UNIT}`, content: unit }),
        ...files.map((f) => fileStep(f.step, { path: f.path, content: f.content })),
        {
            name: "nginx-secure-link-secret",
            // Written, then activated here: the activation step's inputs cannot carry the secret.
            script: render("steps/nginx-secret.sh", { path: shq(secretPath) }) + activate("(with a new secret)"),
            stdin: pulumi.secret(pulumi.output(secrets.secureLinkSecret).apply(renderSecureLinkConf)),
            stdinDigest: "secret",
            secret: true,
            deleteScript: `rm -f ${shq(secretPath)}\n`,
        },
        { name: "nginx-activate", script: activate(digest(...files.map((f) => f.content))) },
        serviceStep("nginx-service", NGINX_UNIT, [unit, nginxBuildId(spec)], "restart"),
    ];
}
