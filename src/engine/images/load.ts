/**
 * Images coming in. `docker load`: a docker-save archive (any version) or an OCI image layout, plain or
 * gzip, unpacked in the layer store's staging area. Layers are checked against the
 * config's diff-ids and pinned until their image is committed. `docker import`: a rootfs
 * tarball as one layer.
 */
import * as fs from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import { readArchive, type ArchiveImage } from './archive.js';
import { decompress } from './compression.js';
import { applyChanges } from './changes.js';
import { encodeImageConfig, goArch, parseImageConfig, shortId, type Digest, type ImageConfigFile } from './config.js';
import { extractTar } from './extract.js';
import { randomName } from './fsutil.js';
import type { AddLayerOptions, LayerStore } from './layers.js';
import { parseReference, tagTarget, withDefaultTag, type ImageRef } from './reference.js';
import { readTar } from './tar.js';
import type { ImportOptions, LoadEvent, LoadResult } from './types.js';

/** What loading and importing need of the image store. */
export interface IntakeTarget {
  layers: LayerStore;
  /** Store a config and point refs at it (under the store's lock); the tags it took from other images. */
  commit(raw: Buffer, refs: readonly ImageRef[]): Promise<{ id: Digest; renamed: { ref: string; old: Digest }[] }>;
  /** An image was made (its event). */
  made(id: Digest): void;
}

export async function loadArchive(target: IntakeTarget, source: AsyncIterable<Buffer | Uint8Array | string>, onEvent?: (e: LoadEvent) => void): Promise<LoadResult> {
  const dir = path.join(target.layers.tmpDir, `load-${randomName()}`);
  await fs.mkdir(dir, { mode: 0o700 });
  const result: LoadResult = { images: [], messages: [] };
  const say = (text: string): void => {
    result.messages.push(text);
    onEvent?.({ type: 'message', text });
  };
  try {
    await extractTar(readTar(decompress(source)), dir, { whiteouts: false });
    const images = await readArchive(dir);
    if (images.length === 0) throw invalid('invalid archive: it holds no image');
    for (const img of images) {
      const { id, renamed } = await loadImage(target, img, onEvent);
      target.made(id);
      for (const r of renamed) say(`The image ${r.ref} already exists, renaming the old one with ID ${r.old} to empty string`);
      if (img.repoTags.length === 0) say(`Loaded image ID: ${id}`);
      for (const t of img.repoTags) say(`Loaded image: ${t}`);
      result.images.push({ id, tags: img.repoTags });
    }
    return result;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** One image of an unpacked archive: layers (verified, pinned), then config and tags. */
async function loadImage(target: IntakeTarget, img: ArchiveImage, onEvent?: (e: LoadEvent) => void): Promise<{ id: Digest; renamed: { ref: string; old: Digest }[] }> {
  const { layers } = target;
  const raw = img.kind === 'config' ? await fs.readFile(img.configFile) : undefined;
  const expected = raw === undefined ? undefined : parseImageConfig(raw).rootfs.diff_ids;
  if (expected !== undefined && expected.length !== img.layers.length) {
    throw invalid(`invalid manifest, layers length mismatch: expected ${expected.length}, got ${img.layers.length}`);
  }
  const pinned: Digest[] = [];
  try {
    for (const [i, layer] of img.layers.entries()) {
      const diffId = expected?.[i];
      if (diffId !== undefined && (await layers.pinIfPresent(diffId))) {
        pinned.push(diffId);
        continue;
      }
      const total = (await fs.stat(layer.file)).size;
      const label = diffId === undefined ? `layer ${i}` : shortId(diffId);
      const opts: AddLayerOptions = {
        onBytes: (current) => onEvent?.({ type: 'progress', action: 'Loading layer', id: label, current, total }),
      };
      if (diffId !== undefined) {
        opts.expect = diffId;
        opts.onMismatch = (got) => invalid(`invalid diffID for layer ${i}: expected "${diffId}", got "${got}"`);
      }
      pinned.push((await layers.add(createReadStream(layer.file), opts)).diffId);
    }
    // pinned holds one diff-id per layer, in order: what a legacy config is built from.
    const config = raw ?? (img.kind === 'legacy' ? img.makeConfig(pinned) : Buffer.alloc(0));
    const refs = img.repoTags.map((t) => withDefaultTag(parseReference(t)));
    return await target.commit(config, refs);
  } finally {
    layers.release(pinned);
  }
}

/**
 * `docker import`: a rootfs tarball (plain or gzip) becomes a one-layer image.
 * Names and changes are checked before the stream is read. Returns the image ID.
 */
export async function importImage(target: IntakeTarget, source: AsyncIterable<Buffer | Uint8Array | string>, opts: ImportOptions = {}): Promise<Digest> {
  const refs = opts.repo !== undefined && opts.repo !== '' ? [tagTarget(opts.repo, opts.tag)] : [];
  const run = applyChanges({}, opts.changes ?? []);
  const layer = await target.layers.add(source);
  try {
    const created = new Date().toISOString();
    const message = opts.message !== undefined && opts.message !== '' ? opts.message : `Imported from ${opts.src ?? '-'}`;
    const cfg: ImageConfigFile = {
      architecture: goArch(),
      comment: message,
      config: run,
      created,
      history: [{ created, comment: message }],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    };
    const { id } = await target.commit(encodeImageConfig(cfg), refs);
    target.made(id);
    return id;
  } finally {
    target.layers.release([layer.diffId]);
  }
}
