/** /containers routes of the everyday verbs: rename, pause, unpause, top, stats. */
import { invalid } from '../../errors.js';
import type { ContainerEngine } from '../../engine/containers/engine.js';
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { StatsSample } from '../../engine/containers/stats.js';
import type { ApiRequest, Router } from '../router.js';
import { API_VERSION } from '../router.js';
import { cpuShape, statsShape, type PreviousSample } from '../shapes/stats.js';

/** How often a stats stream samples, as dockerd's collector. */
const STATS_INTERVAL_MS = 1000;

export function containerOpsRoutes(router: Router, engine: ContainerEngine): void {
  router
    .add('POST', '/containers/{id}/rename', async (req) => {
      await engine.ops.rename(req.params.id!, req.query.get('name') ?? '');
      return { status: 204 };
    })
    .add('POST', '/containers/{id}/pause', async (req) => {
      await engine.ops.pause(req.params.id!);
      return { status: 204 };
    })
    .add('POST', '/containers/{id}/unpause', async (req) => {
      await engine.ops.unpause(req.params.id!);
      return { status: 204 };
    })
    .add('GET', '/containers/{id}/top', async (req) => ({ status: 200, body: await engine.ops.top(req.params.id!, req.query.get('ps_args') ?? '') }))
    .add('GET', '/containers/{id}/stats', async (req) => {
      const c = engine.find(req.params.id!);
      const stream = goBool(req.query, 'stream', true);
      const oneShot = goBool(req.query, 'one-shot', false);
      if (stream && oneShot) throw invalid('cannot have stream=true and one-shot=true');
      if (stream) {
        await streamStats(req, engine, c);
        return { handled: true };
      }
      const first = await engine.ops.stats(c);
      // Not one-shot: a second sample a second later, so the CPU counters have a previous one (dockerd's priming).
      if (first === undefined || oneShot) return { status: 200, body: statsShape(c, first, undefined) };
      await sleep(STATS_INTERVAL_MS);
      const now = current(engine, c.id) ?? c;
      return { status: 200, body: statsShape(now, await engine.ops.stats(now), previous(first)) };
    });
}

/** A sample a second until the client leaves or the container is removed; a stopped one's are empty. */
async function streamStats(req: ApiRequest, engine: ContainerEngine, c0: ContainerRecord): Promise<void> {
  const res = req.res;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': API_VERSION, Ostype: 'linux', Server: 'berth' });
  res.flushHeaders();
  let open = true;
  res.on('close', () => (open = false));
  let pre: PreviousSample | undefined;
  for (;;) {
    const c = current(engine, c0.id);
    if (!c || !open) break;
    const sample = await engine.ops.stats(c);
    if (!open) break;
    if (!res.write(JSON.stringify(statsShape(c, sample, pre)) + '\n')) await new Promise((r) => res.once('drain', r));
    pre = sample ? previous(sample) : undefined;
    await sleep(STATS_INTERVAL_MS);
  }
  res.end();
}

function previous(sample: StatsSample): PreviousSample {
  return { read: sample.read, cpu: cpuShape(sample) };
}

/** The container as it is now; undefined once removed. */
function current(engine: ContainerEngine, id: string): ContainerRecord | undefined {
  try {
    return engine.find(id);
  } catch {
    return undefined;
  }
}

/** Go's httputils.BoolValueOrDefault: absent is the default; "", 0, no, false and none are false. */
function goBool(q: URLSearchParams, key: string, def: boolean): boolean {
  const v = q.get(key);
  if (v === null) return def;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

async function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
