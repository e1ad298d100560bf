// npm run lab | lab:outputs | lab:check | lab:down
import { applyLab, applyLabWithPulumi, engine, labDown, labHostsUp, labOutputs } from "./lab";

async function up(check: boolean) {
    await labHostsUp();
    const overrides = check ? { checkMode: "true" } : {};
    if (engine() === "pulumi") {
        console.log("lab: applying with the Pulumi CLI (pulumi up on a local file backend)");
        applyLabWithPulumi(overrides);
        return;
    }
    console.log("lab: the Pulumi CLI is not on PATH; applying with pairstore's executing harness (the same program, its steps run over SSH)");
    const result = await applyLab(overrides, { echo: true });
    const ran = result.created.length + result.updated.length;
    console.log(`lab: ${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted, ` +
        `${result.unchanged.length} unchanged; ${result.changedSteps.length} of ${ran} steps that ran changed something`);
    if (check) {
        const drift = Object.entries(result.stdout).flatMap(([step, out]) => out.split("\n").filter((l) => l.startsWith("would:")).map((l) => `  ${step}: ${l}`));
        console.log(drift.length ? `lab: drift found (run \`npm run lab\` to put it back):\n${drift.join("\n")}` : "lab: no drift");
    }
    if (!result.ok) {
        for (const f of result.failed) console.error(`lab: FAILED ${f.name}: ${f.message}`);
        process.exitCode = 1;
    }
}

async function main(cmd: string | undefined) {
    switch (cmd) {
        case "up": return up(false);
        case "check": return up(true);
        case "outputs": return console.log(JSON.stringify(labOutputs(), null, 2));
        case "down": await labDown(); return console.log("lab: hosts stopped and removed");
        default: throw new Error("usage: tsx test/lab/cli.ts up|check|outputs|down");
    }
}

main(process.argv[2]).catch((e: Error) => {
    console.error(`lab: ${e.message}`);
    process.exit(1);
});
