// Which input properties are Pulumi secrets.
//
// What @pulumi/policy (1.21) gives a policy: the engine sends resource
// properties with their secrets marked (wire form {SIG: SECRET_SIG, value}),
// but the SDK's server unwraps them before `validateResource` and
// `validateStack` see `args.props` (deserializeProperties(props, false)):
// a secret and a plain string look the same, and the SDK has no `isSecret`.
// Only `remediateResource` gets secrets wrapped (as `policy.Secret`), and a
// remediation cannot report a violation.
//
// So the pack keeps the markers itself: `installSecretPathTracking()` (called
// by policies/index.ts before the pack starts serving) wraps the SDK's
// deserializer so that every props object it returns carries, under the
// non-enumerable symbol SECRET_PATHS, the list of property paths that were
// secret on the wire. Props are otherwise unchanged, so no other policy sees a
// difference. `isSecretAt(props, path)` answers from that list; it returns
// `undefined` when the list is missing (tracking not installed), and callers
// treat that as "cannot tell", never as "secret".
//
// This relies on an internal module of @pulumi/policy (deserialize.js, whose
// exported function server.js calls through the module object); the package
// pins @pulumi/policy exactly, and test/policy/secret-paths.test.ts checks the
// wrapper against the installed SDK.

/** Symbol under which props carry their secret paths. */
export const SECRET_PATHS = Symbol.for("pairstore.policy.secretPaths");

/** Pulumi's wire signatures (sdk/nodejs/runtime/rpc.ts). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** A property path: object keys and array indices, as strings. */
export type PropPath = string[];

/** Paths of every secret in a property map in wire form (a secret inside a secret is listed once). */
export function secretPathsOfWire(wire: unknown, at: PropPath = [], out: PropPath[] = []): PropPath[] {
    if (Array.isArray(wire)) {
        wire.forEach((v, i) => secretPathsOfWire(v, [...at, String(i)], out));
    } else if (wire !== null && typeof wire === "object") {
        const o = wire as Record<string, unknown>;
        const sig = o[SIG_KEY];
        if (sig === SECRET_SIG || (sig === OUTPUT_VALUE_SIG && o.secret === true)) {
            out.push(at);
            return out;
        }
        if (sig === OUTPUT_VALUE_SIG) return secretPathsOfWire(o.value, at, out);
        for (const [k, v] of Object.entries(o)) {
            if (k !== SIG_KEY) secretPathsOfWire(v, [...at, k], out);
        }
    }
    return out;
}

/** Attaches secret paths to a props object (non-enumerable, read-only: invisible to everything else). */
export function attachSecretPaths<T extends object>(props: T, paths: PropPath[]): T {
    if (!Object.prototype.hasOwnProperty.call(props, SECRET_PATHS)) {
        Object.defineProperty(props, SECRET_PATHS, {
            value: Object.freeze(paths.map((p) => Object.freeze([...p]))),
            enumerable: false, writable: false, configurable: false,
        });
    }
    return props;
}

/** The secret paths props carry, or undefined when nobody recorded them. */
export function secretPathsOf(props: unknown): readonly PropPath[] | undefined {
    if (props === null || typeof props !== "object") return undefined;
    try {
        const paths = (props as Record<symbol, unknown>)[SECRET_PATHS];
        return Array.isArray(paths) ? (paths as PropPath[]) : undefined;
    } catch {
        return undefined;
    }
}

/** True when the value at `path` is a secret or inside one; undefined when props carry no secret information. */
export function isSecretAt(props: unknown, path: PropPath): boolean | undefined {
    const paths = secretPathsOf(props);
    if (paths === undefined) return undefined;
    return paths.some((p) => p.length <= path.length && p.every((k, i) => k === path[i]));
}

/** The deserializer module of @pulumi/policy, as far as this file uses it. */
export interface DeserializeModule {
    deserializeProperties(struct: { toJavaScript(): unknown }, proxySecrets: boolean): any;
}

const WRAPPED = Symbol.for("pairstore.policy.secretPathsWrapped");

/**
 * Makes the SDK's deserializer record secret paths on the props it returns to
 * validateResource / validateStack. Idempotent. Pass the module in tests;
 * policies/index.ts lets it load @pulumi/policy/deserialize.
 */
export function installSecretPathTracking(mod?: DeserializeModule): void {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const target: DeserializeModule = mod ?? require("@pulumi/policy/deserialize");
    const current = target.deserializeProperties as DeserializeModule["deserializeProperties"] & { [WRAPPED]?: boolean };
    if (typeof current !== "function") {
        throw new Error("@pulumi/policy/deserialize has no deserializeProperties; pin @pulumi/policy to a version this pack was tested with");
    }
    if (current[WRAPPED]) return;
    const wrapped = (struct: { toJavaScript(): unknown }, proxySecrets: boolean) => {
        const props = current(struct, proxySecrets);
        if (!proxySecrets && props !== null && typeof props === "object") {
            attachSecretPaths(props, secretPathsOfWire(struct.toJavaScript()));
        }
        return props;
    };
    (wrapped as typeof current)[WRAPPED] = true;
    target.deserializeProperties = wrapped;
}
