// The names of the steps whose rendered text (stdin) the policies read. The
// program's roles name those steps with these same constants
// (components/roles/replication/steps.ts, components/roles/heartbeat/steps.ts),
// so a renamed step cannot make a policy silently find nothing; and
// test/unit/policy-step-names.test.ts checks that every name listed here is a
// step the program registers for the lab stack. This file imports nothing:
// the policy pack is deployed on its own, without components/.

/** lsyncd's config (its replication targets). */
export const LSYNCD_CONFIG_STEP = "lsyncd-config";
/** rsyncd's config (its `hosts allow` list). */
export const RSYNCD_CONFIG_STEP = "rsyncd-config";
/** The replicate helper (the catch-up and refill peer, `PEER=...`). */
export const REPLICATE_SCRIPT_STEP = "replicate-script";
/** heartbeat's ha.cf (`ucast` and `node` lines). */
export const HEARTBEAT_CONFIG_STEP = "heartbeat-config";

/** Every step name a policy reads; a policy that reads another step adds its constant here. */
export const POLICY_READ_STEPS: readonly string[] = [LSYNCD_CONFIG_STEP, RSYNCD_CONFIG_STEP, REPLICATE_SCRIPT_STEP, HEARTBEAT_CONFIG_STEP];
