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

/** The elements of a path: no empty ones, no `.`. */
export function elements(rel: string): string[] {
  return rel.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * The elements of `rel` with every symlink on the way followed inside its root, as
 * `linkAt` tells them (a path's link target, or undefined when it is not a link); the
 * last element is followed only with `followLast`. What does not exist is kept as written.
 */
export async function followInScope(rel: string, followLast: boolean, linkAt: (elements: readonly string[]) => Promise<string | undefined>): Promise<string[]> {
  let todo = elements(rel);
  const done: string[] = [];
  for (let hops = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    const target = todo.length > 0 || followLast ? await linkAt([...done, name]) : undefined;
    if (target === undefined) {
      done.push(name);
      continue;
    }
    if (++hops > MAX_HOPS) throw invalid(`too many levels of symbolic links: ${rel}`);
    if (target.startsWith('/')) done.length = 0;
    todo = [...elements(target), ...todo];
  }
  return done;
}

/** `rel` under the folder `root`, resolved in scope (followInScope with the folder's links). */
export async function resolveScoped(root: string, rel: string, followLast: boolean): Promise<string[]> {
  return followInScope(rel, followLast, async (parts) => {
    const at = path.join(root, ...parts);
    const st = await fs.lstat(at).catch(() => undefined);
    return st?.isSymbolicLink() === true ? fs.readlink(at) : undefined;
  });
}

/** The host path of `rel` under `root`, resolved in scope (see resolveScoped). */
export async function scopedPath(root: string, rel: string, followLast = true): Promise<string> {
  return path.join(root, ...(await resolveScoped(root, rel, followLast)));
}
