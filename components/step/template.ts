// Loads config files and scripts from files/, expands their `#include` lines
// and fills their {{placeholders}}.
import { createHash } from "crypto";
import { existsSync, readFileSync } from "fs";
import * as path from "path";

/** Directory holding the host files (real text with placeholders). */
export const FILES_DIR = path.join(__dirname, "..", "..", "files");

const cache = new Map<string, string>();

/**
 * An include line: `#include <path under files/>`, the whole line. It is a
 * bash comment, so a file that includes another stays valid bash on its own;
 * the renderer replaces the line (its newline included) by the included
 * file's text, so a script that runs on a host is exactly its file with every
 * include line expanded in place. Included text is filled with the same
 * placeholder values as the file that includes it.
 */
export const INCLUDE_LINE = /^#include ([A-Za-z0-9_.-][A-Za-z0-9_./-]*)$/;

/** The files `text` includes directly, in order (paths under files/). */
export function includesOf(text: string): string[] {
    return text.split("\n").flatMap((line) => {
        const m = INCLUDE_LINE.exec(line);
        return m ? [m[1]] : [];
    });
}

/** Reads a file from files/ with its #include lines expanded (cached); a missing include or an include cycle throws naming the files. */
export function readTemplate(relPath: string): string {
    let text = cache.get(relPath);
    if (text === undefined) {
        text = expandIncludes(relPath, (rel) => {
            const file = path.join(FILES_DIR, rel);
            return existsSync(file) ? readFileSync(file, "utf8") : undefined;
        });
        cache.set(relPath, text);
    }
    return text;
}

/**
 * The text of `relPath` with its #include lines expanded, recursively.
 * `read` returns a file's text by its path under files/, or undefined when
 * there is none. Throws naming the file and line of a missing include, or
 * the chain of files of an include cycle.
 */
export function expandIncludes(relPath: string, read: (relPath: string) => string | undefined, chain: string[] = []): string {
    if (chain.includes(relPath)) {
        throw new Error(`files/${relPath}: include cycle: ${[...chain, relPath].map((p) => `files/${p}`).join(" -> ")}`);
    }
    const raw = read(relPath);
    if (raw === undefined) throw new Error(`files/${relPath}: no such file`);
    const lines = raw.split("\n");
    return lines.map((line, i) => {
        const m = INCLUDE_LINE.exec(line);
        if (!m) return i < lines.length - 1 ? `${line}\n` : line;
        const target = m[1];
        const where = `files/${relPath}:${i + 1}: #include ${target}`;
        if (target.split("/").includes("..")) throw new Error(`${where}: the path must stay under files/`);
        if (read(target) === undefined) throw new Error(`${where}: no such file files/${target}`);
        // The include line and its newline become the included text.
        return expandIncludes(target, read, [...chain, relPath]);
    }).join("");
}

/** Renders `files/<relPath>` with its includes: every {{name}} must have a value, or this throws naming both. */
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
