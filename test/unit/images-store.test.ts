import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ImageStore, type ContainerUsingImage, type LoadEvent } from '../../src/engine/images/store.js';
import { toDockerInspect, toDockerSummary } from '../../src/engine/images/docker-json.js';
import { packTar, type TarWriteEntry } from '../../src/engine/images/tar-write.js';
import { isBerthError } from '../../src/errors.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

interface World {
  dir: string;
  store: ImageStore;
  users: ContainerUsingImage[];
}

async function world(t: { after: (fn: () => Promise<void>) => void }): Promise<World> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-images-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const w: World = { dir, users: [], store: undefined as unknown as ImageStore };
  w.store = await ImageStore.open({ dataRoot: dir, users: () => w.users });
  return w;
}

function layerTar(files: Record<string, string>): Buffer {
  const entries: TarWriteEntry[] = Object.entries(files).map(([p, data]) => ({ path: p, type: 'file', data: Buffer.from(data), mtime: 1 }));
  return packTar(entries);
}

const rootfs = layerTar({ 'bin/hello': '#!/bin/sh\necho hi\n', 'etc/os-release': 'ID=test\n' });

function conflictMatching(re: RegExp): (e: unknown) => boolean {
  return (e: unknown) => isBerthError(e) && e.kind === 'Conflict' && re.test(e.message);
}

async function layerCount(w: World): Promise<number> {
  return (await fs.readdir(path.join(w.dir, 'images/layers'))).length;
}

test('import with --change, inspect and list shapes', async (t) => {
  const w = await world(t);
  const id = await w.store.importImage(Readable.from([gzipSync(rootfs)]), {
    repo: 'docker.io/library/myimg',
    tag: '1.0',
    changes: ['CMD ["/bin/hello"]', 'ENV A=1', 'EXPOSE 80', 'WORKDIR /srv', 'LABEL x=y', 'USER nobody', 'ENTRYPOINT ["/bin/sh", "-c"]'],
  });
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const img = w.store.resolve('myimg:1.0');
  assert.equal(img.id, id);
  assert.deepEqual(img.repoTags, ['myimg:1.0']);
  assert.equal(img.config.config?.User, 'nobody');
  assert.deepEqual(img.config.config?.Cmd, ['/bin/hello']);
  assert.equal(img.config.history?.[0]?.comment, 'Imported from -');
  assert.equal(img.size, Buffer.byteLength('#!/bin/sh\necho hi\n') + Buffer.byteLength('ID=test\n'));
  // The ID is the digest of the stored config bytes.
  const raw = await fs.readFile(path.join(w.dir, 'images/imagedb/content', id.slice(7)));
  assert.equal(sha(raw), id.slice(7));
  const dirs = w.store.layerDirs(id);
  assert.equal(dirs.length, 1);
  assert.equal(await fs.readFile(path.join(dirs[0] ?? '', 'bin/hello'), 'utf8'), '#!/bin/sh\necho hi\n');
  // The diff-id is the digest of the uncompressed tar.
  assert.deepEqual(img.config.rootfs.diff_ids, [`sha256:${sha(rootfs)}`]);
  const summary = toDockerSummary(img);
  assert.equal(summary.Id, id);
  assert.deepEqual(summary.RepoTags, ['myimg:1.0']);
  assert.deepEqual(summary.Labels, { x: 'y' });
  assert.equal(summary.Containers, -1);
  assert.ok(Math.abs(summary.Created - Date.now() / 1000) < 60);
  const inspect = toDockerInspect(img, dirs);
  assert.deepEqual((inspect.RootFS as { Layers: string[] }).Layers, img.config.rootfs.diff_ids);
  assert.equal((inspect.GraphDriver as { Name: string }).Name, 'overlay2');
  assert.deepEqual((inspect.Config as { ExposedPorts: unknown }).ExposedPorts, { '80/tcp': {} });
  assert.equal((inspect.Config as { WorkingDir: string }).WorkingDir, '/srv');
  assert.equal(w.store.list().length, 1);
});

