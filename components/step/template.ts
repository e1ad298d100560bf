// Loads config files and scripts from files/ and fills their {{placeholders}}.
import { createHash } from "crypto";
import { readFileSync } from "fs";
import * as path from "path";

/** Directory holding the host files (real text with placeholders). */
export const FILES_DIR = path.join(__dirname, "..", "..", "files");

const cache = new Map<string, string>();

/** Reads a file from files/ (cached). */
export function readTemplate(relPath: string): string {
    let text = cache.get(relPath);
    if (text === undefined) {
        text = readFileSync(path.join(FILES_DIR, relPath), "utf8");
        cache.set(relPath, text);
    }
    return text;
}

/** Renders `files/<relPath>`: every {{name}} must have a value, or this throws naming both. */
export function render(relPath: string, vars: Record<string, string | number>): string {
    return fill(readTemplate(relPath), vars, `files/${relPath}`);
}

/** Fills {{name}} placeholders of `text`; `where` names the template in errors. */
export function fill(text: string, vars: Record<string, string | number>, where: string): string {
    return text.replace(/\{\{([A-Za-z0-9_]+)\}\}/g, (_, name: string) => {
        if (!(name in vars)) throw new Error(`${where}: no value for placeholder {{${name}}}`);
        return String(vars[name]);
    });
}

/** Quotes a string as one shell word. */
export function shq(value: string | number): string {
    const s = String(value);
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quotes a list as shell words for an array literal `(...)`. */
export function shqList(values: Array<string | number>): string {
    return values.map(shq).join(" ");
}

/** Short content hash used to tie handlers and gates to what they serve. */
export function digest(...parts: string[]): string {
    const h = createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex").slice(0, 16);
}
