/**
 * Lab test hosts: what other modules import from test/lab/hosts (one file per
 * section: constants, util, image, naming, process, network, lifecycle, ssh).
 *
 * The hosts are real Debian bookworm machines (systemd as PID 1, sshd) on one
 * Linux machine, built with debootstrap + overlayfs + systemd-nspawn + network
 * namespaces. See /work/shared/DESIGN.md "Test hosts on one machine".
 *
 * Layout under LAB_DIR (default /var/lib/pairstore-lab):
 *   debootstrap-<hash>/     plain debootstrap output (cached; only rebuilt when the debootstrap recipe changes)
 *   base-<hash>/            read-only lower layer: debootstrap + lab config + apt lists + .deb cache
 *   base -> base-<hash>     the current base (symlink, swapped atomically)
 *   key/id_ed25519{,.pub}   lab SSH key (root's authorized key on every host)
 *   hosts/<name>/           upper/ work/ merged/ console.log nspawn.pid lower (path of the base it was created on)
 *
 * Networking: bridge psbr0 (10.77.0.1/24, management) and psbr1 (198.51.100.1/24,
 * public side, hosts get no address there). Each host has its own netns
 * `ps-<name>` holding eth0 and eth1 (veth peers of ps0-<name>/ps1-<name> on the
 * bridges) with fixed MACs. Addresses and routes are configured from the outside,
 * in the netns, before boot, so they survive container reboots (the netns is
 * not owned by the container). No NAT; an nftables table rejects forwarding
 * between the lab bridges and anything else.
 *
 * Only test code uses this module. It must run as root on Linux.
 */
export { BASE_INCLUDE, DEBIAN_MIRROR, DEBIAN_SUITE, LAB_DIR, LAB_ID, type LabHost, MGMT_BRIDGE, MGMT_GATEWAY, MGMT_NET, MGMT_PREFIX, OUTER_PACKAGES, PUBLIC_BRIDGE, PUBLIC_GATEWAY, PUBLIC_NET, PUBLIC_PREFIX } from "./constants";
export { LabCommandError } from "./util";
export { assertRootLinux, currentBase, debootstrapDir, ensureBase, ensureDebootstrap, ensureOuterPackages } from "./image";
export { hostDir, macFor, netnsName, outerVethName } from "./naming";
export { isRunning } from "./process";
export { ensureBridges } from "./network";
export { destroyAll, destroyHost, hostKey, hostsOnOtherBase, listHosts, rebootHost, reinstallHost, startHost, stopHost, waitForSsh } from "./lifecycle";
export { ensureLabKey, labKeyPath, sshRun } from "./ssh";
