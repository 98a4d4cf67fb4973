/**
 * Filesystem objects only the kernel can make for us: overlayfs whiteouts (a 0/0 char
 * device) and the opaque-directory xattr (image layer extraction is the caller), and
 * tree copies that keep owners, modes and device nodes (volumes filled from an image).
 */
import { run, KernelCommandError } from './exec.js';
import { BerthError } from '../errors.js';

/**
 * Create an overlayfs whiteout at `path` (char device 0/0) with `mknod`.
 * The path must not exist. Not idempotent: an existing path is an error.
 */
export async function makeWhiteout(path: string): Promise<void> {
  await run('mknod', ['-m', '000', path, 'c', '0', '0']);
}

/**
 * Mark `dir` opaque for overlayfs (xattr trusted.overlay.opaque=y), so lower layers'
 * entries under it are hidden. Returns false, without throwing, when no tool to set
 * xattrs is installed (`setfattr`, Debian package `attr`); other failures throw.
 * Idempotent.
 */
export async function setOpaque(dir: string): Promise<boolean> {
  try {
    await run('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', dir]);
    return true;
  } catch (e: unknown) {
    if (e instanceof KernelCommandError) throw e;
    if (e instanceof BerthError && /cannot run setfattr/.test(e.message)) return false;
    throw e;
  }
}

/**
 * Copy the contents of directory `src` into the existing directory `dst`, which takes
 * src's owner, mode and times, as Docker fills a volume. Owners, modes, times, links,
 * device nodes and xattrs are kept; symlinks are copied, never followed. Not
 * idempotent: files already in dst are overwritten.
 */
export async function copyTree(src: string, dst: string): Promise<void> {
  await run('cp', ['-a', '--', `${src}/.`, dst]);
}

/**
 * The folders under `root` marked opaque for overlayfs (trusted.overlay.opaque=y), as
 * absolute paths, in one `getfattr` walk that follows no symlink. Empty when the tool
 * is missing (Debian package attr): then no folder can have been marked by berth either.
 */
export async function opaqueDirs(root: string): Promise<string[]> {
  let out: string;
  try {
    out = await run('getfattr', ['-R', '-P', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', root]);
  } catch (e: unknown) {
    if (e instanceof BerthError && !(e instanceof KernelCommandError) && /cannot run getfattr/.test(e.message)) return [];
    throw e;
  }
  return parseGetfattrOpaque(out);
}

/** getfattr -d output: the files whose trusted.overlay.opaque is "y" (octal escapes decoded). */
export function parseGetfattrOpaque(out: string): string[] {
  const dirs: string[] = [];
  let file: string | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) file = unescapeGetfattr(line.slice('# file: '.length));
    else if (file !== undefined && line === 'trusted.overlay.opaque="y"') dirs.push(file);
  }
  return dirs;
}

function unescapeGetfattr(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i));
    if (m !== null) {
      bytes.push(parseInt(m[1]!, 8));
      i += 3;
    } else if (s.startsWith('\\\\', i)) {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}