test('import refuses bad names and changes before reading the stream', async (t) => {
  const w = await world(t);
  let read = false;
  const src = (async function* () {
    read = true;
    yield rootfs;
  })();
  await assert.rejects(w.store.importImage(src, { repo: 'Bad Name' }), /invalid reference format/);
  await assert.rejects(w.store.importImage(src, { changes: ['RUN rm -rf /'] }), /run is not a valid change command/);
  await assert.rejects(w.store.importImage(src, { repo: 'x', tag: 'bad/tag' }), /invalid reference format/);
  assert.equal(read, false);
});

test('lookup by tag, full ID, sha256: prefix and short ID; No such image', async (t) => {
  const w = await world(t);
  const id = await w.store.importImage(Readable.from([rootfs]), { repo: 'app' });
  const hex = id.slice(7);
  for (const ref of ['app', 'app:latest', 'docker.io/library/app:latest', id, `sha256:${hex.slice(0, 5)}`, hex.slice(0, 12), hex.slice(0, 3), hex]) {
    assert.equal(w.store.resolve(ref).id, id, ref);
  }
  assert.throws(() => w.store.resolve('busybox'), (e: unknown) => isBerthError(e) && e.kind === 'NotFound' && e.message === 'No such image: busybox:latest');
  assert.throws(() => w.store.resolve('app:2'), /No such image: app:2/);
  assert.throws(() => w.store.resolve(`sha256:${'0'.repeat(64)}`), /No such image/);
});

test('a digest reference names the image whatever tag stands beside it (a service pins name:tag@digest)', async (t) => {
  const w = await world(t);
  const id = await w.store.importImage(Readable.from([rootfs]), { repo: 'app' });
  const digest = `sha256:${'d'.repeat(64)}`;
  assert.equal(await w.store.pullTarget().point(id, [{ domain: 'r:5000', path: 'team/app', digest }]), true);
  assert.equal(w.store.resolve(`r:5000/team/app@${digest}`).id, id);
  assert.equal(w.store.resolve(`r:5000/team/app:1@${digest}`).id, id);
  assert.throws(() => w.store.resolve('r:5000/team/app:1'), /No such image: r:5000\/team\/app:1/);
});

test('tag and rmi follow Docker', async (t) => {
  const w = await world(t);
  const id = await w.store.importImage(Readable.from([rootfs]), { repo: 'a', tag: '1' });
  // 'x', not a hex name: a bare name that prefixes the image ID is an ID prefix to rmi (as in Docker).
  await w.store.tag('a:1', 'x');
  await w.store.tag(id, 'localhost:5000/c:x');
  assert.deepEqual(w.store.resolve(id).repoTags, ['a:1', 'localhost:5000/c:x', 'x:latest']);
  await assert.rejects(w.store.tag('a:1', `d@sha256:${'1'.repeat(64)}`), /refusing to create a tag with a digest reference/);
  await assert.rejects(w.store.tag('nope', 'd'), /No such image: nope:latest/);

  // By name: only that tag goes while others remain.
  assert.deepEqual(await w.store.remove('x'), [{ Untagged: 'x:latest' }]);
  // By ID with several tags: refused without force.
  await assert.rejects(
    w.store.remove(id.slice(7, 19)),
    conflictMatching(new RegExp(`^conflict: unable to delete ${id.slice(7, 19)} \\(must be forced\\) - image is referenced in multiple repositories$`)),
  );
  const records = await w.store.remove(id.slice(7, 19), { force: true });
  assert.deepEqual(records, [{ Untagged: 'a:1' }, { Untagged: 'localhost:5000/c:x' }, { Deleted: id }, { Deleted: `sha256:${sha(rootfs)}` }]);
  assert.equal(w.store.list().length, 0);
  assert.equal(await layerCount(w), 0);
  // Tags are persisted atomically and survive a reopen.
  const id2 = await w.store.importImage(Readable.from([rootfs]), { repo: 'persist' });
  const reopened = await ImageStore.open({ dataRoot: w.dir });
  assert.equal(reopened.resolve('persist').id, id2);
  const repos = JSON.parse(await fs.readFile(path.join(w.dir, 'images/repositories.json'), 'utf8')) as unknown;
  assert.deepEqual(repos, { Repositories: { persist: { 'persist:latest': id2 } } });
});

