// The pairstore policy pack. This file only assembles the pack: constructing
// a PolicyPack starts serving it to the Pulumi engine, so nothing (tests
// included) may import this file. Each policy lives in rules/.
import { PolicyPack } from "@pulumi/policy";
import { ALL_POLICIES } from "./rules/all";
import { installSecretPathTracking } from "./rules/secret-paths";

// Lets secrets-stay-secret see which inputs are secrets (see rules/secret-paths.ts).
installSecretPathTracking();

new PolicyPack("pairstore", {
    description: "pairstore cluster invariants: servers only in pairs, peers, shard coverage, pinned host keys, secrets, kernel guard rails.",
    policies: ALL_POLICIES,
});
