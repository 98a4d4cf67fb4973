/**
 * The layer store: each layer extracted once, keyed by its diff-id, shared by images.
 *
 * Layout under <images>/:
 *   layers/<hex>/root/       the extracted layer, used as an overlay lowerdir
 *   layers/<hex>/meta.json   {"diffId","size","created","notes","tarSize"}
 *   layers/<hex>/tar-split   how to write the layer's archive again (tar-split.ts); absent
 *                            for layers stored before it was kept
 *   tmp/<random>/            staging: a layer is extracted here, then renamed into
 *                            layers/ in one step (same filesystem). If the layer
 *                            appeared meanwhile (a concurrent import), the staged copy
 *                            is discarded. tmp/ is emptied when the store opens.
 *
 * A freshly added layer is pinned until the image that references it is written, so
 * a concurrent garbage collection cannot remove it in between.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import type { Serial } from '../../util/serial.js';
import { decompress, Tap } from './compression.js';
import { hexOf, isDigest, type Digest } from './config.js';
import { extractTar } from './extract.js';
import { errCode, exists, randomName, readIfExists, writeFileAtomic } from './fsutil.js';
import { readTar } from './tar.js';
import { reproduceArchive, TarSplitRecorder } from './tar-split.js';
import { notImplemented } from '../../errors.js';

export interface LayerMeta {
  diffId: Digest;
  /** Bytes of file data in the layer. */
  size: number;
  created: string;
  /** What extraction could not reproduce (skipped device nodes …). */
  notes: string[];
  /** Bytes of the layer's archive (uncompressed), when it can be written again. */
  tarSize?: number;
}

export interface AddLayerOptions {
  /** The diff-id the content must have (from an image config). */
  expect?: Digest;
  /** The error to throw when the content does not match `expect`. */
  onMismatch?: (got: Digest) => Error;
  /** Progress: bytes of (possibly compressed) input read so far. */
  onBytes?: (read: number) => void;
}

async function* countBytes(source: AsyncIterable<Buffer | Uint8Array | string>, onBytes?: (n: number) => void): AsyncGenerator<Buffer | Uint8Array | string> {
  let n = 0;
  for await (const chunk of source) {
    n += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    onBytes?.(n);
    yield chunk;
  }
}

export class LayerStore {
  private readonly pins = new Map<Digest, number>();

  /**
   * @param root the images directory (layers/ and tmp/ live below it)
   * @param lock the image store's lock; commits and removals run under it
   */
  constructor(
    private readonly root: string,
    private readonly lock: Serial,
  ) {}

  private get layersDir(): string {
    return path.join(this.root, 'layers');
  }

  get tmpDir(): string {
    return path.join(this.root, 'tmp');
  }

