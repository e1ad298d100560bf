// What a real `pulumi up` would hit, on the lab hosts: a failing step that
// carries a secret (the provider's error shows the whole command and all its
// output), check mode with a removed domain (nothing deleted), and a
// reinstalled node (one apply converges it).
import { beforeAll, expect, it } from "vitest";
import { CHECK_MODE_STOP } from "../../components/program";
import { reinstallHost } from "../lab/hosts";
import { applyLab, labHostsUp, labSecureLinkSecret } from "../lab/lab";
import { LAB_DOMAINS } from "../lab/topology";
import { applyChanges, describeLab, labHosts, labReady, onHost } from "./lab-env";

const failures = (r: { failed: Array<{ name: string; message: string }> }) => r.failed.map((f) => `${f.name}: ${f.message}`).join("\n");
const host = (name: string) => labHosts().find((h) => h.name === name)!;

/** Status of a public GET of `path` on `node`'s public IP for `domain`. */
async function publicStatus(node: string, domain: string, path: string): Promise<string> {
    return onHost(node, `curl -s -o /dev/null -w '%{http_code}' -H 'Host: 0.image.${domain}' http://${host(node).publicIp}${path} || true`);
}

describeLab("a real pulumi up's path, on the lab hosts", () => {
    beforeAll(async () => {
        await labReady();
    });

    it("a failing step that carries a secret shows its whole command and output, and never the secret", async () => {
        const A = "node-1a";
        const candidate = "/etc/pairstore/nginx/candidate/mime.types";
        const next = `${labSecureLinkSecret()}-rotated`;
        // A broken candidate set makes the secret step's activation fail on A (nginx -t).
        await onHost(A, `cp ${candidate} /tmp/mime.types.good && echo 'this is not nginx;' >> ${candidate}`);
        try {
            const broken = await applyLab({ secureLinkSecret: next });
            expect(broken.ok).toBe(false);
            const f = broken.failed.find((x) => x.name === `${A}-nginx-secure-link-secret`);
            expect(f, failures(broken)).toBeDefined();
            // The provider's error: the exit, the whole command (the script, the secret not in it), all output.
            expect(f!.message).toMatch(/^Process exited with status 1: running "bash -c '# pairstore converge-step prelude/);
            expect(f!.message).toContain("the nginx configuration fails `nginx -t`");
            for (const secret of [next, labSecureLinkSecret()]) {
                expect(f!.message).not.toContain(secret);
                expect(JSON.stringify(broken)).not.toContain(secret);
            }
        } finally {
            await onHost(A, `cp /tmp/mime.types.good ${candidate}`);
            // The failed step wrote the new secret into A's candidate: activate it, then go back.
            const fixed = await applyLab({ secureLinkSecret: next });
            expect(fixed.ok, failures(fixed)).toBe(true);
            const back = await applyLab();
            expect(back.ok, failures(back)).toBe(true);
        }
    }, 900_000); // three applies: every node's secret steps run twice

    it("check mode deletes nothing: a removed domain keeps serving, the run stops before Pulumi's deletes, and the preview lists them", async () => {
        const [com, org] = LAB_DOMAINS;
        const node = "node-2a";
        // example.com leaves the stack, in check mode
        const check = await applyLab({ domains: [org], checkMode: true });
        expect(check.failed.map((x) => x.message)).toEqual([expect.stringContaining(CHECK_MODE_STOP)]);
        expect(check.deleted).toEqual([]);
        const preview = await applyLab({ domains: [org], checkMode: true }, { preview: true });
        expect(preview.ok, failures(preview)).toBe(true);
        expect(preview.deleted).toEqual(expect.arrayContaining([`${node}-nginx-site-${com.name}`, `${com.name}-rfc2136`]));
        // example.com is still live on every node
        for (const h of labHosts()) {
            expect(await onHost(h.name, "ls /etc/pairstore/nginx/live/sites/"), h.name).toContain(`${com.name}.conf`);
            expect(await onHost(h.name, `findmnt -n -o FSTYPE --mountpoint /var/log/nginx/image.${com.name}`), h.name).toBe("tmpfs");
        }
        expect(await publicStatus(node, com.name, "/no-such-file")).toBe("404");
        // A normal apply runs every step again (check mode recorded its own scripts) and changes nothing.
        const back = await applyLab();
        expect(back.ok, failures(back)).toBe(true);
        expect(back.deleted).toEqual([]);
        expect(back.changedSteps).toEqual([]);
    }, 900_000); // a check and an apply of the whole stack (check mode changes every step's inputs)

    it("a reinstalled node converges in one apply once its new host key is pinned, and its peer keeps serving", async () => {
        const B = "node-2b";
        const A = "node-2a";
        const file = "/srv/images/example.com/image/0/0/0/reinstall-probe.jpg";
        await onHost(A, `runuser -u www-data -- bash -c 'echo probe > ${file}.tmp && mv ${file}.tmp ${file}'`);
        await expect.poll(() => onHost(B, `cat ${file} 2>/dev/null || true`), { timeout: 20_000 }).toBe("probe");
        await reinstallHost(host(B));
        expect(await onHost(B, "test -e /var/lib/pairstore && echo installed || echo fresh")).toBe("fresh");
        await labHostsUp(); // pins B's new host key in the stack config
        const r = await applyLab();
        expect(r.ok, failures(r)).toBe(true);
        // every step of B ran, the tarball went over again, nothing else changed anywhere but on B
        expect(r.unchanged.filter((n) => n.startsWith(`${B}-`))).toEqual([]);
        expect(r.changedSteps).toContain(`${B}-nginx-source`);
        expect(r.changedSteps.filter((n) => n.startsWith("node-1"))).toEqual([]);
        // B installed A's nginx build (checked by its sha256) instead of compiling it
        expect(r.log).toContain(`[${B}-nginx-build] installing ${A}'s build`);
        expect(r.log).not.toMatch(new RegExp(`\\[${B}-nginx-build\\] warning`));
        const binSum = (n: string) => onHost(n, "sha256sum /usr/local/sbin/nginx | cut -d' ' -f1");
        expect(await binSum(B)).toBe(await binSum(A));
        expect(await onHost(B, "systemctl is-active pairstore-nginx pairstore-lsyncd heartbeat")).toBe("active\nactive\nactive");
        // B was refilled from A
        expect(await onHost(B, `cat ${file}`)).toBe("probe");
        const again = await applyLab();
        expect(applyChanges(again)).toEqual([]);
    }, 900_000); // a whole node converges, then a second apply
});
