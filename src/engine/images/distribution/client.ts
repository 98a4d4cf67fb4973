/**
 * One repository on one registry endpoint, spoken to over the OCI distribution API
 * (v2): its manifests, blobs and tags, and the uploads of a push. `connect` pings
 * /v2/ first, as Docker does, to learn how the registry wants to be authorized.
 */
import { BerthError } from '../../../errors.js';
import { Authorizer, repositoryScope, type Credentials } from './auth.js';
import { challengesOf, registryErrorOf, TransportError } from './errors.js';
import type { Endpoint } from './hosts.js';
import { discard, readBody, request, type HttpRequest, type HttpResponse } from './http.js';

export const MT_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MT_DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const MT_OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MT_OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MT_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const MT_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
/** What a pull accepts, newest first. */
const MANIFEST_ACCEPT = [MT_OCI_INDEX, MT_DOCKER_LIST, MT_OCI_MANIFEST, MT_DOCKER_MANIFEST, MT_SCHEMA1_SIGNED, MT_SCHEMA1].join(', ');

/** A manifest as the registry describes it. */
export interface ManifestDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

export class Repository {
  private constructor(
    readonly endpoint: Endpoint,
    /** The repository's path on the registry: `library/busybox`. */
    readonly path: string,
    private readonly auth: Authorizer,
    private readonly scopes: string[],
  ) {}

  /**
   * Ping the endpoint and get ready to ask for `actions` on `path` (and pull on
   * `alsoPull`, the repositories a push mounts from). Rejects with a TransportError
   * when the endpoint does not answer HTTP (the caller tries the next one).
   */
  static async connect(endpoint: Endpoint, path: string, creds: Credentials | undefined, actions: readonly string[], alsoPull: readonly string[] = []): Promise<Repository> {
    const url = new URL('v2/', endpoint.url);
    let res: HttpResponse;
    try {
      res = await request(url, { method: 'GET', tls: endpoint.tls });
    } catch (e: unknown) {
      throw new TransportError('GET', url, e);
    }
    discard(res);
    if (res.status !== 200 && res.status !== 401) {
      throw new TransportError('GET', url, new BerthError('System', `received unexpected HTTP status: ${res.status} ${res.statusText}`));
    }
    const challenges = res.status === 401 ? challengesOf(res) : [];
    const scopes = [repositoryScope(path, actions), ...alsoPull.filter((p) => p !== path).map((p) => repositoryScope(p, ['pull']))];
    return new Repository(endpoint, path, new Authorizer(challenges, creds, endpoint.tls), scopes);
  }

  /** The base URL this repository's requests go to (`https://host/`), for messages. */
  get host(): string {
    return this.endpoint.url.host;
  }

  url(rest: string): URL {
    return new URL(`v2/${this.path}/${rest}`, this.endpoint.url);
  }

