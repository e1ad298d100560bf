// The pairstore storage layout: where a file lives and which URL serves it.
//
// Pure (node's crypto and ./paths only), so applications can import it from
// components/lib/ or copy it with paths.ts. The layout, after the original
// system's design notes (sections "Image Storage Structure" and "DNS Level"):
//
//   original name   "Holiday.JPG", uploaded by uid "42"
//   md5             md5 hex of the original name's UTF-8 bytes, exactly as
//                   given (no trimming, no case folding):
//                   "Holiday.JPG" and "holiday.jpg" are two different files
//   stored name     <uid>-<md5>.<ext>, ext = the name's extension in lower case
//   folders         the first three hex digits of the md5, one level each:
//                   md5 "72acd..." -> "7/2/a/"  (16 x 16 x 16 = 4096 leaf
//                   folders per domain, every level 16 wide)
//   relative path   "7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg"
//   on disk         <dataRoot>/<domain>/image/<relative path>
//   shard           the first hex digit of the md5 ("7", 16 shards) or the
//                   first two ("72", 256 shards); the cluster's setting
//   public URL      http://<shard>.image.<domain>/<relative path>
//   upload (DAV)    PUT http://<node internal address>:<domain's internal port>/<relative path>
//
// Because the shard is a prefix of the folders, one shard is one top-level
// folder (or two levels with 256 shards): moving a shard to another pair moves
// whole folders.
//
// Names without an extension are refused: nginx chooses the Content-Type from
// the extension, and a stored name must end in ".<ext>" to be parsed back.
// Every bad argument throws a LayoutError naming the argument and the fix.
import { createHash } from "crypto";
import { domainRootOf } from "./paths";

/** A bad argument to a layout function; `argument` names it. */
export class LayoutError extends Error {
    constructor(public readonly argument: string, message: string) {
        super(message);
        this.name = "LayoutError";
    }
}

/** 1 hex digit: 16 shards "0".."f"; 2 hex digits: 256 shards "00".."ff". */
export type ShardDigits = 1 | 2;

/** Everything the layout derives from a uid and an original file name. */
export interface FileLocation {
    /** md5 hex (lower case) of the original name. */
    md5: string;
    /** Lower-case extension, without the dot. */
    ext: string;
    /** `<uid>-<md5>.<ext>`. */
    storedName: string;
    /** Folders, e.g. "7/2/a". */
    folders: string;
    /** Path relative to the domain's image root, e.g. "7/2/a/42-72ac....jpg". */
    path: string;
    /** Shard name for the given digits. */
    shard: string;
}

/** The parts of a stored name or relative path. */
export interface ParsedName {
    uid: string;
    md5: string;
    ext: string;
}

/** Longest uid accepted (keeps stored names well under 255 bytes). */
export const MAX_UID_LENGTH = 128;
/** Longest extension accepted. */
export const MAX_EXT_LENGTH = 16;

const UID = /^[A-Za-z0-9_-]+$/;
const EXT = /^[A-Za-z0-9]+$/;
const MD5 = /^[0-9a-f]{32}$/;
const STORED = /^([A-Za-z0-9_-]+)-([0-9a-f]{32})\.([a-z0-9]+)$/;
const PATH = /^([0-9a-f])\/([0-9a-f])\/([0-9a-f])\/([^/]+)$/;
const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

const q = (v: unknown) => JSON.stringify(v);

/** md5 hex (lower case) of a string's UTF-8 bytes. */
export function md5Hex(text: string): string {
    return createHash("md5").update(text, "utf8").digest("hex");
}

/** Checks a uid and returns it as a string; numbers must be non-negative integers. */
export function checkUid(uid: string | number): string {
    if (typeof uid === "number") {
        if (!Number.isSafeInteger(uid) || uid < 0) {
            throw new LayoutError("uid", `uid ${uid} is not a non-negative integer: pass an integer id or a string of letters, digits, "_" and "-"`);
        }
        return String(uid);
    }
    if (typeof uid !== "string") throw new LayoutError("uid", `uid must be a string or an integer, got ${typeof uid}`);
    const fix = `a uid is one path segment of letters, digits, "_" and "-", for example "42" or "user_7"`;
    if (uid === "") throw new LayoutError("uid", `uid is empty: ${fix}`);
    if (uid.includes("/") || uid.includes("\\")) throw new LayoutError("uid", `uid ${q(uid)} contains a slash: ${fix}`);
    if (uid.includes("..")) throw new LayoutError("uid", `uid ${q(uid)} contains "..": ${fix}`);
    if (!UID.test(uid)) throw new LayoutError("uid", `uid ${q(uid)} has characters other than letters, digits, "_" and "-": ${fix}`);
    if (uid.length > MAX_UID_LENGTH) throw new LayoutError("uid", `uid is ${uid.length} characters long: use at most ${MAX_UID_LENGTH}`);
    return uid;
}

/**
 * The lower-case extension of an original file name: the text after the last
 * dot of its last path segment ("a/b.tar.GZ" -> "gz"). Throws when there is none.
 */
