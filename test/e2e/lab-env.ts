// Gate for the end-to-end tests: they need root on Linux to run real hosts.
// Outside CI a non-root run skips them with that reason; in CI it fails.
import { describe } from "vitest";
import { labHostsUp, applyLab } from "../lab/lab";
import { sshRun } from "../lab/hosts";
import { labDnsHost, labHosts } from "../lab/topology";

const reason = process.platform !== "linux" ? "not Linux" : process.getuid?.() !== 0 ? "not root" : undefined;
if (reason && process.env.CI) throw new Error(`end-to-end tests need root on Linux (${reason}); CI must run them as root`);
if (reason) console.warn(`skipping end-to-end tests: ${reason} (they need root on Linux to run the lab's hosts)`);

/** `describe` when the lab can run here, `describe.skip` (with the reason in its name) otherwise. */
export function describeLab(name: string, fn: () => void) {
    return reason ? describe.skip(`${name} (skipped: ${reason})`, fn) : describe(name, fn);
}

/** Brings the lab hosts up and applies the program; throws with the failed steps. */
export async function labReady() {
    await labHostsUp();
    const r = await applyLab();
    if (!r.ok) throw new Error(`lab apply failed:\n${r.failed.map((f) => `${f.name}: ${f.message}`).join("\n")}`);
    return r;
}

/** Runs a command on a lab host (a node or the DNS host) as root; throws when it fails. */
export async function onHost(name: string, command: string): Promise<string> {
    const h = [...labHosts(), labDnsHost()].find((x) => x.name === name);
    if (!h) throw new Error(`no lab host ${name}`);
    const r = await sshRun(h, command);
    if (r.code !== 0) throw new Error(`${name}: \`${command}\` exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
}

export { labHosts };
