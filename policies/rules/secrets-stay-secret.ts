// secrets-stay-secret: secrets reach the hosts as Pulumi secrets and never as
// plain text. Checks, on every resource's inputs:
//  - a remote command's connection.privateKey (and password) is a secret;
//  - a step that logs nothing (logging "none": heartbeat authkeys, rsync
//    secret, secure_link secret, TSIG key, ...) has a secret stdin and keeps
//    stdout/stderr secret (additionalSecretOutputs);
//  - a step whose name says it carries a secret (secretStepPattern) is such a step;
//  - no plain (non-secret) input anywhere contains key material
//    (plainTextPatterns, by default "PRIVATE KEY-----").
// Secretness comes from ./secret-paths (the SDK itself hides it, see there).
import { configWithDefaults, describeStep, observe, read, REMOTE_TYPES, stepOwner, walkStrings, type PairstorePolicy } from "./model";
import { isSecretAt, secretPathsOf } from "./secret-paths";

export interface SecretsStaySecretConfig {
    /** Substrings that must never appear in a plain input. */
    plainTextPatterns: string[];
    /** Steps whose name (without the node prefix) matches this regular expression carry a secret. */
    secretStepPattern: string;
}

export const SECRETS_STAY_SECRET_DEFAULTS: SecretsStaySecretConfig = {
    plainTextPatterns: ["PRIVATE KEY-----"],
    secretStepPattern: "(^|-)(authkeys|secret|secrets|tsig|password|credentials)(-|$)",
};

export const secretsStaySecret: PairstorePolicy = {
    name: "secrets-stay-secret",
    description: "SSH keys, heartbeat authkeys, rsync, secure_link and TSIG secrets are Pulumi secrets; steps that carry them log nothing.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            plainTextPatterns: {
                type: "array",
                items: { type: "string", minLength: 4 },
                default: SECRETS_STAY_SECRET_DEFAULTS.plainTextPatterns,
                description: "Text that marks key material; a plain input containing it is a violation.",
            },
            secretStepPattern: {
                type: "string",
                default: SECRETS_STAY_SECRET_DEFAULTS.secretStepPattern,
                description: "Regular expression over step names (without the node prefix) of steps that carry a secret.",
            },
        },
    },
    validateResource: (args, reportViolation) => {
        const o = observe(args);
        const cfg = configWithDefaults(args, SECRETS_STAY_SECRET_DEFAULTS);
        const props = args.props;
        const known = secretPathsOf(props) !== undefined;
        const what = REMOTE_TYPES.includes(args.type) ? describeStep(args.name, props) : `${args.type.split(":").pop()} ${args.name}`;

        // Key material in any plain input.
        walkStrings(o.props, (text, path) => {
            const hit = cfg.plainTextPatterns.find((p) => text.includes(p));
            if (hit === undefined) return;
            if (isSecretAt(props, path) === true) return;
            reportViolation(
                `${what}: input ${path.join(".")} holds key material ("${hit}") in plain text` +
                (known ? "" : " (or secretness is unknown)") +
                `; pass it as a Pulumi secret (pulumi.secret, or config set with --secret).`);
        });

        if (!REMOTE_TYPES.includes(args.type)) return;
        const connection = read(props, "connection");
        const fields = connection && typeof connection === "object" ? Object.keys(connection) : [];
        for (const field of ["privateKey", "password", "privateKeyPassword"]) {
            if (!fields.includes(field)) continue;
            const secret = isSecretAt(props, ["connection", field]);
            if (secret !== true) {
                reportViolation(
                    `${what}: connection.${field} is ${secret === false ? "plain text" : "not known to be a secret"}; ` +
                    `it must be a Pulumi secret (pairstore:sshPrivateKey set with --secret, passed through pulumi.secret).`);
            }
        }

        const stepName = stepOwner(args.name)?.step ?? args.name;
        let pattern: RegExp | undefined;
        try {
            pattern = new RegExp(cfg.secretStepPattern);
        } catch {
            reportViolation(`policy config secretStepPattern ${JSON.stringify(cfg.secretStepPattern)} is not a regular expression.`);
        }
        const carriesSecret = o.props.logging === "none" || (pattern?.test(stepName) ?? false);
        if (!carriesSecret) return;
        if (o.props.logging !== "none") {
            reportViolation(`${what} carries a secret but logs its output (logging ${JSON.stringify(o.props.logging ?? "stdoutAndStderr")}); set logging "none".`);
        }
        if (Object.keys(props).includes("stdin")) {
            const secret = isSecretAt(props, ["stdin"]);
            if (secret !== true) {
                reportViolation(`${what} logs nothing because it carries a secret, but its stdin is ${secret === false ? "plain text" : "not known to be a secret"}; pass the content as a Pulumi secret.`);
            }
        }
        const aso = args.opts?.additionalSecretOutputs ?? [];
        const missing = ["stdout", "stderr"].filter((k) => !aso.includes(k));
        if (missing.length > 0) {
            reportViolation(`${what} carries a secret but its ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not secret outputs; add them to additionalSecretOutputs.`);
        }
    },
};