  /**
   * A request with authorization; a 401 is asked once more with fresh tokens. Transport
   * failures and token refusals reject as Go's url.Error words them.
   */
  async send(url: URL, req: HttpRequest): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const headers = { ...req.headers };
      try {
        const authorization = await this.auth.header(this.scopes);
        if (authorization !== undefined) headers.Authorization = authorization;
      } catch (e: unknown) {
        throw new TransportError(req.method, url, e);
      }
      let res: HttpResponse;
      try {
        res = await request(url, { ...req, headers, tls: this.endpoint.tls });
      } catch (e: unknown) {
        throw new TransportError(req.method, url, e);
      }
      if (res.status !== 401 || attempt > 0 || this.auth.open || (req.body !== undefined && !Buffer.isBuffer(req.body))) return res;
      discard(res);
      this.auth.reset();
    }
  }

  /** A tag's or digest's manifest descriptor: HEAD, then GET when HEAD says nothing (as Docker's tag service). */
  async resolve(tagOrDigest: string): Promise<ManifestDescriptor> {
    const url = this.url(`manifests/${tagOrDigest}`);
    const head = await this.send(url, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT } });
    discard(head);
    const digest = head.headers['docker-content-digest'];
    if (head.status >= 200 && head.status < 400 && typeof digest === 'string' && digest !== '') {
      return { digest, mediaType: contentType(head), size: Number(head.headers['content-length'] ?? 0) };
    }
    const got = await this.manifest(tagOrDigest);
    return { digest: typeof got.digest === 'string' ? got.digest : '', mediaType: got.mediaType, size: got.raw.length };
  }

  /** A manifest's bytes and media type (the registry's Content-Type, else the document's own). */
  async manifest(reference: string): Promise<{ raw: Buffer; mediaType: string; digest: string | undefined }> {
    const res = await this.send(this.url(`manifests/${reference}`), { method: 'GET', headers: { Accept: MANIFEST_ACCEPT } });
    if (res.status < 200 || res.status >= 300) throw await registryErrorOf(res);
    const raw = await readBody(res, 4 << 20);
    let mediaType = contentType(res);
    if (mediaType === '' || mediaType === 'application/json' || mediaType === 'text/plain') {
      const inner = (JSON.parse(raw.toString()) as { mediaType?: unknown }).mediaType;
      mediaType = typeof inner === 'string' ? inner : MT_SCHEMA1;
    }
    const digest = res.headers['docker-content-digest'];
    return { raw, mediaType, digest: typeof digest === 'string' ? digest : undefined };
  }

  /** A blob's bytes from `offset` on; `partial` when the registry honoured the range. */
  async blob(digest: string, offset = 0): Promise<{ res: HttpResponse; partial: boolean }> {
    const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-` } : {};
    const res = await this.send(this.url(`blobs/${digest}`), { method: 'GET', headers });
    if (res.status === 206 && offset > 0) return { res, partial: true };
    if (res.status < 200 || res.status >= 300) throw await registryErrorOf(res);
    return { res, partial: false };
  }

  /** Every tag, following the registry's pages (Link: <…>; rel="next"). */
  async tags(): Promise<string[]> {
    const out: string[] = [];
    let url: URL | undefined = this.url('tags/list');
    while (url !== undefined) {
      const res = await this.send(url, { method: 'GET' });
      if (res.status < 200 || res.status >= 300) throw await registryErrorOf(res);
      const body = JSON.parse((await readBody(res)).toString()) as { tags?: unknown };
      if (Array.isArray(body.tags)) out.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      const link = res.headers.link;
      const next = typeof link === 'string' ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      url = next === null ? undefined : new URL(next[1]!, url);
    }
    return out;
  }

  /** The size of a blob the registry holds, or undefined (HEAD blobs/<digest>). */
  async blobSize(digest: string): Promise<number | undefined> {
    const res = await this.send(this.url(`blobs/${digest}`), { method: 'HEAD' });
    discard(res);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw await registryErrorOf(res);
    return Number(res.headers['content-length'] ?? 0);
  }

  /** Start an upload; its location. */
  async startUpload(): Promise<URL> {
    const url = this.url('blobs/uploads/');
    const res = await this.send(url, { method: 'POST', body: Buffer.alloc(0), headers: { 'Content-Length': '0' } });
    if (res.status !== 202) throw await registryErrorOf(res);
    discard(res);
    return locationOf(res, url);
  }

  /**
   * Ask the registry to mount blob `digest` from repository `from` (same registry):
   * true when it did (201). A registry that cannot starts an upload instead, left to expire.
   */
  async mount(digest: string, from: string): Promise<boolean> {
    const url = this.url('blobs/uploads/');
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from);
    const res = await this.send(url, { method: 'POST', body: Buffer.alloc(0), headers: { 'Content-Length': '0' } });
    discard(res);
    return res.status === 201;
  }

  /** PATCH a chunk of an upload at `location`; the next location. */
  async uploadChunk(location: URL, chunk: Buffer, offset: number): Promise<URL> {
    const res = await this.send(location, {
      method: 'PATCH',
      body: chunk,
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(chunk.length), 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
    });
    if (res.status !== 202) throw await registryErrorOf(res);
    discard(res);
    return locationOf(res, location);
  }

  /** Finish an upload at `location` (PUT ?digest=), with the last bytes if any. */
  async finishUpload(location: URL, digest: string, last: Buffer = Buffer.alloc(0)): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const res = await this.send(url, { method: 'PUT', body: last, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(last.length) } });
    if (res.status !== 201 && res.status !== 204) throw await registryErrorOf(res);
    discard(res);
  }

  /** Store a manifest under a tag or digest; the digest the registry names it by. */
  async putManifest(reference: string, raw: Buffer, mediaType: string): Promise<string | undefined> {
    const res = await this.send(this.url(`manifests/${reference}`), { method: 'PUT', body: raw, headers: { 'Content-Type': mediaType, 'Content-Length': String(raw.length) } });
    if (res.status !== 201 && res.status !== 200 && res.status !== 202) throw await registryErrorOf(res);
    discard(res);
    const digest = res.headers['docker-content-digest'];
    return typeof digest === 'string' ? digest : undefined;
  }
}

function contentType(res: HttpResponse): string {
  return (res.headers['content-type'] ?? '').split(';')[0]!.trim();
}

function locationOf(res: HttpResponse, base: URL): URL {
  const loc = res.headers.location;
  if (typeof loc !== 'string' || loc === '') throw new BerthError('System', `registry at ${base.host} gave no upload location`);
  return new URL(loc, base);
}
