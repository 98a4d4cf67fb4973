/**
 * POST /build: the classic builder (engine/build) behind Docker's ImageBuild endpoint.
 * The body is the context archive; the answer is the builder's JSON stream: `stream`
 * lines (`Step 1/4 : FROM busybox`, the RUN output, ` ---> 1a2b3c4d5e6f`), the image
 * ID as `aux`, `Successfully built`/`Successfully tagged`, and a failure as
 * errorDetail/error (with the exit code when a RUN failed).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Builder } from '../../engine/build/builder.js';
import type { BuildWorkspaces } from '../../engine/build/context.js';
import { StepFailed, type BaseImages, type BuildContainers, type BuildOutput, type RunLimits } from '../../engine/build/ports.js';
import { familiarString, shortId, type ImageStore } from '../../engine/images/index.js';
import { tagTarget } from '../../engine/images/reference.js';
import { invalid, messageOf } from '../../errors.js';
import type { ApiRequest, Reply, Router } from '../router.js';
import { boolParam } from '../wire.js';
import { ProgressStream } from './progress-stream.js';

export interface BuildRouteDeps {
  /** Where images are committed and tagged. */
  images: ImageStore;
  /** Where contexts are received. */
  workspaces: BuildWorkspaces;
  /** RUN's containers. */
  containers: BuildContainers;
  /** Base images found or pulled, with the request's registry credentials. */
  bases(headers: IncomingHttpHeaders): BaseImages;
}

/** A JSON object parameter (buildargs, labels): string values (null allowed for build args). */
function jsonMap(q: URLSearchParams, key: string, allowNull: boolean): Record<string, string | null> {
  const raw = q.get(key);
  if (raw === null || raw === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw invalid(`invalid ${key} parameter: ${raw}`);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`invalid ${key} parameter: ${raw}`);
  const out: Record<string, string | null> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val === 'string' || (allowNull && val === null)) out[k] = val;
    else throw invalid(`invalid ${key} parameter: ${raw}`);
  }
  return out;
}

/** An integer query parameter (0 or absent: unset). */
function intParam(q: URLSearchParams, key: string): number | undefined {
  const raw = q.get(key);
  if (raw === null || raw === '' || raw === '0') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw invalid(`invalid ${key} parameter: ${raw}`);
  return n;
}

/** The RUN containers' limits from ImageBuild's query (memory, memswap, cpu*, shmsize, extrahosts). */
function runLimits(q: URLSearchParams): RunLimits {
  const out: RunLimits = {};
  const set = <K extends keyof RunLimits>(k: K, v: RunLimits[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('Memory', intParam(q, 'memory'));
  set('MemorySwap', intParam(q, 'memswap'));
  set('CpuShares', intParam(q, 'cpushares'));
  set('CpusetCpus', q.get('cpusetcpus') || undefined);
  set('CpuPeriod', intParam(q, 'cpuperiod'));
  set('CpuQuota', intParam(q, 'cpuquota'));
  set('ShmSize', intParam(q, 'shmsize'));
  const hosts = q.getAll('extrahosts').flatMap((v) => v.split(/[ ,]/)).filter((h) => h !== '');
  if (hosts.length > 0) out.ExtraHosts = hosts;
  return out;
}

/** The JSONError of a failed step, as dockerd writes it. */
function errorMessage(e: unknown): Record<string, unknown> {
  const message = messageOf(e);
  return e instanceof StepFailed ? { errorDetail: { code: e.code, message }, error: message } : { errorDetail: { message }, error: message };
}

export function buildRoutes(router: Router, deps: BuildRouteDeps): void {
  router.add('POST', '/build', async (req) => {
    try {
      return await build(req, deps);
    } catch (e: unknown) {
      // The client is still sending its context: take it all, or it sees a broken pipe, not the error.
      if (!req.raw.readableEnded) await req.drain();
      throw e;
    }
  });
}

async function build(req: ApiRequest, deps: BuildRouteDeps): Promise<Reply> {
  const q = req.query;
  if (q.get('version') === '2') throw invalid('BuildKit is not supported by this daemon: use the classic builder (DOCKER_BUILDKIT=0)');
  if ((q.get('remote') ?? '') !== '') throw invalid('building from a remote context (remote=…) is not supported; send the context as the request body');
  const tags = q.getAll('t').filter((t) => t !== '').map((t) => {
    try {
      return tagTarget(t);
    } catch (e: unknown) {
      throw invalid(`invalid tag ${JSON.stringify(t)}: ${messageOf(e)}`);
    }
  });
  const buildArgs = jsonMap(q, 'buildargs', true);
  const labels = jsonMap(q, 'labels', false) as Record<string, string>;
  const quiet = boolParam(q, 'q');
  const limits = runLimits(q);
  if (boolParam(q, 'squash')) throw invalid('squash is only supported with experimental mode');
  const ctx = await deps.workspaces.receive(req.raw, q.get('dockerfile') || 'Dockerfile');
  const stream = new ProgressStream(req.res);
  // The client going away (Ctrl-C) cancels the build, as dockerd cancels its context.
  const cancel = new AbortController();
  const onClose = (): void => {
    if (!req.res.writableFinished) cancel.abort();
  };
  req.res.on('close', onClose);
  const out: BuildOutput = {
    stream: (text) => {
      if (!quiet) stream.send({ stream: text });
    },
    message: (msg) => {
      if (!quiet || 'aux' in msg) stream.send(msg);
    },
  };
  try {
    const builder = new Builder(
      { images: deps.images, bases: deps.bases(req.raw.headers), containers: deps.containers, out, signal: cancel.signal },
      {
        contextDir: ctx.dir,
        scratchDir: ctx.scratch,
        dockerfile: ctx.dockerfile,
        ignore: ctx.ignore,
        buildArgs,
        labels,
        noCache: boolParam(q, 'nocache'),
        target: q.get('target') ?? undefined,
        networkMode: q.get('networkmode') ?? 'default',
        limits,
        rm: q.get('rm') === null ? true : boolParam(q, 'rm'),
        forceRm: boolParam(q, 'forcerm'),
      },
    );
    const id = await builder.run();
    if (quiet) stream.send({ stream: `${id}\n` });
    else stream.send({ stream: `Successfully built ${shortId(id)}\n` });
    for (const ref of tags) {
      await deps.images.tag(id, familiarString(ref));
      if (!quiet) stream.send({ stream: `Successfully tagged ${familiarString(ref)}\n` });
    }
  } catch (e: unknown) {
    stream.send(errorMessage(e));
  } finally {
    req.res.off('close', onClose);
    await ctx.dispose();
  }
  stream.end(undefined);
  return { handled: true };
}
