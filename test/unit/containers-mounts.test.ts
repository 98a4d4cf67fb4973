import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';
import type { MountConfig } from '../../src/engine/containers/model.js';
import { mountOrder, planMounts } from '../../src/engine/containers/mounts.js';
import { ANONYMOUS_LABEL, VolumeStore } from '../../src/engine/volumes/store.js';

const vol = (source: string, destination: string, extra: Partial<MountConfig> = {}): MountConfig => ({ type: 'volume', source, destination, readonly: false, ...extra });

test('every Config.Volumes path nothing else mounts gets an anonymous volume', () => {
  assert.deepEqual(planMounts([], [vol('vol1', '/data')], ['/data', '/anon']), [vol('vol1', '/data'), vol('', '/anon', { anonymous: true })]);
});

test('--volumes-from mounts are shared as they are, read-only with :ro', () => {
  const src = [vol('abc', '/anon', { anonymous: true }), { type: 'bind' as const, source: '/h', destination: '/h', readonly: false }];
  assert.deepEqual(planMounts([{ mounts: src, readonly: true }], [], ['/anon']), [
    vol('abc', '/anon', { anonymous: true, readonly: true }),
    { type: 'bind', source: '/h', destination: '/h', readonly: true },
  ]);
});

test('binds and --mount replace --volumes-from mounts on the same destination', () => {
  const from = [{ mounts: [vol('shared', '/d')], readonly: false }];
  assert.deepEqual(planMounts(from, [vol('mine', '/d')], ['/d']), [vol('mine', '/d')]);
});

test('mounts are made parents first, in order otherwise', () => {
  const order = mountOrder([{ destination: '/data/sub' }, { destination: '/etc/hosts' }, { destination: '/data' }, { destination: '/anon' }]);
  assert.deepEqual(order.map((m) => m.destination), ['/data', '/anon', '/data/sub', '/etc/hosts']);
});

test('create requests: anonymous --mount volumes, cleaned and unique destinations, Config.Volumes', () => {
  const parse = (body: object) => parseContainerCreate({ Image: 'busybox', ...body }, null).req;
  const req = parse({
    Volumes: { '/anon/': {}, rel: {} },
    HostConfig: { Binds: ['data:/data/'], Mounts: [{ Type: 'volume', Target: '/m' }, { Type: 'volume', Source: 'xx', Target: '/n' }] },
  });
  assert.deepEqual(req.volumes, ['/anon', '/rel']);
  assert.deepEqual(req.mounts, [vol('data', '/data'), vol('', '/m', { anonymous: true }), vol('xx', '/n')]);
  assert.throws(() => parse({ HostConfig: { Binds: ['aa:/d', '/h:/d/'] } }), { message: 'Duplicate mount point: /d' });
  assert.throws(() => parse({ HostConfig: { Binds: [':/d'] } }), { message: "invalid volume specification: ':/d'" });
});

test('a volume made without a name gets a random one and Docker\'s anonymous label', () => {
  const dataRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vols-'));
  try {
    const store = new VolumeStore(dataRoot);
    const v = store.create('', { labels: { a: 'b' } });
    assert.match(v.name, /^[0-9a-f]{64}$/);
    assert.deepEqual(v.labels, { a: 'b', [ANONYMOUS_LABEL]: '' });
    assert.deepEqual(store.create('named').labels, {});
  } finally {
    fs.rmSync(dataRoot, { recursive: true, force: true });
  }
});
