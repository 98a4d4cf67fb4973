/**
 * `docker diff` on disk: the container's writable layer (its upper folder, opaque
 * folders read in one walk) against its image's files (changes.ts compares them).
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { opaqueDirs } from '../../kernel/fs.js';
import type { ImageViews } from '../volumes/image-view.js';
import { computeChanges, type Change, type DiffStat, type DiffTree } from './changes.js';
import type { ContainerRecord } from './model.js';

/** A folder on disk as a DiffTree; `opaque` holds the folders marked opaque (absolute paths). */
export function folderTree(root: string | undefined, opaque: ReadonlySet<string> = new Set()): DiffTree {
  const at = (rel: readonly string[]): string => path.join(root ?? '/nonexistent', ...rel);
  return {
    stat: async (rel) => {
      if (root === undefined) return undefined;
      try {
        const st = await fs.lstat(at(rel), { bigint: true });
        const s: DiffStat = {
          mode: Number(st.mode),
          uid: Number(st.uid),
          gid: Number(st.gid),
          rdev: Number(st.rdev),
          size: Number(st.size),
          mtimeNs: st.mtimeNs,
          whiteout: st.isCharacterDevice() && st.rdev === 0n,
        };
        return s;
      } catch {
        return undefined;
      }
    },
    list: async (rel) => {
      if (root === undefined) return [];
      try {
        return await fs.readdir(at(rel));
      } catch {
        return [];
      }
    },
    opaque: (rel) => opaque.has(at(rel)),
  };
}

export interface DiffDeps {
  /** The container's folder (upper/ is its writable layer). */
  dir(id: string): string;
  layerDirs(imageId: string): string[];
  views: ImageViews;
}

/** The container's changes; null when there are none (dockerd's nil list). */
export async function containerChanges(deps: DiffDeps, c: ContainerRecord): Promise<Change[] | null> {
  const upper = path.join(deps.dir(c.id), 'upper');
  const opaque = new Set(await opaqueDirs(upper).catch(() => []));
  const key = `diff-${c.id.slice(0, 12)}-${randomBytes(4).toString('hex')}`;
  const changes = await deps.views.withRoot(key, deps.layerDirs(c.spec.image.id), async (root) => computeChanges(folderTree(upper, opaque), folderTree(root)));
  return changes.length === 0 ? null : changes;
}
