// ShardDns: the round-robin record sets of one domain, `<shard>.image.<domain>`
// -> the two public IPs of the pair serving the shard, written by one of two
// backends:
//
//  - rfc2136: dynamic updates signed with TSIG (nsupdate), to any RFC 2136
//    primary (BIND, Knot, PowerDNS). They are sent from the machine running
//    Pulumi (command:local:Command), not from a node: the TSIG key then never
//    leaves the controller (no key file on a storage node, no node allowed to
//    update the zone), and DNS can be changed while a pair is down, which is
//    exactly when shards are moved away from it. The cost: the controller needs
//    nsupdate and dig (bind9-dnsutils) and must reach the server on port 53/TCP.
//  - bind: a zone include file pushed over SSH to a BIND primary
//    (command:remote:Command), checked with named-checkzone, then `rndc reload`.
//
// One child resource per domain, so a plan change is one in-place update
// (one signed transaction, or one zone reload) and removing the domain removes
// its records. The component's args are exactly `{domain, ttl, shards}`, plain
// data, for the policy pack; backend settings and secrets travel beside them.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { BindSpec, DnsDomainSpec, Rfc2136Spec } from "./roles/dns/config";
import {
    bindIncludeScript, renderTsigKeyFile, renderZoneInclude, rfc2136Script, type ShardDnsArgs,
} from "./roles/dns/steps";
import { sshConnection, stepCommand } from "./step/step";

export type { ShardDnsArgs, ShardRecord } from "./roles/dns/steps";

/** Where and how a ShardDns writes its records (beside the args: not policy data, and it holds secrets). */
export interface ShardDnsBackend {
    /** The domain's DNS settings (zone, backend, files). */
    spec: DnsDomainSpec;
    /** rfc2136 backend: the server and key. */
    rfc2136?: Rfc2136Spec;
    /** rfc2136 backend: the TSIG secret (a Pulumi secret). */
    tsigSecret?: pulumi.Input<string>;
    /** bind backend: the BIND host. */
    bind?: BindSpec;
    /** bind backend: the SSH private key (a Pulumi secret). */
    sshPrivateKey?: pulumi.Input<string>;
    /** Report what would change, change nothing. */
    checkMode?: boolean;
}

export class ShardDns extends pulumi.ComponentResource {
    /** The domain. */
    public readonly domain: string;
    /** The resource that writes the records. */
    public readonly records: command.local.Command | command.remote.Command;

    constructor(name: string, args: ShardDnsArgs, backend: ShardDnsBackend, opts?: pulumi.ComponentResourceOptions) {
        // Exactly the policy's args shape, as plain data.
        const plain: ShardDnsArgs = { domain: args.domain, ttl: args.ttl, shards: args.shards.map((s) => ({ shard: s.shard, pair: s.pair, ips: [s.ips[0], s.ips[1]] })) };
        super("pairstore:index:ShardDns", name, plain, opts);
        this.domain = args.domain;
        const { spec } = backend;
        const check = backend.checkMode ?? false;
        const stepName = `dns-${args.domain}`;
        let server: string;
        if (spec.backend === "rfc2136") {
            const rfc = backend.rfc2136;
            if (!rfc || backend.tsigSecret === undefined) throw new Error(`ShardDns ${name}: the rfc2136 backend needs the server settings and the TSIG secret`);
            server = rfc.server;
            // Scripts run as the user running Pulumi; `root` only means "no sudo" here. They claim
            // nothing on this machine: a delete keeps the records of a zone handed to another backend.
            const opts = { user: "root", check, owner: "" };
            const key = pulumi.secret(pulumi.output(backend.tsigSecret).apply((s) => renderTsigKeyFile(rfc.keyName, rfc.algorithm, s.trim())));
            const apply = stepCommand(stepName, rfc2136Script(plain, spec, rfc, "apply"), opts);
            this.records = new command.local.Command(`${name}-rfc2136`, {
                create: apply,
                update: apply,
                delete: stepCommand(stepName, rfc2136Script(plain, spec, rfc, "delete"), { ...opts, check: false, delete: true }),
                // The key only on stdin: it never appears on a command line or in the script text.
                stdin: key,
                // The scripts never print the key, and a rejected key must be readable; outputs stay secret.
                logging: "stdoutAndStderr",
                addPreviousOutputInEnv: false,
            }, { parent: this, additionalSecretOutputs: ["stdout", "stderr"] });
        } else {
            const bind = backend.bind;
            if (!bind || backend.sshPrivateKey === undefined) throw new Error(`ShardDns ${name}: the bind backend needs the BIND host and the SSH key`);
            server = bind.server;
            const opts = { user: bind.ssh.user, check, owner: `${name}-bind` };
            const apply = stepCommand(stepName, bindIncludeScript(plain, spec, "apply"), opts);
            this.records = new command.remote.Command(`${name}-bind`, {
                connection: sshConnection(bind.ssh, backend.sshPrivateKey),
                create: apply,
                update: apply,
                delete: stepCommand(stepName, bindIncludeScript(plain, spec, "delete"), { ...opts, check: false, delete: true }),
                // The include file's text: `pulumi preview --diff` shows the records that change.
                stdin: renderZoneInclude(plain),
                logging: "stdoutAndStderr",
                addPreviousOutputInEnv: false,
            }, { parent: this });
        }
        this.registerOutputs({
            domain: args.domain,
            zone: spec.zone,
            backend: spec.backend,
            server,
            ttl: args.ttl,
            records: args.shards.length,
        });
    }
}
