/**
 * An image's files, seen without a container: Docker fills a fresh volume at create with
 * what the image holds at its destination (moby's populateVolume). Several layers are
 * joined by a read-only overlay mounted at <dataRoot>/image-views/<key> for one call;
 * a single layer is read in place. A crash can leave only such a mount behind, and
 * sweep() removes it at the next start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import { mountLayersReadonly, sweepMountPoints, withMountAt } from '../../kernel/mount.js';

/** What an image holds at a container path: where to read it on the host, and whether it is a folder. */
export interface ImageEntry {
  path: string;
  isDir: boolean;
}

export type ImageLookup = (containerPath: string) => ImageEntry | undefined;

export class ImageViews {
  constructor(private readonly root: string) {}

  /**
   * Runs fn with a lookup of container paths in the image whose layers (lowest first)
   * are given. Mounts nothing when no layer has the first component of any of `paths`:
   * nothing can be there. `key` (a container ID) names the mount point.
   */
  async with<T>(key: string, layers: readonly string[], paths: readonly string[], fn: (look: ImageLookup) => Promise<T>): Promise<T> {
    const tops = new Set(paths.map((p) => p.split('/').find((c) => c !== '') ?? ''));
    const anything = layers.some((l) => [...tops].some((t) => t !== '' && present(path.join(l, t))));
    if (!anything) return fn(() => undefined);
    if (layers.length === 1) return fn(lookupIn(layers[0]!));
    return withMountAt(path.join(this.root, key), async (target) => mountLayersReadonly(layers, target), async (target) => fn(lookupIn(target)));
  }

  /**
   * Runs fn with a folder holding the image's files: its only layer, or a read-only
   * overlay of its layers mounted for the call at a name made from `key` (unique per call).
   */
  async withRoot<T>(key: string, layers: readonly string[], fn: (root: string | undefined) => Promise<T>): Promise<T> {
    if (layers.length < 2) return fn(layers[0]);
    return withMountAt(path.join(this.root, key), async (target) => mountLayersReadonly(layers, target), fn);
  }

  /** Unmounts and removes the views a crash left. Idempotent. */
  async sweep(): Promise<void> {
    await sweepMountPoints(this.root);
  }
}

/** lstat, not exists: a layer's symlinks point into the image, not into the host. */
function present(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function lookupIn(root: string): ImageLookup {
  return (containerPath) => {
    const host = resolveInRoot(root, containerPath);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(host);
    } catch {
      return undefined;
    }
    // A layer's whiteout (char device 0/0) means the path was deleted.
    if (st.isCharacterDevice() && st.rdev === 0) return undefined;
    return { path: host, isDir: st.isDirectory() };
  };
}

/**
 * The host path of `p` inside `root`, every symlink resolved as the container would see
 * it: absolute targets start again at root, and '..' never climbs above it.
 */
export function resolveInRoot(root: string, p: string): string {
  const parts = (s: string): string[] => s.split('/').filter((c) => c !== '' && c !== '.');
  const pending = parts(p);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const full = path.join(root, ...done, part);
    let target: string | undefined;
    try {
      if (fs.lstatSync(full).isSymbolicLink()) target = fs.readlinkSync(full);
    } catch {
      /* missing: the rest cannot exist either */
    }
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > 255) throw invalid(`too many levels of symbolic links in ${p}`);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...parts(target));
  }
  return path.join(root, ...done);
}
