/**
 * Safe extraction of tar entries into a directory.
 *
 * No entry may land outside `dest`: `..` components are refused, absolute paths are
 * made relative, and nothing is ever written through a symlink (a parent that is a
 * symlink is refused; files are created with O_EXCL|O_NOFOLLOW after removing what
 * was there). Symlinks themselves are written verbatim: they are resolved later,
 * inside the container's root. Hardlink targets must be inside `dest` too.
 *
 * With `whiteouts`, AUFS-style whiteouts of image layers become overlayfs ones:
 * `.wh.NAME` -> a 0/0 char device NAME, `.wh..wh..opq` -> xattr opaque on the dir.
 */
import * as fs from 'node:fs/promises';
import { constants } from 'node:fs';
import * as path from 'node:path';
import { invalid, messageOf, systemError } from '../../errors.js';
import { makeWhiteout, setOpaque } from '../../kernel/fs.js';
import type { TarEntry, TarHeader } from './tar.js';
import { errCode } from './fsutil.js';

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

export interface ExtractOptions {
  /** Convert layer whiteouts to overlayfs whiteouts (true for image layers). */
  whiteouts: boolean;
  /** Where an entry's relative path is on the host (default: under dest); a container's mounts. */
  place?: (rel: string) => string;
  /** A path that is a mount point: it can be written through, never replaced. */
  busy?: (rel: string) => boolean;
  /** Every entry owned by this user and group instead of the archive's (docker cp -a). */
  owner?: { uid: number; gid: number };
  /** Refuse to replace a folder by a non-folder and the reverse (Docker's noOverwriteDirNonDir); `dest` names the destination in the message. */
  noOverwriteDirNonDir?: { dest: string };
  /** Leave the destination folder's own owner, mode and times alone (an archive's "." entry). */
  keepRootMetadata?: boolean;
}

export interface ExtractStats {
  /** Bytes of regular file data written. */
  bytes: number;
  entries: number;
  /** Things not reproduced faithfully (skipped devices, opaque dirs without xattr tools). */
  notes: string[];
}

/**
 * The entry path made relative and checked: "" for the root itself; throws for any
 * path with a `..` component or a NUL byte.
 */
export function safeRelative(p: string): string {
  if (p.includes('\0')) throw invalid(`invalid archive path ${JSON.stringify(p)}`);
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw invalid(`invalid archive path ${JSON.stringify(p)}: it escapes the destination`);
    parts.push(part);
  }
  return parts.join('/');
}

