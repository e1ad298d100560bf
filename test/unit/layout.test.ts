// The storage layout: md5 vectors (literal values, computed with md5sum),
// stored names, folders, shards, URLs, and every refused input's message.
import { describe, expect, test } from "vitest";
import {
    LayoutError, checkDomain, checkUid, diskPath, domainRoot, extensionOf, foldersOf, internalUrl, locate, md5Hex,
    parseStoragePath, parseStoredName, publicUrl, shardHost, shardNames, shardOf, storagePath, storedName,
} from "../../components/lib/layout";

// printf '%s' NAME | md5sum
const VECTORS: [string, string][] = [
    ["photo.jpg", "72acded3acd45e4c8b6ed680854b8ab1"],
    ["Photo.JPG", "6b8ae3848b4c67c399b1b18efaca1f8e"],
    ["holiday 2024/beach.PNG", "6a91130d71860a2c1980d7893994671c"],
    ["ünïcødé.jpeg", "fa2154fc4875167cf6e60745d00cf71e"],
    ["a.b.c.tar.gz", "d44742c1db11ce2e572773a83bd860cb"],
];

/** Runs fn, expects a LayoutError for `argument` whose message contains every fragment. */
function refused(fn: () => unknown, argument: string, ...fragments: string[]): void {
    let error: unknown;
    try {
        fn();
    } catch (e) {
        error = e;
    }
    expect(error, "expected a LayoutError").toBeInstanceOf(LayoutError);
    const e = error as LayoutError;
    expect(e.argument).toBe(argument);
    expect(e.name).toBe("LayoutError");
    for (const f of fragments) expect(e.message).toContain(f);
}

describe("md5 and stored names", () => {
    test.each(VECTORS)("md5Hex(%j) is the md5 of its UTF-8 bytes", (name, md5) => {
        expect(md5Hex(name)).toBe(md5);
    });

    test("the name is hashed exactly as given: case matters, the extension is lower-cased", () => {
        expect(storedName("42", "photo.jpg")).toBe("42-72acded3acd45e4c8b6ed680854b8ab1.jpg");
        expect(storedName("42", "Photo.JPG")).toBe("42-6b8ae3848b4c67c399b1b18efaca1f8e.jpg");
    });

    test("numeric uids, underscores and dashes", () => {
        expect(storedName(42, "photo.jpg")).toBe("42-72acded3acd45e4c8b6ed680854b8ab1.jpg");
        expect(storedName(0, "photo.jpg")).toBe("0-72acded3acd45e4c8b6ed680854b8ab1.jpg");
        expect(storedName("user_7-b", "photo.jpg")).toBe("user_7-b-72acded3acd45e4c8b6ed680854b8ab1.jpg");
    });

    test("the extension comes from the last dot of the last path segment", () => {
        expect(extensionOf("a.b.c.tar.gz")).toBe("gz");
        expect(extensionOf("holiday 2024/beach.PNG")).toBe("png");
        expect(extensionOf("x.WebP")).toBe("webp");
        expect(storedName("u", "ünïcødé.jpeg")).toBe("u-fa2154fc4875167cf6e60745d00cf71e.jpeg");
        expect(storedName("u", "holiday 2024/beach.PNG")).toBe("u-6a91130d71860a2c1980d7893994671c.png");
    });

    test("parseStoredName reverses storedName, even with dashes in the uid", () => {
        expect(parseStoredName("user-7-72acded3acd45e4c8b6ed680854b8ab1.jpg"))
            .toEqual({ uid: "user-7", md5: "72acded3acd45e4c8b6ed680854b8ab1", ext: "jpg" });
    });
});

describe("folders and paths", () => {
    test("three nested one-hex-digit folders from the md5's first three digits", () => {
        expect(foldersOf("72acded3acd45e4c8b6ed680854b8ab1")).toBe("7/2/a");
        expect(foldersOf("6B8AE3848B4C67C399B1B18EFACA1F8E")).toBe("6/b/8");
        expect(storagePath(42, "photo.jpg")).toBe("7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg");
        expect(storagePath("u", "a.b.c.tar.gz")).toBe("d/4/4/u-d44742c1db11ce2e572773a83bd860cb.gz");
    });

    test("4096 leaf folders, 16 per level", () => {
        const leaves = new Set<string>();
        for (let i = 0; i < 4096; i++) leaves.add(foldersOf(i.toString(16).padStart(3, "0") + "0".repeat(29)));
        expect(leaves.size).toBe(4096);
        const hit = new Set<string>();
        for (let i = 0; i < 60000; i++) hit.add(foldersOf(md5Hex(`f${i}.jpg`)));
        expect(hit).toEqual(leaves); // real names reach every leaf
        for (const l of leaves) expect(l).toMatch(/^[0-9a-f]\/[0-9a-f]\/[0-9a-f]$/);
    });

    test("locate gives every derived value at once", () => {
        expect(locate(42, "photo.jpg", 1)).toEqual({
            md5: "72acded3acd45e4c8b6ed680854b8ab1", ext: "jpg",
            storedName: "42-72acded3acd45e4c8b6ed680854b8ab1.jpg", folders: "7/2/a",
            path: "7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg", shard: "7",
        });
        expect(locate(42, "photo.jpg", 2).shard).toBe("72");
    });

    test("disk paths sit under <dataRoot>/<domain>/image", () => {
        const rel = storagePath(42, "photo.jpg");
        expect(domainRoot("/srv/images", "example.com")).toBe("/srv/images/example.com/image");
        expect(domainRoot("/srv/images/", "example.com")).toBe("/srv/images/example.com/image");
        expect(diskPath("/srv/images", "example.com", rel))
            .toBe("/srv/images/example.com/image/7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg");
    });

    test("parseStoragePath accepts exactly the layout's paths", () => {
        expect(parseStoragePath("7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg"))
            .toEqual({ uid: "42", md5: "72acded3acd45e4c8b6ed680854b8ab1", ext: "jpg" });
    });
});

