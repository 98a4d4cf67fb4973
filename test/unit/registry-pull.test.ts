/**
 * The puller against a fake registry in this process (127.0.0.1): downloads limited to
 * N at a time ("Waiting"), a connection cut mid-blob resumed with a Range request, a
 * config whose digest lies, and a layer that is not what the config says — each
 * failure leaving no image and no layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ImageStore } from '../../src/engine/images/store.js';
import { packTar } from '../../src/engine/images/tar-write.js';
import { pullImage, type PullPolicy } from '../../src/engine/images/distribution/pull.js';
import { RegistryHosts } from '../../src/engine/images/distribution/hosts.js';
import { Limiter } from '../../src/engine/images/distribution/limiter.js';
import { LayerSources } from '../../src/engine/images/distribution/metadata.js';
import type { JsonMessage } from '../../src/engine/images/distribution/progress.js';
import { parseReference } from '../../src/engine/images/reference.js';

const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Fake {
  port: number;
  blobs: Map<string, Buffer>;
  manifests: Map<string, { raw: Buffer; type: string }>;
  /** Blob digests whose first GET is cut after half the bytes. */
  cutOnce: Set<string>;
  requests: string[];
  close(): Promise<void>;
}

async function fakeRegistry(): Promise<Fake> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { raw: Buffer; type: string }>();
  const cutOnce = new Set<string>();
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const url = req.url ?? '';
    if (url === '/v2/') return void res.end('{}');
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url);
    if (m === null) return void res.writeHead(404).end();
    if (m[2] === 'manifests') {
      const got = manifests.get(m[3]!) ?? [...manifests.values()].find((x) => digestOf(x.raw) === m[3]);
      if (got === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        return void res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      }
      res.writeHead(200, { 'Content-Type': got.type, 'Docker-Content-Digest': digestOf(got.raw), 'Content-Length': got.raw.length });
      return void res.end(req.method === 'HEAD' ? undefined : got.raw);
    }
    const blob = blobs.get(m[3]!);
    if (blob === undefined) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range !== null) {
      const from = Number(range[1]);
      res.writeHead(206, { 'Content-Length': blob.length - from, 'Content-Range': `bytes ${from}-${blob.length - 1}/${blob.length}` });
      return void res.end(blob.subarray(from));
    }
    res.writeHead(200, { 'Content-Length': blob.length });
    if (cutOnce.delete(m[3]!)) {
      res.write(blob.subarray(0, blob.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(blob);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    blobs,
    manifests,
    cutOnce,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An image of `n` one-file layers; the config's diff-ids may be falsified. */
function image(n: number, opts: { wrongDiffId?: boolean } = {}): { layers: Buffer[]; diffIds: string[]; config: Buffer } {
  const tars = Array.from({ length: n }, (_, i) => packTar([{ path: `f${i}.txt`, type: 'file', data: Buffer.from(`layer ${i} `.repeat(5000)), mtime: 1 }]));
  const diffIds = tars.map(digestOf);
  if (opts.wrongDiffId) diffIds[0] = digestOf(Buffer.from('not this'));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['true'] }, rootfs: { type: 'layers', diff_ids: diffIds } }));
  return { layers: tars.map((t) => gzipSync(t)), diffIds, config };
}

async function setup(t: { after: (fn: () => Promise<void>) => void }): Promise<{ store: ImageStore; fake: Fake; policy: PullPolicy; dir: string; publish: (repo: string, tag: string, img: ReturnType<typeof image>, lieAboutConfig?: boolean) => void }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-pull-'));
  const fake = await fakeRegistry();
  t.after(async () => {
    await fake.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const store = await ImageStore.open({ dataRoot: dir });
  const policy: PullPolicy = { downloads: new Limiter(2), maxAttempts: 3, retryDelay: () => 0, sources: new LayerSources(path.join(dir, 'images')) };
  const publish = (_repo: string, tag: string, img: ReturnType<typeof image>, lieAboutConfig = false): void => {
    for (const l of img.layers) fake.blobs.set(digestOf(l), l);
    const configDigest = digestOf(img.config);
    fake.blobs.set(configDigest, lieAboutConfig ? Buffer.concat([img.config, Buffer.from(' ')]) : img.config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: configDigest, size: img.config.length },
      layers: img.layers.map((l) => ({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: digestOf(l), size: l.length })),
    }));
    fake.manifests.set(tag, { raw: manifest, type: 'application/vnd.docker.distribution.manifest.v2+json' });
  };
  return { store, fake, policy, dir, publish };
}

