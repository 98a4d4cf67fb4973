/**
 * `docker push`, as dockerd's distribution pusher does it: for each tag, the layers
 * (top first in the progress, a few at a time) — a blob the registry already holds is
 * "Layer already exists", one another repository of the same registry holds is
 * mounted from it, the rest is compressed (gzip) into a staging file and uploaded in
 * chunks — then the config (one monolithic PUT) and the schema 2 manifest under the
 * tag. The digest the registry names the manifest by becomes a local digest reference.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { notFound, systemError } from '../../../errors.js';
import { shortId, type Digest } from '../config.js';
import { randomName } from '../fsutil.js';
import { familiarName, familiarString, fullName, parseReference, type ImageRef } from '../reference.js';
import type { ImageRecord } from '../types.js';
import type { Credentials } from './auth.js';
import { MT_DOCKER_MANIFEST, Repository } from './client.js';
import { pushError } from './errors.js';
import type { RegistryHosts } from './hosts.js';
import type { Limiter } from './limiter.js';
import type { LayerSources } from './metadata.js';
import { Bar, say, update, type ProgressSink } from './progress.js';

const MT_CONFIG = 'application/vnd.docker.container.image.v1+json';
const MT_LAYER = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Bytes per PATCH of a chunked upload. */
const CHUNK = 16 << 20;
/** Other repositories a layer is tried to be mounted from (dockerd's maxMountAttempts). */
const MAX_MOUNTS = 3;

/** What a push needs of the image store. */
export interface PushSource {
  lookupRef(ref: ImageRef): Digest | undefined;
  tagsOfRepository(name: string): { ref: string; id: Digest }[];
  get(id: Digest): ImageRecord | undefined;
  rawConfig(id: Digest): Buffer;
  layerArchive(diffId: Digest): Promise<{ size: number; chunks: AsyncIterable<Buffer> }>;
  /** Point refs at an image (the pushed digest reference). */
  point(id: Digest, refs: readonly ImageRef[]): Promise<boolean>;
  /** Where staging files go. */
  tmpDir: string;
}

export interface PushPolicy {
  uploads: Limiter;
  sources: LayerSources;
}

export interface PushRequest {
  /** With a tag, that tag; with none, every tag of the repository. */
  ref: ImageRef;
  creds?: Credentials;
  sink: ProgressSink;
}

interface Pushed {
  digest: string;
  size: number;
}

export async function pushImage(source: PushSource, hosts: RegistryHosts, policy: PushPolicy, req: PushRequest): Promise<void> {
  const { ref, sink } = req;
  if (ref.digest !== undefined) throw systemError('cannot push a digest reference');
  say(sink, `The push refers to repository [${fullName(ref)}]`);
  const tags: { ref: ImageRef; id: Digest }[] = [];
  if (ref.tag !== undefined) {
    const id = source.lookupRef(ref);
    if (id === undefined) throw notFound(`tag does not exist: ${familiarString(ref)}`);
    tags.push({ ref, id });
  } else {
    for (const t of source.tagsOfRepository(familiarName(ref))) tags.push({ ref: parseReference(t.ref), id: t.id });
    if (tags.length === 0) throw notFound(`An image does not exist locally with the tag: ${familiarName(ref)}`);
  }
  // Repositories of this registry the layers are known in: the token must allow pulling from them to mount.
  const mountFrom = new Set<string>();
  for (const t of tags) {
    for (const d of source.get(t.id)?.config.rootfs.diff_ids ?? []) {
      for (const s of await policy.sources.get(d)) if (s.repository.startsWith(`${ref.domain}/`)) mountFrom.add(s.repository.slice(ref.domain.length + 1));
    }
  }
  let last: unknown = systemError(`no endpoints found for ${fullName(ref)}`);
  for (const endpoint of await hosts.endpoints(ref.domain, { mirrors: false })) {
    let repo: Repository;
    try {
      repo = await Repository.connect(endpoint, ref.path, req.creds, ['pull', 'push'], [...mountFrom].slice(0, 10));
    } catch (e: unknown) {
      last = e;
      continue;
    }
    try {
      const pusher = new Pusher(source, repo, policy, req);
      for (const t of tags) await pusher.pushTag(t.ref, t.id);
      return;
    } catch (e: unknown) {
      throw pushError(e);
    }
  }
  throw pushError(last);
}

class Pusher {
  /** Layers this push found or put on the registry, by diff-id. */
  private readonly remote = new Map<Digest, Pushed>();

  constructor(
    private readonly source: PushSource,
    private readonly repo: Repository,
    private readonly policy: PushPolicy,
    private readonly req: PushRequest,
  ) {}

