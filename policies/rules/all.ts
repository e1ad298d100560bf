// Every policy of the pack, in the order `pulumi preview` lists them.
// Importing this file does not start the pack (policies/index.ts does).
import { hostKeysPinned } from "./host-keys-pinned";
import { kernelGuardRails } from "./kernel-guard-rails";
import type { PairstorePolicy } from "./model";
import { pairPeers } from "./pair-peers";
import { secretsStaySecret } from "./secrets-stay-secret";
import { serversOnlyInPairs } from "./servers-only-in-pairs";
import { shardCoverage } from "./shard-coverage";

export const ALL_POLICIES: PairstorePolicy[] = [
    serversOnlyInPairs,
    pairPeers,
    shardCoverage,
    hostKeysPinned,
    secretsStaySecret,
    kernelGuardRails,
];
