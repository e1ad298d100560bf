// Shapes exchanged between the harness, its child runner and the tests.

/** What the harness runs: one `pulumi up` (or preview) of a stack. */
export interface HarnessRequest {
    /** Stack name. */
    stack: string;
    /** Full config map, `pairstore:key` -> value text (objects as JSON), as the CLI passes it. */
    config: Record<string, string>;
    /** Keys of `config` that are secrets. */
    secretKeys: string[];
    /** Where the harness keeps the stack's state between runs. */
    stateFile: string;
    /** Where the runner writes its result. */
    resultFile: string;
    /** Only report what would change. */
    preview: boolean;
}

/** One resource in the harness state (no secrets: inputs are kept as a hash). */
export interface StateEntry {
    hash: string;
    id: string;
    seq: number;
    delete?: string;
    /** A remote command's connection (no secrets: the private key comes from the run's config). */
    connection?: { host: string; port?: number; user?: string; hostKey?: string };
    /** A local command's delete-time inputs (interpreter, dir, environment, stdin), sealed: they may hold secrets. */
    local?: string;
    /** The command logs nothing (logging "none"). */
    quiet?: boolean;
    stdout?: string;
}

/** The harness state file. */
export interface HarnessState {
    version: 1;
    seq: number;
    resources: Record<string, StateEntry>;
}

/** What an apply did. */
export interface HarnessResult {
    ok: boolean;
    created: string[];
    updated: string[];
    unchanged: string[];
    deleted: string[];
    /** Steps that ran and whose script reported `changed`. */
    changedSteps: string[];
    failed: Array<{ name: string; message: string }>;
    /** stdout of every step, as last recorded (steps that carry secrets are left out). */
    stdout: Record<string, string>;
    /** Stack outputs. */
    outputs: any;
}
