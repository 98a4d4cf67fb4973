/**
 * Which registry blobs hold each layer (dockerd's V2MetadataService): a pull records
 * the compressed blob it took a layer from and the repository; a push records what it
 * uploaded. A later push then finds the blob already there, or mounts it from a
 * repository of the same registry, without compressing the layer again.
 *
 * Layout: <images>/distribution/v2metadata/<diff-id hex>  JSON [{digest, repository}],
 * the repository as its full name (`127.0.0.1:5000/team/app`); atomic writes.
 */
import * as path from 'node:path';
import { hexOf, type Digest } from '../config.js';
import { readIfExists, writeFileAtomic } from '../fsutil.js';
import * as fs from 'node:fs/promises';

export interface BlobSource {
  /** The compressed blob's digest. */
  digest: string;
  /** Full repository name: host/path. */
  repository: string;
}

const MAX_PER_LAYER = 50;

export class LayerSources {
  private readonly dir: string;

  constructor(imagesRoot: string) {
    this.dir = path.join(imagesRoot, 'distribution', 'v2metadata');
  }

  /** What is known for a layer, newest first. */
  async get(diffId: Digest): Promise<BlobSource[]> {
    const raw = await readIfExists(path.join(this.dir, hexOf(diffId)));
    if (raw === undefined) return [];
    try {
      const v: unknown = JSON.parse(raw.toString());
      return Array.isArray(v) ? v.filter((x): x is BlobSource => typeof x === 'object' && x !== null && typeof (x as BlobSource).digest === 'string' && typeof (x as BlobSource).repository === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Remember that `source` holds `diffId` (moved to the front when known). */
  async add(diffId: Digest, source: BlobSource): Promise<void> {
    const known = (await this.get(diffId)).filter((s) => s.digest !== source.digest || s.repository !== source.repository);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path.join(this.dir, hexOf(diffId)), JSON.stringify([source, ...known].slice(0, MAX_PER_LAYER)));
  }

  /** Forget a source that proved wrong (the blob is gone). */
  async remove(diffId: Digest, source: BlobSource): Promise<void> {
    const known = await this.get(diffId);
    const kept = known.filter((s) => s.digest !== source.digest || s.repository !== source.repository);
    if (kept.length !== known.length) await writeFileAtomic(path.join(this.dir, hexOf(diffId)), JSON.stringify(kept));
  }
}
