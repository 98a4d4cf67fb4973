/**
 * An image's files read straight from its extracted layers (no mount): what is at a
 * path (the highest layer that has it, overlayfs whiteouts — 0/0 character devices —
 * hiding what is below), a small file's content (/etc/passwd for `--chown`), and a
 * subtree merged layer over layer into a folder (`COPY --from`).
 */
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import { copyEntry } from './fs-copy.js';

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

export class ImageTree {
  /** @param layers the image's layer folders, lowest first (empty for scratch) */
  constructor(private readonly layers: readonly string[]) {}

  /** What is at `rel` (relative to /), not following a final symlink; undefined when absent. */
  async stat(rel: string): Promise<Stats | undefined> {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const st = await fs.lstat(path.join(this.layers[i]!, rel)).catch(() => undefined);
      if (st === undefined) continue;
      return isWhiteout(st) ? undefined : st;
    }
    return undefined;
  }

  /**
   * `abs` with the symlinks on its way followed inside the image (never out of its
   * root), as dockerd resolves a COPY destination in the container's filesystem: with
   * merged /usr, `COPY x /lib/` lands in /usr/lib and keeps the /lib link. The last
   * element is followed only with `last`.
   */
  async resolve(abs: string, last: boolean): Promise<string> {
    let todo = abs.split('/').filter((p) => p !== '' && p !== '.');
    const done: string[] = [];
    for (let hops = 0; todo.length > 0; ) {
      const name = todo.shift()!;
      if (name === '..') {
        done.pop();
        continue;
      }
      const here = [...done, name].join('/');
      const st = todo.length > 0 || last ? await this.stat(here) : undefined;
      if (st?.isSymbolicLink() !== true) {
        done.push(name);
        continue;
      }
      if (++hops > 40) throw invalid(`too many levels of symbolic links: ${abs}`);
      const target = await this.readlink(here);
      if (target.startsWith('/')) done.length = 0;
      todo = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...todo];
    }
    return `/${done.join('/')}`;
  }

  private async readlink(rel: string): Promise<string> {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const p = path.join(this.layers[i]!, rel);
      if ((await fs.lstat(p).catch(() => undefined)) !== undefined) return fs.readlink(p);
    }
    return '';
  }

  /** A regular file's content, or undefined. */
  async read(rel: string): Promise<string | undefined> {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const p = path.join(this.layers[i]!, rel);
      const st = await fs.lstat(p).catch(() => undefined);
      if (st === undefined) continue;
      return st.isFile() ? fs.readFile(p, 'utf8') : undefined;
    }
    return undefined;
  }

  /** The subtree at `rel` as the image shows it, copied into `dest` (owners kept). */
  async materialize(rel: string, dest: string): Promise<void> {
    for (const layer of this.layers) {
      const src = path.join(layer, rel);
      const st = await fs.lstat(src).catch(() => undefined);
      if (st === undefined) continue;
      if (isWhiteout(st)) {
        await fs.rm(dest, { recursive: true, force: true });
        continue;
      }
      await copyEntry(src, dest, { owner: undefined });
      if (st.isDirectory()) await this.dropWhiteouts(dest, src);
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
