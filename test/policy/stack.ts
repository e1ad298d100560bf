// The valid stack, captured once per test file from the real program.
import { program } from "../../components/program";
import { captureRegistrations, type Registered } from "./capture";
import { validConfig } from "./fixtures";

let valid: Promise<Registered[]> | undefined;

/** Registrations of the real program for validConfig(). */
export function validStack(): Promise<Registered[]> {
    if (!valid) {
        const { config, secretKeys } = validConfig();
        valid = captureRegistrations(program, config, secretKeys);
    }
    return valid;
}

let withDns: Promise<Registered[]> | undefined;

/** Registrations of the real program for validConfig({dns: true}): the valid stack plus its ShardDns. */
export function dnsStack(): Promise<Registered[]> {
    if (!withDns) {
        const { config, secretKeys } = validConfig({ dns: true });
        withDns = captureRegistrations(program, config, secretKeys);
    }
    return withDns;
}
