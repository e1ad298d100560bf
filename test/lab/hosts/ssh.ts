/**
 * SSH to lab hosts: the lab key (root's authorized key on every host) and
 * running a command on a host as root.
 *
 * Part of test/lab/hosts (see index.ts); only test code uses it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LAB_DIR } from "./constants";
import { exists, run } from "./util";

// ---------------------------------------------------------------------------
// lab SSH key

export function labKeyPath(): string {
  return path.join(LAB_DIR, "key", "id_ed25519");
}

export async function ensureLabKey(): Promise<{ privateKeyPath: string; publicKey: string }> {
  const key = labKeyPath();
  if (!exists(key) || !exists(key + ".pub")) {
    fs.mkdirSync(path.dirname(key), { recursive: true, mode: 0o700 });
    const tmp = `${key}.tmp-${process.pid}`;
    fs.rmSync(tmp, { force: true });
    fs.rmSync(tmp + ".pub", { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "pairstore-lab", "-f", tmp]);
    fs.renameSync(tmp + ".pub", key + ".pub");
    fs.renameSync(tmp, key);
  }
  const publicKey = fs.readFileSync(key + ".pub", "utf8").trim();
  return { privateKeyPath: key, publicKey };
}

// ---------------------------------------------------------------------------
// ssh

export async function sshRun(
  h: { mgmtIp: string },
  command: string,
  stdin?: string,
  opts: { timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = [
    "-i", labKeyPath(),
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "ConnectTimeout=5",
    "-o", "IdentitiesOnly=yes",
    `root@${h.mgmtIp}`,
    command,
  ];
  return run("ssh", args, { input: stdin ?? "", allowFail: true, timeoutMs: opts.timeoutMs });
}
