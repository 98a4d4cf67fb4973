/**
 * Pulls from a real registry (Debian's docker-registry in the world's namespace),
 * seeded by skopeo from the archive berth's docker save wrote, so berth is checked
 * against a client it did not write: by tag and digest, gzip and zstd layers, a
 * manifest list, layers already held, --all-tags, -q; and the failures (a corrupted
 * blob, a missing manifest, a registry killed mid-pull, a 429) each with a
 * clear error and no half image left.
 */
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, World } from '../lib/world.js';
import { registryMissing, TestRegistry } from '../lib/registry.js';

const missing = registryMissing();
const REG = '127.0.0.1:5000';

describe('pull from a registry', { skip: missing ?? false }, () => {
  let w: World;
  let reg: TestRegistry;
  let archive: string;
  let archiveZ: string;

  before(async () => {
    w = await World.create({ daemonArgs: ['--max-download-attempts', '1'] });
    reg = await TestRegistry.start(w, 'plain');
    // A two-layer image made by berth: busybox and a committed change.
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('run', '--name', 'maker', 'busybox', 'sh', '-c', 'mkdir -p /srv && echo made-by-berth > /srv/hello.txt');
    await w.dockerOk('commit', '-c', 'CMD ["cat", "/srv/hello.txt"]', 'maker', 'seed:1');
    await w.dockerOk('rm', 'maker');
    archive = path.join(w.dir, 'seed.tar');
    await w.dockerOk('save', '-o', archive, 'seed:1');
    // Another, whose own layer skopeo has not sent anywhere yet (it reuses blobs it sent before).
    await w.dockerOk('run', '--name', 'makerz', 'busybox', 'sh', '-c', 'mkdir -p /srv && echo zstd-layer > /srv/hello.txt');
    await w.dockerOk('commit', '-c', 'CMD ["cat", "/srv/hello.txt"]', 'makerz', 'seedz:1');
    await w.dockerOk('rm', 'makerz');
    archiveZ = path.join(w.dir, 'seedz.tar');
    await w.dockerOk('save', '-o', archiveZ, 'seedz:1');
    await w.dockerOk('rmi', 'seed:1', 'seedz:1');
  });

  after(async () => {
    await w?.dispose();
  });

  it('pulls an image skopeo pushed (gzip layers), by tag, and runs it', async () => {
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${REG}/team/app:1`);
    const out = await w.dockerOk('pull', `${REG}/team/app:1`);
    assert.match(out, /1: Pulling from team\/app/);
    // busybox's layer is held already; the committed one comes from the registry.
    assert.match(out, /[a-f0-9]{12}: Already exists/);
    assert.match(out, /[a-f0-9]{12}: Pull complete/);
    assert.match(out, /Digest: sha256:[a-f0-9]{64}/);
    assert.match(out, new RegExp(`Status: Downloaded newer image for ${REG}/team/app:1`));
    assert.equal(await w.dockerOk('run', '--rm', `${REG}/team/app:1`), 'made-by-berth');
    const again = await w.dockerOk('pull', `${REG}/team/app:1`);
    assert.match(again, /Image is up to date/);
  });

  it('the raw stream: Docker\'s JSON messages, bars with progressDetail and the rendered progress', async () => {
    await w.dockerOk('rmi', `${REG}/team/app:1`);
    const r = await w.api('POST', `/images/create?fromImage=${REG}/team/app&tag=1`);
    assert.equal(r.status, 200);
    const lines = String(r.body).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines[0], { status: 'Pulling from team/app', id: '1' });
    const layer = lines.find((l) => l.status === 'Pulling fs layer');
    assert.deepEqual(Object.keys(layer ?? {}), ['status', 'progressDetail', 'id']);
    const bar = lines.find((l) => l.status === 'Downloading') as { progressDetail: { current: number; total: number }; progress: string } | undefined;
    assert.ok(bar && bar.progressDetail.total > 0 && bar.progress.startsWith('['), JSON.stringify(lines));
    for (const s of ['Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']) assert.ok(lines.some((l) => l.status === s), s);
    assert.match(String(lines[lines.length - 1]?.status), new RegExp(`^Status: Downloaded newer image for ${REG}/team/app:1$`));
    const events = await w.dockerOk('events', '--since', '0', '--until', String(Math.floor(Date.now() / 1000) + 2), '--filter', 'event=pull', '--format', '{{.Actor.ID}}');
    assert.match(events, new RegExp(`${REG}/team/app:1`));
  });

  it('pulls by digest: the digest reference is kept, and docker images --digests shows it', async () => {
    const digest = await manifestDigest('team/app', '1');
    await w.dockerOk('rmi', `${REG}/team/app:1`);
    const out = await w.dockerOk('pull', `${REG}/team/app@${digest}`);
    assert.match(out, new RegExp(`${digest}: Pulling from team/app`));
    assert.match(out, new RegExp(`Status: Downloaded newer image for ${REG}/team/app@${digest}`));
    const digests = JSON.parse(await w.dockerOk('image', 'inspect', '--format', '{{json .RepoDigests}}', `${REG}/team/app@${digest}`)) as string[];
    assert.deepEqual(digests, [`${REG}/team/app@${digest}`]);
    await w.dockerOk('rmi', `${REG}/team/app@${digest}`);
  });

  it('pulls zstd layers (OCI manifest) and runs the image', async () => {
    await reg.skopeo('copy', '--dest-tls-verify=false', '--dest-compress-format', 'zstd', '--format', 'oci', `docker-archive:${archiveZ}`, `docker://${REG}/team/zst:1`);
    const raw = JSON.parse(await reg.skopeo('inspect', '--tls-verify=false', '--raw', `docker://${REG}/team/zst:1`)) as { layers: { mediaType: string }[] };
    assert.ok(raw.layers.some((l) => l.mediaType.endsWith('+zstd')), JSON.stringify(raw));
    const out = await w.dockerOk('pull', `${REG}/team/zst:1`);
    assert.match(out, /Pull complete/);
    assert.equal(await w.dockerOk('run', '--rm', `${REG}/team/zst:1`), 'zstd-layer');
  });

  it('a manifest list: linux/amd64 by default, another entry with --platform', async () => {
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${REG}/team/multi:amd`);
    const busyboxArchive = path.join(w.dir, 'busybox.tar');
    await w.dockerOk('save', '-o', busyboxArchive, 'busybox');
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${busyboxArchive}`, `docker://${REG}/team/multi:arm`);
    const entry = async (tag: string, architecture: string): Promise<object> => {
      const r = await w.inNs(w.ns, ['curl', '-sfI', '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json', `http://${REG}/v2/team/multi/manifests/${tag}`]);
      const digest = /docker-content-digest: (\S+)/i.exec(r.stdout)![1]!;
      const size = Number(/content-length: (\d+)/i.exec(r.stdout)![1]);
      return { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest, size, platform: { architecture, os: 'linux' } };
    };
    const list = { schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: [await entry('arm', 'arm64'), await entry('amd', 'amd64')] };
    const file = path.join(w.dir, 'list.json');
    fs.writeFileSync(file, JSON.stringify(list));
    const put = await w.inNs(w.ns, ['curl', '-sf', '-X', 'PUT', '-H', 'Content-Type: application/vnd.docker.distribution.manifest.list.v2+json', '--data-binary', `@${file}`, `http://${REG}/v2/team/multi/manifests/1`]);
    assert.equal(put.code, 0, put.stderr);
    await w.dockerOk('pull', `${REG}/team/multi:1`);
    assert.equal(await w.dockerOk('run', '--rm', `${REG}/team/multi:1`), 'made-by-berth');
    await w.dockerOk('pull', '--platform', 'linux/arm64', `${REG}/team/multi:1`);
    assert.equal(await w.dockerOk('image', 'inspect', '--format', '{{.Id}}', `${REG}/team/multi:1`), await w.dockerOk('image', 'inspect', '--format', '{{.Id}}', 'busybox'));
    const none = await w.docker('pull', '--platform', 'linux/s390x', `${REG}/team/multi:1`);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
  });

  it('--all-tags pulls every tag; -q prints only the name', async () => {
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${REG}/team/app:2`);
    const out = await w.dockerOk('pull', '--all-tags', `${REG}/team/app`);
    assert.match(out, /1: Pulling from team\/app/);
    assert.match(out, /2: Pulling from team\/app/);
    assert.match(out, new RegExp(`Status: (Downloaded newer image|Image is up to date) for ${REG}/team/app\n`));
    const tags = (await w.dockerOk('images', '--format', '{{.Tag}}', `${REG}/team/app`)).split('\n').sort();
    assert.deepEqual(tags, ['1', '2']);
    assert.equal(await w.dockerOk('pull', '-q', `${REG}/team/app:2`), `${REG}/team/app:2`);
  });

  it('a tag the registry lacks: Docker\'s manifest unknown, 404, nothing stored', async () => {
    const before = layerDirs();
    const r = await w.docker('pull', `${REG}/team/app:nope`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`manifest for ${REG}/team/app:nope not found: manifest unknown: manifest unknown`));
    const api = await w.api('POST', `/images/create?fromImage=${REG}/team/app&tag=nope`);
    assert.equal(api.status, 404);
    assert.deepEqual(layerDirs(), before);
  });

  it('a corrupted blob is refused by its digest: no image, no layer left', async () => {
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${REG}/team/bad:1`);
    const raw = JSON.parse(await reg.skopeo('inspect', '--tls-verify=false', '--raw', `docker://${REG}/team/bad:1`)) as { layers: { digest: string }[] };
    const top = raw.layers[raw.layers.length - 1]!.digest;
    const file = reg.blobFile(top);
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    fs.writeFileSync(file, bytes);
    for (const img of (await w.dockerOk('images', '-q', `${REG}/team/app`)).split('\n').filter((x) => x !== '')) await w.docker('rmi', '-f', img);
    await w.docker('rmi', '-f', `${REG}/team/zst:1`, `${REG}/team/multi:1`);
    const before = layerDirs();
    const r = await w.docker('pull', `${REG}/team/bad:1`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`filesystem layer verification failed for digest ${top}`));
    assert.equal(await w.dockerOk('images', '-q', `${REG}/team/bad`), '');
    assert.deepEqual(layerDirs(), before);
  });

  it('a registry killed mid-pull: a clear error, no image, no layer left', async () => {
    // The endpoint berth talks to is the proxy: killing it cuts the blob berth is reading
    // (killing docker-registry behind it may not: loopback buffers can hold the whole blob).
    const proxy = await startProxy();
    await w.dockerOk('run', '--name', 'big', 'busybox', 'sh', '-c', 'head -c 6000000 /dev/urandom > /blob');
    await w.dockerOk('commit', 'big', 'big:1');
    await w.dockerOk('rm', 'big');
    const bigArchive = path.join(w.dir, 'big.tar');
    await w.dockerOk('save', '-o', bigArchive, 'big:1');
    await w.dockerOk('rmi', 'big:1');
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${bigArchive}`, `docker://${REG}/team/big:1`);
    fs.writeFileSync(proxy.modeFile, 'slow');
    const before = layerDirs();
    const pulling = w.docker('pull', `${proxy.addr}/team/big:1`);
    await new Promise((res) => setTimeout(res, 2000));
    await new Promise((res) => proxy.child.once('exit', res).kill('SIGKILL'));
    proxyStarted = undefined;
    const r = await pulling;
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /read blob sha256:[a-f0-9]{64} from 127\.0\.0\.1:5001: unexpected EOF/);
    assert.equal(await w.dockerOk('images', '-q', `${proxy.addr}/team/big`), '');
    assert.deepEqual(layerDirs(), before);
    assert.deepEqual(fs.readdirSync(path.join(w.dataRoot, 'images', 'tmp')), []);
  });

  it('a 429 from the registry: Docker\'s toomanyrequests error, nothing stored', async () => {
    const proxy = await startProxy();
    fs.writeFileSync(proxy.modeFile, '429');
    const r = await w.docker('pull', `${proxy.addr}/team/app:1`);
    fs.writeFileSync(proxy.modeFile, 'pass');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /toomanyrequests: You have reached your pull rate limit/);
    assert.equal(await w.dockerOk('images', '-q', `${proxy.addr}/team/app`), '');
  });

  let proxyStarted: { addr: string; modeFile: string; child: ChildProcess } | undefined;
  /** The failure-making proxy (registry-proxy-child.ts) on 127.0.0.1:5001, in front of the registry. */
  async function startProxy(): Promise<{ addr: string; modeFile: string; child: ChildProcess }> {
    if (proxyStarted) return proxyStarted;
    const modeFile = path.join(w.dir, 'proxy-mode');
    fs.writeFileSync(modeFile, 'pass');
    const child = w.spawnIn(w.ns, [process.execPath, path.join(REPO, 'dist/test/lib/registry-proxy-child.js'), '127.0.0.1:5001', REG, modeFile]);
    for (let i = 0; i < 100; i++) {
      const r = await w.inNs(w.ns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:5001/v2/']);
      if (r.stdout === '200') return (proxyStarted = { addr: '127.0.0.1:5001', modeFile, child });
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('the proxy did not answer');
  }

  /** The layer store's folders (what a failed pull must not add to). */
  function layerDirs(): string[] {
    return fs.readdirSync(path.join(w.dataRoot, 'images', 'layers')).sort();
  }

  /** The digest the registry names a tag's manifest by. */
  async function manifestDigest(repo: string, tag: string): Promise<string> {
    const r = await w.inNs(w.ns, ['curl', '-sfI', '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json', `http://${REG}/v2/${repo}/manifests/${tag}`]);
    return /docker-content-digest: (\S+)/i.exec(r.stdout)![1]!;
  }
});
