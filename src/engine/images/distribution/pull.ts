/**
 * `docker pull` from a registry, as dockerd's distribution puller does it: the tag's
 * manifest (an index resolved to the asked platform), the config, then the layers —
 * each one already held is "Already exists", the others are downloaded a few at a
 * time into staging files (digests checked as the bytes arrive) and extracted bottom
 * first. The image is committed, with its tag and its digest reference, only once
 * every layer is in: a failure leaves no image, and no layer only it would have used.
 */
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { invalid, systemError, wrapError } from '../../../errors.js';
import { parseImageConfig, sha256Digest, shortId, type Digest } from '../config.js';
import type { LayerStore } from '../layers.js';
import { familiarName, familiarString, fullName, type ImageRef } from '../reference.js';
import type { LayerSources } from './metadata.js';
import type { Credentials } from './auth.js';
import { Repository } from './client.js';
import { downloadBlob, fetchSmallBlob } from './download.js';
import { pullError } from './errors.js';
import type { RegistryHosts } from './hosts.js';
import type { Limiter } from './limiter.js';
import { choosePlatform, hostPlatform, parseManifest, type ImageManifest, type Platform } from './manifest.js';
import { Bar, say, update, type ProgressSink } from './progress.js';

/** Reads of a staging file: 1 MiB instead of 64 KiB halves the CPU of extracting a layer (bench/pull.ts). */
const READ_CHUNK = 1 << 20;

/** What a pull needs of the image store. */
export interface PullTarget {
  layers: LayerStore;
  /** The image a reference points to now. */
  lookupRef(ref: ImageRef): Digest | undefined;
  hasImage(id: Digest): boolean;
  /** Store a config (if new) and point refs at it, under the store's lock; the image ID. */
  commit(raw: Buffer, refs: readonly ImageRef[]): Promise<Digest>;
  /** Point refs at an image already stored (false: it went away meanwhile). */
  point(id: Digest, refs: readonly ImageRef[]): Promise<boolean>;
  /** Drop layers no image uses (after a failed pull). */
  collect(): Promise<void>;
}

/** The daemon's limits on pulls (dockerd's --max-concurrent-downloads, --max-download-attempts). */
export interface PullPolicy {
  downloads: Limiter;
  /** Tries per layer, the first included. */
  maxAttempts: number;
  /** Seconds before retry n (1-based); Docker waits 5 s × n. */
  retryDelay: (attempt: number) => number;
  /** Where the blob each layer came from is remembered (for pushes). */
  sources: LayerSources;
}

export interface PullRequest {
  /** With a tag or digest, that image; with neither, every tag of the repository. */
  ref: ImageRef;
  platform?: Platform;
  creds?: Credentials;
  sink: ProgressSink;
}

/** Pull `req.ref`; throws Docker's errors (NotFound for an unknown or denied name …). */
export async function pullImage(target: PullTarget, hosts: RegistryHosts, policy: PullPolicy, req: PullRequest): Promise<void> {
  const { ref } = req;
  let last: unknown = systemError(`no endpoint for ${ref.domain}`);
  for (const endpoint of await hosts.endpoints(ref.domain, { mirrors: true })) {
    let repo: Repository;
    try {
      repo = await Repository.connect(endpoint, ref.path, req.creds, ['pull']);
    } catch (e: unknown) {
      last = e;
      continue;
    }
    try {
      await new Puller(target, repo, policy, req).pullRepository();
      return;
    } catch (e: unknown) {
      // A mirror that fails (lacks the image, refuses, breaks) hands over to the next endpoint.
      if (endpoint.mirror) {
        last = e;
        continue;
      }
      throw pullError(e, familiarName(ref), familiarString(ref));
    }
  }
  throw pullError(last, familiarName(ref), familiarString(ref));
}

class Puller {
  constructor(
    private readonly target: PullTarget,
    private readonly repo: Repository,
    private readonly policy: PullPolicy,
    private readonly req: PullRequest,
  ) {}

  async pullRepository(): Promise<void> {
    const { ref } = this.req;
    let downloaded = false;
    if (ref.tag !== undefined || ref.digest !== undefined) downloaded = await this.pullTag(ref);
    else {
      for (const tag of await this.repo.tags()) downloaded = (await this.pullTag({ ...ref, tag })) || downloaded;
    }
    say(this.req.sink, `Status: ${downloaded ? 'Downloaded newer image' : 'Image is up to date'} for ${familiarString(ref)}`);
  }

