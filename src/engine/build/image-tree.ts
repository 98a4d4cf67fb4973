/**
 * An image's files read straight from its extracted layers (no mount), as overlayfs
 * shows them: a path is found in the highest layer that has it, each layer walked one
 * element at a time without following links (a link in a layer never leads out of it,
 * to the daemon's files); a whiteout (0/0 character device) or a non-folder on the way
 * hides what is below. Symlinks of the merged view are followed by resolve(), inside
 * the image. Used for COPY destinations, `--chown` names and `COPY --from` sources.
 */
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { copyEntry } from './fs-copy.js';
import { elements, followInScope } from './scoped.js';

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Where a path is in one layer: found, absent (look below), or hidden (stop). */
type InLayer = { found: string; st: Stats } | 'absent' | 'hidden';

async function inLayer(layer: string, parts: readonly string[]): Promise<InLayer> {
  for (let i = 0; i < parts.length; i++) {
    const p = path.join(layer, ...parts.slice(0, i + 1));
    const st = await fs.lstat(p).catch(() => undefined);
    if (st === undefined) return 'absent';
    if (isWhiteout(st)) return 'hidden';
    if (i === parts.length - 1) return { found: p, st };
    if (!st.isDirectory()) return 'hidden';
  }
  return 'absent';
}

export class ImageTree {
  /** @param layers the image's layer folders, lowest first (empty for scratch) */
  constructor(private readonly layers: readonly string[]) {}

  /** The host path and stat of what the image has at `rel` (no link followed), or undefined. */
  private async locate(rel: string): Promise<{ found: string; st: Stats } | undefined> {
    const parts = elements(rel);
    if (parts.length === 0) return undefined;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const r = await inLayer(this.layers[i]!, parts);
      if (r === 'hidden') return undefined;
      if (r !== 'absent') return r;
    }
    return undefined;
  }

  /** What is at `rel` (relative to /), not following a final symlink; undefined when absent. */
  async stat(rel: string): Promise<Stats | undefined> {
    return (await this.locate(rel))?.st;
  }

  /**
   * `abs` with the symlinks on its way followed inside the image (never out of its
   * root), as dockerd resolves a COPY destination in the container's filesystem: with
   * merged /usr, `COPY x /lib/` lands in /usr/lib and keeps the /lib link. The last
   * element is followed only with `last`.
   */
  async resolve(abs: string, last: boolean): Promise<string> {
    const done = await followInScope(abs, last, async (parts) => {
      const at = await this.locate(parts.join('/'));
      return at?.st.isSymbolicLink() === true ? fs.readlink(at.found) : undefined;
    });
    return `/${done.join('/')}`;
  }

  /** A regular file's content (symlinks followed inside the image), or undefined. */
  async read(rel: string): Promise<string | undefined> {
    const at = await this.locate(await this.resolve(rel, true));
    return at?.st.isFile() === true ? fs.readFile(at.found, 'utf8') : undefined;
  }

  /** The subtree at `rel` (already resolved) as the image shows it, copied into `dest` (owners kept). */
  async materialize(rel: string, dest: string): Promise<void> {
    const parts = elements(rel);
    for (const layer of this.layers) {
      const r = parts.length === 0 ? { found: layer, st: await fs.lstat(layer) } : await inLayer(layer, parts);
      if (r === 'absent') continue;
      if (r === 'hidden') {
        await fs.rm(dest, { recursive: true, force: true });
        continue;
      }
      await copyEntry(r.found, dest, { owner: undefined });
      if (r.st.isDirectory()) await this.dropWhiteouts(dest, r.found);
    }
  }

  /** Remove from `dest` what whiteouts in the layer folder `src` delete. */
  private async dropWhiteouts(dest: string, src: string): Promise<void> {
    for (const name of await fs.readdir(src)) {
      const st = await fs.lstat(path.join(src, name));
      if (isWhiteout(st)) await fs.rm(path.join(dest, name), { recursive: true, force: true });
      else if (st.isDirectory()) await this.dropWhiteouts(path.join(dest, name), path.join(src, name));
    }
  }
}
