/**
 * Mounts: the overlay root filesystem of a container and plain bind mounts, through
 * util-linux `mount`/`umount` (Node has no mount(2)). Mounts are made in the daemon's
 * own mount namespace; runc later bind-mounts the merged directory into the container.
 */
import { mkdirSync, readdirSync, existsSync, readFileSync, rmdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { run, KernelCommandError } from './exec.js';
import { invalid, systemError } from '../errors.js';
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

/** mount(2)'s flags by the names fstab gives them (moby/sys/mount's table); `clear` turns one off. */
const MS = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, SYNCHRONOUS: 0x10, REMOUNT: 0x20, MANDLOCK: 0x40, DIRSYNC: 0x80, NOATIME: 0x400, NODIRATIME: 0x800, BIND: 0x1000, REC: 0x4000, SILENT: 0x8000, UNBINDABLE: 0x20000, PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000, RELATIME: 0x200000, STRICTATIME: 0x1000000 } as const;
const FLAG_NAMES: Readonly<Record<string, { flag: number; clear?: true }>> = {
  ro: { flag: MS.RDONLY }, rw: { flag: MS.RDONLY, clear: true },
  suid: { flag: MS.NOSUID, clear: true }, nosuid: { flag: MS.NOSUID },
  dev: { flag: MS.NODEV, clear: true }, nodev: { flag: MS.NODEV },
  exec: { flag: MS.NOEXEC, clear: true }, noexec: { flag: MS.NOEXEC },
  sync: { flag: MS.SYNCHRONOUS }, async: { flag: MS.SYNCHRONOUS, clear: true },
  dirsync: { flag: MS.DIRSYNC }, remount: { flag: MS.REMOUNT },
  mand: { flag: MS.MANDLOCK }, nomand: { flag: MS.MANDLOCK, clear: true },
  atime: { flag: MS.NOATIME, clear: true }, noatime: { flag: MS.NOATIME },
  diratime: { flag: MS.NODIRATIME, clear: true }, nodiratime: { flag: MS.NODIRATIME },
  bind: { flag: MS.BIND }, rbind: { flag: MS.BIND | MS.REC },
  unbindable: { flag: MS.UNBINDABLE }, runbindable: { flag: MS.UNBINDABLE | MS.REC },
  private: { flag: MS.PRIVATE }, rprivate: { flag: MS.PRIVATE | MS.REC },
  shared: { flag: MS.SHARED }, rshared: { flag: MS.SHARED | MS.REC },
  slave: { flag: MS.SLAVE }, rslave: { flag: MS.SLAVE | MS.REC },
  relatime: { flag: MS.RELATIME }, norelatime: { flag: MS.RELATIME, clear: true },
  strictatime: { flag: MS.STRICTATIME }, nostrictatime: { flag: MS.STRICTATIME, clear: true },
};
const PROPAGATION = MS.SHARED | MS.PRIVATE | MS.SLAVE | MS.UNBINDABLE;

/**
 * fstab-style options ("bind,ro", "size=64m,uid=1000") as mount(2) takes them: the
 * flags, and the rest as the filesystem's data string, in the order given.
 */
export function parseMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const o of options.split(',')) {
    const f = FLAG_NAMES[o];
    if (f === undefined) data.push(o);
    else if (f.clear) flags &= ~f.flag;
    else flags |= f.flag;
  }
  return { flags, data: data.join(',') };
}

/** A filesystem to mount, as a volume's options name it. */
export interface FilesystemMount {
  /** What is mounted: a device, a folder (with o=bind), "tmpfs", an nfs export. */
  device: string;
  /** Where. Must exist. */
  target: string;
  /** The filesystem type ("none" for a bind). */
  type: string;
  /** fstab-style options. */
  options: string;
}

const MOUNT: number | undefined = ({ x64: 165, arm64: 40 } as Record<string, number>)[process.arch];

/**
 * Mount a filesystem as moby/sys/mount does: the mount itself without propagation flags
 * (skipped for a bare remount), then the propagation, then the read-only remount a bind
 * needs. Errors read as Go's mountError ("mount DEV:TARGET, flags: 0x1000: no such file
 * or directory"). A failure after the first step unmounts again: nothing is left mounted.
 * Not idempotent.
 */
