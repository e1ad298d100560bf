// The valid stack, recorded once per test file from the real program
// (test/engine/record.ts, stack "policy").
import { program } from "../../components/program";
import { recordProgram, type Recorded as Registered } from "../engine/record";
import { validConfig } from "./fixtures";

let valid: Promise<Registered[]> | undefined;

/** Registrations of the real program for validConfig(). */
export function validStack(): Promise<Registered[]> {
    if (!valid) {
        const { config, secretKeys } = validConfig();
        valid = recordProgram(program, config, secretKeys, { stack: "policy" });
    }
    return valid;
}

let withDns: Promise<Registered[]> | undefined;

/** Registrations of the real program for validConfig({dns: true}): the valid stack plus its ShardDns. */
export function dnsStack(): Promise<Registered[]> {
    if (!withDns) {
        const { config, secretKeys } = validConfig({ dns: true });
        withDns = recordProgram(program, config, secretKeys, { stack: "policy" });
    }
    return withDns;
}
