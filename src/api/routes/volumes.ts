/** /volumes routes (local driver). */
import { wrapError } from '../../errors.js';
import type { VolumeStore, Volume } from '../../engine/volumes/store.js';
import type { Router } from '../router.js';
import { asObject, boolParam, optString, parseFilters, stringMap } from '../wire.js';
import { volumeListFilter } from './volume-filters.js';

export function shape(v: Volume): Record<string, unknown> {
  return { CreatedAt: v.createdAt, Driver: v.driver, Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name, Options: v.options, Scope: 'local' };
}

export function volumeRoutes(router: Router, volumes: VolumeStore, usedBy: (name: string) => string[]): void {
  router
    .add('GET', '/volumes', async (req) => {
      const keep = volumeListFilter(volumeFilters(req.query.get('filters')), (name) => usedBy(name).length > 0);
      return { status: 200, body: { Volumes: volumes.list().filter(keep).map(shape), Warnings: [] } };
    })
    .add('POST', '/volumes/create', async (req) => {
      const o = asObject(await req.json(), 'volume create');
      const v = volumes.create(optString(o, 'Name') ?? '', { labels: stringMap(o, 'Labels'), options: stringMap(o, 'DriverOpts'), driver: optString(o, 'Driver') || 'local' });
      return { status: 201, body: shape(v) };
    })
    .add('GET', '/volumes/{id}', async (req) => ({ status: 200, body: shape(volumes.get(req.params.id!)) }))
    .add('DELETE', '/volumes/{id}', async (req) => {
      volumes.remove(req.params.id!, usedBy(req.params.id!), boolParam(req.query, 'force'));
      return { status: 204 };
    });
}

/** The filters parameter; unreadable JSON is worded as dockerd's volume router words it. */
function volumeFilters(raw: string | null): Record<string, string[]> {
  try {
    return parseFilters(raw);
  } catch (e: unknown) {
    throw wrapError(e, 'error reading volume filters');
  }
}
