/**
 * A container's files as its processes see them, read from the host: its root folder
 * (the overlay) with its volumes, binds and /etc files laid over it at their
 * destinations, as Docker's archive calls see them (moby's openContainerFS). Paths are
 * resolved component by component in the container's own space: `..` stops at its
 * root, an absolute symlink starts again at its root, a mount point leads into the
 * mount. A host path is only ever made from a resolved container path, so nothing
 * outside the root and the mounts' sources can be reached, whatever the links say.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import type { TreeSource } from '../images/tar-tree.js';

/** A mount laid over the root, as the archive calls see it. */
export interface ViewMount {
  /** Where it is in the container (absolute, clean). */
  destination: string;
  /** The host folder or file. */
  source: string;
  readonly: boolean;
  /** A volume or bind the user asked for (not one of the /etc files): its read-only flag counts. */
  userMount: boolean;
}

/** A path resolved in the container: its components and where that is on the host. */
export interface ResolvedPath {
  parts: string[];
  host: string;
}

/** Docker's (and Linux's) limit on symlinks followed while resolving one path. */
const MAX_LINKS = 255;

export function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/** "/" + parts. */
export function containerPath(parts: readonly string[]): string {
  return `/${parts.join('/')}`;
}

export class ContainerFs {
  private readonly mounts: { parts: string[]; m: ViewMount }[];

  constructor(
    /** The host folder of the container's root. */
    readonly root: string,
    mounts: readonly ViewMount[],
  ) {
    // Longest destination first: the innermost mount wins.
    this.mounts = mounts.map((m) => ({ parts: splitPath(m.destination), m })).sort((a, b) => b.parts.length - a.parts.length);
  }

  /** The mount `parts` lies in (or is the point of), if any. */
  mountOf(parts: readonly string[]): ViewMount | undefined {
    return this.mounts.find((x) => x.parts.length <= parts.length && x.parts.every((c, i) => parts[i] === c))?.m;
  }

  /** The mount whose point `parts` is. */
  mountAt(parts: readonly string[]): ViewMount | undefined {
    return this.mounts.find((x) => x.parts.length === parts.length && x.parts.every((c, i) => parts[i] === c))?.m;
  }

  /** The host path of resolved container components. */
  hostOf(parts: readonly string[]): string {
    const hit = this.mounts.find((x) => x.parts.length <= parts.length && x.parts.every((c, i) => parts[i] === c));
    if (hit === undefined) return path.join(this.root, ...parts);
    return path.join(hit.m.source, ...parts.slice(hit.parts.length));
  }

  /** Names of mount points directly inside the folder `parts` (they may not exist on disk yet). */
  mountPointsIn(parts: readonly string[]): string[] {
    return this.mounts.filter((x) => x.parts.length === parts.length + 1 && parts.every((c, i) => x.parts[i] === c)).map((x) => x.parts[parts.length]!);
  }

  /**
   * Resolve `p` (taken from the container's root, whatever its form) following every
   * symlink inside the container; the last component too when `followLast`. A missing
   * component ends the following: the rest is kept as written (`..` still applied).
   */
  resolve(p: string, followLast: boolean): ResolvedPath {
    const pending = p.split('/').filter((c) => c !== '' && c !== '.');
    const done: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        done.pop();
        continue;
      }
      const next = [...done, part];
      const last = pending.length === 0;
      const target = this.mountAt(next) === undefined && (!last || followLast) ? this.readLink(next) : undefined;
      if (target === undefined) {
        done.push(part);
        continue;
      }
      if (++links > MAX_LINKS) throw invalid(`too many links in ${p}`);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
    }
    return { parts: done, host: this.hostOf(done) };
  }

  private readLink(parts: readonly string[]): string | undefined {
    const host = this.hostOf(parts);
    try {
      return fs.lstatSync(host).isSymbolicLink() ? fs.readlinkSync(host) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The tree under resolved `parts`, mounts included, for an archive. */
  source(parts: readonly string[]): TreeSource {
    return {
      host: (rel) => this.hostOf([...parts, ...rel]),
      extra: (rel) => this.mountPointsIn([...parts, ...rel]),
    };
  }
}
