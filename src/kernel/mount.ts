/**
 * Mounts: the overlay root filesystem of a container and plain bind mounts, through
 * util-linux `mount`/`umount` (Node has no mount(2)). Mounts are made in the daemon's
 * own mount namespace; runc later bind-mounts the merged directory into the container.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { run, KernelCommandError } from './exec.js';
import { invalid } from '../errors.js';

export interface OverlayMount {
  /** Read-only layer directories, lowest first (image order). At least one. */
  lower: readonly string[];
  /** Writable layer and overlayfs' scratch directory, on the same filesystem. */
  upper: string;
  work: string;
  /** Where the union is mounted. */
  target: string;
}

/**
 * The option string for mount -o. Overlayfs splits on ',' and lowerdir on ':', and
 * the kernel takes at most one page of options, so such paths are refused here.
 */
export function overlayOptions(m: OverlayMount): string {
  if (m.lower.length === 0) throw invalid('overlay mount needs at least one lower layer');
  for (const p of [...m.lower, m.upper, m.work]) {
    if (/[,:\n]/.test(p)) throw invalid(`overlay layer path contains ',' or ':': ${p}`);
  }
  // lowerdir lists the topmost layer first.
  const lower = [...m.lower].reverse().join(':');
  const opts = `lowerdir=${lower},upperdir=${m.upper},workdir=${m.work}`;
  if (opts.length > 4000) throw invalid(`overlay options too long (${m.lower.length} layers)`);
  return opts;
}

/** Mount the overlay at m.target. Idempotent: an existing mount there is kept. */
export async function mountOverlay(m: OverlayMount): Promise<void> {
  if (await isMounted(m.target)) return;
  await run('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(m), m.target]);
}

/**
 * Bind-mount source on target (recursive; read-only if asked: a bind mount is made
 * read-only by a second remount). Not idempotent: each call stacks a mount.
 */
export async function bindMount(source: string, target: string, opts: { readonly?: boolean } = {}): Promise<void> {
  await run('mount', ['--rbind', source, target]);
  if (opts.readonly) {
    try {
      await run('mount', ['-o', 'remount,bind,ro', target]);
    } catch (e: unknown) {
      await unmount(target, { lazy: true });
      throw e;
    }
  }
}

/**
 * Unmount target. `lazy` detaches it even while busy (MNT_DETACH). Idempotent:
 * a target that is not mounted, or does not exist, is success.
 */
export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  try {
    await run('umount', opts.lazy ? ['-l', target] : [target]);
  } catch (e: unknown) {
    if (umountSaysNotMounted(e)) return;
    throw e;
  }
}

/** The one place that reads umount's error text: is the target simply not mounted? */
export function umountSaysNotMounted(e: unknown): boolean {
  return e instanceof KernelCommandError && /not mounted|No such file or directory|no mount point specified/i.test(e.stderr);
}

/** Is something mounted exactly at path (in this process's mount namespace)? */
export async function isMounted(path: string): Promise<boolean> {
  const target = resolve(path);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return mountPoints(info).includes(target);
}

/** Mount points listed in a /proc/<pid>/mountinfo text (octal escapes decoded). */
export function mountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field !== undefined) out.push(unescapeMountField(field));
  }
  return out;
}

function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
