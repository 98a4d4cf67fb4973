/**
 * Registries through the API: a pull's query read as dockerd reads it (the tag may be
 * a digest; no tag at all pulls every tag), the client's credentials from
 * X-Registry-Auth, and the progress written as Docker's JSON stream.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseReference, withDefaultTag, type ImageRef, type ImageStore } from '../../engine/images/index.js';
import { parsePlatform, type Credentials, type Registries } from '../../engine/images/distribution/index.js';
import { isHostBusybox } from '../../engine/images/busybox.js';
import { invalid } from '../../errors.js';
import type { ApiRequest, Router } from '../router.js';
import { ProgressStream } from './progress-stream.js';

/** Docker's AuthConfig as the CLI sends it (base64url JSON); a header that does not decode counts as none, as in dockerd. */
export function registryAuth(headers: IncomingHttpHeaders): Credentials | undefined {
  const header = headers['x-registry-auth'];
  return typeof header === 'string' ? decodeRegistryAuth(header) : undefined;
}

/** An X-Registry-Auth value (base64url JSON of an AuthConfig) as credentials; none when it does not decode. */
export function decodeRegistryAuth(header: string): Credentials | undefined {
  if (header === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString());
  } catch {
    return undefined;
  }
  return credentialsOf(v);
}

/** An AuthConfig object (X-Registry-Auth, POST /auth's body) as credentials. */
export function credentialsOf(v: unknown): Credentials | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  const c: Credentials = {};
  let username = str('username');
  let password = str('password');
  if (username === '' && str('auth') !== '') {
    const pair = Buffer.from(str('auth'), 'base64').toString();
    const colon = pair.indexOf(':');
    if (colon > 0) {
      username = pair.slice(0, colon);
      password = pair.slice(colon + 1);
    }
  }
  if (username !== '') c.username = username;
  if (password !== '') c.password = password;
  if (str('identitytoken') !== '') c.identityToken = str('identitytoken');
  if (str('registrytoken') !== '') c.registryToken = str('registrytoken');
  if (str('serveraddress') !== '') c.serverAddress = str('serveraddress');
  return Object.keys(c).length === 0 ? undefined : c;
}

/** The reference a pull asks for: `fromImage` with `tag` (a tag or a digest) over it. */
export function pullReference(fromImage: string, tag: string): ImageRef {
  const ref = parseReference(fromImage);
  if (tag === '') return ref;
  if (/^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/.test(tag)) {
    return { domain: ref.domain, path: ref.path, digest: parseReference(`x@${tag}`).digest! };
  }
  const tagged = parseReference(`${fromImage.replace(/@.*$/, '').replace(/:[^/:]*$/, '')}:${tag}`);
  return { domain: tagged.domain, path: tagged.path, tag: tagged.tag! };
}

/** POST /images/create?fromImage=…: pull into the store, progress on `stream`. */
export async function pullRoute(req: ApiRequest, stream: ProgressStream, images: ImageStore, registries: Registries): Promise<void> {
  const ref = pullReference(req.query.get('fromImage') ?? '', req.query.get('tag') ?? '');
  if (ref.domain === 'docker.io' && ref.path === 'scratch') throw invalid("'scratch' is a reserved name");
  const platformParam = req.query.get('platform') ?? '';
  const platform = platformParam === '' ? undefined : parsePlatform(platformParam);
  // busybox comes from the host's static binary, with no registry (engine/images/busybox.ts).
  if (isHostBusybox(ref)) {
    const full = `busybox:${withDefaultTag(ref).tag!}`;
    const tag = withDefaultTag(ref).tag!;
    stream.send({ status: 'Pulling from library/busybox', id: tag });
    stream.send({ status: 'Building busybox from the host binary', id: tag });
    const id = await images.ensureBusybox(full);
    stream.send({ status: `Digest: ${id}` });
    stream.send({ status: `Status: Downloaded newer image for ${full}` });
    return;
  }
  const creds = registryAuth(req.raw.headers);
  await registries.pull(images, { ref, ...(platform ? { platform } : {}), ...(creds ? { creds } : {}), sink: (m) => stream.send({ ...m }) });
}

/** POST /auth (docker login), GET /images/search, POST /images/{name}/push, GET /distribution/{name}/json. */
export function registryRoutes(router: Router, registries: Registries, images: ImageStore): void {
  router
    .add('GET', '/distribution/{name}/json', async (req) => {
      const ref = parseReference(req.params.name!);
      const found = await registries.inspect(ref.tag === undefined && ref.digest === undefined ? withDefaultTag(ref) : ref, registryAuth(req.raw.headers));
      const platforms = found.platforms.map((p) => ({ architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}) }));
      return { status: 200, body: { Descriptor: found.descriptor, Platforms: platforms } };
    })
    .add('POST', '/images/{name}/push', async (req) => {
      const name = req.params.name!;
      const tag = req.query.get('tag') ?? '';
      const ref = tag === '' ? parseReference(name) : pullReference(name, tag);
      const creds = registryAuth(req.raw.headers);
      const stream = new ProgressStream(req.res);
      try {
        await registries.push(images, { ref, ...(creds ? { creds } : {}), sink: (m) => stream.send({ ...m }) });
      } catch (e: unknown) {
        stream.fail(e);
      }
      stream.end(undefined);
      return { handled: true };
    })
    .add('POST', '/auth', async (req) => {
      const creds = credentialsOf(await req.json()) ?? {};
      const token = await registries.login(creds);
      return { status: 200, body: { Status: 'Login Succeeded', IdentityToken: token } };
    })
    .add('GET', '/images/search', async (req) => {
      const limitParam = req.query.get('limit') ?? '';
      const limit = limitParam === '' ? 25 : Number(limitParam);
      if (!Number.isInteger(limit)) throw invalid(`invalid limit ${JSON.stringify(limitParam)}`);
      const results = await registries.search(req.query.get('term') ?? '', limit, registryAuth(req.raw.headers));
      return { status: 200, body: results };
    });
}
