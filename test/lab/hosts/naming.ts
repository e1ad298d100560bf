/**
 * Per-host names: host directory, network namespace, outer veth names, MACs, and
 * the list of hosts on disk.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LAB_DIR, LAB_ID, TAG } from "./constants";
import { sha } from "./util";

// ---------------------------------------------------------------------------
// per-host naming

export const NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export function checkName(name: string): void {
  if (!NAME_RE.test(name)) throw new Error(`lab: invalid host name ${JSON.stringify(name)} (lowercase letters, digits, '-')`);
}

export function hostDir(name: string): string {
  return path.join(LAB_DIR, "hosts", name);
}

export function netnsName(name: string): string {
  return `${TAG}-${name}`;
}

/** Outer-side veth name for eth<idx> (<= 15 chars). */
export function outerVethName(name: string, idx: 0 | 1): string {
  const plain = `${TAG}${idx}-${name}`;
  return plain.length <= 15 ? plain : `${TAG}${idx}-${sha(name).slice(0, 15 - TAG.length - 2)}`;
}

/** Deterministic locally administered MAC: idx 0/1 = eth0/eth1 inside, 0x10/0x11 = outer veth sides. */
export function macFor(name: string, idx: number): string {
  const h = sha(LAB_ID === 0 ? `pairstore-lab:${name}` : `pairstore-lab${LAB_ID}:${name}`);
  const bytes = ["02", h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), idx.toString(16).padStart(2, "0")];
  return bytes.join(":");
}

export function listHostNames(): string[] {
  try {
    return fs.readdirSync(path.join(LAB_DIR, "hosts")).filter((n) => NAME_RE.test(n));
  } catch {
    return [];
  }
}

export function readLower(name: string): string | undefined {
  try {
    return fs.readFileSync(path.join(hostDir(name), "lower"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