async function lstatOrUndefined(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (e: unknown) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

interface DirFinish {
  abs: string;
  h: TarHeader;
}

class Extractor {
  private readonly knownDirs = new Set<string>();
  private readonly dirs: DirFinish[] = [];
  readonly stats: ExtractStats = { bytes: 0, entries: 0, notes: [] };

  constructor(
    private readonly dest: string,
    private readonly opts: ExtractOptions,
  ) {}

  private abs(rel: string): string {
    if (rel === '') return this.dest;
    return this.opts.place?.(rel) ?? path.join(this.dest, rel);
  }

  /** Make sure every parent of `rel` is a real directory (created 0755 if missing). */
  private async ensureParents(rel: string): Promise<void> {
    const parts = rel.split('/');
    parts.pop();
    let cur = '';
    for (const part of parts) {
      cur = cur === '' ? part : `${cur}/${part}`;
      if (this.knownDirs.has(cur)) continue;
      const abs = this.abs(cur);
      const st = await lstatOrUndefined(abs);
      if (st === undefined) {
        await fs.mkdir(abs, { mode: 0o755 });
      } else if (st.isSymbolicLink()) {
        throw invalid(`invalid archive path ${JSON.stringify(rel)}: parent ${JSON.stringify(cur)} is a symlink`);
      } else if (!st.isDirectory()) {
        throw invalid(`invalid archive path ${JSON.stringify(rel)}: parent ${JSON.stringify(cur)} is not a directory`);
      }
      this.knownDirs.add(cur);
    }
  }

  /** Remove whatever is at `abs` unless it is a directory and `keepDir`. */
  private async clear(abs: string, rel: string, keepDir: boolean): Promise<boolean> {
    const st = await lstatOrUndefined(abs);
    if (st === undefined) return false;
    const guard = this.opts.noOverwriteDirNonDir;
    if (guard !== undefined && st.isDirectory() !== keepDir) {
      throw systemError(
        st.isDirectory()
          ? `cannot overwrite directory ${JSON.stringify(rel)} with non-directory ${JSON.stringify(guard.dest)}`
          : `cannot overwrite non-directory ${JSON.stringify(rel)} with directory ${JSON.stringify(guard.dest)}`,
      );
    }
    if (keepDir && st.isDirectory()) return true;
    if (this.opts.busy?.(rel) === true) throw systemError(`unlinkat ${rel}: device or resource busy`);
    await fs.rm(abs, { recursive: true, force: true });
    if (st.isDirectory()) {
      for (const d of this.knownDirs) if (d === rel || d.startsWith(`${rel}/`)) this.knownDirs.delete(d);
    }
    return false;
  }

  private async setOwnerModeTime(abs: string, h: TarHeader, symlink: boolean): Promise<void> {
    try {
      await fs.lchown(abs, this.opts.owner?.uid ?? h.uid, this.opts.owner?.gid ?? h.gid);
    } catch (e: unknown) {
      const code = errCode(e);
      if (code !== 'EPERM' && code !== 'EINVAL') throw e;
    }
    if (!symlink) await fs.chmod(abs, h.mode);
    await fs.lutimes(abs, h.mtime, h.mtime);
  }

  async entry(e: TarEntry): Promise<void> {
    const h = e.header;
    const rel = safeRelative(h.path);
    this.stats.entries++;
    if (rel === '') {
      if (h.type === 'directory' && this.opts.keepRootMetadata !== true) this.dirs.push({ abs: this.dest, h });
      return;
    }
    await this.ensureParents(rel);
    const abs = this.abs(rel);
    const base = path.posix.basename(rel);
    if (this.opts.whiteouts && base.startsWith(WH_PREFIX)) return this.whiteout(rel, base);
    switch (h.type) {
      case 'directory': {
        const exists = await this.clear(abs, rel, true);
        if (!exists) await fs.mkdir(abs, { mode: 0o755 });
        this.knownDirs.add(rel);
        this.dirs.push({ abs, h });
        return;
      }
      case 'file':
        await this.clear(abs, rel, false);
        await this.writeFile(abs, e.body, h.mode);
        return this.setOwnerModeTime(abs, h, false);
      case 'symlink':
        await this.clear(abs, rel, false);
        await fs.symlink(h.linkpath, abs);
        return this.setOwnerModeTime(abs, h, true);
      case 'hardlink':
        return this.hardlink(rel, abs, h);
      case 'char':
        if (this.opts.whiteouts && h.devmajor === 0 && h.devminor === 0) {
          await this.clear(abs, rel, false);
          await makeWhiteout(abs);
          return;
        }
        this.stats.notes.push(`skipped device node ${rel}`);
        return;
      case 'block':
        this.stats.notes.push(`skipped device node ${rel}`);
        return;
      case 'fifo':
        this.stats.notes.push(`skipped fifo ${rel}`);
        return;
      case 'unsupported':
        this.stats.notes.push(`skipped ${rel} (tar type ${JSON.stringify(h.typeflag)})`);
        return;
    }
  }

  private async writeFile(abs: string, body: AsyncIterable<Buffer>, mode: number): Promise<void> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fh = await fs.open(abs, flags, mode & 0o777);
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
          off += bytesWritten;
        }
        this.stats.bytes += chunk.length;
      }
    } finally {
      await fh.close();
    }
  }

  private async hardlink(rel: string, abs: string, h: TarHeader): Promise<void> {
    const targetRel = safeRelative(h.linkpath);
    if (targetRel === '') throw invalid(`invalid hardlink ${JSON.stringify(rel)} -> ${JSON.stringify(h.linkpath)}`);
    // The target's parents must be real directories inside dest: no symlink hops.
    let cur = '';
    for (const part of targetRel.split('/').slice(0, -1)) {
      cur = cur === '' ? part : `${cur}/${part}`;
      const st = await lstatOrUndefined(this.abs(cur));
      if (st === undefined || !st.isDirectory()) {
        throw invalid(`invalid hardlink ${JSON.stringify(rel)} -> ${JSON.stringify(h.linkpath)}`);
      }
    }
    const target = this.abs(targetRel);
    const st = await lstatOrUndefined(target);
    if (st === undefined || st.isDirectory()) {
      throw invalid(`invalid hardlink ${JSON.stringify(rel)} -> ${JSON.stringify(h.linkpath)}`);
    }
    if (target === abs) return;
    await this.clear(abs, rel, false);
    await fs.link(target, abs);
  }

  private async whiteout(rel: string, base: string): Promise<void> {
    const parentRel = path.posix.dirname(rel);
    const parentAbs = parentRel === '.' ? this.dest : this.abs(parentRel);
    if (base === WH_OPAQUE) {
      let ok = false;
      try {
        ok = await setOpaque(parentAbs);
      } catch (e: unknown) {
        this.stats.notes.push(`cannot mark ${parentRel} opaque: ${messageOf(e)}`);
        return;
      }
      if (!ok) this.stats.notes.push(`opaque directory ${parentRel} not marked (setfattr missing: install Debian package attr)`);
      return;
    }
    if (base.startsWith(`${WH_PREFIX}${WH_PREFIX}`)) return; // AUFS metadata (.wh..wh.plnk etc.)
    const name = base.slice(WH_PREFIX.length);
    if (name === '' || name === '.' || name === '..') throw invalid(`invalid whiteout ${JSON.stringify(rel)}`);
    const targetRel = parentRel === '.' ? name : `${parentRel}/${name}`;
    const target = this.abs(targetRel);
    await this.clear(target, targetRel, false);
    await makeWhiteout(target);
  }

  /** Directory modes and times last: writing children would change them. */
  async finish(): Promise<void> {
    for (const d of this.dirs.reverse()) await this.setOwnerModeTime(d.abs, d.h, false);
  }
}

/** Extract every entry of `entries` into the existing directory `dest`. */
export async function extractTar(entries: AsyncIterable<TarEntry>, dest: string, opts: ExtractOptions): Promise<ExtractStats> {
  const x = new Extractor(dest, opts);
  for await (const e of entries) await x.entry(e);
  await x.finish();
  return x.stats;
}
