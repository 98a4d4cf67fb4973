import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';
import type { MountConfig } from '../../src/engine/containers/model.js';
import { mountOrder, planMounts } from '../../src/engine/containers/mounts.js';
import { tmpfsOptions } from '../../src/engine/containers/tmpfs.js';
import { resolveInRoot } from '../../src/engine/volumes/image-view.js';
import { ANONYMOUS_LABEL, VolumeStore } from '../../src/engine/volumes/store.js';

const vol = (source: string, destination: string, extra: Partial<MountConfig> = {}): MountConfig => ({ type: 'volume', source, destination, readonly: false, ...extra });

test('every Config.Volumes path nothing else mounts gets an anonymous volume', () => {
  assert.deepEqual(planMounts([], [vol('vol1', '/data')], ['/data', '/anon']), [vol('vol1', '/data'), vol('', '/anon', { anonymous: true })]);
});

test('--volumes-from mounts are shared as they are, read-only with :ro, and never filled again', () => {
  const src = [vol('abc', '/anon', { anonymous: true }), { type: 'bind' as const, source: '/h', destination: '/h', readonly: false }];
  assert.deepEqual(planMounts([{ mounts: src, readonly: true }], [], ['/anon']), [
    vol('abc', '/anon', { anonymous: true, readonly: true, noCopy: true }),
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

test('create requests: nocopy, anonymous --mount volumes, cleaned and unique destinations, Config.Volumes', () => {
  const parse = (body: object) => parseContainerCreate({ Image: 'busybox', ...body }, null).req;
  const req = parse({
    Volumes: { '/anon/': {}, rel: {} },
    HostConfig: { Binds: ['data:/data/:nocopy'], Mounts: [{ Type: 'volume', Target: '/m' }, { Type: 'volume', Source: 'xx', Target: '/n', VolumeOptions: { NoCopy: true } }] },
  });
  assert.deepEqual(req.volumes, ['/anon', '/rel']);
  assert.deepEqual(req.mounts, [vol('data', '/data', { noCopy: true }), vol('', '/m', { anonymous: true }), vol('xx', '/n', { noCopy: true })]);
  assert.throws(() => parse({ HostConfig: { Binds: ['aa:/d', '/h:/d/'] } }), { message: 'Duplicate mount point: /d' });
  assert.throws(() => parse({ HostConfig: { Binds: [':/d'] } }), { message: "invalid volume specification: ':/d'" });
});

test('paths resolve inside the image root: symlinks and .. never leave it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-root-'));
  try {
    fs.mkdirSync(path.join(root, 'srv', 'data'), { recursive: true });
    fs.symlinkSync('/srv/data', path.join(root, 'abs'));
    fs.symlinkSync('../../../../etc', path.join(root, 'srv', 'up'));
    fs.symlinkSync('data', path.join(root, 'srv', 'rel'));
    fs.symlinkSync('loop', path.join(root, 'loop'));
    assert.equal(resolveInRoot(root, '/abs'), path.join(root, 'srv', 'data'));
    assert.equal(resolveInRoot(root, '/srv/rel/x'), path.join(root, 'srv', 'data', 'x'));
    assert.equal(resolveInRoot(root, '/srv/up/passwd'), path.join(root, 'etc', 'passwd'));
    assert.equal(resolveInRoot(root, '/../../etc'), path.join(root, 'etc'));
    assert.equal(resolveInRoot(root, '/missing/more'), path.join(root, 'missing', 'more'));
    assert.throws(() => resolveInRoot(root, '/loop'), /too many levels of symbolic links/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
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

test('--tmpfs: Docker\'s defaults, the user\'s options over them, checked destinations', () => {
  assert.deepEqual(tmpfsOptions(''), ['noexec', 'nosuid', 'nodev', 'rprivate']);
  assert.deepEqual(tmpfsOptions('rw,size=64m'), ['noexec', 'nosuid', 'nodev', 'rprivate', 'rw', 'size=64m']);
  assert.deepEqual(tmpfsOptions('exec,size=1m,size=2m,shared'), ['nosuid', 'nodev', 'exec', 'size=2m', 'shared']);
  assert.throws(() => tmpfsOptions('size=1m,foo=bar'), /Invalid tmpfs option \["foo" "bar"\]$/);
  assert.throws(() => tmpfsOptions('nope'), /Invalid tmpfs option \["nope"\]/);
  const parse = (hc: object) => parseContainerCreate({ Image: 'busybox', HostConfig: hc }, null).req;
  const req = parse({ Tmpfs: { '/run/': '', '/t': 'size=1m' }, ReadonlyRootfs: true });
  assert.deepEqual(req.tmpfs, [
    { destination: '/run', options: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
    { destination: '/t', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=1m'] },
  ]);
  assert.equal(req.readonlyRootfs, true);
  assert.throws(() => parse({ Tmpfs: { t: '' } }), /invalid mount path: 't' mount path must be absolute/);
  assert.throws(() => parse({ Tmpfs: { '/': '' } }), /destination can't be '\/'/);
  assert.throws(() => parse({ Tmpfs: { '/d': '' }, Binds: ['vol:/d'] }), /Duplicate mount point: \/d/);
});
