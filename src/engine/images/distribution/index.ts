/**
 * The daemon's side of registries: pull, push and login over the OCI distribution
 * API, with the daemon's registry settings (mirrors, insecure registries, certs.d)
 * and its transfer limits.
 */
import type { ImageStore } from '../store.js';
import { RegistryHosts, type RegistrySettings } from './hosts.js';
import { Limiter } from './limiter.js';
import { pullImage, type PullRequest } from './pull.js';
import { login } from './login.js';
import { search, type SearchResult } from './search.js';
import type { Credentials } from './auth.js';

export type { Credentials } from './auth.js';
export type { JsonMessage, ProgressSink } from './progress.js';
export { parsePlatform, type Platform } from './manifest.js';
export { validateInsecureRegistry, validateMirror, INDEX_NAME, INDEX_SERVER, type RegistrySettings } from './hosts.js';

export interface RegistryOptions extends RegistrySettings {
  /** dockerd's --max-concurrent-downloads (3). */
  maxConcurrentDownloads: number;
  /** dockerd's --max-concurrent-uploads (5). */
  maxConcurrentUploads: number;
  /** dockerd's --max-download-attempts (5). */
  maxDownloadAttempts: number;
}

export class Registries {
  readonly hosts: RegistryHosts;
  private readonly downloads: Limiter;
  readonly uploads: Limiter;

  constructor(private readonly opts: RegistryOptions) {
    this.hosts = new RegistryHosts(opts);
    this.downloads = new Limiter(opts.maxConcurrentDownloads);
    this.uploads = new Limiter(opts.maxConcurrentUploads);
  }

  /** Pull into `images`; progress goes to `req.sink`. Emits the pull event when done. */
  async pull(images: ImageStore, req: PullRequest): Promise<void> {
    const policy = { downloads: this.downloads, maxAttempts: this.opts.maxDownloadAttempts, retryDelay: (n: number) => 5 * n };
    await pullImage(images.pullTarget(), this.hosts, policy, req);
    images.pulled(req.ref);
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