test('rmi of the last tag deletes the image, keeping layers other images share', async (t) => {
  const w = await world(t);
  const one = await w.store.importImage(Readable.from([rootfs]), { repo: 'one' });
  const two = await w.store.importImage(Readable.from([rootfs]), { repo: 'two', message: 'second' });
  assert.notEqual(one, two);
  assert.equal(await layerCount(w), 1);
  assert.deepEqual(await w.store.remove('one'), [{ Untagged: 'one:latest' }, { Deleted: one }]);
  assert.equal(await layerCount(w), 1);
  assert.equal((await fs.readdir(w.store.layerDirs(two)[0] ?? '')).length > 0, true);
  await w.store.remove('two');
  assert.equal(await layerCount(w), 0);
});

test('images used by containers are refused with Docker\'s messages', async (t) => {
  const w = await world(t);
  const id = await w.store.importImage(Readable.from([rootfs]), { repo: 'busybox' });
  const short = id.slice(7, 19);
  const ctr = 'c0ffee'.repeat(10) + 'abcd';
  w.users = [{ id: ctr, running: false }];
  await assert.rejects(
    w.store.remove('busybox'),
    conflictMatching(new RegExp(`^conflict: unable to remove repository reference "busybox" \\(must force\\) - container ${ctr.slice(0, 12)} is using its referenced image ${short}$`)),
  );
  await assert.rejects(w.store.remove(short), conflictMatching(new RegExp(`^conflict: unable to delete ${short} \\(must be forced\\) - image is being used by stopped container ${ctr.slice(0, 12)}$`)));
  w.users = [{ id: ctr, running: true }];
  await assert.rejects(w.store.remove(id, { force: true }), conflictMatching(new RegExp(`\\(cannot be forced\\) - image is being used by running container ${ctr.slice(0, 12)}$`)));
  // Forcing a name untags; the image stays (dangling) while the container runs.
  assert.deepEqual(await w.store.remove('busybox', { force: true }), [{ Untagged: 'busybox:latest' }]);
  assert.deepEqual(w.store.resolve(id).repoTags, []);
  // Stopped: force deletes the image, but the container keeps its layers until gc.
  w.users = [{ id: ctr, running: false }];
  assert.deepEqual(await w.store.remove(id, { force: true }), [{ Deleted: id }]);
  assert.throws(() => w.store.resolve(id), /No such image/);
  const dirs = w.store.layerDirs(id);
  assert.ok((await fs.stat(dirs[0] ?? '')).isDirectory());
  assert.deepEqual(await w.store.gc(), []);
  w.users = [];
  assert.deepEqual(await w.store.gc(), [`sha256:${sha(rootfs)}`]);
  assert.throws(() => w.store.layerDirs(id), /No such image/);
  assert.equal(await layerCount(w), 0);
});

