/**
 * Copying files for COPY and ADD into a step's staging folder: folders, files and
 * symlinks with their mode and times, owned by the `--chown` ids (or kept as they are),
 * folders' own metadata set after their content (writing inside changes their times).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** Who owns what a copy writes; undefined keeps the source's owner. */
export type Owner = { uid: number; gid: number } | undefined;

export interface CopyOptions {
  /** The owner everything copied gets; undefined keeps the source's. */
  owner: Owner;
  /** A path below the source root (relative, `/`-separated) left out (.dockerignore). */
  skip?: (rel: string) => boolean;
  /** The source root's path the skip test sees (relative to the context). */
  rel?: string;
}

async function setMeta(p: string, st: { mode: number; uid: number; gid: number; atime: Date; mtime: Date }, owner: Owner, link: boolean): Promise<void> {
  const uid = owner?.uid ?? st.uid;
  const gid = owner?.gid ?? st.gid;
  if (link) {
    await fs.lchown(p, uid, gid);
    return;
  }
  await fs.chown(p, uid, gid);
  await fs.chmod(p, st.mode & 0o7777);
  await fs.utimes(p, st.atime, st.mtime);
}

/** Remove what is at `p` unless both are folders (a folder merges, anything else is replaced). */
async function makeRoom(p: string, isDir: boolean): Promise<void> {
  const cur = await fs.lstat(p).catch(() => undefined);
  if (cur === undefined) return;
  if (isDir && cur.isDirectory()) return;
  await fs.rm(p, { recursive: true, force: true });
}

/** Copy `src` (file, folder or symlink) to `dst`, folders merged into what is there. */
export async function copyEntry(src: string, dst: string, opts: CopyOptions): Promise<void> {
  const st = await fs.lstat(src);
  if (st.isDirectory()) {
    await makeRoom(dst, true);
    await fs.mkdir(dst, { recursive: true });
    for (const name of (await fs.readdir(src)).sort()) {
      const rel = opts.rel === undefined ? undefined : path.posix.join(opts.rel, name);
      if (rel !== undefined && opts.skip?.(rel) === true) continue;
      await copyEntry(path.join(src, name), path.join(dst, name), { ...opts, ...(rel === undefined ? {} : { rel }) });
    }
    await setMeta(dst, st, opts.owner, false);
    return;
  }
  await makeRoom(dst, false);
  await fs.mkdir(path.dirname(dst), { recursive: true });
  if (st.isSymbolicLink()) {
    await fs.symlink(await fs.readlink(src), dst);
    await setMeta(dst, st, opts.owner, true);
    return;
  }
  if (!st.isFile()) return; // devices, fifos and sockets are not copied from a context
  await fs.copyFile(src, dst);
  await setMeta(dst, st, opts.owner, false);
}
