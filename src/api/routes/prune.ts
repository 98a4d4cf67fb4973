/**
 * POST /containers/prune, /images/prune, /volumes/prune and /build/prune (berth has no
 * build cache: nothing to remove). Filters are checked here, at the edge, with dockerd's
 * texts; the engine's Pruner removes. Empty lists are null where dockerd's are (nil slices).
 */
import type { ImageRecord } from '../../engine/images/index.js';
import type { Pruner } from '../../engine/prune.js';
import { ANONYMOUS_LABEL } from '../../engine/volumes/store.js';
import { invalid } from '../../errors.js';
import { compareVersions, type Router } from '../router.js';
import { parseFilters } from '../wire.js';
import { boolFilter, goBool, labelsMatch, parsePruneFilters, PRUNE_KEYS } from './prune-filters.js';

const IMAGE_KEYS: ReadonlySet<string> = new Set([...PRUNE_KEYS, 'dangling']);
const VOLUME_KEYS: ReadonlySet<string> = new Set(['label', 'label!', 'all']);

export function pruneRoutes(router: Router, pruner: Pruner): void {
  router
    .add('POST', '/containers/prune', async (req) => {
      const keep = parsePruneFilters(parseFilters(req.query.get('filters')));
      const r = await pruner.containers((c) => keep({ created: c.created, labels: c.spec.labels }));
      return { status: 200, body: { ContainersDeleted: nullIfEmpty(r.deleted), SpaceReclaimed: r.reclaimed } };
    })
    .add('POST', '/images/prune', async (req) => {
      const raw = parseFilters(req.query.get('filters'));
      const keep = parsePruneFilters(raw, IMAGE_KEYS);
      // An image without a run config has no labels to filter on: only until applies (dockerd).
      const keepBare = parsePruneFilters(raw.until ? { until: raw.until } : {});
      const danglingOnly = boolFilter(raw, 'dangling', true);
      const select = (img: ImageRecord) => (img.config.config ? keep : keepBare)({ created: img.config.created, labels: img.config.config?.Labels ?? {} });
      const r = await pruner.images({ danglingOnly, select });
      return { status: 200, body: { ImagesDeleted: nullIfEmpty(r.deleted), SpaceReclaimed: r.reclaimed } };
    })
    .add('POST', '/volumes/prune', async (req) => {
      const raw = parseFilters(req.query.get('filters'));
      for (const key of Object.keys(raw)) if (!VOLUME_KEYS.has(key)) throw invalid(`invalid filter '${key}'`);
      // Before API 1.42 every unused volume went; since, only anonymous ones unless all=true.
      const all = compareVersions(req.version, '1.42') < 0 || allFilter(raw.all);
      const label = [...(raw.label ?? []), ...(all ? [] : [ANONYMOUS_LABEL])];
      const notLabel = raw['label!'];
      const r = await pruner.volumes((v) => labelsMatch(label, v.labels) && (notLabel === undefined || !labelsMatch(notLabel, v.labels)));
      return { status: 200, body: { VolumesDeleted: r.deleted, SpaceReclaimed: r.reclaimed } };
    })
    .add('POST', '/build/prune', async (req) => {
      parseFilters(req.query.get('filters'));
      return { status: 200, body: { CachesDeleted: [], SpaceReclaimed: 0 } };
    });
}

/** volume prune's all: at most one value, Go's ParseBool. */
function allFilter(values: string[] | undefined): boolean {
  if (values === undefined || values.length === 0) return false;
  if (values.length > 1) throw invalid(`invalid filter 'all=[${values.join(' ')}]': only one value is expected`);
  return goBool('all', values[0]!);
}

function nullIfEmpty<T>(list: T[]): T[] | null {
  return list.length === 0 ? null : list;
}
