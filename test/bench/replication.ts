// Benchmark: replication lag inside a lab pair. Writes N files of 20 KB at a
// steady rate on the first node (as the web user, atomically, into the data
// directory) and reports how long each took to appear on its peer: p50, p95,
// p99 and max, for the lsyncd delay the lab stack is configured with. One row
// per rate: by default a steady 10 uploads/s and a burst of 100 uploads/s.
//
//   PAIRSTORE_LAB_ID=2 npm run bench:replication [-- --files 200 --rates 10,100 --size 20480 --from node-1a --to node-1b]
//
// Needs the lab (`npm run lab`, root on Linux). Both nodes share this
// machine's clock, so write and arrival times compare directly: the writer
// prints each file's time once it is in place, a poller on the peer (every
// 20 ms, no fork per check) prints when it first sees it.
import { DEFAULTS } from "../../components/config";
import { sshRun, type LabHost } from "../lab/hosts";
import { labStack } from "../lab/lab";
import { labHosts } from "../lab/topology";
import { arg } from "./args";
import { arrivalScript, layoutPaths, rootOf, stamps, tag, writerScript } from "../e2e/replication-helpers";

function pct(sorted: number[], p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Row { rate: number; lags: number[]; missing: number }

/** Writes `files` files at `rate` per second on `src` and returns each one's arrival lag on `dst` (ms). */
async function measure(src: LabHost, dst: LabHost, root: string, files: number, rate: number, size: number, delay: number): Promise<Row> {
    const rels = layoutPaths(tag(`bench${rate}`), files);
    const duration = files / rate;
    const timeout = Math.ceil(duration + delay + 60);
    const watcher = sshRun(dst, arrivalScript(root, rels, timeout), undefined, { timeoutMs: (timeout + 30) * 1000 });
    await new Promise((r) => setTimeout(r, 1500));
    const w = await sshRun(src, writerScript(root, rels, size, 1 / rate), undefined, { timeoutMs: (duration + 60) * 1000 });
    if (w.code !== 0) throw new Error(`writer on ${src.name} failed (exit ${w.code}): ${w.stderr}${w.stdout.slice(-500)}`);
    const written = stamps(w.stdout);
    const arrived = stamps((await watcher).stdout);
    const lags = rels.filter((r) => arrived.has(r) && written.has(r)).map((r) => arrived.get(r)! - written.get(r)!).sort((a, b) => a - b);
    // clean up: the bench files go on A, and lsyncd deletes them on B
    await sshRun(src, `cd ${root} && rm -f ${rels.join(" ")}`);
    return { rate, lags, missing: rels.length - lags.length };
}

async function main() {
    const files = Number(arg("files", "200"));
    const rates = arg("rates", arg("rate", "10,100")).split(",").map(Number);
    const size = Number(arg("size", String(20 * 1024)));
    const from = arg("from", "node-1a");
    const to = arg("to", "node-1b");
    const domain = arg("domain", "example.com");
    if (!(files > 0 && files <= 2000) || !rates.every((r) => r > 0 && r <= 200)) throw new Error("--files must be 1-2000 and each of --rates 1-200 per second");
    const hosts = labHosts();
    const src = hosts.find((h) => h.name === from);
    const dst = hosts.find((h) => h.name === to);
    if (!src || !dst) throw new Error(`no lab host ${!src ? from : to}`);
    const replication = JSON.parse(labStack()["pairstore:replication"]?.value ?? "{}");
    const delay = replication.delay ?? DEFAULTS.replication.delay;
    const root = rootOf(domain);

    const rows: Row[] = [];
    for (const rate of rates) rows.push(await measure(src, dst, root, files, rate, size, delay));

    const cmd = `PAIRSTORE_LAB_ID=${process.env.PAIRSTORE_LAB_ID ?? "0"} npm run bench:replication -- --files ${files} --rates ${rates.join(",")} --size ${size} --from ${from} --to ${to}`;
    const ms = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(2)} s` : "-");
    console.log(`$ ${cmd}`);
    console.log(`replication lag ${from} -> ${to}, ${files} files of ${size} B per rate, lsyncd delay = ${delay} s (${new Date().toISOString()})`);
    console.log("");
    console.log("| delay | files | rate | arrived | p50 | p95 | p99 | max | target (delay + 1 s) |");
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const { rate, lags } of rows) {
        console.log(`| ${delay} s | ${files} | ${rate}/s | ${lags.length}/${files} | ${ms(pct(lags, 50))} | ${ms(pct(lags, 95))} | ${ms(pct(lags, 99))} | ${ms(lags[lags.length - 1])} | ${delay + 1} s |`);
    }
    for (const { rate, missing } of rows.filter((r) => r.missing > 0)) {
        console.log(`\n${missing} files written at ${rate}/s had not arrived in time`);
        process.exitCode = 1;
    }
}

main().catch((e: Error) => {
    console.error(`bench: ${e.message}`);
    process.exit(1);
});