  private get repository(): string {
    return fullName(this.req.ref);
  }

  async pushTag(ref: ImageRef, id: Digest): Promise<void> {
    const img = this.source.get(id);
    if (img === undefined) throw systemError(`could not find image from tag ${familiarString(ref)}: No such image: ${id}`);
    const diffIds = img.config.rootfs.diff_ids;
    const { sink } = this.req;
    const topFirst = [...diffIds].reverse();
    for (const d of topFirst) update(sink, shortId(d), 'Preparing');
    const results = await Promise.all(topFirst.map(async (d) => this.policy.uploads.run(async () => this.pushLayer(d), () => update(sink, shortId(d), 'Waiting'))));
    const layers = [...results].reverse();
    const config = this.source.rawConfig(id);
    if ((await this.repo.blobSize(id)) === undefined) {
      const location = await this.repo.startUpload();
      await this.repo.finishUpload(location, id, config);
    }
    const manifest = Buffer.from(
      JSON.stringify(
        {
          schemaVersion: 2,
          mediaType: MT_DOCKER_MANIFEST,
          config: { mediaType: MT_CONFIG, size: config.length, digest: id },
          layers: layers.map((l) => ({ mediaType: MT_LAYER, size: l.size, digest: l.digest })),
        },
        null,
        3,
      ),
    );
    const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    await this.repo.putManifest(ref.tag!, manifest, MT_DOCKER_MANIFEST);
    say(sink, `${ref.tag!}: digest: ${digest} size: ${manifest.length}`);
    sink({ progressDetail: {}, aux: { Tag: ref.tag!, Digest: digest, Size: manifest.length } });
    await this.source.point(id, [{ domain: ref.domain, path: ref.path, digest }]);
  }

  /** One layer on the registry: found, mounted or uploaded. */
  private async pushLayer(diffId: Digest): Promise<Pushed> {
    const done = this.remote.get(diffId);
    const id = shortId(diffId);
    const { sink } = this.req;
    if (done !== undefined) {
      update(sink, id, 'Layer already exists');
      return done;
    }
    const known = (await this.policy.sources.get(diffId)).filter((s) => s.repository.startsWith(`${this.req.ref.domain}/`));
    for (const s of known.filter((k) => k.repository === this.repository)) {
      const size = await this.repo.blobSize(s.digest);
      if (size !== undefined) return this.found(diffId, { digest: s.digest, size }, 'Layer already exists');
      await this.policy.sources.remove(diffId, s);
    }
    for (const s of known.filter((k) => k.repository !== this.repository).slice(0, MAX_MOUNTS)) {
      const from = s.repository.slice(this.req.ref.domain.length + 1);
      if (await this.repo.mount(s.digest, from).catch(() => false)) {
        const size = (await this.repo.blobSize(s.digest)) ?? 0;
        return this.found(diffId, { digest: s.digest, size }, `Mounted from ${from}`);
      }
    }
    const file = path.join(this.source.tmpDir, `push-${randomName()}`);
    try {
      const blob = await this.compress(diffId, file);
      const size = await this.repo.blobSize(blob.digest);
      if (size !== undefined) return await this.found(diffId, blob, 'Layer already exists');
      await this.upload(file, blob, id);
      return await this.found(diffId, blob, 'Pushed');
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  private async found(diffId: Digest, blob: Pushed, status: string): Promise<Pushed> {
    this.remote.set(diffId, blob);
    await this.policy.sources.add(diffId, { digest: blob.digest, repository: this.repository });
    update(this.req.sink, shortId(diffId), status);
    return blob;
  }

  /** The layer's archive gzipped into `file`; its digest and size. */
  private async compress(diffId: Digest, file: string): Promise<Pushed> {
    const archive = await this.source.layerArchive(diffId);
    const hash = createHash('sha256');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    await pipeline(Readable.from(archive.chunks), createGzip(), tap, createWriteStream(file, { mode: 0o600 }));
    return { digest: `sha256:${hash.digest('hex')}`, size };
  }

  /** POST, PATCH chunk by chunk ("Pushing"), PUT ?digest=. */
  private async upload(file: string, blob: Pushed, id: string): Promise<void> {
    let location = await this.repo.startUpload();
    const bar = new Bar(this.req.sink, id, 'Pushing', blob.size);
    let offset = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      const b = chunk as Buffer;
      location = await this.repo.uploadChunk(location, b, offset);
      offset += b.length;
      bar.at(offset);
    }
    await this.repo.finishUpload(location, blob.digest);
  }
}
