/**
 * Paths under a root folder resolved as if the root were `/` (moby's
 * FollowSymlinkInScope): symlinks on the way are followed, an absolute target starts
 * again at the root, `..` never climbs above it. A build reads the context and image
 * files only through this, so a link in a context or an image (`x -> /`) can never
 * reach the daemon's own files.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../errors.js';

const MAX_HOPS = 40;

/**
 * The elements of `rel` (relative to `root`) with every symlink followed inside the
 * root; the last element is followed only with `followLast`. What does not exist is
 * kept as written.
 */
export async function resolveScoped(root: string, rel: string, followLast: boolean): Promise<string[]> {
  let todo = rel.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  for (let hops = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    const st = todo.length > 0 || followLast ? await fs.lstat(path.join(root, ...done, name)).catch(() => undefined) : undefined;
    if (st?.isSymbolicLink() !== true) {
      done.push(name);
      continue;
    }
    if (++hops > MAX_HOPS) throw invalid(`too many levels of symbolic links: ${rel}`);
    const target = await fs.readlink(path.join(root, ...done, name));
    if (target.startsWith('/')) done.length = 0;
    todo = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...todo];
  }
  return done;
}

/** The host path of `rel` under `root`, resolved in scope (see resolveScoped). */
export async function scopedPath(root: string, rel: string, followLast = true): Promise<string> {
  return path.join(root, ...(await resolveScoped(root, rel, followLast)));
}