test('busybox synthesis: deterministic ID for every tag, applets present', async (t) => {
  const w = await world(t);
  const a = await w.store.ensureBusybox('busybox');
  const b = await w.store.ensureBusybox('busybox:1.36');
  const c = await w.store.ensureBusybox('busybox:local');
  assert.equal(a, b);
  assert.equal(b, c);
  assert.deepEqual(w.store.resolve(a).repoTags, ['busybox:1.36', 'busybox:latest', 'busybox:local']);
  const img = w.store.resolve('busybox');
  assert.deepEqual(img.config.config?.Cmd, ['sh']);
  assert.deepEqual(img.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  const [root] = w.store.layerDirs(a);
  assert.ok(root !== undefined);
  assert.equal((await fs.stat(path.join(root, 'bin/busybox'))).mode & 0o777, 0o755);
  for (const applet of ['bin/sh', 'usr/bin/wget', 'bin/ls', 'sbin/ip']) {
    assert.equal(await fs.readlink(path.join(root, applet)), '/bin/busybox', applet);
  }
  assert.equal((await fs.stat(path.join(root, 'tmp'))).mode & 0o7777, 0o1777);
  assert.match(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  assert.match(await fs.readFile(path.join(root, 'etc/passwd'), 'utf8'), /^nobody:x:65534:/m);
  assert.equal((await fs.stat(path.join(root, 'etc/resolv.conf'))).size, 0);
  assert.match(await fs.readFile(path.join(root, 'www/index.html'), 'utf8'), /<html>/);
  for (const d of ['proc', 'sys', 'dev', 'home', 'var', 'usr', 'root']) assert.ok((await fs.stat(path.join(root, d))).isDirectory(), d);
  // Another store on another data root synthesises the very same image.
  const other = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-images-'));
  t.after(() => fs.rm(other, { recursive: true, force: true }));
  const s2 = await ImageStore.open({ dataRoot: other });
  assert.equal(await s2.ensureBusybox(), a);
  // An existing tag is kept.
  const imported = await w.store.importImage(Readable.from([rootfs]), { repo: 'busybox', tag: 'mine' });
  assert.equal(await w.store.ensureBusybox('busybox:mine'), imported);
});

test('busybox synthesis fails clearly without a static busybox', async (t) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-images-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const missing = await ImageStore.open({ dataRoot: dir, busyboxPath: path.join(dir, 'nope') });
  await assert.rejects(missing.ensureBusybox(), (e: unknown) => isBerthError(e) && e.kind === 'Unavailable' && /busybox-static/.test(e.message));
  const dynamic = await ImageStore.open({ dataRoot: dir, busyboxPath: '/bin/ls' });
  await assert.rejects(dynamic.ensureBusybox(), /not a statically linked executable.*busybox-static/);
});

/** A docker-save archive (the classic layout: <id>/layer.tar, <config>.json, manifest.json). */
function dockerSave(layers: Buffer[], tags: string[], configExtra: Record<string, unknown> = {}): { archive: Buffer; id: string } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-02T03:04:05Z',
      config: { Cmd: ['/bin/hello'], Env: ['PATH=/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l)}`) },
      history: layers.map(() => ({ created: '2024-01-02T03:04:05Z', created_by: 'test' })),
      ...configExtra,
    }),
  );
  const cfgHex = sha(config);
  const entries: TarWriteEntry[] = [];
  const layerPaths: string[] = [];
  for (const [i, l] of layers.entries()) {
    const dir = sha(`v1-${i}-${sha(l)}`);
    entries.push({ path: dir, type: 'directory' }, { path: `${dir}/VERSION`, type: 'file', data: Buffer.from('1.0') }, { path: `${dir}/layer.tar`, type: 'file', data: l });
    layerPaths.push(`${dir}/layer.tar`);
  }
  entries.push({ path: `${cfgHex}.json`, type: 'file', data: config });
  entries.push({ path: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify([{ Config: `${cfgHex}.json`, RepoTags: tags, Layers: layerPaths }])) });
  return { archive: packTar(entries), id: `sha256:${cfgHex}` };
}

