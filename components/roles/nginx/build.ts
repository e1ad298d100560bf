// nginx built from source on the node: a pinned version and sha256, the
// tarball downloaded on the host or pushed from the machine running the
// program, configured with the operator's module flags and pairstore's paths.
import type { ClusterSpec, NodeSpec } from "../../config";
import { copyStep, type StepSpec } from "../../step/step";
import { digest, readTemplate, render, shq, shqList } from "../../step/template";
import {
    NGINX_BIN, NGINX_LIVE_CONF, NGINX_PID, NGINX_PREFIX, NGINX_SRC_CACHE, NGINX_VAR_DIR, nginxUploadPath,
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
 * Steps: push the tarball to `node` (when `nginx.sourceFile` is set), then
 * build and install. Phase "prepare": the new binary replaces the file only,
 * the running nginx keeps serving until the rolled `nginx-service` step
 * restarts it, so both nodes of a pair build at once.
 */
export function nginxBuildRole(spec: Pick<ClusterSpec, "nginx">, node: Pick<NodeSpec, "ssh" | "generation">): StepSpec[] {
    const { nginx } = spec;
    const uploaded = nginx.sourceFile ? nginxUploadPath(nginx.version, digest(node.ssh.hostKey ?? "", String(node.generation)).slice(0, 8)) : "";
    const steps: StepSpec[] = [];
    if (nginx.sourceFile) {
        steps.push(copyStep("nginx-source", { localPath: nginx.sourceFile, remotePath: uploaded, sha256: nginx.sha256 }, "prepare"));
    }
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
            flags: shqList(nginxConfigureFlags(spec)),
            build_id: nginxBuildId(spec),
        }),
        // the patch travels on stdin, so `pulumi preview --diff` shows it
        stdin: davPatch(),
        // The binary and the build cache stay: removing the role does not uninstall nginx under a running unit.
    });
    return steps;
}