export function extensionOf(originalName: string): string {
    checkName(originalName);
    const base = originalName.slice(Math.max(originalName.lastIndexOf("/"), originalName.lastIndexOf("\\")) + 1);
    const dot = base.lastIndexOf(".");
    const fix = `the stored name is <uid>-<md5>.<ext> and nginx picks the Content-Type from the extension: give the name one, for example "photo.jpg"`;
    if (dot <= 0) throw new LayoutError("originalName", `originalName ${q(originalName)} has no extension: ${fix}`);
    const ext = base.slice(dot + 1);
    if (ext === "") throw new LayoutError("originalName", `originalName ${q(originalName)} ends with a dot and so has no extension: ${fix}`);
    if (!EXT.test(ext)) {
        throw new LayoutError("originalName", `originalName ${q(originalName)} has the extension ${q(ext)} with characters other than ASCII letters and digits: rename the file with an extension like "jpg"`);
    }
    if (ext.length > MAX_EXT_LENGTH) {
        throw new LayoutError("originalName", `originalName ${q(originalName)} has an extension of ${ext.length} characters: use at most ${MAX_EXT_LENGTH}`);
    }
    return ext.toLowerCase();
}

function checkName(originalName: string): void {
    if (typeof originalName !== "string") throw new LayoutError("originalName", `originalName must be a string, got ${typeof originalName}`);
    if (originalName === "") throw new LayoutError("originalName", `originalName is empty: pass the file's original name, for example "photo.jpg"`);
}

/** `<uid>-<md5 of originalName>.<ext>`, e.g. storedName(42, "photo.jpg") = "42-72acded3acd45e4c8b6ed680854b8ab1.jpg". */
export function storedName(uid: string | number, originalName: string): string {
    const id = checkUid(uid);
    const ext = extensionOf(originalName);
    return `${id}-${md5Hex(originalName)}.${ext}`;
}

/** The three folder levels of an md5, e.g. "72acd..." -> "7/2/a". */
export function foldersOf(md5: string): string {
    const m = checkMd5(md5, "md5");
    return `${m[0]}/${m[1]}/${m[2]}`;
}

/** The path relative to the domain's image root: "7/2/a/42-72ac....jpg". */
export function storagePath(uid: string | number, originalName: string): string {
    const name = storedName(uid, originalName);
    return `${foldersOf(md5Hex(originalName))}/${name}`;
}

/** All the layout derives from a uid and an original name, for a cluster with `digits` shard digits. */
export function locate(uid: string | number, originalName: string, digits: ShardDigits): FileLocation {
    const stored = storedName(uid, originalName);
    const md5 = md5Hex(originalName);
    const folders = foldersOf(md5);
    return {
        md5, ext: extensionOf(originalName), storedName: stored, folders,
        path: `${folders}/${stored}`, shard: md5.slice(0, checkDigits(digits)),
    };
}

/** Splits a stored name `<uid>-<md5>.<ext>` into its parts; throws if it is not one. */
export function parseStoredName(name: string): ParsedName {
    const m = typeof name === "string" ? STORED.exec(name) : null;
    if (!m) {
        throw new LayoutError("storedName", `storedName ${q(name)} is not <uid>-<md5>.<ext> (md5 = 32 lower-case hex digits, ext lower-case letters and digits): build it with storedName(uid, originalName)`);
    }
    return { uid: checkUid(m[1]), md5: m[2], ext: m[3] };
}

/** Checks a relative path (folders matching its md5) and returns its parts. */
export function parseStoragePath(relPath: string): ParsedName {
    const m = typeof relPath === "string" ? PATH.exec(relPath) : null;
    const fix = `a path is "<h>/<h>/<h>/<uid>-<md5>.<ext>" with the md5's first three hex digits as folders: build it with storagePath(uid, originalName)`;
    if (!m) throw new LayoutError("relPath", `relPath ${q(relPath)} is not a storage path: ${fix}`);
    let parsed: ParsedName;
    try {
        parsed = parseStoredName(m[4]);
    } catch {
        throw new LayoutError("relPath", `relPath ${q(relPath)} does not end in <uid>-<md5>.<ext>: ${fix}`);
    }
    if (parsed.md5.slice(0, 3) !== m[1] + m[2] + m[3]) {
        throw new LayoutError("relPath", `relPath ${q(relPath)} is in folder ${m[1]}/${m[2]}/${m[3]} but its md5 starts with ${parsed.md5.slice(0, 3)}: ${fix}`);
    }
    return parsed;
}

/** The 16 or 256 shard names: "0".."f" or "00".."ff". */
export function shardNames(digits: ShardDigits): string[] {
    const d = checkDigits(digits);
    return Array.from({ length: 16 ** d }, (_, i) => i.toString(16).padStart(d, "0"));
}

/**
 * The shard of a file, from its md5 (any case), its stored name or its
 * relative path: the first `digits` hex digits of the md5.
 */
