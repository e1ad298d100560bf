// A connection flood from one address, the way one misbehaving client
// exhausts a web server: it opens connections to port 80 of each target,
// sends a request header it never finishes and holds the connection; every
// connection that closes is opened again. Bounded: at most --connections
// open per target, at most --open-per-second new connections a second in
// all, for --seconds. Prints one JSON line per run: per target, the
// attempts, the most connections open at once and the refused ones.
//
// Run by test/lab/faults.ts flood(), inside the flood client's network
// namespace (only lab addresses are reachable from there):
//   ip netns exec ps1-flood node tsx/cli test/lab/flood.ts --targets 198.18.0.11 --connections 12288 --seconds 20
import * as net from "net";
import { setTimeout as sleep } from "timers/promises";
import { arg, boundedArg } from "../bench/args";

const targets = arg("targets", "").split(",").filter(Boolean);
const connections = boundedArg("connections", 1000, 1, 20000);
const seconds = boundedArg("seconds", 20, 1, 120);
const openPerSecond = boundedArg("open-per-second", 2000, 1, 10000);
const host = arg("host", "localhost");
const path = arg("path", "/");
if (targets.length === 0 || targets.length > 4) throw new Error("--targets: one to four addresses, comma-separated");
for (const t of targets) if (net.isIPv4(t) === false) throw new Error(`--targets: ${t} is not an IPv4 address`);

interface State { target: string; open: number; attempts: number; maxOpen: number; refused: number; sockets: Set<net.Socket> }
const states: State[] = targets.map((target) => ({ target, open: 0, attempts: 0, maxOpen: 0, refused: 0, sockets: new Set() }));
const head = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: pairstore-lab-flood\r\n`; // no blank line: never finished

function openOne(s: State) {
    s.attempts++;
    const sock = net.connect({ host: s.target, port: 80 });
    s.sockets.add(sock);
    let counted = false;
    sock.setNoDelay(true);
    sock.on("connect", () => {
        counted = true;
        s.open++;
        if (s.open > s.maxOpen) s.maxOpen = s.open;
        sock.write(head);
    });
    sock.on("data", () => undefined);
    sock.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ECONNREFUSED" || e.code === "ECONNRESET") s.refused++;
    });
    sock.on("close", () => {
        s.sockets.delete(sock);
        if (counted) s.open--;
    });
}

(async () => {
    const end = Date.now() + seconds * 1000;
    const tick = 20;
    const perTick = Math.max(1, Math.round((openPerSecond * tick) / 1000));
    while (Date.now() < end) {
        // each target gets its share of the tick's budget (refused connections
        // are opened again at once, so one target would take it all)
        for (const s of states) {
            let budget = Math.ceil(perTick / states.length);
            while (budget > 0 && s.sockets.size < connections) {
                openOne(s);
                budget--;
            }
        }
        await sleep(tick);
    }
    for (const s of states) for (const sock of s.sockets) sock.destroy();
    console.log(JSON.stringify(states.map(({ target, attempts, maxOpen, refused }) => ({ target, attempts, maxOpen, refused }))));
})().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
});
