/** /images routes: list, inspect, history, create (busybox out of the box, import), load, save, tag, remove. */
import { notImplemented } from '../../errors.js';
import { toDockerInspect, toDockerSummary, type ImageStore } from '../../engine/images/index.js';
import type { Registries } from '../../engine/images/distribution/index.js';
import { ProgressStream } from './progress-stream.js';
import { pullRoute } from './image-distribution.js';
import type { Router } from '../router.js';
import { boolParam, parseFilters } from '../wire.js';
import { imageListFilter } from './image-filters.js';
import { imageHistory } from '../../engine/images/history.js';
import { saveImages } from '../../engine/images/save.js';
import type { EventSink } from '../../events/types.js';
import { sendTar } from './archive.js';

/** dockerd's BoolValueOrDefault: absent is `d`; "", 0, no, false and none are false; anything else true. */
function boolValueOrDefault(q: URLSearchParams, key: string, d: boolean): boolean {
  const v = q.get(key);
  if (v === null) return d;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

export function imageRoutes(router: Router, images: ImageStore, registries: Registries, events?: EventSink): void {
  router
    // Without `all`, an untagged image another was committed from is an intermediate one: hidden, as in Docker.
    .add('GET', '/images/json', async (req) => {
      const keep = imageListFilter(parseFilters(req.query.get('filters')), (ref) => images.resolve(ref));
      const all = images.list();
      const parents = new Set(all.map((img) => img.parent));
      const shown = boolParam(req.query, 'all') ? all : all.filter((img) => img.repoTags.length > 0 || !parents.has(img.id));
      return { status: 200, body: shown.flatMap((img) => keep(img) ?? []).map(toDockerSummary) };
    })
    .add('GET', '/images/{name}/history', async (req) => ({ status: 200, body: imageHistory(images.inspect(req.params.name!), images) }))
    .add('GET', '/images/{name}/get', async (req) => {
      await sendTar(req.res, await saveImages(images, [req.params.name!], events), { 'Content-Type': 'application/x-tar' });
      return { handled: true };
    })
    .add('GET', '/images/get', async (req) => {
      await sendTar(req.res, await saveImages(images, req.query.getAll('names'), events), { 'Content-Type': 'application/x-tar' });
      return { handled: true };
    })
    .add('GET', '/images/{name}/json', async (req) => {
      const img = images.inspect(req.params.name!);
      return { status: 200, body: toDockerInspect(img, images.layerDirs(img.id)) };
    })
    .add('POST', '/images/create', async (req) => {
      const stream = new ProgressStream(req.res);
      const fromSrc = req.query.get('fromSrc');
      try {
        if (fromSrc !== null) {
          if (fromSrc !== '-') throw notImplemented('importing from a URL is not supported; pipe the tarball instead (fromSrc=-)');
          const id = await images.importImage(req.raw, {
            ...(req.query.get('repo') ? { repo: req.query.get('repo')! } : {}),
            ...(req.query.get('tag') ? { tag: req.query.get('tag')! } : {}),
            changes: req.query.getAll('changes'),
            ...(req.query.get('message') ? { message: req.query.get('message')! } : {}),
            src: '-',
          });
          stream.send({ status: id });
        } else {
          await pullRoute(req, stream, images, registries);
        }
      } catch (e: unknown) {
        stream.fail(e);
      }
      stream.end();
      return { handled: true };
    })
    // Every failure of a load is reported in the stream, under a 200, as dockerd does:
    // clients (docker load, docker-py's images.load) read it from there.
    .add('POST', '/images/load', async (req) => {
      const quiet = boolValueOrDefault(req.query, 'quiet', true);
      const stream = new ProgressStream(req.res);
      let lastSent = 0;
      try {
        const result = await images.loadArchive(req.raw, (e) => {
          if (quiet || e.type !== 'progress') return;
          const now = Date.now();
          if (now - lastSent < 100 && e.current < e.total) return;
          lastSent = now;
          stream.send({ status: e.action, progressDetail: { current: e.current, total: e.total }, id: e.id });
        });
        for (const m of result.messages) stream.send({ stream: `${m}\n` });
      } catch (e: unknown) {
        stream.sendError(e);
        await req.drain();
      }
      stream.end(undefined);
      return { handled: true };
    })
    .add('POST', '/images/{name}/tag', async (req) => {
      const repo = req.query.get('repo') ?? '';
      const tag = req.query.get('tag') ?? '';
      await images.tag(req.params.name!, tag ? `${repo}:${tag}` : repo);
      return { status: 201 };
    })
    .add('DELETE', '/images/{name}', async (req) => {
      const items = await images.remove(req.params.name!, { force: boolParam(req.query, 'force'), noprune: boolParam(req.query, 'noprune') });
      return { status: 200, body: items };
    });
}