export function shardOf(md5OrPath: string, digits: ShardDigits): string {
    const d = checkDigits(digits);
    if (typeof md5OrPath === "string" && MD5.test(md5OrPath.toLowerCase())) return md5OrPath.toLowerCase().slice(0, d);
    if (typeof md5OrPath === "string" && md5OrPath.includes("/")) return parseStoragePath(md5OrPath).md5.slice(0, d);
    if (typeof md5OrPath === "string" && STORED.test(md5OrPath)) return parseStoredName(md5OrPath).md5.slice(0, d);
    throw new LayoutError("md5OrPath", `md5OrPath ${q(md5OrPath)} is neither an md5 (32 hex digits), a stored name <uid>-<md5>.<ext> nor a storage path: pass one of them, not the original file name (hash that with md5Hex or use locate)`);
}

/** The DNS name of a shard: `<shard>.image.<domain>`. */
export function shardHost(domain: string, shard: string): string {
    checkDomain(domain);
    if (typeof shard !== "string" || !/^[0-9a-f]{1,2}$/.test(shard)) {
        throw new LayoutError("shard", `shard ${q(shard)} is not a shard name: use one or two lower-case hex digits, as shardNames() lists them`);
    }
    return `${shard}.image.${domain}`;
}

/** The domain's image root on a node: `<dataRoot>/<domain>/image`. */
export function domainRoot(dataRoot: string, domain: string): string {
    const fix = `use an absolute path without "..", for example "/srv/images"`;
    if (typeof dataRoot !== "string" || dataRoot === "") throw new LayoutError("dataRoot", `dataRoot is empty: ${fix}`);
    if (!dataRoot.startsWith("/")) throw new LayoutError("dataRoot", `dataRoot ${q(dataRoot)} is not absolute: ${fix}`);
    if (dataRoot.split("/").includes("..")) throw new LayoutError("dataRoot", `dataRoot ${q(dataRoot)} contains "..": ${fix}`);
    if (/[\0\n\r]/.test(dataRoot)) throw new LayoutError("dataRoot", `dataRoot ${q(dataRoot)} contains a control character: ${fix}`);
    checkDomain(domain);
    return domainRootOf(dataRoot.replace(/\/+$/, ""), domain);
}

/** A file's path on a node's disk: `<dataRoot>/<domain>/image/<relPath>`. */
export function diskPath(dataRoot: string, domain: string, relPath: string): string {
    const root = domainRoot(dataRoot, domain);
    parseStoragePath(relPath);
    return `${root}/${relPath}`;
}

/**
 * The URL clients read a file from: `http://<shard>.image.<domain>/<relPath>`.
 * `port` is added only when it is not 80.
 */
export function publicUrl(domain: string, relPath: string, digits: ShardDigits, port = 80): string {
    const shard = shardOf(relPath, digits);
    const host = shardHost(domain, shard);
    return `http://${host}${portSuffix(port, "port", 80)}/${relPath}`;
}

/**
 * The URL of a file on one node's internal (DAV) port, for `PUT` uploads and
 * peer reads: `http://<host>:<port>/<relPath>`. `host` is an IPv4 or IPv6
 * address or a host name; each domain has its own internal port.
 */
export function internalUrl(host: string, port: number, relPath: string): string {
    let h: string;
    if (typeof host === "string" && (IPV4.test(host) || HOSTNAME.test(host))) h = host;
    else if (typeof host === "string" && host.includes(":") && IPV6.test(host)) h = `[${host}]`;
    else throw new LayoutError("host", `host ${q(host)} is not an IP address or host name: pass the node's internal address, for example "10.0.0.11"`);
    parseStoragePath(relPath);
    return `http://${h}${portSuffix(port, "port")}/${relPath}`;
}

function portSuffix(port: number, arg: string, omit?: number): string {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new LayoutError(arg, `${arg} ${q(port)} is not a TCP port: use an integer from 1 to 65535`);
    }
    return port === omit ? "" : `:${port}`;
}

function checkDigits(digits: ShardDigits): ShardDigits {
    if (digits !== 1 && digits !== 2) {
        throw new LayoutError("digits", `digits ${q(digits)} is not 1 or 2: use 1 for 16 shards ("0".."f") or 2 for 256 ("00".."ff")`);
    }
    return digits;
}

function checkMd5(md5: string, arg: string): string {
    if (typeof md5 !== "string" || !MD5.test(md5.toLowerCase())) {
        throw new LayoutError(arg, `${arg} ${q(md5)} is not an md5: pass 32 hex digits, as md5Hex(originalName) returns`);
    }
    return md5.toLowerCase();
}

/** Checks a domain name (lower case, at least two labels), as in the cluster config. */
export function checkDomain(domain: string): string {
    if (typeof domain !== "string" || !DOMAIN.test(domain)) {
        throw new LayoutError("domain", `domain ${q(domain)} is not a domain name: use lower-case letters, digits, dashes and dots, for example "example.com"`);
    }
    return domain;
}

// Signed, expiring links for the private prefix live in their own module;
// re-exported so one import gives an application the whole layout.
export { secureLinkToken, signPath } from "./secure-link";
