/** /volumes routes (local driver). */
import type { VolumeStore, Volume } from '../../engine/volumes/store.js';
import type { Router } from '../router.js';
import { asObject, boolParam, optString, stringMap } from '../wire.js';

function shape(v: Volume): Record<string, unknown> {
  return { CreatedAt: v.createdAt, Driver: 'local', Labels: v.labels, Mountpoint: v.mountpoint, Name: v.name, Options: v.options, Scope: 'local' };
}

export function volumeRoutes(router: Router, volumes: VolumeStore, usedBy: (name: string) => string[]): void {
  router
    .add('GET', '/volumes', async () => ({ status: 200, body: { Volumes: volumes.list().map(shape), Warnings: [] } }))
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