test('docker load of a docker-save archive: layers verified, shared, progress reported', async (t) => {
  const w = await world(t);
  const imported = await w.store.importImage(Readable.from([rootfs]), { repo: 'base' });
  const top = layerTar({ 'etc/motd': 'welcome\n' });
  const { archive, id } = dockerSave([rootfs, top], ['myimg:latest', 'docker.io/library/myimg:v2']);
  const events: LoadEvent[] = [];
  const res = await w.store.loadArchive(Readable.from([gzipSync(archive)]), (e) => events.push(e));
  assert.deepEqual(res.messages, ['Loaded image: myimg:latest', 'Loaded image: myimg:v2']);
  assert.deepEqual(res.images, [{ id, tags: ['myimg:latest', 'myimg:v2'] }]);
  // The base layer was already there: only the top one was read.
  const progress = events.filter((e) => e.type === 'progress');
  assert.ok(progress.length > 0);
  assert.ok(progress.every((e) => e.type === 'progress' && e.id === sha(top).slice(0, 12)));
  const last = progress[progress.length - 1];
  assert.ok(last?.type === 'progress' && last.current === last.total);
  assert.equal(await layerCount(w), 2);
  const dirs = w.store.layerDirs(w.store.resolve('myimg:v2').id);
  assert.deepEqual(dirs, [...w.store.layerDirs(imported), dirs[1]]);
  assert.equal(await fs.readFile(path.join(dirs[1] ?? '', 'etc/motd'), 'utf8'), 'welcome\n');
  assert.equal(w.store.resolve('myimg').config.created, '2024-01-02T03:04:05Z');
  assert.equal(toDockerSummary(w.store.resolve('myimg')).Created, Date.parse('2024-01-02T03:04:05Z') / 1000);
  // Loading another image under an existing tag moves the tag, as Docker says.
  const again = dockerSave([top], ['myimg:latest']);
  const res2 = await w.store.loadArchive(Readable.from([again.archive]));
  assert.deepEqual(res2.messages, [`The image myimg:latest already exists, renaming the old one with ID ${id} to empty string`, 'Loaded image: myimg:latest']);
  // Untagged archives report the ID.
  const untagged = dockerSave([top], [], { created: '2020-01-01T00:00:00Z' });
  assert.deepEqual((await w.store.loadArchive(Readable.from([untagged.archive]))).messages, [`Loaded image ID: ${untagged.id}`]);
});

test('docker load refuses layers that do not match the config', async (t) => {
  const w = await world(t);
  const good = dockerSave([rootfs], ['x:1']);
  const bad = good.archive.toString('latin1').replace('echo hi', 'echo HI');
  await assert.rejects(w.store.loadArchive(Readable.from([Buffer.from(bad, 'latin1')])), (e: unknown) =>
    isBerthError(e) && /^invalid diffID for layer 0: expected "sha256:[a-f0-9]{64}", got "sha256:[a-f0-9]{64}"$/.test(e.message),
  );
  assert.throws(() => w.store.resolve('x:1'), /No such image/);
  assert.equal(await layerCount(w), 0);
  assert.deepEqual(await fs.readdir(path.join(w.dir, 'images/tmp')), []);
});

test('docker load refuses archive paths that leave the archive', async (t) => {
  const w = await world(t);
  const manifest = JSON.stringify([{ Config: '../../etc/passwd', RepoTags: [], Layers: [] }]);
  const archive = packTar([{ path: 'manifest.json', type: 'file', data: Buffer.from(manifest) }]);
  await assert.rejects(w.store.loadArchive(Readable.from([archive])), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter');
  const viaLink = packTar([
    { path: 'cfg.json', type: 'symlink', linkpath: '/etc/passwd' },
    { path: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify([{ Config: 'cfg.json', RepoTags: [], Layers: [] }])) },
  ]);
  await assert.rejects(w.store.loadArchive(Readable.from([viaLink])), /points outside the archive/);
});

