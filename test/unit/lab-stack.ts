// The lab stack's registrations under the recorder, with placeholder host
// keys and secrets: what the golden-URN and the policy step-name tests read.
import * as path from "path";
import { programConfig, loadProject } from "../engine/project";
import { recordProgram, type Recorded } from "../engine/record";
import { LAB_DNS, LAB_STACK, labConfig, labHosts } from "../lab/topology";

/** Every resource the lab stack registers, in registration order. */
export async function recordLabStack(): Promise<Recorded[]> {
    const keys = Object.fromEntries([...labHosts().map((h) => h.name), LAB_DNS.name].map((n) => [n, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGolden"]));
    const stack = labConfig(keys, {
        privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\ngolden\n-----END OPENSSH PRIVATE KEY-----\n",
        secureLinkSecret: "golden-secure-link-secret",
        heartbeatAuthKey: "golden-heartbeat-authkey",
        nginxSourceFile: __filename,
        tsigSecret: "Z29sZGVu",
    });
    const { config, secretKeys } = programConfig(loadProject(path.join(__dirname, "..", "..", "Pulumi.yaml")), LAB_STACK, stack);
    const { program } = await import("../../components/program");
    return recordProgram(program, config, secretKeys, { stack: LAB_STACK });
}
