/**
 * The daemon's side of registries: pull, push and login over the OCI distribution
 * API, with the daemon's registry settings (mirrors, insecure registries, certs.d)
 * and its transfer limits.
 */
import type { ImageStore } from '../store.js';
import { RegistryHosts, type RegistrySettings } from './hosts.js';
import { Limiter } from './limiter.js';
import { pullImage, type PullRequest } from './pull.js';
import { inspectDistribution, type DistributionInspect } from './inspect.js';
import { familiarString, withDefaultTag, type ImageRef } from '../reference.js';
import { isHostBusybox } from '../busybox.js';
import type { Digest } from '../config.js';
import type { ProgressSink } from './progress.js';
import { login } from './login.js';
import * as path from 'node:path';
import { LayerSources } from './metadata.js';
import { pushImage, type PushRequest, type PushSource } from './push.js';
import { search, type SearchResult } from './search.js';
import type { Credentials } from './auth.js';

export type { Credentials } from './auth.js';
export type { JsonMessage, ProgressSink } from './progress.js';
export { parsePlatform, type Platform } from './manifest.js';
export { validateInsecureRegistry, validateMirror, INDEX_NAME, INDEX_SERVER, type RegistrySettings } from './hosts.js';

export interface RegistryOptions extends RegistrySettings {
  /** The daemon's data root: which registry blobs hold each layer is kept under images/distribution. */
  dataRoot: string;
  /** dockerd's --max-concurrent-downloads (3). */
  maxConcurrentDownloads: number;
  /** dockerd's --max-concurrent-uploads (5). */
  maxConcurrentUploads: number;
  /** dockerd's --max-download-attempts (5). */
  maxDownloadAttempts: number;
}

export class Registries {
  private hosts: RegistryHosts;
  private readonly downloads: Limiter;
  private readonly uploads: Limiter;
  private readonly sources: LayerSources;

  constructor(private opts: RegistryOptions) {
    this.hosts = new RegistryHosts(opts);
    this.downloads = new Limiter(opts.maxConcurrentDownloads);
    this.uploads = new Limiter(opts.maxConcurrentUploads);
    this.sources = new LayerSources(path.join(opts.dataRoot, 'images'));
  }

  /**
   * SIGHUP: mirrors, insecure registries and the transfer limits change for the
   * transfers that start from now on, as dockerd reloads them.
   */
  reload(next: Omit<RegistryOptions, 'dataRoot'>): void {
    this.opts = { ...next, dataRoot: this.opts.dataRoot };
    this.hosts = new RegistryHosts(this.opts);
    this.downloads.setLimit(next.maxConcurrentDownloads);
    this.uploads.setLimit(next.maxConcurrentUploads);
  }

  /**
   * The image `ref` names: the store's, or else pulled with `creds` (busybox is made from
   * the host's binary, as `docker pull busybox` does here). Its ID. A build's FROM and a
   * swarm task's image come this way.
   */
  async ensure(images: ImageStore, ref: ImageRef, creds: Credentials | undefined, sink: ProgressSink = () => undefined): Promise<Digest> {
    const found = images.lookup(familiarString(ref));
    if (found !== undefined) return found;
    if (isHostBusybox(ref)) return images.ensureBusybox(familiarString(withDefaultTag(ref)));
    await this.pull(images, { ref: withDefaultTag(ref), ...(creds ? { creds } : {}), sink });
    return images.resolve(familiarString(ref)).id;
  }

  /** What the registry says `ref` is now (GET /distribution/{name}/json), nothing pulled. */
  async inspect(ref: ImageRef, creds: Credentials | undefined): Promise<DistributionInspect> {
    return inspectDistribution(this.hosts, ref, creds);
  }

  /** Pull into `images`; progress goes to `req.sink`. Emits the pull event when done. */
  async pull(images: ImageStore, req: PullRequest): Promise<void> {
    const policy = { downloads: this.downloads, maxAttempts: this.opts.maxDownloadAttempts, retryDelay: (n: number) => 5 * n, sources: this.sources };
    await pullImage(images.pullTarget(), this.hosts, policy, req);
    images.pulled(req.ref);
  }

  /** Push from `images`; progress goes to `req.sink`. Emits the push event when done. */
  async push(images: ImageStore, req: PushRequest): Promise<void> {
    const target = images.pullTarget();
    const source: PushSource = {
      lookupRef: target.lookupRef,
      tagsOfRepository: (name) => images.tagsOfRepository(name),
      get: (id) => images.get(id),
      rawConfig: (id) => images.rawConfig(id),
      layerArchive: async (d) => images.layerArchive(d),
      point: target.point,
      tmpDir: target.layers.tmpDir,
    };
    await pushImage(source, this.hosts, { uploads: this.uploads, sources: this.sources }, req);
    images.pushed(req.ref);
  }

  /** POST /auth: check credentials against their registry; the identity token ('' when none). */
  async login(creds: Credentials): Promise<string> {
    return login(this.hosts, creds);
  }

  /** GET /images/search: the index's v1 search (a v2-only registry has none, as Docker reports). */
  async search(term: string, limit: number, creds?: Credentials): Promise<SearchResult[]> {
    return search(this.hosts, term, limit, creds);
  }
}
