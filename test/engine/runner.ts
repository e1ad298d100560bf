// Child process of the engine: one deployment of the real program. Request on
// stdin (it holds secrets, so never argv or env), result JSON to the file the
// request names. Like the CLI, it checks the stack config against Pulumi.yaml
// first (project.ts), then runs the program with the resource monitor
// (monitor.ts) driving the deployment (deployment.ts).
import * as pulumi from "@pulumi/pulumi";
import { cpus } from "os";
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { Deployment } from "./deployment";
import { lockStack } from "./lock";
import { installMonitor, waitForRPCs } from "./monitor";
import { loadProject, programConfig } from "./project";
import { StateFile } from "./state";
import type { EngineRequest } from "./types";

const ROOT = path.join(__dirname, "..", "..");
/** Exit code of a run that failed but wrote its result (see index.ts). */
const FAILED_EXIT = 3;

async function main() {
    const req: EngineRequest = JSON.parse(readFileSync(0, "utf8"));
    const echo = (name: string, text: string) => {
        deployment.result.logs[name] = (deployment.result.logs[name] ?? "") + text;
        for (const line of text.split("\n").filter((l) => l.trim() !== "")) process.stderr.write(`[${name}] ${line}\n`);
    };
    const deployment = new Deployment(new StateFile(req.stateFile), {
        preview: req.preview, parallel: req.parallel ?? 4 * cpus().length, log: echo,
    });
    const result = deployment.result;
    let unlock = () => {};
    /** Writes the result and exits; `ownsState` false: the state belongs to another update (the lock's holder). */
    const finish = (ownsState = true) => {
        if (ownsState) deployment.flush();
        unlock();
        writeFileSync(req.resultFile, JSON.stringify(result), { mode: 0o600 });
        // A failed step leaves its dependents' registrations pending, which the SDK would
        // report as leaks on a zero exit; FAILED_EXIT says "failed, result written".
        process.exit(result.ok ? 0 : FAILED_EXIT);
    };

    if (!req.preview) {
        try {
            unlock = lockStack(req.stateFile);
        } catch (e) {
            result.ok = false;
            result.failed.push({ name: "lock", message: (e as Error).message });
            return finish(false);
        }
    }
    const project = loadProject(path.resolve(ROOT, req.projectFile ?? "Pulumi.yaml"));
    let config: ReturnType<typeof programConfig>;
    try {
        config = programConfig(project, req.stack, req.config);
    } catch (e) {
        result.ok = false;
        result.failed.push({ name: "config", message: (e as Error).message });
        return finish();
    }
    installMonitor(project.name, req.stack, req.preview, {
        register: (reg) => deployment.register(reg),
        outputs: (urn, outputs) => deployment.componentOutputs(urn, outputs),
    });
    pulumi.runtime.setAllConfig(config.config, config.secretKeys);

    const rejections: string[] = [];
    process.on("unhandledRejection", (e) => rejections.push(String((e as Error)?.message ?? e)));
    // After a failure the failed step's dependents never register and the
    // program never completes: the run ends once nothing is in flight.
    const stalled = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
            if (deployment.failed && deployment.inflight === 0 && Date.now() - deployment.lastActivity > 1000) {
                clearInterval(timer);
                resolve();
            }
        }, 200);
    });
    let programOk = false;
    try {
        // Imported after the monitor is installed: the program reads config at construction.
        const { program } = await import(path.resolve(ROOT, req.program ?? "components/program"));
        await Promise.race([stalled, (async () => {
            const outputs = await pulumi.runtime.runInPulumiStack(async () => program());
            await waitForRPCs();
            result.outputs = outputs;
            programOk = true;
        })()]);
    } catch (e) {
        result.ok = false;
        result.failed.push({ name: "program", message: (e as Error).message });
    }
    // An error inside an apply fails the program too (the language host exits non-zero).
    if (programOk && !deployment.failed && rejections.length > 0) {
        result.ok = false;
        result.failed.push(...rejections.map((m) => ({ name: "program", message: m })));
    }
    if (result.ok && programOk) {
        await deployment.deletes();
        if (result.ok && !req.preview) deployment.setStackOutputs(result.outputs ?? {});
    }
    finish();
}

main().catch((e) => {
    process.stderr.write(`engine: ${e?.stack ?? e}\n`);
    process.exit(2);
});
