// The packages role (components/roles/packages.ts): the base packages plus
// extras, sorted, once each, in the step that installs them.
import { describe, expect, test } from "vitest";
import { nodePackages, packagesRole } from "../../components/roles/packages/steps";

describe("packages role", () => {
    test("base packages plus extras, sorted, once each", () => {
        // the foundation's tools, what the nginx build needs (compiler, PCRE2, zlib, curl) and replication (rsync, lsyncd)
        expect(nodePackages({ extraPackages: ["rsync", "gzip"] })).toEqual([
            "build-essential", "ca-certificates", "curl", "gzip", "heartbeat", "iputils-arping", "kmod", "libpcre2-dev", "lsyncd", "nftables", "patch", "procps",
            "rsync", "util-linux", "zlib1g-dev",
        ]);
        expect(packagesRole({ extraPackages: ["rsync"] })[0].script).toContain(
            "WANT=(build-essential ca-certificates curl gzip heartbeat iputils-arping kmod libpcre2-dev lsyncd nftables patch procps rsync util-linux zlib1g-dev)");
    });
});

