// Signed, expiring links to files under the private prefix (nginx secure_link).
// Pure and dependency-free (node's crypto only), so applications can import it:
//
//   import { signPath } from "pairstore/components/lib/secure-link";
//   const link = signPath("/private/3/a/f/uid-md5.jpg", secret, Math.floor(Date.now() / 1000) + 3600);
//   // -> "/private/3/a/f/uid-md5.jpg?md5=...&expires=..."; prefix it with http://<shard>.image.<domain>
//
// The node checks it with
//   secure_link     $arg_md5,$arg_expires;
//   secure_link_md5 "${secure_link_expires}${uri}<secret>";
// i.e. the token is the MD5 of expiry (unix seconds) + URI path + secret,
// base64url without padding. A wrong token gets 403, an expired link 410.
import { createHash } from "crypto";

/** The token nginx expects for `path` (the decoded URI path, starting with "/"), `secret` and `expires` (unix seconds). */
export function secureLinkToken(path: string, secret: string, expires: number): string {
    return createHash("md5").update(`${expires}${path}${secret}`).digest("base64url");
}

/**
 * The signed link for `path`: `path?md5=<token>&expires=<expires>`.
 *
 * `path` is the URI path as nginx normalizes it (`$uri`: decoded, no query);
 * `expires` is a unix time in seconds or a Date. Non-ASCII and reserved
 * characters in `path` are percent-encoded in the returned link, while the
 * token is computed over the decoded path, as nginx does.
 */
export function signPath(path: string, secret: string, expires: number | Date): string {
    if (!path.startsWith("/")) throw new Error(`secure link path must start with "/": ${path}`);
    if (secret === "") throw new Error("secure link secret is empty");
    const at = typeof expires === "number" ? Math.floor(expires) : Math.floor(expires.getTime() / 1000);
    if (!Number.isFinite(at) || at < 0) throw new Error(`secure link expiry must be a unix time in seconds: ${expires}`);
    const encoded = path.split("/").map((seg) => encodeURIComponent(seg)).join("/");
    return `${encoded}?md5=${secureLinkToken(path, secret, at)}&expires=${at}`;
}

/**
 * Why a secret cannot be written into the nginx configuration, or undefined
 * when it can: printable ASCII without quotes, backslash, `$`, `;`, braces
 * or spaces (nginx would read those as syntax or variables), at least 16 characters.
 * The message never contains the secret.
 */
export function secureLinkSecretProblem(secret: string): string | undefined {
    if (secret.length < 16) return `is ${secret.length} characters long; use at least 16 (for example \`openssl rand -hex 32\`)`;
    if (!/^[\x21-\x7e]+$/.test(secret) || /["'\\$;{}#]/.test(secret)) {
        return "contains spaces, non-ASCII or one of \" ' \\ $ ; { } #, which nginx would read as syntax; use letters, digits and -_.+/=:@%";
    }
    return undefined;
}