async function pull(env: Awaited<ReturnType<typeof setup>>, name: string): Promise<JsonMessage[]> {
  const messages: JsonMessage[] = [];
  const hosts = new RegistryHosts({ insecureRegistries: [], mirrors: [], certsDir: path.join(env.dir, 'certs.d') });
  await pullImage(env.store.pullTarget(), hosts, env.policy, { ref: parseReference(`127.0.0.1:${env.fake.port}/${name}`), sink: (m) => messages.push(m) });
  return messages;
}

const statuses = (ms: JsonMessage[], status: string): number => ms.filter((m) => m.status === status).length;

test('five layers, two downloads at a time: three wait; all are extracted in order and the image is tagged', async (t) => {
  const env = await setup(t);
  const img = image(5);
  env.publish('app', 'v1', img);
  const ms = await pull(env, 'app:v1');
  assert.equal(statuses(ms, 'Pulling fs layer'), 5);
  assert.equal(statuses(ms, 'Waiting'), 3);
  assert.equal(statuses(ms, 'Pull complete'), 5);
  assert.equal(ms[ms.length - 1]?.status, `Status: Downloaded newer image for 127.0.0.1:${env.fake.port}/app:v1`);
  const rec = env.store.resolve(`127.0.0.1:${env.fake.port}/app:v1`);
  assert.deepEqual(rec.config.rootfs.diff_ids, img.diffIds);
  assert.equal(rec.repoDigests.length, 1);
  const again = await pull(env, 'app:v1');
  assert.equal(again[again.length - 1]?.status, `Status: Image is up to date for 127.0.0.1:${env.fake.port}/app:v1`);
});

test('a connection cut mid-blob is resumed with a Range request', async (t) => {
  const env = await setup(t);
  const img = image(1);
  env.publish('app', 'v1', img);
  env.fake.cutOnce.add(digestOf(img.layers[0]!));
  const ms = await pull(env, 'app:v1');
  assert.equal(statuses(ms, 'Pull complete'), 1);
  assert.ok(env.fake.requests.some((r) => r.includes(`/blobs/${digestOf(img.layers[0]!)}`) && /bytes=\d+-$/.test(r)), env.fake.requests.join('\n'));
});

test('a big layer cut mid-blob: the bytes that came are kept and the rest is asked with a Range, the layer is whole', async (t) => {
  const env = await setup(t);
  // Random bytes (gzip keeps their size): the cut comes after several batched writes.
  const data = randomBytes(6 << 20);
  const tar = packTar([{ path: 'big.bin', type: 'file', data, mtime: 1 }]);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [digestOf(tar)] } }));
  const layer = gzipSync(tar, { level: 1 });
  env.publish('big', 'v1', { layers: [layer], diffIds: [digestOf(tar)], config });
  env.fake.cutOnce.add(digestOf(layer));
  const ms = await pull(env, 'big:v1');
  assert.equal(statuses(ms, 'Pull complete'), 1);
  const ranged = env.fake.requests.find((r) => r.includes(`/blobs/${digestOf(layer)}`) && /bytes=\d+-$/.test(r));
  assert.ok(ranged !== undefined, env.fake.requests.join('\n'));
  assert.ok(Number(/bytes=(\d+)-$/.exec(ranged)![1]) > 1 << 20, ranged);
  const file = path.join(env.dir, 'images/layers', digestOf(tar).slice(7), 'root/big.bin');
  assert.ok((await fs.readFile(file)).equals(data));
});

test('a config that does not match its digest, a layer that is not the config\'s: errors, no image, no layer', async (t) => {
  const env = await setup(t);
  env.publish('app', 'lie', image(2), true);
  await assert.rejects(pull(env, 'app:lie'), /error pulling image configuration: image config verification failed for digest sha256:/);
  env.publish('app', 'wrong', image(2, { wrongDiffId: true }));
  await assert.rejects(pull(env, 'app:wrong'), /layers from manifest don't match image configuration/);
  assert.deepEqual(await fs.readdir(path.join(env.dir, 'images', 'layers')), []);
  assert.equal(env.store.list().length, 0);
  await assert.rejects(pull(env, 'app:none'), (e: unknown) => e instanceof Error && e.name === 'NotFound' && /manifest for 127\.0\.0\.1:\d+\/app:none not found: manifest unknown: manifest unknown/.test(e.message));
});
