/**
 * A tar stream of files on disk, as Docker's archive package writes one (go-archive's
 * tarAppender): names relative to the walked root, directories with a trailing slash,
 * entries in lexical order per directory, owners and permission bits as they are (no
 * user names), whole seconds, a second name of a hard-linked file as a hard link,
 * devices and fifos as such, sockets left out. Symlinks are archived, never followed.
 *
 * What the tree is comes from a TreeSource: a plain folder, a container's root with
 * its mounts (archive.ts), a container's writable layer with overlayfs whiteouts
 * turned into the archive's `.wh.` files (commit).
 */
import * as fs from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import * as path from 'node:path';
import { bodyPadding, encodeHeader, END_OF_ARCHIVE, type TarWriteEntry } from './tar-write.js';
import { errCode } from './fsutil.js';

export interface TreeSource {
  /** The host path of a path of the tree (components below its root). */
  host(rel: readonly string[]): string;
  /** Names a folder holds that reading it does not show (mount points not made yet). */
  extra?(rel: readonly string[]): readonly string[];
  /** Folders marked opaque in an overlayfs upper folder (their rel paths joined by '/'). */
  opaque?: ReadonlySet<string>;
  /** Turn overlayfs whiteouts (0/0 char devices) into `.wh.NAME` files. */
  whiteouts?: boolean;
}

export interface PackOptions {
  /** The archive name of the tree's root ('' names the children alone: `bin/`, `etc/passwd`). */
  rootName: string;
  /** Archive the root itself too (for a folder: an entry named rootName). */
  includeRoot: boolean;
}

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';
const CHUNK = 1 << 16;

/** Names in byte order, as Go's WalkDir reads a folder. */
export function byteOrder(names: readonly string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The archive name of `rel` under `rootName` (the root itself is rootName). */
export function archiveName(rootName: string, rel: readonly string[]): string {
  if (rel.length === 0) return rootName;
  const tail = rel.join('/');
  if (rootName === '' || rootName === '/') return rootName === '/' ? `/${tail}` : tail;
  return `${rootName}/${tail}`;
}

async function lstatOrUndefined(p: string): Promise<BigIntStats | undefined> {
  try {
    return await fs.lstat(p, { bigint: true });
  } catch (e: unknown) {
    if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** The tar header of one file, from its stat (undefined for what an archive does not hold). */
export async function headerOf(name: string, host: string, st: BigIntStats): Promise<TarWriteEntry | undefined> {
  const base = {
    path: name,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: Number(st.mtimeMs / 1000n),
  };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isFile()) return { ...base, type: 'file', size: Number(st.size) };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkpath: await fs.readlink(host) };
  const dev = { devmajor: Number(st.rdev >> 8n) & 0xfff, devminor: Number((st.rdev & 0xffn) | ((st.rdev >> 12n) & 0xfff00n)) };
  if (st.isCharacterDevice()) return { ...base, type: 'char', ...dev };
  if (st.isBlockDevice()) return { ...base, type: 'block', ...dev };
  if (st.isFIFO()) return { ...base, type: 'fifo' };
  return undefined; // a socket
}

/** Exactly `size` bytes of a file: cut when it grew, zero-filled when it shrank meanwhile. */
async function* fileChunks(file: string, size: number): AsyncGenerator<Buffer> {
  let left = size;
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    fh = undefined;
  }
  try {
    while (left > 0) {
      const buf = Buffer.alloc(Math.min(CHUNK, left));
      const n = fh === undefined ? 0 : (await fh.read(buf, 0, buf.length, size - left)).bytesRead;
      if (n === 0) {
        yield buf;
        left -= buf.length;
        continue;
      }
      left -= n;
      yield buf.subarray(0, n);
    }
  } finally {
    await fh?.close();
  }
}

class Packer {
  /** First archive name of each hard-linked file, by device and inode. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly src: TreeSource,
    private readonly opts: PackOptions,
  ) {}

  async *entry(rel: string[], st: BigIntStats): AsyncGenerator<Buffer> {
    const host = this.src.host(rel);
    const name = archiveName(this.opts.rootName, rel);
    const h = await headerOf(name, host, st);
    if (h === undefined) return;
    if (this.src.whiteouts === true && h.type === 'char' && h.devmajor === 0 && h.devminor === 0) {
      const dir = path.posix.dirname(name);
      yield encodeHeader({ ...h, type: 'file', size: 0, mode: 0o600, path: `${dir === '.' ? '' : `${dir}/`}${WH_PREFIX}${path.posix.basename(name)}` });
      return;
    }
    if (h.type === 'file' && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.seen.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...h, type: 'hardlink', linkpath: first, size: 0 });
        return;
      }
      this.seen.set(key, name);
    }
    yield encodeHeader(h);
    if (h.type === 'file' && (h.size ?? 0) > 0) {
      yield* fileChunks(host, h.size ?? 0);
      yield bodyPadding(h.size ?? 0);
    }
    if (h.type === 'directory' && this.src.opaque?.has(rel.join('/')) === true) {
      yield encodeHeader({ path: `${name.replace(/\/$/, '')}/${WH_OPAQUE}`, type: 'file', mode: h.mode ?? 0o755, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: 0 });
    }
  }

  async *walk(rel: string[]): AsyncGenerator<Buffer> {
    let names: string[];
    try {
      names = await fs.readdir(this.src.host(rel));
    } catch {
      names = []; // gone meanwhile: a live container changes its files as we go
    }
    const extra = this.src.extra?.(rel) ?? [];
    for (const name of byteOrder([...new Set([...names, ...extra])])) {
      const child = [...rel, name];
      const st = await lstatOrUndefined(this.src.host(child));
      if (st === undefined) continue;
      yield* this.entry(child, st);
      if (st.isDirectory()) yield* this.walk(child);
    }
  }
}

/**
 * The tar stream of the tree `src` describes. The root is read with lstat: a root that
 * is no folder gives one entry. Ends with the end-of-archive blocks.
 */
export async function* packTree(src: TreeSource, opts: PackOptions): AsyncGenerator<Buffer> {
  const p = new Packer(src, opts);
  const st = await lstatOrUndefined(src.host([]));
  if (st !== undefined) {
    if (opts.includeRoot || !st.isDirectory()) yield* p.entry([], st);
    if (st.isDirectory()) yield* p.walk([]);
  }
  yield END_OF_ARCHIVE;
}

/** A plain folder as a TreeSource. */
export function folderSource(root: string, more: Omit<TreeSource, 'host'> = {}): TreeSource {
  return { ...more, host: (rel) => path.join(root, ...rel) };
}
