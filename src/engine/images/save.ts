/**
 * `docker save`: images as the archive Docker 25+ writes (moby's tarexport save.go),
 * which `docker load` of any version reads:
 *
 *   blobs/sha256/<hex>   each image's config, each layer's archive (uncompressed, named
 *                        by its diff-id, written again byte for byte: tar-split.ts), and
 *                        an OCI manifest per image
 *   index.json           the OCI index: each manifest, once per tag with its names
 *   manifest.json        [{Config, RepoTags, Layers}] (docker load's own list)
 *   oci-layout           {"imageLayoutVersion": "1.0.0"}
 *   repositories         {repo: {tag: top layer's hex}} (pre-1.10 loaders), when tagged
 *
 * Entries come in the order of a walk of that folder. Names are checked (and every
 * layer found) before the first byte goes out, so a bad name is an HTTP error.
 */
import { invalid, notFound, systemError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import { hexOf, sha256Digest, type Digest } from './config.js';
import { familiarName, familiarString, fullName, parseReference, type ImageRef } from './reference.js';
import type { ImageStore } from './store.js';
import { bodyPadding, encodeHeader, END_OF_ARCHIVE } from './tar-write.js';

const MT_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const MT_INDEX = 'application/vnd.oci.image.index.v1+json';
const MT_CONFIG = 'application/vnd.oci.image.config.v1+json';
const MT_LAYER = 'application/vnd.oci.image.layer.v1.tar';

export type SaveSource = Pick<ImageStore, 'lookup' | 'get' | 'rawConfig' | 'layerArchive' | 'tagsOfRepository'>;

interface Chosen {
  id: Digest;
  /** Tagged references, parsed, in the order asked. */
  tags: ImageRef[];
}

/** Which images (and which of their tags) the names ask for, as dockerd's parseNames reads them. */
export function chooseImages(src: Pick<SaveSource, 'lookup' | 'tagsOfRepository'>, names: readonly string[]): Chosen[] {
  const chosen = new Map<Digest, Chosen>();
  const add = (id: Digest, tag?: ImageRef): void => {
    const c = chosen.get(id) ?? { id, tags: [] };
    chosen.set(id, c);
    if (tag !== undefined && !c.tags.some((t) => familiarString(t) === familiarString(tag))) c.tags.push(tag);
  };
  const byId = (name: string): void => {
    const id = src.lookup(name);
    if (id === undefined) throw notFound(`No such image: ${name}`);
    add(id);
  };
  for (const name of names) {
    if (/^(sha256:)?[a-f0-9]{64}$/.test(name) || /^sha256:[a-f0-9]+$/.test(name)) {
      byId(name);
      continue;
    }
    const ref = parseReference(name);
    if (ref.tag === undefined && ref.digest === undefined) {
      const tagged = src.tagsOfRepository(familiarName(ref));
      if (tagged.length === 0) byId(name);
      for (const t of tagged) add(t.id, parseReference(t.ref));
      continue;
    }
    const id = src.lookup(name);
    if (id === undefined) throw notFound('reference does not exist');
    add(id, ref.tag === undefined ? undefined : ref);
  }
  if (chosen.size === 0) throw invalid('no images to save');
  return [...chosen.values()];
}

/** A file of the archive: its bytes in memory, or a size and a stream. */
interface ArchiveFile {
  path: string;
  size: number;
  mtime: number;
  chunks: () => AsyncIterable<Buffer>;
}

function memoryFile(path: string, data: Buffer, mtime = 0): ArchiveFile {
  return { path, size: data.length, mtime, chunks: async function* () { yield data; } };
}

function json(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v));
}

/**
 * The archive of the images `names` asks for; throws (before anything is streamed)
 * for a name that finds nothing or a layer that cannot be written again.
 */
