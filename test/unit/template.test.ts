// The renderer's #include lines (components/step/template.ts): a script that
// runs on a host is its file with every `#include <path>` line replaced by the
// included file, and every include line under files/ names a file that exists.
import { readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { describe, expect, test } from "vitest";
import { expandIncludes, FILES_DIR, includesOf, readTemplate, render } from "../../components/step/template";

/** A files/ tree in memory. */
const reader = (files: Record<string, string>) => (rel: string): string | undefined => files[rel];

describe("#include lines", () => {
    test("an include line is replaced, with its newline, by the included text, recursively", () => {
        const read = reader({
            "a/main.sh": "#include a/lib.sh\necho main\n#include b/tail.sh\n",
            "a/lib.sh": "lib() { :; }\n#include b/deep.sh\n",
            "b/deep.sh": "DEEP={{deep}}\n",
            "b/tail.sh": "echo tail\n",
        });
        expect(expandIncludes("a/main.sh", read)).toBe("lib() { :; }\nDEEP={{deep}}\necho main\necho tail\n");
        expect(includesOf("#include a/lib.sh\necho main\n#include b/tail.sh\n")).toEqual(["a/lib.sh", "b/tail.sh"]);
    });

    test("only a whole line `#include <path>` is an include", () => {
        const text = "# include x.sh\n  #include x.sh\n#include x.sh # no\n#includex.sh\necho '#include x.sh'\n";
        expect(includesOf(text)).toEqual([]);
        expect(expandIncludes("t.sh", reader({ "t.sh": text }))).toBe(text);
    });

    test("the same file may be included twice (not a cycle)", () => {
        const read = reader({ "m.sh": "#include l.sh\n#include l.sh\n", "l.sh": "x\n" });
        expect(expandIncludes("m.sh", read)).toBe("x\nx\n");
    });

    test("a missing include throws naming the including file, its line and the missing file", () => {
        const read = reader({ "a/main.sh": "echo\n#include a/gone.sh\n" });
        expect(() => expandIncludes("a/main.sh", read)).toThrow("files/a/main.sh:2: #include a/gone.sh: no such file files/a/gone.sh");
    });

    test("an include cycle throws naming the chain", () => {
        const read = reader({ "x.sh": "#include y.sh\n", "y.sh": "#include z.sh\n", "z.sh": "#include x.sh\n" });
        expect(() => expandIncludes("x.sh", read)).toThrow("include cycle: files/x.sh -> files/y.sh -> files/z.sh -> files/x.sh");
        expect(() => expandIncludes("s.sh", reader({ "s.sh": "#include s.sh\n" }))).toThrow("include cycle: files/s.sh -> files/s.sh");
    });

    test("an include stays under files/", () => {
        expect(() => expandIncludes("a.sh", reader({ "a.sh": "#include ../x.sh\n", "../x.sh": "" }))).toThrow("the path must stay under files/");
    });

    test("placeholders of an included file are filled with the values of the file that includes it", () => {
        const text = render("heartbeat/heartbeat-service.sh", {
            unit: "heartbeat.service", own: "", wait: 5, peer: "eth1=10.0.0.2", monitor: "m.service", arp_wait: 1, arp_bound: 3, hash: "h",
        });
        expect(text).toMatch(/^HB_UNIT=heartbeat\.service$/m);
        expect(text).toMatch(/^HASH=h$/m);
        expect(text).not.toMatch(/^#include /m);
    });
});

describe("the #include lines under files/", () => {
    const files = readdirSync(FILES_DIR, { recursive: true, encoding: "utf8" })
        .filter((f) => statSync(path.join(FILES_DIR, f)).isFile());
    const including = files.filter((f) => includesOf(readFileSync(path.join(FILES_DIR, f), "utf8")).length > 0);

    test("some files share code through #include", () => {
        expect(including).toEqual(expect.arrayContaining(["heartbeat/heartbeat-service.sh", "heartbeat/heartbeat-authkeys.sh", "nginx/nginx-secret.sh"]));
    });

    test.each(including)("every #include line of files/%s names an existing file, and it expands without a cycle", (f) => {
        for (const inc of includesOf(readFileSync(path.join(FILES_DIR, f), "utf8"))) {
            expect(statSync(path.join(FILES_DIR, inc), { throwIfNoEntry: false })?.isFile(), `files/${f}: #include ${inc}`).toBe(true);
        }
        expect(() => readTemplate(f)).not.toThrow();
        expect(readTemplate(f)).not.toMatch(/^#include /m);
    });

    test("a line that starts with #include but is not a valid include line is a mistake", () => {
        const odd = files.flatMap((f) => readFileSync(path.join(FILES_DIR, f), "utf8").split("\n")
            .filter((line) => line.startsWith("#include") && includesOf(line).length === 0).map((line) => `files/${f}: ${line}`));
        expect(odd).toEqual([]);
    });
});
