/**
 * Mounts: the overlay root filesystem of a container and plain bind mounts, through
 * util-linux `mount`/`umount` (Node has no mount(2)). Mounts are made in the daemon's
 * own mount namespace; runc later bind-mounts the merged directory into the container.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { run, KernelCommandError } from './exec.js';
import { invalid } from '../errors.js';
import { libexecPath } from '../util/libexec.js';

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
  return checkedOptions(m.lower, `,upperdir=${checkedPath(m.upper)},workdir=${checkedPath(m.work)}`);
}

/** lowerdir (the topmost layer first) and the rest, within the kernel's page of options. */
function checkedOptions(lower: readonly string[], rest: string): string {
  if (lower.length === 0) throw invalid('overlay mount needs at least one lower layer');
  const opts = `lowerdir=${[...lower].reverse().map(checkedPath).join(':')}${rest}`;
  if (opts.length > 4000) throw invalid(`overlay options too long (${lower.length} layers)`);
  return opts;
}

function checkedPath(p: string): string {
  if (/[,:\n]/.test(p)) throw invalid(`overlay layer path contains ',' or ':': ${p}`);
  return p;
}

/** Mount the overlay at m.target. Idempotent: an existing mount there is kept. */
export async function mountOverlay(m: OverlayMount): Promise<void> {
  if (await isMounted(m.target)) return;
  await run('mount', ['-t', 'overlay', 'overlay', '-o', overlayOptions(m), m.target]);
}

/**
 * A read-only union of image layers (lowest first) at target, to read an image's files
 * without a container. Overlayfs takes no fewer than two lower layers without an upper
 * one; a single layer needs no union (read the layer's directory). Not idempotent.
 */
export async function mountLayersReadonly(lower: readonly string[], target: string): Promise<void> {
  if (lower.length < 2) throw invalid('a read-only overlay needs at least two layers');
  await run('mount', ['-t', 'overlay', 'overlay', '-o', `ro,${checkedOptions(lower, '')}`, target]);
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
 * umount2(2) by number, through perl's syscall(): util-linux umount first parses the
 * whole mount table (8 ms with 2,000 mounts against 2 ms for this, measured alone), and
 * berth has two mounts per container. Other archs use umount (libexec/umount2.pl).
 */
const UMOUNT2: number | undefined = ({ x64: 166, arm64: 39 } as Record<string, number>)[process.arch];
const MNT_DETACH = 2;

/**
 * Unmount target. `lazy` detaches it even while busy (MNT_DETACH). Idempotent:
 * a target that is not mounted, or does not exist, is success.
 */
export async function unmount(target: string, opts: { lazy?: boolean } = {}): Promise<void> {
  try {
    await umount2(target, opts.lazy ?? false);
  } catch (e: unknown) {
    if (umountSaysNotMounted(e)) return;
    throw e;
  }
}

/** umount2(2) through perl where its number is known and perl runs; util-linux umount otherwise. */
async function umount2(target: string, lazy: boolean): Promise<void> {
  const utilLinux = async (): Promise<void> => void (await run('umount', lazy ? ['-l', target] : [target]));
  if (UMOUNT2 === undefined) return utilLinux();
  try {
    await run('perl', [libexecPath('umount2.pl'), target, String(UMOUNT2), String(lazy ? MNT_DETACH : 0)]);
  } catch (e: unknown) {
    if (e instanceof KernelCommandError) throw e; // perl ran: this is the kernel's answer
    await utilLinux(); // no perl here
  }
}

/** The one place that reads umount's error text: is the target simply not mounted? */
export function umountSaysNotMounted(e: unknown): boolean {
  return e instanceof KernelCommandError && /not mounted|No such file or directory|no mount point specified/i.test(e.stderr);
}

/**
 * Is a filesystem of its own mounted at path (in this process's mount namespace)? Its
 * device then differs from its parent directory's, as an overlay's always does: two
 * stats, where reading /proc/self/mountinfo makes the kernel print every mount (2,000
 * lines at 1000 containers, on every start). A bind mount within one filesystem does
 * not show this way; berth asks only about its overlays.
 */
export async function isMounted(path: string): Promise<boolean> {
  const target = resolve(path);
  try {
    const [here, parent] = await Promise.all([stat(target), stat(dirname(target))]);
    return here.dev !== parent.dev;
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
