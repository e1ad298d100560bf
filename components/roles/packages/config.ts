// The packages role's config section: `pairstore:extraPackages`.
import { list } from "../../config/readers";

const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

/** `pairstore:extraPackages`: Debian package names installed on every node. */
export function parseExtraPackages(value: unknown, k: string, bad: (m: string) => void): string[] {
    return list(value, k, bad).map((p, i) => {
        if (typeof p !== "string" || !PACKAGE.test(p)) bad(`${k}[${i}] ${JSON.stringify(p)} is not a Debian package name`);
        return String(p);
    });
}
