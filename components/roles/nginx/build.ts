// nginx built from source on the node: a pinned version and sha256, the
// tarball downloaded on the host or pushed from the machine running the
// program, configured with the operator's module flags and pairstore's paths.
import * as pulumi from "@pulumi/pulumi";
import type { ClusterSpec, NodeSpec } from "../../config";
import { copyStep, type StepSpec } from "../../step/step";
import { digest, readTemplate, render, shq, shqList } from "../../step/template";
import {
    NGINX_BIN, NGINX_BUILDS_DIR, NGINX_BUILDS_PATH, NGINX_LIVE_CONF, NGINX_PID, NGINX_PREFIX, NGINX_SRC_CACHE, NGINX_VAR_DIR, nginxUploadPath,
} from "../../lib/paths";

/** Debian packages the build needs (compiler, patch, system PCRE2 and zlib) and curl (download, health checks). */
export const NGINX_BUILD_PACKAGES = ["build-essential", "patch", "libpcre2-dev", "zlib1g-dev", "curl", "ca-certificates"];

/**
 * pairstore's patch to nginx's dav module (files/nginx/dav-write-once.patch):
 * write-once PUT and MOVE by link(2), fsync before a name appears, no copy
 * across file systems, no DELETE or MOVE of a directory. Applied to every
 * build; a changed patch rebuilds.
 */
export function davPatch(): string {
    return readTemplate("nginx/dav-write-once.patch");
}

/** The path flags pairstore always passes, before the operator's module flags. */
export function nginxPathFlags(): string[] {
    return [
        `--prefix=${NGINX_PREFIX}`,
        `--sbin-path=${NGINX_BIN}`,
        `--conf-path=${NGINX_LIVE_CONF}`,
        `--pid-path=${NGINX_PID}`,
        `--lock-path=/run/nginx.lock`,
        `--error-log-path=${NGINX_VAR_DIR}/error.log`,
        `--http-log-path=${NGINX_VAR_DIR}/access.log`,
        `--http-client-body-temp-path=${NGINX_VAR_DIR}/body`,
        `--http-proxy-temp-path=${NGINX_VAR_DIR}/proxy`,
        "--user=www-data",
        "--group=www-data",
    ];
}

/** Every ./configure flag of the build, in order. */
export function nginxConfigureFlags(spec: Pick<ClusterSpec, "nginx">): string[] {
    return [...nginxPathFlags(), ...spec.nginx.configureFlags];
}

/** Identifies a build: a new id (version, checksum, flags or pairstore's patch changed) means a rebuild. */
export function nginxBuildId(spec: Pick<ClusterSpec, "nginx">): string {
    return digest(spec.nginx.version, spec.nginx.sha256, ...nginxConfigureFlags(spec), davPatch());
}

/**
 * The node whose build a node installs instead of compiling it: the pair's
 * first node, for its second (which waits for the first's health gate before
 * its base steps anyway, so waiting for its build costs nothing), and the
 * first existing pair's first node, for a joining pair's first node.
 */
export interface BuildDonor {
    /** The donor's node name (for messages). */
    name: string;
    /** Where the donor serves its build (nginxBuildUrl). */
    url: string;
    /** The sha256 of the donor's build, from its nginx-build step's output ("" when unknown: the node compiles). */
    sha256: pulumi.Input<string>;
}

/** The URL of `node`'s copy of build `buildId` on its internal port (the cluster's nodes are allowed there). */
export function nginxBuildUrl(node: Pick<NodeSpec, "internalAddress">, internalPort: number, buildId: string): string {
    return `http://${node.internalAddress}:${internalPort}${NGINX_BUILDS_PATH}${buildId}`;
}

/** The sha256 an nginx-build step printed for its installed build, or "" (none printed: check mode, failed, older scripts). */
export function nginxBuildSha(stdout: string | undefined): string {
    return /^nginx-build-sha256: ([0-9a-f]{64})$/m.exec(stdout ?? "")?.[1] ?? "";
}

/**
 * Steps: push the tarball to `node` (when `nginx.sourceFile` is set), then
 * build and install, or install `donor`'s build of the same id (checked by
 * its sha256, compiled here when it cannot be fetched or does not match).
 * Phase "prepare": the new binary replaces the file only, the running nginx
 * keeps serving until the rolled `nginx-service` step restarts it.
 */
export function nginxBuildRole(spec: Pick<ClusterSpec, "nginx">, node: Pick<NodeSpec, "ssh" | "generation">, donor?: BuildDonor): StepSpec[] {
    const { nginx } = spec;
    const uploaded = nginx.sourceFile ? nginxUploadPath(nginx.version, digest(node.ssh.hostKey ?? "", String(node.generation)).slice(0, 8)) : "";
    const steps: StepSpec[] = [];
    if (nginx.sourceFile) {
        steps.push(copyStep("nginx-source", { localPath: nginx.sourceFile, remotePath: uploaded, sha256: nginx.sha256 }, "prepare"));
    }
    const patch = davPatch();
    steps.push({
        kind: "script",
        name: "nginx-build",
        phase: "prepare",
        script: render("nginx/nginx-build.sh", {
            version: shq(nginx.version),
            sha256: shq(nginx.sha256),
            url: shq(nginx.url),
            uploaded: shq(uploaded),
            bin: shq(NGINX_BIN),
            live_conf: shq(NGINX_LIVE_CONF),
            cache: shq(NGINX_SRC_CACHE),
            var_dir: shq(NGINX_VAR_DIR),
            builds: shq(NGINX_BUILDS_DIR),
            flags: shqList(nginxConfigureFlags(spec)),
            build_id: nginxBuildId(spec),
            donor: shq(donor?.name ?? ""),
            donor_url: shq(donor?.url ?? ""),
        }),
        // stdin: the donor's sha256 on the first line, then the patch (so `pulumi preview --diff` shows both)
        stdin: donor === undefined ? `\n${patch}` : pulumi.output(donor.sha256).apply((sha) => `${sha}\n${patch}`),
        stdinDigest: donor === undefined ? undefined : digest(donor.url, patch),
        // The binary and the build cache stay: removing the role does not uninstall nginx under a running unit.
    });
    return steps;
}
