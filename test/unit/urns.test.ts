// The golden list of the lab stack's resource URNs. A resource's identity is
// its URN: a change that renames a step, moves it under another parent or
// renames a component type makes the real engine create it anew and run the
// old one's delete on the host. Such a change must be deliberate: regenerate
// the list with `UPDATE_GOLDEN=1 npx vitest run test/unit/urns.test.ts` and
// say in the change why the URNs move (and what the old deletes will do).
import { existsSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { expect, it } from "vitest";
import { recordLabStack } from "./lab-stack";

const GOLDEN = path.join(__dirname, "lab-urns.golden.txt");

it("the lab stack registers exactly the golden list of URNs", async () => {
    const urns = (await recordLabStack()).map((r) => r.urn).sort();
    if (process.env.UPDATE_GOLDEN || !existsSync(GOLDEN)) writeFileSync(GOLDEN, urns.join("\n") + "\n");
    const golden = readFileSync(GOLDEN, "utf8").trim().split("\n");
    expect(urns.filter((u) => !golden.includes(u)), "URNs the program registers that the golden list lacks (new or renamed resources)").toEqual([]);
    expect(golden.filter((u) => !urns.includes(u)), "golden URNs the program no longer registers (their deletes would run)").toEqual([]);
});
