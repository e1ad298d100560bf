// Shapes exchanged between the engine, its child runner and the tests.
import type { StackConfig } from "./project";

/** What the engine runs: one `pulumi up` (or `pulumi preview`) of a stack. */
export interface EngineRequest {
    /** Stack name. */
    stack: string;
    /** The stack's config, as `pulumi config --json` shows it (secrets in the clear: the request travels on stdin only). */
    config: StackConfig;
    /** Where the engine keeps the stack's state between runs. */
    stateFile: string;
    /** Where the runner writes its result. */
    resultFile: string;
    /** Only report what would change (`pulumi preview`). */
    preview: boolean;
    /** Steps in flight at most (`pulumi up --parallel`); default 4 x the CPU count, as the CLI. */
    parallel?: number;
    /** Module exporting `program()` (default: components/program), relative to the repository root. */
    program?: string;
    /** Pulumi.yaml whose config declarations are checked (default: the repository's). */
    projectFile?: string;
}

/** What a deployment did. Resources are named by their resource name; `urns` has their full URNs. */
export interface EngineResult {
    ok: boolean;
    created: string[];
    updated: string[];
    /** Replaced (a `triggers` change): the new one created, the old one deleted at the end. */
    replaced: string[];
    unchanged: string[];
    deleted: string[];
    /** Registered after a step failed: never started (as in the engine). */
    skipped: string[];
    /** Steps that ran and whose script reported `changed`. */
    changedSteps: string[];
    /** The failed step (or the program) and the provider's error text. */
    failed: Array<{ name: string; urn?: string; message: string }>;
    /** stdout of every step, as last recorded (steps whose stdout is secret are left out). */
    stdout: Record<string, string>;
    /** What each step printed in this deployment, as the CLI shows it (per its `logging`), secret stdout included. */
    logs: Record<string, string>;
    /** Stack outputs. */
    outputs: any;
    /** Every URN the program registered, in registration order. */
    urns: string[];
    /** The input keys that changed, per created, updated or replaced resource. */
    diffs: Record<string, string[]>;
    /** When each step that ran (create, update, replace) started and ended, in ms since the epoch (npm run bench:provision). */
    timings: Record<string, [number, number]>;
}