  /** One tag or digest; true when the reference names another image than before. */
  private async pullTag(ref: ImageRef): Promise<boolean> {
    const tagOrDigest = ref.digest ?? ref.tag!;
    const shown = familiarString(ref);
    const top = ref.digest ?? (await this.repo.resolve(tagOrDigest)).digest;
    const first = await this.fetchManifest(top);
    let manifest = parseManifest(first.raw, first.mediaType, shown);
    say(this.req.sink, `Pulling from ${ref.path}`, tagOrDigest);
    if (manifest.kind === 'index') {
      const want = this.req.platform ?? hostPlatform();
      let chosen;
      try {
        chosen = choosePlatform(manifest, want);
      } catch (e: unknown) {
        throw systemError((e as Error).message);
      }
      const got = await this.fetchManifest(chosen.digest);
      const inner = parseManifest(got.raw, got.mediaType, shown);
      if (inner.kind !== 'image') throw invalid('unsupported manifest format');
      manifest = inner;
    }
    const canonical: ImageRef = { domain: ref.domain, path: ref.path, digest: first.digest };
    const before = this.target.lookupRef(ref.digest === undefined ? ref : canonical);
    const id = await this.pullImage(manifest, ref.digest === undefined ? [ref, canonical] : [canonical]);
    say(this.req.sink, `Digest: ${first.digest}`);
    return before !== id;
  }

  /** A manifest's bytes, checked against the digest it was asked by (a tag's: the one HEAD gave). */
  private async fetchManifest(digest: string): Promise<{ raw: Buffer; mediaType: string; digest: string }> {
    const got = await this.repo.manifest(digest === '' ? this.req.ref.tag ?? 'latest' : digest);
    const actual = sha256Digest(got.raw);
    if (digest !== '' && actual !== digest) throw systemError(`manifest verification failed for digest ${digest}`);
    return { raw: got.raw, mediaType: got.mediaType, digest: actual };
  }

  /** Config and layers of one image manifest, committed under `refs`; the image ID. */
  private async pullImage(manifest: ImageManifest, refs: ImageRef[]): Promise<Digest> {
    const configDigest = manifest.config.digest as Digest;
    if (this.target.hasImage(configDigest) && (await this.target.point(configDigest, refs))) return configDigest;
    let raw: Buffer;
    try {
      raw = await fetchSmallBlob(this.repo, manifest.config, 'image config');
    } catch (e: unknown) {
      throw wrapError(e, 'error pulling image configuration');
    }
    const diffIds = parseImageConfig(raw).rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) throw systemError("layers from manifest don't match image configuration");
    const { sink } = this.req;
    const layers = this.target.layers;
    const pinned: Digest[] = [];
    const files: string[] = [];
    const abort = new AbortController();
    const jobs = manifest.layers.map((blob, i) => ({ blob, diffId: diffIds[i]!, id: shortId(blob.digest), held: false }));
    let ok = false;
    const downloads: (Promise<{ file: string } | { error: unknown }> | undefined)[] = [];
    try {
      for (const job of jobs) {
        job.held = await layers.pinIfPresent(job.diffId);
        if (job.held) pinned.push(job.diffId);
        update(sink, job.id, job.held ? 'Already exists' : 'Pulling fs layer');
      }
      for (const job of jobs) {
        downloads.push(
          job.held
            ? undefined
            : this.policy.downloads
                .run(
                  async () => downloadBlob(this.repo, job.blob, { dir: layers.tmpDir, sink, id: job.id, maxAttempts: this.policy.maxAttempts, retryDelay: this.policy.retryDelay, signal: abort.signal }),
                  () => update(sink, job.id, 'Waiting'),
                )
                .then(
                  (file) => {
                    files.push(file);
                    return { file };
                  },
                  (error: unknown) => ({ error }),
                ),
        );
      }
      for (const [i, job] of jobs.entries()) {
        const pending = downloads[i];
        if (pending === undefined) continue;
        const got = await pending;
        if ('error' in got) throw got.error;
        const bar = new Bar(sink, job.id, 'Extracting', (await fs.stat(got.file)).size);
        await layers.add(createReadStream(got.file, { highWaterMark: READ_CHUNK }), {
          expect: job.diffId,
          onBytes: (n) => bar.at(n),
          onMismatch: () => systemError("layers from manifest don't match image configuration"),
        });
        pinned.push(job.diffId);
        await fs.rm(got.file, { force: true });
        await this.policy.sources.add(job.diffId, { digest: job.blob.digest, repository: fullName(this.req.ref) });
        update(sink, job.id, 'Pull complete');
      }
      const id = await this.target.commit(raw, refs);
      ok = true;
      return id;
    } finally {
      abort.abort();
      await Promise.all(downloads.filter((d) => d !== undefined));
      for (const f of files) await fs.rm(f, { force: true });
      layers.release(pinned);
      if (!ok) await this.target.collect();
    }
  }
}
