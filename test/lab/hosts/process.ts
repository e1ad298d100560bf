/**
 * Host processes: find a host's systemd-nspawn supervisor and its descendants in
 * /proc, whether a host runs, wait for processes to exit.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { hostDir } from "./naming";

// ---------------------------------------------------------------------------
// processes

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
}

export function readProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const rest = stat.slice(close + 2).split(" ");
      out.push({ pid: Number(e), state: rest[0], ppid: Number(rest[1]), comm });
    } catch {
      /* raced with exit */
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export function descendants(root: number): number[] {
  const procs = readProcs();
  const children = new Map<number, number[]>();
  for (const p of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid)!.push(p.pid);
  }
  const result: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    result.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return result;
}

export function pidFile(name: string): string {
  return path.join(hostDir(name), "nspawn.pid");
}

export function wrapperTag(name: string): string {
  return `pairstore-lab-host:${name}`;
}

/** PID of the supervisor shell that runs systemd-nspawn for this host, if alive. */
export function wrapperPid(name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(name), "utf8").trim());
  } catch {
    return undefined;
  }
  if (!pid || !alive(pid)) return undefined;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (!cmdline.includes(wrapperTag(name))) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

export function isRunning(name: string): boolean {
  return wrapperPid(name) !== undefined;
}

export function nspawnPidOf(wrapper: number): number | undefined {
  return readProcs().find((p) => p.ppid === wrapper && p.comm === "systemd-nspawn" && p.state !== "Z")?.pid;
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !alive(p))) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}