  /** Create the directories and drop leftovers of interrupted extractions. Call once, first. */
  async init(): Promise<void> {
    await fs.mkdir(this.layersDir, { recursive: true, mode: 0o700 });
    await fs.rm(this.tmpDir, { recursive: true, force: true });
    await fs.mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  /** The extracted directory of a layer (it may not exist). */
  rootPath(diffId: Digest): string {
    return path.join(this.layersDir, hexOf(diffId), 'root');
  }

  async meta(diffId: Digest): Promise<LayerMeta | undefined> {
    const raw = await readIfExists(path.join(this.layersDir, hexOf(diffId), 'meta.json'));
    if (raw === undefined) return undefined;
    const v: unknown = JSON.parse(raw.toString());
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    return {
      diffId,
      size: typeof o.size === 'number' ? o.size : 0,
      created: typeof o.created === 'string' ? o.created : '',
      notes: Array.isArray(o.notes) ? o.notes.filter((n): n is string => typeof n === 'string') : [],
      ...(typeof o.tarSize === 'number' ? { tarSize: o.tarSize } : {}),
    };
  }

  /**
   * The layer's archive as it was added, byte for byte (its digest is the diff-id), and
   * its size. NotImplemented for a layer stored before berth kept what that takes.
   */
  async archive(diffId: Digest): Promise<{ size: number; chunks: AsyncIterable<Buffer> }> {
    const meta = await this.meta(diffId);
    const split = path.join(this.layersDir, hexOf(diffId), 'tar-split');
    if (meta?.tarSize === undefined || !(await exists(split))) {
      throw notImplemented(`layer ${diffId} cannot be exported: its archive was not kept when it was stored; load or import the image again`);
    }
    return { size: meta.tarSize, chunks: reproduceArchive(split, this.rootPath(diffId)) };
  }

  async has(diffId: Digest): Promise<boolean> {
    return exists(path.join(this.layersDir, hexOf(diffId), 'meta.json'));
  }

  /** All layers on disk. */
  async list(): Promise<Digest[]> {
    const names = await fs.readdir(this.layersDir);
    return names.map((n) => `sha256:${n}`).filter(isDigest);
  }

  private pin(d: Digest): void {
    this.pins.set(d, (this.pins.get(d) ?? 0) + 1);
  }

  /** Drop pins taken by add()/pinIfPresent(). Idempotent per pin taken. */
  release(diffIds: Iterable<Digest>): void {
    for (const d of diffIds) {
      const n = (this.pins.get(d) ?? 0) - 1;
      if (n <= 0) this.pins.delete(d);
      else this.pins.set(d, n);
    }
  }

  /** Pin the layer if it is already stored (then it needs no extraction). */
  async pinIfPresent(diffId: Digest): Promise<boolean> {
    return this.lock.run(async () => {
      if (!(await this.has(diffId))) return false;
      this.pin(diffId);
      return true;
    });
  }

  /**
   * Extract a layer tar (plain or gzip) and commit it; the result is pinned (call
   * release() once the referencing image is saved). Adding a layer that exists is
   * harmless: the new copy is discarded.
   */
  async add(source: AsyncIterable<Buffer | Uint8Array | string>, opts: AddLayerOptions = {}): Promise<LayerMeta> {
    const stage = path.join(this.tmpDir, randomName());
    await fs.mkdir(path.join(stage, 'root'), { recursive: true, mode: 0o755 });
    try {
      const tap = new Tap();
      const plain = tap.wrap(decompress(countBytes(source, opts.onBytes)));
      const split = new TarSplitRecorder();
      const stats = await extractTar(readTar(plain, { split }), path.join(stage, 'root'), { whiteouts: true });
      const diffId = tap.digest() as Digest;
      if (opts.expect !== undefined && opts.expect !== diffId) {
        throw opts.onMismatch?.(diffId) ?? invalid(`layer diff-id mismatch: expected ${opts.expect}, got ${diffId}`);
      }
      const meta: LayerMeta = { diffId, size: stats.bytes, created: new Date().toISOString(), notes: stats.notes };
      if (split.reproducible && split.size === tap.bytes) {
        await writeFileAtomic(path.join(stage, 'tar-split'), split.encode());
        meta.tarSize = split.size;
      }
      await writeFileAtomic(path.join(stage, 'meta.json'), JSON.stringify(meta));
      const final = path.join(this.layersDir, hexOf(diffId));
      return await this.lock.run(async () => {
        this.pin(diffId);
        if (await exists(final)) return (await this.meta(diffId)) ?? meta;
        try {
          await fs.rename(stage, final);
        } catch (e: unknown) {
          const code = errCode(e);
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
            this.release([diffId]);
            throw e;
          }
        }
        return meta;
      });
    } finally {
      await fs.rm(stage, { recursive: true, force: true });
    }
  }

  /**
   * Move every unpinned layer not in `keep` out of layers/ and return the trash
   * paths (delete them with emptyTrash() outside the lock). Call under the lock.
   */
  async collectLocked(keep: ReadonlySet<Digest>): Promise<{ removed: Digest[]; trash: string[] }> {
    const removed: Digest[] = [];
    const trash: string[] = [];
    for (const d of await this.list()) {
      if (keep.has(d) || this.pins.has(d)) continue;
      const dest = path.join(this.tmpDir, `${randomName()}.deleted`);
      await fs.rename(path.join(this.layersDir, hexOf(d)), dest);
      removed.push(d);
      trash.push(dest);
    }
    return { removed, trash };
  }

  async emptyTrash(trash: readonly string[]): Promise<void> {
    for (const t of trash) await fs.rm(t, { recursive: true, force: true });
  }
}
