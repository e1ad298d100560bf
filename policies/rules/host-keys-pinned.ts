// host-keys-pinned: every remote command connects with a pinned SSH host key
// (connection.hostKey), unless the stack opted out explicitly. Without it the
// command provider accepts whatever key the host presents.
//
// The stack's own opt-out (pairstore:allowUnpinnedHostKeys) is not visible to
// a policy pack (policies get their own config, not the stack's), so the opt-out
// is repeated in this policy's config: {"host-keys-pinned": {"allowUnpinnedHostKeys": true}}.
import { configWithDefaults, describeStep, observe, read, readOrUnknown, REMOTE_TYPES, UNKNOWN, type PairstorePolicy } from "./model";

export interface HostKeysPinnedConfig {
    /** Accept connections without a host key (mirror of pairstore:allowUnpinnedHostKeys). */
    allowUnpinnedHostKeys: boolean;
}

export const HOST_KEYS_PINNED_DEFAULTS: HostKeysPinnedConfig = { allowUnpinnedHostKeys: false };

/** "ssh-ed25519 AAAA..." and the other key types OpenSSH prints. */
const HOST_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( .*)?$/;

export const hostKeysPinned: PairstorePolicy = {
    name: "host-keys-pinned",
    description: "Every SSH connection pins the host key (connection.hostKey) unless the stack opts out explicitly.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowUnpinnedHostKeys: {
                type: "boolean",
                default: false,
                description: "Accept connections without a pinned host key; set only together with the stack config pairstore:allowUnpinnedHostKeys.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        observe(args);
        if (!REMOTE_TYPES.includes(args.type)) return;
        const cfg = configWithDefaults(args, HOST_KEYS_PINNED_DEFAULTS);
        const connection = read(args.props, "connection");
        const host = read(connection, "host");
        const port = read(connection, "port") ?? 22;
        const user = read(connection, "user") ?? "root";
        const hostKey = readOrUnknown(readOrUnknown(args.props, "connection"), "hostKey");
        if (hostKey === UNKNOWN) return; // computed: known (and checked) when the update runs
        const where = `${describeStep(args.name, args.props)} connects to ${user}@${host}:${port}`;
        if (hostKey === undefined || hostKey === null || (typeof hostKey === "string" && hostKey.trim() === "")) {
            if (cfg.allowUnpinnedHostKeys) return;
            reportViolation(
                `${where} without a pinned host key (connection.hostKey). Set ssh.hostKey of the node in pairstore:pairs ` +
                `(\`ssh-keyscan -t ed25519 ${host}\`), or opt out for the whole stack with pairstore:allowUnpinnedHostKeys ` +
                `and this policy's allowUnpinnedHostKeys.`);
        } else if (typeof hostKey === "string" && !HOST_KEY.test(hostKey.trim())) {
            reportViolation(`${where} with a host key that is not an OpenSSH public key ("ssh-ed25519 AAAA..."): ${JSON.stringify(hostKey.slice(0, 40))}.`);
        }
    },
};