export async function mountFilesystem(m: FilesystemMount): Promise<void> {
  const { flags, data } = parseMountOptions(m.options);
  const own = flags & ~PROPAGATION;
  const remount = (flags & MS.REMOUNT) !== 0 || m.device === '' || m.device === 'none';
  let mounted = false;
  try {
    if (!remount || data !== '') {
      await mount2('mount', m.device, m.target, m.type, own, data);
      mounted = true;
    }
    if ((flags & PROPAGATION) !== 0) await mount2('remount', '', m.target, '', flags & (PROPAGATION | MS.REC | MS.SILENT), '');
    if ((own & (MS.BIND | MS.RDONLY)) === (MS.BIND | MS.RDONLY)) await mount2('remount-ro', '', m.target, '', own | MS.REMOUNT, '');
  } catch (e: unknown) {
    if (mounted) await unmount(m.target, { lazy: true });
    throw e;
  }
}

/** One mount(2) call; its failure worded as moby's mountError. */
async function mount2(op: string, source: string, target: string, type: string, flags: number, data: string): Promise<void> {
  const what = `${op} ${source === '' ? target : `${source}:${target}`}${flags !== 0 ? `, flags: 0x${flags.toString(16)}` : ''}${data !== '' ? `, data: ${data}` : ''}`;
  try {
    if (MOUNT === undefined) throw new Error('no mount(2) number here');
    await run('perl', [libexecPath('mount2.pl'), source, target, type, String(flags), data, String(MOUNT)]);
  } catch (e: unknown) {
    const errno = e instanceof KernelCommandError ? /^errno \d+: (.+)$/m.exec(e.stderr) : null;
    if (errno) throw systemError(`${what}: ${goErrnoText(errno[1]!)}`);
    if (e instanceof KernelCommandError) throw e;
    await mountTool(source, target, type, flags, data, what); // no perl, or no number for this arch
  }
}

/** util-linux mount where mount(2) cannot be called by number; its own words on failure. */
async function mountTool(source: string, target: string, type: string, flags: number, data: string, what: string): Promise<void> {
  if (flags & ~(MS.BIND | MS.RDONLY | MS.REC)) throw systemError(`${what}: mount flags need mount(2) (perl) on this machine`);
  const opts = [flags & MS.BIND ? ((flags & MS.REC) ? 'rbind' : 'bind') : '', flags & MS.RDONLY ? 'ro' : '', data].filter((o) => o !== '');
  await run('mount', [...(type ? ['-t', type] : []), ...(opts.length ? ['-o', opts.join(',')] : []), source, target]);
}

/** glibc's strerror as Go's syscall.Errno words it: the same, but starting lower case. */
function goErrnoText(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The mount points at or under dir in this process's mount namespace, deepest first. It
 * reads /proc/self/mountinfo (a bind mount within one filesystem shows nowhere else), so
 * it is for the few volumes with a filesystem of their own, not for every start.
 */
export function mountPointsUnder(dir: string): string[] {
  const root = resolve(dir);
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === root || p.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * `mount` at `target` (made for the call, mode 0700) for as long as `fn` runs; then
 * unmounted (lazily when busy) and removed, also when either fails.
 */
export async function withMountAt<T>(target: string, mount: (target: string) => Promise<void>, fn: (target: string) => Promise<T>): Promise<T> {
  mkdirSync(target, { recursive: true, mode: 0o700 });
  try {
    await mount(target);
    try {
      return await fn(target);
    } finally {
      await unmount(target).catch(async () => unmount(target, { lazy: true }));
    }
  } finally {
    rmdirSync(target);
  }
}

/** Unmount and remove the mount points a crash left in `dir` (withMountAt's). Idempotent. */
export async function sweepMountPoints(dir: string): Promise<void> {
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    const p = join(dir, name);
    await unmount(p, { lazy: true });
    rmdirSync(p);
  }
}
