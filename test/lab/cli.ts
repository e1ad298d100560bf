// npm run lab | lab:outputs | lab:check | lab:down (PAIRSTORE_LAB_PAIRS=3 npm run lab grows the lab to three pairs, =2 shrinks it back)
import { drift } from "../../tools/drift";
import { applyLab, applyLabWithPulumi, engine, labDown, labExport, labHostsUp, labOutputs, resizeLab } from "./lab";
import { applyRecap, formatRecap } from "./recap";
import { labHosts, labPairCount, labPairs } from "./topology";

async function up(check: boolean) {
    if (check) {
        await labHostsUp();
        return checkLab();
    }
    const count = labPairCount();
    const pulumiCli = engine() === "pulumi";
    console.log(pulumiCli ? "lab: applying with the Pulumi CLI (pulumi up on a local file backend)"
        : "lab: the Pulumi CLI is not on PATH; applying with pairstore's engine (test/engine: the same program, its steps run over SSH with the command provider's rules)");
    await resizeLab(count, async () => {
        if (pulumiCli) {
            applyLabWithPulumi();
            return true;
        }
        const result = await applyLab({}, { echo: true });
        console.log(formatRecap(applyRecap(result, labHosts(labPairs(3)).map((h) => h.name))));
        const ran = result.created.length + result.updated.length;
        console.log(`lab: ${result.created.length} created, ${result.updated.length} updated, ${result.deleted.length} deleted, ` +
            `${result.unchanged.length} unchanged; ${result.changedSteps.length} of ${ran} steps that ran changed something`);
        if (!result.ok) {
            for (const f of result.failed) console.error(`lab: FAILED ${f.name}: ${f.message}`);
            process.exitCode = 1;
        }
        return result.ok;
    });
}

/** Drift check (npm run drift on the lab's export): every step in check mode, the state untouched. Exit 0: no drift, 2: drift, 1: failure. */
async function checkLab() {
    const r = await drift(labExport());
    console.log(r.text);
    process.exitCode = r.code;
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
