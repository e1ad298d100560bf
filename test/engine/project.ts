// The stack config the way the Pulumi CLI checks and completes it before the
// program runs (pulumi v3.239: sdk/go/common/workspace/config.go mergeConfig,
// validateStackConfigValues; project.go ValidateConfigValue):
//  - a key Pulumi.yaml declares in the project's namespace without a default
//    (or value) must be set on the stack, else "Stack 'x' is missing
//    configuration value 'k'";
//  - a declared key missing from the stack gets its default, handed to the
//    program like any other value (a list as JSON text);
//  - a declared `secret: true` key must be stored encrypted;
//  - a declared type is checked: "string", "integer" (or a string that parses
//    as one), "boolean" (or "true"/"false"), "object", "array" with `items`.
import { readFileSync } from "fs";
import { parse } from "yaml";

/** One stack config value, in the shape of `pulumi config --json` (and `pulumi config set-all --json`). */
export interface StackConfigValue {
    /** The value as text (a structured value as JSON text). */
    value: string;
    /** A structured value (list or map), when it is one. */
    objectValue?: unknown;
    /** Stored encrypted (`pulumi config set --secret`). */
    secret: boolean;
}

/** A stack's config: `namespace:key` -> value. */
export type StackConfig = Record<string, StackConfigValue>;

/** A config declaration in Pulumi.yaml. */
export interface ConfigDeclaration {
    type?: string;
    items?: ItemsType;
    secret?: boolean;
    default?: unknown;
    value?: unknown;
    description?: string;
}
interface ItemsType {
    type: string;
    items?: ItemsType;
}

/** The parts of Pulumi.yaml the CLI reads for config. */
export interface Project {
    name: string;
    config: Record<string, ConfigDeclaration>;
}

const TYPES = ["string", "integer", "boolean", "array", "object"];

/** Reads Pulumi.yaml and checks its config declarations as the CLI does when it loads a project. */
export function loadProject(file: string): Project {
    const doc = parse(readFileSync(file, "utf8")) as { name: string; config?: Record<string, ConfigDeclaration> };
    const config = doc.config ?? {};
    for (const [k, d] of Object.entries(config)) {
        if (d.type !== undefined && !TYPES.includes(d.type)) throw new Error(`${file}: config ${k} has type ${d.type}; one of ${TYPES.join(", ")}`);
        if (d.type === "array" && !d.items) throw new Error(`${file}: config ${k} is an array without items`);
        if (d.default !== undefined && d.type && !validValue(d.type, d.items, d.default)) {
            throw new Error(`${file}: the default of ${k} is not of type ${fullTypeName(d.type, d.items)}`);
        }
    }
    return { name: doc.name, config };
}

/** A value as text plus its structured form, as `pulumi config set-all --json` takes it. */
export function configValue(v: unknown, secret = false): StackConfigValue {
    if (v !== null && typeof v === "object") return { value: JSON.stringify(v), objectValue: v, secret };
    return { value: String(v), secret };
}

/**
 * Checks `stack` against the project's declarations and returns the config
 * the program receives (`key` -> text) with the declared defaults filled in,
 * and the keys that are secrets. Throws with the CLI's message.
 */
export function programConfig(project: Project, stackName: string, stack: StackConfig): { config: Record<string, string>; secretKeys: string[] } {
    const merged: StackConfig = { ...stack };
    const missing: string[] = [];
    const keyOf = (k: string) => (k.includes(":") ? k : `${project.name}:${k}`);
    for (const declared of Object.keys(project.config).sort()) {
        const d = project.config[declared];
        const key = keyOf(declared);
        if (key in merged) continue;
        const fallback = d.value !== undefined ? d.value : d.default;
        if (fallback === undefined || fallback === null) {
            if (key.split(":")[0] === project.name) missing.push(declared);
            continue;
        }
        merged[key] = configValue(fallback);
    }
    if (missing.length > 0) {
        const keys = missing.length === 1 ? `'${missing[0]}'` : missing.sort().map((k, i) =>
            i === missing.length - 1 ? `and '${k}'` : i === missing.length - 2 ? `'${k}' ` : `'${k}', `).join("");
        throw new Error(`Stack '${stackName}' is missing configuration value${missing.length > 1 ? "s" : ""} ${keys}`);
    }
    for (const declared of Object.keys(project.config).sort()) {
        const d = project.config[declared];
        const key = keyOf(declared);
        const v = merged[key];
        if (!v || d.type === undefined) continue;
        if (d.secret && !v.secret) throw new Error(`Stack '${stackName}' with configuration key '${declared}' must be encrypted as it's secret`);
        const content = v.objectValue !== undefined ? v.objectValue : v.value;
        if (!validValue(d.type, d.items, content)) {
            throw new Error(`Stack '${stackName}' with configuration key '${declared}' must be of type '${fullTypeName(d.type, d.items)}'`);
        }
    }
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(merged)) config[k] = v.value;
    return { config, secretKeys: Object.keys(merged).filter((k) => merged[k].secret) };
}

function fullTypeName(type: string, items?: ItemsType): string {
    return items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** ValidateConfigValue (project.go). */
function validValue(type: string, items: ItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string": return typeof value === "string";
        case "integer": return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value));
        case "boolean": return typeof value === "boolean" || value === "true" || value === "false";
        case "object": return value !== null && typeof value === "object" && !Array.isArray(value);
        default: return Array.isArray(value) && items !== undefined && value.every((x) => validValue(items.type, items.items, x));
    }
}
