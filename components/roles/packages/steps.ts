// Debian packages every node needs, installed only when missing: the
// foundation packages below plus the packages each role declares next to its
// steps (nginx build, client limits, replication, heartbeat) and
// `pairstore:extraPackages`.
import type { ClusterSpec } from "../../config";
import { render, shqList } from "../../step/template";
import type { StepSpec } from "../../step/step";
import { HEARTBEAT_PACKAGES } from "../heartbeat/steps";
import { NGINX_BUILD_PACKAGES } from "../nginx/build";
import { CLIENT_LIMIT_PACKAGES } from "../nginx/sites";
import { REPLICATION_PACKAGES } from "../replication/steps";

/** Packages the foundation roles use (sysctl, modprobe, mount tools, gzip). */
export const BASE_PACKAGES = ["procps", "kmod", "util-linux", "gzip"];

/** The sorted package list of a node. */
export function nodePackages(spec: Pick<ClusterSpec, "extraPackages">): string[] {
    return [...new Set([...BASE_PACKAGES, ...NGINX_BUILD_PACKAGES, ...REPLICATION_PACKAGES, ...HEARTBEAT_PACKAGES, ...CLIENT_LIMIT_PACKAGES, ...spec.extraPackages])].sort();
}

/** The packages step: it only installs what is missing, so it runs on both nodes of a pair at once (phase "prepare"). */
export function packagesRole(spec: Pick<ClusterSpec, "extraPackages">): StepSpec[] {
    return [{ kind: "script", name: "packages", phase: "prepare", script: render("packages/packages.sh", { packages: shqList(nodePackages(spec)) }) }];
}
