// Property values as the engine receives them from the SDK (the "wire form"
// of sdk/nodejs/runtime/rpc.ts): secrets, assets and unknowns are objects or
// strings marked with special signatures.

/** The key that marks a special value. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** Signature of a secret: `{[SIG_KEY]: SECRET_SIG, value}`. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** Signature of an asset: `{[SIG_KEY]: ASSET_SIG, path | text | uri, hash?}`. */
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
/** A value not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True for a secret in wire form. */
export function isSecret(v: unknown): v is { value: unknown } {
    return !!v && typeof v === "object" && (v as any)[SIG_KEY] === SECRET_SIG;
}

/** True for an asset in wire form. */
export function isAsset(v: unknown): v is { path?: string; text?: string; hash?: string } {
    return !!v && typeof v === "object" && (v as any)[SIG_KEY] === ASSET_SIG;
}

/** Wraps a value as a secret. */
export function secret(value: unknown): unknown {
    return { [SIG_KEY]: SECRET_SIG, value };
}

/** Every secret unwrapped: what a provider sees. */
export function unwrapSecrets(v: any): any {
    if (isSecret(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

/** Every secret replaced by "[secret]": what may be shown or logged. */
export function withoutSecrets(v: any): any {
    if (isSecret(v)) return "[secret]";
    if (Array.isArray(v)) return v.map(withoutSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecrets(x)]));
    return v;
}

/** True when `v` holds an unknown anywhere. */
export function hasUnknown(v: unknown): boolean {
    if (v === UNKNOWN) return true;
    if (Array.isArray(v)) return v.some(hasUnknown);
    if (v && typeof v === "object") return Object.values(v).some(hasUnknown);
    return false;
}

/** JSON with sorted keys and undefined fields left out: equal values give equal text. */
export function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object") {
        return `{${Object.keys(v).sort().filter((k) => (v as any)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(",")}}`;
    }
    return JSON.stringify(v) ?? "null";
}
