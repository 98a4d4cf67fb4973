/** Layers written again byte for byte, docker save's archive (and load of it), history, child images. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ImageStore, EMPTY_LAYER } from '../../src/engine/images/store.js';
import { saveImages, chooseImages } from '../../src/engine/images/save.js';
import { imageHistory } from '../../src/engine/images/history.js';
import { readTar } from '../../src/engine/images/tar.js';
import { packTar, type TarWriteEntry } from '../../src/engine/images/tar-write.js';
import type { Digest } from '../../src/engine/images/config.js';
import { isBerthError } from '../../src/errors.js';

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function store(t: { after: (fn: () => Promise<void>) => void }): Promise<ImageStore> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-save-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return ImageStore.open({ dataRoot: dir });
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(c);
  return Buffer.concat(out);
}

/** A layer with what makes a tar hard to reproduce: long names (PAX), a hard link, a whiteout, odd sizes, trailing zeros. */
function trickyLayer(): Buffer {
  const long = `${'d'.repeat(120)}/${'f'.repeat(90)}`;
  const entries: TarWriteEntry[] = [
    { path: 'etc', type: 'directory', mode: 0o755, mtime: 7 },
    { path: 'etc/a', type: 'file', data: Buffer.from('x'.repeat(1000)), mode: 0o600, uid: 12, gid: 34, mtime: 8 },
    { path: 'etc/b', type: 'hardlink', linkpath: 'etc/a', mtime: 8 },
    { path: 'etc/.wh.gone', type: 'file', data: Buffer.alloc(0), mtime: 9 },
    { path: 'etc/link', type: 'symlink', linkpath: '/etc/a', mtime: 9 },
    { path: long, type: 'file', data: Buffer.from('long\n'), mtime: 10 },
  ];
  return Buffer.concat([packTar(entries), Buffer.alloc(4096)]);
}

test('a layer is written again byte for byte: its digest is its diff-id', async (t) => {
  const s = await store(t);
  const tar = trickyLayer();
  const id = await s.importImage(Readable.from([tar]), { repo: 'tricky', tag: 'v1' });
  const diffId = s.get(id)!.config.rootfs.diff_ids[0]!;
  assert.equal(diffId, sha(tar));
  const again = await s.layerArchive(diffId);
  assert.equal(again.size, tar.length);
  assert.ok((await collect(again.chunks)).equals(tar));
});

test("docker save's archive: OCI layout, manifest.json, repositories; it loads back to the same images", async (t) => {
  const s = await store(t);
  const id = await s.importImage(Readable.from([trickyLayer()]), { repo: 'tricky', tag: 'v1' });
  await s.tag(id, 'tricky:v2');
  const tar = await collect(await saveImages(s, ['tricky']));
  const files = new Map<string, Buffer>();
  for await (const e of readTar(Readable.from([tar]))) if (e.header.type === 'file') files.set(e.header.path, await collect(e.body));
  const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { Config: string; RepoTags: string[]; Layers: string[] }[];
  assert.deepEqual(manifest.map((m) => m.RepoTags), [['tricky:v1', 'tricky:v2']]);
  assert.equal(manifest[0]!.Config, `blobs/sha256/${id.slice(7)}`);
  for (const l of manifest[0]!.Layers) assert.equal(sha(files.get(l)!), `sha256:${path.basename(l)}`);
  assert.equal(sha(files.get(manifest[0]!.Config)!), id);
  assert.deepEqual(JSON.parse(files.get('repositories')!.toString()), { tricky: { v1: manifest[0]!.Layers[0]!.slice(13), v2: manifest[0]!.Layers[0]!.slice(13) } });
  assert.equal(files.get('oci-layout')!.toString(), '{"imageLayoutVersion": "1.0.0"}');
  const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  assert.deepEqual(index.manifests.map((m) => m.annotations), [
    { 'io.containerd.image.name': 'docker.io/library/tricky:v1', 'org.opencontainers.image.ref.name': 'v1' },
    { 'io.containerd.image.name': 'docker.io/library/tricky:v2', 'org.opencontainers.image.ref.name': 'v2' },
  ]);
  assert.ok(files.has(`blobs/sha256/${index.manifests[0]!.digest.slice(7)}`));

  const other = await store(t);
  const loaded = await other.loadArchive(Readable.from([tar]));
  assert.deepEqual(loaded.images, [{ id, tags: ['tricky:v1', 'tricky:v2'] }]);
});

test('save chooses images as dockerd: a bare name takes every tag, an ID no tag, unknown names are errors', async (t) => {
  const s = await store(t);
  const id = await s.importImage(Readable.from([trickyLayer()]), { repo: 'tricky', tag: 'v1' });
  assert.deepEqual(chooseImages(s, [id]).map((c) => c.tags.length), [0]);
  assert.deepEqual(chooseImages(s, ['tricky:v1', 'tricky']).map((c) => c.id), [id]);
  const notFound = (re: RegExp) => (e: unknown) => isBerthError(e) && e.kind === 'NotFound' && re.test(e.message);
  assert.throws(() => chooseImages(s, ['tricky:nope']), notFound(/^reference does not exist$/));
  assert.throws(() => chooseImages(s, ['nosuch']), notFound(/^No such image: nosuch$/));
});

test('a child image: its layer added (an empty one left out), its parent linked, history with IDs, tags and sizes', async (t) => {
  const s = await store(t);
  const base = await s.importImage(Readable.from([trickyLayer()]), { repo: 'base', tag: 'latest' });
  const child = await s.createChild({
    parent: base,
    layer: Readable.from([packTar([{ path: 'new', type: 'file', data: Buffer.from('12345'), mtime: 1 }])]),
    makeConfig: (p, diffId) => ({ ...p, rootfs: { type: 'layers', diff_ids: [...p.rootfs.diff_ids, diffId!] }, history: [...(p.history ?? []), { created: '2024-01-01T00:00:00Z', created_by: 'sh', comment: 'c' }] }),
    tag: { repo: 'child' },
  });
  const rec = s.get(child)!;
  assert.equal(rec.parent, base);
  assert.deepEqual(rec.repoTags, ['child:latest']);
  const rows = imageHistory(rec, s);
  assert.deepEqual(rows.map((r) => [r.Id, r.Tags, r.Size, r.CreatedBy, r.Comment]), [
    [child, ['child:latest'], 5, 'sh', 'c'],
    [base, ['base:latest'], s.get(base)!.size, '', 'Imported from -'],
  ]);
  const empty = await s.createChild({
    parent: child,
    layer: Readable.from([Buffer.alloc(1024)]),
    makeConfig: (p, diffId) => {
      assert.equal(diffId, undefined);
      return { ...p, history: [...(p.history ?? []), { created: '2024-01-02T00:00:00Z', empty_layer: true }] };
    },
  });
  assert.deepEqual(s.get(empty)!.config.rootfs.diff_ids, rec.config.rootfs.diff_ids);
  assert.equal(sha(Buffer.alloc(1024)), EMPTY_LAYER as Digest);
  // Deleting an image a child was made from is refused, as dockerd refuses it.
  await assert.rejects(s.remove(child.slice(7, 19), { force: true }), /image has dependent child images/);
});
