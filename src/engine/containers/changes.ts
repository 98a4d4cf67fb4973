/**
 * `docker diff`: what a container changed in its image's files, as dockerd reports it
 * (go-archive's ChangesDirs between the container's root and its image's, which
 * overlay2 uses): Kind 0 modified, 1 added, 2 deleted. Only the writable layer (the
 * overlay's upper folder) holds changes, so only it is walked, each entry compared with
 * the image's file at the same path:
 *   - a whiteout (0/0 char device) is a deletion of what the image had there;
 *   - what the image lacks is added, and everything below an added folder too;
 *   - what differs in type, mode, owner, device, or (not for folders) size or mtime is
 *     modified; a folder that turned into a file hides nothing more, a file that turned
 *     into a folder has all its content added;
 *   - an opaque folder hides the image's folder: its content is compared whole with
 *     the image's (what the image had and the container lacks is deleted);
 *   - a folder with any change below it is reported modified, before its content.
 * The root itself is never reported. Names are taken in byte order.
 */

/** One change, as the API answers it. */
export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

export const MODIFIED = 0;
export const ADDED = 1;
export const DELETED = 2;

/** What is compared of a file. */
export interface DiffStat {
  /** The st_mode (type and permission bits). */
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  mtimeNs: bigint;
  /** An overlayfs whiteout (a 0/0 char device). */
  whiteout: boolean;
}

/** A tree of files read by path (components below its root). */
export interface DiffTree {
  stat(rel: readonly string[]): Promise<DiffStat | undefined>;
  list(rel: readonly string[]): Promise<string[]>;
  /** Whether the folder is opaque (upper layers only). */
  opaque?(rel: readonly string[]): boolean;
}

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

function isDir(s: DiffStat): boolean {
  return (s.mode & S_IFMT) === S_IFDIR;
}

/** go-archive's sameFsTime: equal, or the same second with one side lacking nanoseconds. */
function sameFsTime(a: bigint, b: bigint): boolean {
  const sec = 1_000_000_000n;
  return a === b || (a / sec === b / sec && (a % sec === 0n || b % sec === 0n));
}

/** go-archive's statDifferent (size and mtime do not count for folders). */
export function statDifferent(o: DiffStat, n: DiffStat): boolean {
  if (o.mode !== n.mode || o.uid !== n.uid || o.gid !== n.gid || o.rdev !== n.rdev) return true;
  return !isDir(o) && (!sameFsTime(o.mtimeNs, n.mtimeNs) || o.size !== n.size);
}

function byteOrder(names: readonly string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

class Differ {
  readonly out: Change[] = [];

  constructor(
    private readonly upper: DiffTree,
    private readonly lower: DiffTree,
  ) {}

  private emit(rel: readonly string[], kind: Change['Kind']): void {
    this.out.push({ Path: `/${rel.join('/')}`, Kind: kind });
  }

  /** A stat that is not a whiteout (a whiteout is nothing, on either side). */
  private async real(tree: DiffTree, rel: readonly string[]): Promise<DiffStat | undefined> {
    const s = await tree.stat(rel);
    return s === undefined || s.whiteout ? undefined : s;
  }

  /** A folder of the upper layer merged over the image's. */
  async merged(rel: readonly string[]): Promise<void> {
    for (const name of byteOrder(await this.upper.list(rel))) {
      const p = [...rel, name];
      const n = await this.upper.stat(p);
      if (n === undefined) continue;
      const o = await this.real(this.lower, p);
      if (n.whiteout) {
        if (o !== undefined) this.emit(p, DELETED);
        continue;
      }
      await this.node(p, n, o, true);
    }
  }

  /** A folder of the upper layer alone against the image's (below an opaque folder). */
  private async whole(rel: readonly string[]): Promise<void> {
    const names = byteOrder([...new Set([...(await this.upper.list(rel)), ...(await this.lower.list(rel))])]);
    for (const name of names) {
      const p = [...rel, name];
      const n = await this.real(this.upper, p);
      const o = await this.real(this.lower, p);
      if (n === undefined) {
        if (o !== undefined) this.emit(p, DELETED);
        continue;
      }
      await this.node(p, n, o, false);
    }
  }

  /** Everything below an added folder is added. */
  private async added(rel: readonly string[]): Promise<void> {
    for (const name of byteOrder(await this.upper.list(rel))) {
      const p = [...rel, name];
      const n = await this.real(this.upper, p);
      if (n === undefined) continue;
      this.emit(p, ADDED);
      if (isDir(n)) await this.added(p);
    }
  }

  private async node(p: readonly string[], n: DiffStat, o: DiffStat | undefined, merged: boolean): Promise<void> {
    if (o === undefined) {
      this.emit(p, ADDED);
      if (isDir(n)) await this.added(p);
      return;
    }
    const start = this.out.length;
    const reported = statDifferent(o, n);
    if (reported) this.emit(p, MODIFIED);
    if (isDir(n)) {
      if (!isDir(o)) await this.added(p);
      else if (merged && this.upper.opaque?.(p) !== true) await this.merged(p);
      else await this.whole(p);
      if (!reported && this.out.length > start) this.out.splice(start, 0, { Path: `/${p.join('/')}`, Kind: MODIFIED });
    }
  }
}

/** The changes of an upper layer over its image (lower: the image's files merged). */
export async function computeChanges(upper: DiffTree, lower: DiffTree): Promise<Change[]> {
  const d = new Differ(upper, lower);
  await d.merged([]);
  return d.out;
}
