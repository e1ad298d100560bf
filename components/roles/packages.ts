// Debian packages every node needs, installed only when missing.
import type { ClusterSpec } from "../config";
import { render, shqList } from "../host/template";
import type { StepSpec } from "../host/step";
import { NGINX_BUILD_PACKAGES } from "./nginx-build";

/**
 * heartbeat (R1); it brings the OCF resource agents (IPaddr2) and iproute2
 * that IPaddr_gw uses. iputils-arping: IPaddr_gw's duplicate address check
 * (`arping -D`) before it brings an address up, and the monitor's gateway and
 * peer checks on the public interface.
 */
export const HEARTBEAT_PACKAGES = ["heartbeat", "iputils-arping"];

/** nftables: the kernel's per-client connection limit on the public port (one client cannot exhaust nginx's worker connections). */
export const CLIENT_LIMIT_PACKAGES = ["nftables"];

/** Packages the foundation roles use (sysctl, modprobe, mount tools, gzip). */
export const BASE_PACKAGES = ["procps", "kmod", "util-linux", "gzip"];

/** Packages replication uses (rsyncd, the rsync client, lsyncd). */
export const REPLICATION_PACKAGES = ["rsync", "lsyncd"];

/** The sorted package list of a node. */
export function nodePackages(spec: Pick<ClusterSpec, "extraPackages">): string[] {
    return [...new Set([...BASE_PACKAGES, ...NGINX_BUILD_PACKAGES, ...REPLICATION_PACKAGES, ...HEARTBEAT_PACKAGES, ...CLIENT_LIMIT_PACKAGES, ...spec.extraPackages])].sort();
}

/** The packages step. */
export function packagesRole(spec: Pick<ClusterSpec, "extraPackages">): StepSpec[] {
    return [{ name: "packages", script: render("packages/packages.sh", { packages: shqList(nodePackages(spec)) }) }];
}