test('docker load of an OCI image layout (gzip layers, index, nested index)', async (t) => {
  const w = await world(t);
  const layer = layerTar({ 'app/run.sh': 'echo oci\n' });
  const gz = gzipSync(layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(gz)}`, size: gz.length }],
    }),
  );
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const nested = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'9'.repeat(64)}`, size: 1, platform: { os: 'linux', architecture: 'nonexistent' } },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, platform: { os: 'linux', architecture: arch } },
      ],
    }),
  );
  const index = {
    schemaVersion: 2,
    manifests: [
      { mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${sha(nested)}`, size: nested.length, annotations: { 'org.opencontainers.image.ref.name': 'docker.io/library/ocitest:2' } },
      { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'io.containerd.image.name': 'localhost:5000/oci/x:y', 'org.opencontainers.image.ref.name': 'y' } },
    ],
  };
  const blob = (b: Buffer): TarWriteEntry => ({ path: `blobs/sha256/${sha(b)}`, type: 'file', data: b });
  const archive = packTar([
    { path: 'oci-layout', type: 'file', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { path: 'index.json', type: 'file', data: Buffer.from(JSON.stringify(index)) },
    blob(config),
    blob(manifest),
    blob(nested),
    blob(gz),
  ]);
  const res = await w.store.loadArchive(Readable.from([archive]));
  assert.deepEqual(res.messages, ['Loaded image: ocitest:2', 'Loaded image: localhost:5000/oci/x:y']);
  const img = w.store.resolve('ocitest:2');
  assert.equal(img.id, `sha256:${sha(config)}`);
  assert.equal(await fs.readFile(path.join(w.store.layerDirs(img.id)[0] ?? '', 'app/run.sh'), 'utf8'), 'echo oci\n');
  // A bare tag as ref.name names no repository: the image loads untagged.
  const bare = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] };
  const archive2 = packTar([{ path: 'index.json', type: 'file', data: Buffer.from(JSON.stringify(bare)) }, blob(config), blob(manifest), blob(gz)]);
  assert.deepEqual((await w.store.loadArchive(Readable.from([archive2]))).messages, [`Loaded image ID: ${img.id}`]);
});

test('concurrent imports of the same layer share one directory', async (t) => {
  const w = await world(t);
  const big = layerTar(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`d${i % 7}/f${i}`, `content ${i}\n`.repeat(50)])));
  const ids = await Promise.all(Array.from({ length: 4 }, (_, i) => w.store.importImage(Readable.from([big]), { repo: `c${i}` })));
  assert.equal(new Set(ids.map((id) => w.store.resolve(id).config.rootfs.diff_ids[0])).size, 1);
  assert.equal(await layerCount(w), 1);
  assert.deepEqual(await fs.readdir(path.join(w.dir, 'images/tmp')), []);
  const [dir] = w.store.layerDirs(ids[0] ?? '');
  assert.equal(await fs.readFile(path.join(dir ?? '', 'd3/f10'), 'utf8'), 'content 10\n'.repeat(50));
  // Removing all but one keeps the layer; a concurrent rmi and import do not lose it.
  await Promise.all([w.store.remove('c0'), w.store.remove('c1'), w.store.remove('c2'), w.store.importImage(Readable.from([big]), { repo: 'c4' })]);
  await w.store.remove('c3');
  assert.equal(await layerCount(w), 1);
  assert.equal(await fs.readFile(path.join(w.store.layerDirs(w.store.resolve('c4').id)[0] ?? '', 'd3/f10'), 'utf8'), 'content 10\n'.repeat(50));
});

test('docker load of a legacy (pre-1.10) archive builds the config from v1 JSON', async (t) => {
  const w = await world(t);
  const base = layerTar({ 'bin/x': 'x' });
  const top = layerTar({ 'etc/y': 'y' });
  const baseId = 'a'.repeat(64);
  const topId = 'b'.repeat(64);
  const v1 = (id: string, parent: string | undefined, cmd: string): Buffer =>
    Buffer.from(JSON.stringify({ id, ...(parent ? { parent } : {}), created: '2015-01-01T00:00:00Z', container_config: { Cmd: ['/bin/sh', '-c', cmd] }, config: { Cmd: ['/bin/x'] }, architecture: 'amd64', os: 'linux', Size: 1 }));
  const archive = packTar([
    { path: `${baseId}/json`, type: 'file', data: v1(baseId, undefined, 'ADD x') },
    { path: `${baseId}/layer.tar`, type: 'file', data: base },
    { path: `${topId}/json`, type: 'file', data: v1(topId, baseId, 'ADD y') },
    { path: `${topId}/layer.tar`, type: 'file', data: top },
    { path: 'repositories', type: 'file', data: Buffer.from(JSON.stringify({ old: { v1: topId } })) },
  ]);
  const res = await w.store.loadArchive(Readable.from([archive]));
  assert.deepEqual(res.messages, ['Loaded image: old:v1']);
  const img = w.store.resolve('old:v1');
  assert.deepEqual(img.config.rootfs.diff_ids, [`sha256:${sha(base)}`, `sha256:${sha(top)}`]);
  assert.deepEqual(img.config.config?.Cmd, ['/bin/x']);
  assert.deepEqual(img.config.history?.map((h) => h.created_by), ['/bin/sh -c ADD x', '/bin/sh -c ADD y']);
  assert.equal(w.store.layerDirs(img.id).length, 2);
});
