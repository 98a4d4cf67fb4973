/**
 * The builder's ports on the daemon's parts: RUN containers made exactly as
 * POST /containers/create makes them (the same parsing of a Config body), started with
 * an attached session for their output; base images found in the store or pulled
 * (busybox from the host binary, as a pull of it does).
 */
import type { IncomingHttpHeaders } from 'node:http';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { BaseImages, BuildContainers, BuildOutput, StepRun } from '../../engine/build/ports.js';
import type { ContainerEngine } from '../../engine/containers/engine.js';
import type { Registries } from '../../engine/images/distribution/index.js';
import { parseReference, withDefaultTag, type ImageStore } from '../../engine/images/index.js';
import type { Digest } from '../../engine/images/config.js';
import { invalid } from '../../errors.js';
import type { LogService } from '../../logs/service.js';
import { parseContainerCreate } from './container-create.js';
import { credentialsOf } from './image-distribution.js';
import type { Credentials } from '../../engine/images/distribution/auth.js';

/** How long a finished RUN's output may trail its exit. */
const OUTPUT_GRACE_MS = 2000;

async function ended(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
    setTimeout(done, OUTPUT_GRACE_MS).unref();
  });
}

export function buildContainers(engine: ContainerEngine, logs: LogService): BuildContainers {
  return {
    run: async (step: StepRun, created, out) => {
      // A RUN container runs no health checks: it lives for one command.
      const { Healthcheck: _unused, ...config } = step.config;
      const body = {
        ...config,
        Image: step.image,
        AttachStdout: true,
        AttachStderr: true,
        HostConfig: { ...step.limits, ...(step.networkMode === '' || step.networkMode === 'default' ? {} : { NetworkMode: step.networkMode }) },
      };
      const { req: spec, docker } = parseContainerCreate(body, null, undefined, (r) => logs.settle(r));
      const { imageRef, ...rest } = spec;
      const c = await engine.create({ ...rest, image: { ref: imageRef, id: step.image } }, docker);
      created(c.id);
      if (step.signal.aborted) return 137;
      const kill = (): void => void engine.kill(c.id, 'SIGKILL').catch(() => undefined);
      step.signal.addEventListener('abort', kill);
      try {
        return await runAttached(engine, c.id, out, step.signal);
      } finally {
        step.signal.removeEventListener('abort', kill);
      }
    },
    upperDir: (id) => path.join(engine.facts.dir(id), 'upper'),
    remove: async (id) => engine.remove(id, { force: true, volumes: true }),
  };
}

/** Start the container with a session for its output; its exit code once all of it is read. */
async function runAttached(engine: ContainerEngine, id: string, out: (chunk: Buffer) => void, signal: AbortSignal): Promise<number> {
  const attached = engine.attach(id, false);
  await engine.start(id);
  // A cancel that came while it was starting found nothing to kill yet.
  if (signal.aborted) await engine.kill(id, 'SIGKILL').catch(() => undefined);
  const session = await attached;
  session.stdout.on('data', (b: Buffer) => out(b));
  session.stderr.on('data', (b: Buffer) => out(b));
  const code = await engine.wait(id, 'not-running');
  await Promise.all([ended(session.stdout), ended(session.stderr)]);
  session.close();
  return code;
}

/** A registry's host as X-Registry-Config keys it (`https://index.docker.io/v1/`, `host:5000`). */
function registryHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * X-Registry-Config (base64url JSON, registry -> AuthConfig): the credentials the
 * client holds for every registry, for the builder's pulls of base images.
 */
export function registryConfig(headers: IncomingHttpHeaders): Map<string, Credentials> {
  const out = new Map<string, Credentials>();
  const header = headers['x-registry-config'];
  if (typeof header !== 'string' || header === '') return out;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString());
  } catch {
    return out;
  }
  if (typeof v !== 'object' || v === null) return out;
  for (const [key, auth] of Object.entries(v as Record<string, unknown>)) {
    const creds = credentialsOf(auth);
    if (creds !== undefined) out.set(registryHost(key), creds);
  }
  return out;
}

export function baseImages(images: ImageStore, registries: Registries, creds: ReadonlyMap<string, Credentials> = new Map()): BaseImages {
  return {
    ensure: async (name: string, out: BuildOutput): Promise<Digest> => {
      const found = images.lookup(name);
      if (found !== undefined) return found;
      const ref = withDefaultTag(parseReference(name));
      if (ref.domain === 'docker.io' && ref.path === 'scratch') throw invalid("'scratch' is a reserved name");
      return registries.ensure(images, ref, creds.get(ref.domain), (m) => out.message({ ...m }));
    },
  };
}