describe("shards and URLs", () => {
    test("shard names", () => {
        expect(shardNames(1)).toEqual([..."0123456789abcdef"]);
        const two = shardNames(2);
        expect(two).toHaveLength(256);
        expect(two.slice(0, 3)).toEqual(["00", "01", "02"]);
        expect(two[255]).toBe("ff");
        expect(new Set(two).size).toBe(256);
    });

    test("shardOf takes an md5, a stored name or a path", () => {
        const md5 = "72acded3acd45e4c8b6ed680854b8ab1";
        expect(shardOf(md5, 1)).toBe("7");
        expect(shardOf(md5, 2)).toBe("72");
        expect(shardOf(md5.toUpperCase(), 2)).toBe("72");
        expect(shardOf(`42-${md5}.jpg`, 1)).toBe("7");
        expect(shardOf(`7/2/a/42-${md5}.jpg`, 2)).toBe("72");
        expect(shardOf(storagePath("u", "Photo.JPG"), 1)).toBe("6");
    });

    test("a shard is a prefix of the folders, so one shard is whole folders", () => {
        for (let i = 0; i < 200; i++) {
            const rel = storagePath("u", `n${i}.png`);
            expect(rel.replace(/\//g, "").startsWith(shardOf(rel, 2))).toBe(true);
        }
    });

    test("public URL: http://<shard>.image.<domain>/<path>", () => {
        const rel = storagePath(42, "photo.jpg");
        expect(publicUrl("example.com", rel, 1)).toBe(`http://7.image.example.com/${rel}`);
        expect(publicUrl("img.example.co.uk", rel, 2)).toBe(`http://72.image.img.example.co.uk/${rel}`);
        expect(publicUrl("example.com", rel, 1, 8080)).toBe(`http://7.image.example.com:8080/${rel}`);
        expect(shardHost("example.com", "0")).toBe("0.image.example.com");
    });

    test("internal (DAV) URL on a node's address and the domain's port", () => {
        const rel = storagePath(42, "photo.jpg");
        expect(internalUrl("10.0.0.11", 8081, rel)).toBe(`http://10.0.0.11:8081/${rel}`);
        expect(internalUrl("node-a.lan", 8081, rel)).toBe(`http://node-a.lan:8081/${rel}`);
        expect(internalUrl("fd00::11", 8081, rel)).toBe(`http://[fd00::11]:8081/${rel}`);
    });
});

describe("refused input names the argument and the fix", () => {
    const rel = "7/2/a/42-72acded3acd45e4c8b6ed680854b8ab1.jpg";
    const fix = `letters, digits, "_" and "-"`;

    test.each<[string, string | number, string[]]>([
        ["empty", "", ["uid is empty", fix]],
        ["slash", "a/b", [`uid "a/b" contains a slash`, fix]],
        ["backslash", "a\\b", ["contains a slash", fix]],
        ["dot-dot", "..", [`uid ".." contains ".."`, fix]],
        ["dot-dot inside", "a..b", [`contains ".."`]],
        ["a dot", "a.b", [`uid "a.b" has characters other than`, fix]],
        ["a space", "a b", ["has characters other than"]],
        ["non-ASCII", "ü", ["has characters other than"]],
        ["too long", "x".repeat(129), ["129 characters long", "at most 128"]],
        ["negative number", -1, ["uid -1 is not a non-negative integer"]],
        ["fraction", 1.5, ["uid 1.5 is not a non-negative integer"]],
    ])("uid: %s", (_what, uid, fragments) => {
        refused(() => storedName(uid, "photo.jpg"), "uid", ...fragments);
        refused(() => storagePath(uid, "photo.jpg"), "uid", ...fragments);
        refused(() => checkUid(uid), "uid", ...fragments);
    });

    test.each<[string, string, string[]]>([
        ["empty", "", ["originalName is empty", `"photo.jpg"`]],
        ["no extension", "README", [`originalName "README" has no extension`, "Content-Type", `"photo.jpg"`]],
        ["a dot file", ".bashrc", ["has no extension"]],
        ["a dot only in a folder", "v1.2/README", ["has no extension"]],
        ["trailing dot", "photo.", ["ends with a dot"]],
        ["odd characters in the extension", "photo.jp g", [`the extension "jp g" with characters other than ASCII letters and digits`]],
        ["non-ASCII extension", "photo.jpé", [`the extension "jpé"`]],
        ["long extension", `photo.${"a".repeat(17)}`, ["extension of 17 characters", "at most 16"]],
    ])("originalName: %s", (_what, name, fragments) => {
        refused(() => storedName("u", name), "originalName", ...fragments);
        refused(() => storagePath("u", name), "originalName", ...fragments);
        refused(() => locate("u", name, 1), "originalName", ...fragments);
    });

    test.each(["", "localhost", "Example.com", "exa_mple.com", "-a.com", "a..com", "example.com.", "a/b.com"])(
        "domain %j", (domain) => {
            const frag = [`domain ${JSON.stringify(domain)} is not a domain name`, `"example.com"`];
            refused(() => publicUrl(domain, rel, 1), "domain", ...frag);
            refused(() => diskPath("/srv/images", domain, rel), "domain", ...frag);
            refused(() => domainRoot("/srv/images", domain), "domain", ...frag);
            refused(() => checkDomain(domain), "domain", ...frag);
        },
    );

    test.each<[string, string]>([
        ["", "dataRoot is empty"],
        ["srv/images", `dataRoot "srv/images" is not absolute`],
        ["/srv/../etc", `dataRoot "/srv/../etc" contains ".."`],
        ["/srv/im\nages", "contains a control character"],
    ])("dataRoot %j", (dataRoot, fragment) => {
        refused(() => diskPath(dataRoot, "example.com", rel), "dataRoot", fragment, `"/srv/images"`);
    });

    test.each<[string, string]>([
        ["", "is not a storage path"],
        ["../../etc/passwd", "is not a storage path"],
        ["7/2/42-72acded3acd45e4c8b6ed680854b8ab1.jpg", "is not a storage path"],
        ["7/2/a/../b", "is not a storage path"],
        ["7/2/a/photo.jpg", "does not end in <uid>-<md5>.<ext>"],
        ["7/2/a/42-72ACDED3ACD45E4C8B6ED680854B8AB1.jpg", "does not end in <uid>-<md5>.<ext>"],
        ["1/2/3/42-72acded3acd45e4c8b6ed680854b8ab1.jpg", "is in folder 1/2/3 but its md5 starts with 72a"],
    ])("relPath %j", (relPath, fragment) => {
        for (const fn of [
            () => diskPath("/srv/images", "example.com", relPath),
            () => internalUrl("10.0.0.1", 8081, relPath),
            () => parseStoragePath(relPath),
        ]) refused(fn, "relPath", fragment, "storagePath(uid, originalName)");
    });

    test("a bad relPath in publicUrl and shardOf", () => {
        refused(() => publicUrl("example.com", "1/2/3/42-72acded3acd45e4c8b6ed680854b8ab1.jpg", 1), "relPath", "is in folder 1/2/3");
        refused(() => shardOf("photo.jpg", 1), "md5OrPath", `md5OrPath "photo.jpg" is neither an md5`, "md5Hex");
        refused(() => shardOf("72acded3", 1), "md5OrPath", "is neither an md5");
        refused(() => publicUrl("example.com", "photo.jpg", 1), "md5OrPath", "not the original file name");
    });

    test("digits other than 1 or 2", () => {
        for (const d of [0, 3, "1"]) {
            const digits = d as unknown as 1;
            refused(() => shardNames(digits), "digits", `digits ${JSON.stringify(d)} is not 1 or 2`, "16 shards", "256");
            refused(() => shardOf("72acded3acd45e4c8b6ed680854b8ab1", digits), "digits", "is not 1 or 2");
            refused(() => publicUrl("example.com", rel, digits), "digits", "is not 1 or 2");
            refused(() => locate("u", "photo.jpg", digits), "digits", "is not 1 or 2");
        }
    });

    test("ports, hosts, md5s, shard names, stored names", () => {
        for (const port of [0, 65536, 80.5, NaN]) {
            refused(() => internalUrl("10.0.0.1", port, rel), "port", "is not a TCP port", "1 to 65535");
            refused(() => publicUrl("example.com", rel, 1, port), "port", "is not a TCP port");
        }
        for (const host of ["", "a b", "http://x", "10.0.0.1/24", "::zz"]) {
            refused(() => internalUrl(host, 8081, rel), "host", `host ${JSON.stringify(host)} is not an IP address or host name`, `"10.0.0.11"`);
        }
        refused(() => foldersOf("xyz"), "md5", `md5 "xyz" is not an md5`, "md5Hex(originalName)");
        refused(() => shardHost("example.com", "g"), "shard", `shard "g" is not a shard name`);
        refused(() => shardHost("example.com", "abc"), "shard", "is not a shard name");
        refused(() => parseStoredName("42-abc.jpg"), "storedName", `storedName "42-abc.jpg" is not <uid>-<md5>.<ext>`, "storedName(uid, originalName)");
        refused(() => parseStoredName("a.b-72acded3acd45e4c8b6ed680854b8ab1.jpg"), "storedName", "is not <uid>-<md5>.<ext>");
    });
});
