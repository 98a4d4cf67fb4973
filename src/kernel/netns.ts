/**
 * Network namespaces of containers: each is a file under the daemon's exec root,
 * bind-mounted on an nsfs inode (what `ip netns add` does under /run/netns, but in a
 * folder of our own so that two daemons never share names).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run } from './exec.js';
import { unmount } from './mount.js';

/**
 * Create the namespace file at `nsPath` and run `ip -batch` inside the new namespace
 * in the same process (unshare execs ip), so a container's first interface costs no
 * extra spawn. Fails if the file is already a namespace.
 */
export async function createNetns(nsPath: string, ipBatch: readonly string[]): Promise<void> {
  fs.mkdirSync(path.dirname(nsPath), { recursive: true });
  fs.writeFileSync(nsPath, '', { flag: 'wx' });
  try {
    await run('unshare', [`--net=${nsPath}`, '--', 'ip', '-batch', '-'], { input: ipBatch.join('\n') + '\n' });
  } catch (e: unknown) {
    await deleteNetns(nsPath);
    throw e;
  }
}

/** Run `ip -batch` inside an existing namespace; `force`: each command whatever the others did. */
export async function ipInNetns(nsPath: string, ipBatch: readonly string[], force = false): Promise<void> {
  await run('nsenter', [`--net=${nsPath}`, '--', 'ip', ...(force ? ['-force'] : []), '-batch', '-'], { input: ipBatch.join('\n') + '\n' });
}

/** Commands in an existing namespace, each run whatever the others did; one that is gone is skipped. */
export async function amendNetns(nsPath: string, ipBatch: readonly string[]): Promise<void> {
  if (ipBatch.length > 0 && fs.existsSync(nsPath)) await ipInNetns(nsPath, ipBatch, true);
}

/** Unmount and remove a namespace file. Idempotent. */
export async function deleteNetns(nsPath: string): Promise<void> {
  if (!fs.existsSync(nsPath)) return; // already gone: no umount spawn
  await unmount(nsPath, { lazy: true });
  fs.rmSync(nsPath, { force: true });
}

/** The namespace files in a folder (for reconcile). */
export function listNetnsFiles(dir: string): string[] {
  try {
    return fs.readdirSync(dir).map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** The daemon's own namespace, as a path other processes can open. */
export function ownNetnsPath(): string {
  return `/proc/${process.pid}/ns/net`;
}