export async function saveImages(src: SaveSource, names: readonly string[], events?: EventSink): Promise<AsyncIterable<Buffer>> {
  const blobs = new Map<string, ArchiveFile>();
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const index: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { id, tags } of chooseImages(src, names)) {
    const img = src.get(id);
    if (img === undefined) throw notFound(`No such image: ${id}`);
    const diffIds = img.config.rootfs.diff_ids;
    if (diffIds.length === 0) throw systemError('empty export - not implemented');
    const created = img.config.created === undefined ? 0 : Math.max(0, Math.floor(Date.parse(img.config.created) / 1000) || 0);
    const raw = src.rawConfig(id);
    blobs.set(hexOf(id), memoryFile(`blobs/sha256/${hexOf(id)}`, raw, created));
    const layers: { digest: Digest; size: number }[] = [];
    for (const d of diffIds) {
      const layer = await src.layerArchive(d);
      layers.push({ digest: d, size: layer.size });
      if (!blobs.has(hexOf(d))) {
        blobs.set(hexOf(d), { path: `blobs/sha256/${hexOf(d)}`, size: layer.size, mtime: created, chunks: () => layer.chunks });
      }
    }
    const manifest = json({
      schemaVersion: 2,
      mediaType: MT_MANIFEST,
      config: { mediaType: MT_CONFIG, digest: id, size: raw.length },
      layers: layers.map((l) => ({ mediaType: MT_LAYER, digest: l.digest, size: l.size })),
    });
    const manifestDigest = sha256Digest(manifest);
    blobs.set(hexOf(manifestDigest), memoryFile(`blobs/sha256/${hexOf(manifestDigest)}`, manifest));
    const descriptor = { mediaType: MT_MANIFEST, digest: manifestDigest, size: manifest.length };
    if (tags.length === 0) index.push(descriptor);
    for (const t of tags) {
      index.push({ ...descriptor, annotations: { 'io.containerd.image.name': `${fullName(t)}:${t.tag ?? 'latest'}`, 'org.opencontainers.image.ref.name': t.tag ?? 'latest' } });
      (repositories[familiarName(t)] ??= {})[t.tag ?? 'latest'] = hexOf(diffIds[diffIds.length - 1]!);
    }
    manifestJson.push({
      Config: `blobs/sha256/${hexOf(id)}`,
      RepoTags: tags.length === 0 ? null : tags.map(familiarString),
      Layers: diffIds.map((d) => `blobs/sha256/${hexOf(d)}`),
    });
    events?.emit('image', 'save', id, { ...(img.config.config?.Labels ?? {}), name: id });
  }
  const files: ArchiveFile[] = [...blobs.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  files.push(memoryFile('index.json', json({ schemaVersion: 2, mediaType: MT_INDEX, manifests: index })));
  files.push(memoryFile('manifest.json', Buffer.from(`${JSON.stringify(manifestJson)}\n`)));
  files.push(memoryFile('oci-layout', Buffer.from('{"imageLayoutVersion": "1.0.0"}')));
  if (Object.keys(repositories).length > 0) {
    const sorted = Object.fromEntries(Object.entries(repositories).sort(([a], [b]) => (a < b ? -1 : 1)));
    files.push(memoryFile('repositories', Buffer.from(`${JSON.stringify(sorted)}\n`)));
  }
  return archiveOf(files);
}

async function* archiveOf(files: readonly ArchiveFile[]): AsyncGenerator<Buffer> {
  yield encodeHeader({ path: 'blobs', type: 'directory', mode: 0o755 });
  yield encodeHeader({ path: 'blobs/sha256', type: 'directory', mode: 0o755 });
  for (const f of files) {
    yield encodeHeader({ path: f.path, type: 'file', mode: 0o644, size: f.size, mtime: f.mtime });
    let written = 0;
    for await (const chunk of f.chunks()) {
      written += chunk.length;
      if (written > f.size) throw systemError(`${f.path} grew while it was saved`);
      yield chunk;
    }
    if (written !== f.size) throw systemError(`${f.path} has ${written} bytes, ${f.size} expected`);
    yield bodyPadding(f.size);
  }
  yield END_OF_ARCHIVE;
}
