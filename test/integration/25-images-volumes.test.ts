/** Images (import, load, tag, rmi, inspect), volumes, and the berth CLI against the real daemon. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { must, sh, World } from '../lib/world.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A rootfs tarball with the static busybox as /bin/sh and /bin/busybox. */
async function rootfsTar(dir: string): Promise<string> {
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.symlinkSync('busybox', path.join(root, 'bin', 'sh'));
  fs.symlinkSync('busybox', path.join(root, 'bin', 'echo'));
  fs.writeFileSync(path.join(root, 'hello.txt'), 'imported\n');
  const tar = path.join(dir, 'rootfs.tar');
  await must('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

/** A tarball of the folder `build` fills. */
async function tarOf(dir: string, build: (root: string) => void): Promise<string> {
  const root = path.join(dir, 'tree');
  fs.mkdirSync(root, { recursive: true });
  build(root);
  const tar = path.join(dir, 'tree.tar');
  await must('tar', ['-C', root, '-cf', tar, '.']);
  return tar;
}

/** An OCI image layout archive (what `docker save` writes since Docker 25) around its layers, lowest first. */
async function ociArchive(dir: string, layerTars: string[], ref: string, runConfig: object = { Cmd: ['/bin/sh', '-c', 'cat /hello.txt'], Env: ['FROM=oci'] }): Promise<string> {
  const out = path.join(dir, 'oci');
  const blobs = path.join(out, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  const layers = layerTars.map((t) => {
    const raw = fs.readFileSync(t);
    const gz = gzipSync(raw);
    fs.writeFileSync(path.join(blobs, sha(gz)), gz);
    return { raw, gz };
  });
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: runConfig,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha(l.raw)}`) },
  }));
  fs.writeFileSync(path.join(blobs, sha(config)), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(l.gz)}`, size: l.gz.length })),
  }));
  fs.writeFileSync(path.join(blobs, sha(manifest)), manifest);
  fs.writeFileSync(path.join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  fs.writeFileSync(path.join(out, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length, annotations: { 'io.containerd.image.name': `docker.io/library/${ref}`, 'org.opencontainers.image.ref.name': ref.split(':')[1] } }],
  }));
  const tar = path.join(dir, 'oci.tar');
  await must('tar', ['-C', out, '-cf', tar, '.']);
  return tar;
}

/** A POST with a raw body over the daemon's socket: status, content type and the whole answer. */
function postRaw(sock: string, urlPath: string, body: Buffer): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method: 'POST', path: urlPath, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('images, volumes and the berth CLI', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  it('imports a rootfs tarball with --change, tags, inspects and removes it', async () => {
    const tar = await rootfsTar(w.dir);
    const id = (await sh('docker', ['import', '-c', 'CMD ["/bin/sh", "-c", "cat /hello.txt"]', '-c', 'ENV GREETING=hi', '-c', 'EXPOSE 8080', '-c', 'STOPSIGNAL SIGQUIT', tar, 'mine:v1'], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` } })).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await w.dockerOk('run', '--rm', 'mine:v1'), 'imported');
    assert.equal(await w.dockerOk('run', '--rm', 'mine:v1', 'sh', '-c', 'echo $GREETING'), 'hi');
    assert.equal(await w.dockerOk('image', 'inspect', '-f', '{{json .Config.ExposedPorts}}', 'mine:v1'), '{"8080/tcp":{}}');
    // A container's Config is the image's merged with the user's, as Docker's inspect shows it.
    const merged = await w.dockerOk('create', '--expose', '9090', '-e', 'MINE=1', '-l', 'own=me', 'mine:v1');
    const cfg = JSON.parse(await w.dockerOk('inspect', '-f', '{{json .Config}}', merged)) as Record<string, unknown>;
    assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {}, '9090/tcp': {} });
    assert.deepEqual(cfg.Env, ['MINE=1', 'GREETING=hi']);
    assert.deepEqual(cfg.Cmd, ['/bin/sh', '-c', 'cat /hello.txt']);
    assert.deepEqual(cfg.Labels, { own: 'me' });
    assert.equal(cfg.StopSignal, 'SIGQUIT');
    await w.dockerOk('rm', merged);
    await w.dockerOk('tag', 'mine:v1', 'mine:latest');
    const rows = (await w.dockerOk('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}')).split('\n');
    assert.deepEqual(rows.filter((r) => r.startsWith('mine')).map((r) => r.split(' ')[0]).sort(), ['mine:latest', 'mine:v1']);
    assert.match(await w.dockerOk('rmi', 'mine:latest'), /Untagged: mine:latest/);
    const rmi = await w.dockerOk('rmi', 'mine:v1');
    assert.match(rmi, /Deleted: sha256:/);
    const gone = await w.docker('image', 'inspect', 'mine:v1');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such image/);
  });

  it('loads an OCI archive with progress and runs it', async () => {
    const tar = await ociArchive(w.dir, [await rootfsTar(path.join(w.dir, 'l2'))], 'loaded:1.0');
    const out = await w.dockerOk('load', '-i', tar);
    assert.match(out, /Loaded image: loaded:1\.0/);
    assert.equal(await w.dockerOk('run', '--rm', 'loaded:1.0'), 'imported');
    assert.equal(await w.dockerOk('run', '--rm', 'loaded:1.0', 'sh', '-c', 'echo $FROM'), 'oci');
    const inUse = await w.dockerOk('create', 'loaded:1.0');
    const r = await w.docker('rmi', 'loaded:1.0');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /container .* is using its referenced image/);
    await w.dockerOk('rm', inUse);
    await w.dockerOk('rmi', 'loaded:1.0');
  });

  it('reports a failed load in the JSON stream under a 200, as dockerd does', async () => {
    const short = path.join(w.dir, 'notatar');
    fs.writeFileSync(short, 'this is not a tar\n');
    const piped = await sh('sh', ['-c', `docker load < ${short}`], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` } });
    assert.equal(piped.code, 1);
    assert.equal(piped.stderr.trim(), 'unexpected EOF');
    const viaBerth = await w.berth('load', '-i', short);
    assert.equal(viaBerth.code, 1);
    assert.match(viaBerth.stderr, /unexpected EOF/);
    // Longer than a tar block: the header's checksum is wrong. A large body is read to its end first.
    const long = path.join(w.dir, 'notatar-long');
    fs.writeFileSync(long, 'not a tar at all\n'.repeat(200_000));
    const r = await w.docker('load', '-i', long);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'archive/tar: invalid tar header');
    const raw = await postRaw(w.sock, '/v1.44/images/load', fs.readFileSync(short));
    assert.equal(raw.status, 200);
    assert.equal(raw.contentType, 'application/json');
    assert.deepEqual(raw.body.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ errorDetail: { message: 'unexpected EOF' }, error: 'unexpected EOF' }]);
    // Without quiet=0 dockerd sends no progress, only the messages.
    const tar = await ociArchive(path.join(w.dir, 'quiet'), [await rootfsTar(path.join(w.dir, 'quiet-l'))], 'quiet:1');
    const quiet = await postRaw(w.sock, '/v1.44/images/load', fs.readFileSync(tar));
    assert.deepEqual(quiet.body.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ stream: 'Loaded image: quiet:1\n' }]);
    await w.dockerOk('rmi', 'quiet:1');
  });

  it('filters docker images by reference (globs too), label and dangling, as berth images does', async () => {
    const tar = await rootfsTar(path.join(w.dir, 'filters'));
    await w.dockerOk('import', '-c', 'LABEL tier=web', tar, 'filt:v1');
    await w.dockerOk('tag', 'filt:v1', 'filt:v2');
    const untagged = await w.dockerOk('import', tar);
    await w.dockerOk('pull', 'busybox');
    const refs = async (...args: string[]): Promise<string[]> => (await w.dockerOk('images', '--format', '{{.Repository}}:{{.Tag}}', ...args)).split('\n').filter((l) => l !== '').sort();
    assert.deepEqual(await refs('filt'), ['filt:v1', 'filt:v2']);
    assert.deepEqual(await refs('filt:v2'), ['filt:v2']);
    assert.deepEqual(await refs('fi*:v?'), ['filt:v1', 'filt:v2']);
    assert.deepEqual(await refs('docker.io/library/busybox'), ['busybox:latest']);
    assert.deepEqual(await refs('--filter', 'label=tier=web'), ['filt:v1', 'filt:v2']);
    assert.deepEqual(await refs('--filter', 'label=tier=db'), []);
    assert.equal(await w.dockerOk('images', '-q', '--no-trunc', '--filter', 'dangling=true'), untagged);
    assert.ok(!(await w.dockerOk('images', '-q', '--no-trunc', '--filter', 'dangling=false')).includes(untagged));
    const viaBerth = await w.berth('images', '--format', '{{.Repository}}:{{.Tag}}', 'filt:v1');
    assert.equal(viaBerth.code, 0, viaBerth.stderr);
    assert.equal(viaBerth.stdout.trim(), 'filt:v1');
    const bad = await w.api('GET', `/v1.44/images/json?filters=${encodeURIComponent('{"x":{"1":true}}')}`);
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { message: "invalid filter 'x'" });
    await w.dockerOk('rmi', 'filt:v1', 'filt:v2', untagged);
  });

  it('keeps named volumes, binds host folders and shares with --volumes-from', async () => {
    await w.dockerOk('volume', 'create', 'data');
    await w.dockerOk('run', '--rm', '-v', 'data:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f');
    assert.equal(await w.dockerOk('run', '--rm', '-v', 'data:/data:ro', 'busybox', 'cat', '/data/f'), 'kept');
    const ro = await w.docker('run', '--rm', '-v', 'data:/data:ro', 'busybox', 'sh', '-c', 'echo x > /data/f');
    assert.notEqual(ro.code, 0);
    const host = path.join(w.dir, 'hostdir');
    fs.mkdirSync(host);
    await w.dockerOk('run', '--rm', '-v', `${host}:/h`, 'busybox', 'sh', '-c', 'echo from-container > /h/out');
    assert.equal(fs.readFileSync(path.join(host, 'out'), 'utf8'), 'from-container\n');
    await w.dockerOk('create', '--name', 'holder', '-v', 'data:/shared', 'busybox', 'true');
    assert.equal(await w.dockerOk('run', '--rm', '--volumes-from', 'holder', 'busybox', 'cat', '/shared/f'), 'kept');
    const busy = await w.docker('volume', 'rm', 'data');
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /volume is in use/);
    await w.dockerOk('rm', 'holder');
    assert.equal(await w.dockerOk('volume', 'ls', '-q'), 'data');
    await w.dockerOk('volume', 'rm', 'data');
    const bad = await w.api('POST', '/v1.44/volumes/create', { Name: '../../etc' });
    assert.equal(bad.status, 400);
  });

  it('gives each Config.Volumes path nothing mounts an anonymous volume; --volumes-from shares it, rm -v and --rm remove it', async () => {
    await w.dockerOk('create', '--name', 'c1', '-v', 'vol1:/data', '-v', '/anon', 'busybox', 'sh', '-c', 'ls -d /data /anon');
    assert.equal(await w.dockerOk('start', '-a', 'c1'), '/anon\n/data');
    const mounts = JSON.parse(await w.dockerOk('inspect', '-f', '{{json .Mounts}}', 'c1')) as Record<string, unknown>[];
    const anon = mounts.find((m) => m.Destination === '/anon')!;
    const name = String(anon.Name);
    assert.match(name, /^[0-9a-f]{64}$/);
    assert.deepEqual(anon, { Type: 'volume', Name: name, Source: path.join(w.dataRoot, 'volumes', name, '_data'), Destination: '/anon', Driver: 'local', Mode: '', RW: true, Propagation: '' });
    assert.equal(mounts.find((m) => m.Destination === '/data')?.Name, 'vol1');
    assert.equal(await w.dockerOk('volume', 'inspect', '-f', '{{json .Labels}}', name), '{"com.docker.volume.anonymous":""}');
    await w.dockerOk('run', '--rm', '--volumes-from', 'c1', 'busybox', 'sh', '-c', 'echo shared > /anon/f');
    assert.equal(await w.dockerOk('run', '--rm', '--volumes-from', 'c1:ro', 'busybox', 'cat', '/anon/f'), 'shared');
    const volumes = async (): Promise<string[]> => (await w.dockerOk('volume', 'ls', '-q')).split('\n').filter((v) => v !== '').sort();
    // The consumers' --rm left c1's volume alone: c1 still uses it.
    assert.deepEqual(await volumes(), [name, 'vol1'].sort());
    const inUse = await w.docker('volume', 'rm', name);
    assert.match(inUse.stderr, /volume is in use/);
    await w.dockerOk('rm', '-v', 'c1');
    assert.deepEqual(await volumes(), ['vol1']);
    await w.dockerOk('run', '--rm', '-v', '/scratch', 'busybox', 'true');
    assert.deepEqual(await volumes(), ['vol1']);
    const kept = await w.dockerOk('create', '-v', '/kept', 'busybox', 'true');
    const keptName = await w.dockerOk('inspect', '-f', '{{(index .Mounts 0).Name}}', kept);
    await w.dockerOk('rm', kept);
    assert.deepEqual(await volumes(), [keptName, 'vol1'].sort());
    await w.dockerOk('volume', 'rm', keptName, 'vol1');
  });

  it('filters docker volume ls by dangling, name, driver and label, with dockerd\'s errors', async () => {
    await w.dockerOk('volume', 'create', '--label', 'env=prod', '--label', 'tier=web', 'web-data');
    await w.dockerOk('volume', 'create', '--label', 'env=dev', 'db-data');
    await w.dockerOk('volume', 'create', 'scratch');
    await w.dockerOk('create', '--name', 'user', '-v', 'web-data:/d', 'busybox', 'true');
    const ls = async (...filters: string[]): Promise<string[]> =>
      (await w.dockerOk('volume', 'ls', '-q', ...filters.flatMap((f) => ['-f', f]))).split('\n').filter((v) => v !== '').sort();
    assert.deepEqual(await ls('dangling=true'), ['db-data', 'scratch']);
    assert.deepEqual(await ls('dangling=false'), ['web-data']);
    assert.deepEqual(await ls('name=data'), ['db-data', 'web-data']);
    assert.deepEqual(await ls('name=^web'), ['web-data']);
    assert.deepEqual(await ls('driver=local'), ['db-data', 'scratch', 'web-data']);
    assert.deepEqual(await ls('driver=nfs'), []);
    assert.deepEqual(await ls('label=env'), ['db-data', 'web-data']);
    assert.deepEqual(await ls('label=env=prod'), ['web-data']);
    assert.deepEqual(await ls('label=env', 'dangling=true'), ['db-data']);
    const bad = await w.docker('volume', 'ls', '-f', 'foo=bar');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Error response from daemon: invalid filter 'foo'/);
    const notHere = await w.docker('volume', 'ls', '-f', 'label!=env');
    assert.match(notHere.stderr, /invalid filter 'label!'/);
    const maybe = await w.docker('volume', 'ls', '-f', 'dangling=maybe');
    assert.match(maybe.stderr, /Error response from daemon: invalid filter 'dangling=\[maybe\]'/);
    const raw = await w.api('GET', '/v1.44/volumes?filters=%7Bnot%20json');
    assert.equal(raw.status, 400);
    assert.match((raw.body as { message: string }).message, /^error reading volume filters: invalid filter/);
    assert.deepEqual((await w.berth('volume', 'ls', '-q', '-f', 'dangling=true')).stdout.trim().split('\n').sort(), ['db-data', 'scratch']);
    await w.dockerOk('rm', 'user');
    await w.dockerOk('volume', 'rm', 'web-data', 'db-data', 'scratch');
  });

  it('fills an empty volume from the image as Docker does: VOLUME, named volumes, nocopy, several layers', async () => {
    const seed = (root: string): void => {
      fs.mkdirSync(path.join(root, 'vv'));
      fs.writeFileSync(path.join(root, 'vv', 'seed.txt'), 'seed\n');
      fs.chownSync(path.join(root, 'vv'), 1000, 1000);
      fs.chmodSync(path.join(root, 'vv'), 0o750);
      fs.writeFileSync(path.join(root, 'file'), 'x');
    };
    // One layer (read in place), from docker import -c 'VOLUME /vv'.
    const rootfs = await rootfsTar(path.join(w.dir, 'withvol'));
    seed(path.join(w.dir, 'withvol', 'rootfs'));
    await must('tar', ['-C', path.join(w.dir, 'withvol', 'rootfs'), '-cf', rootfs, '.']);
    await w.dockerOk('import', '-c', 'VOLUME /vv', rootfs, 'withvol:1');
    assert.equal(await w.dockerOk('inspect', '-f', '{{json .Config.Volumes}}', await w.dockerOk('create', '--name', 'wv', 'withvol:1', 'true')), '{"/vv":{}}');
    assert.equal(await w.dockerOk('inspect', '-f', '{{(index .Mounts 0).Destination}}', 'wv'), '/vv');
    await w.dockerOk('rm', '-v', 'wv');
    assert.equal(await w.dockerOk('run', '--rm', 'withvol:1', 'sh', '-c', 'cat /vv/seed.txt; stat -c "%u %a" /vv'), 'seed\n1000 750');
    assert.equal(await w.dockerOk('run', '--rm', '-v', 'filled:/vv', 'withvol:1', 'sh', '-c', 'cat /vv/seed.txt'), 'seed');
    await w.dockerOk('run', '--rm', '-v', 'filled:/vv', 'busybox', 'sh', '-c', 'echo changed > /vv/seed.txt');
    // A volume that holds data is never filled again.
    assert.equal(await w.dockerOk('run', '--rm', '-v', 'filled:/vv', 'withvol:1', 'sh', '-c', 'cat /vv/seed.txt'), 'changed');
    assert.equal(await w.dockerOk('run', '--rm', '-v', 'empty:/vv:nocopy', 'withvol:1', 'sh', '-c', 'ls -A /vv'), '');
    const overFile = await w.docker('create', '-v', '/file', 'withvol:1', 'true');
    assert.match(overFile.stderr, /cannot mount volume over existing file, file exists \S+\/merged\/file/);
    assert.deepEqual((await w.dockerOk('volume', 'ls', '-q')).split('\n').sort(), ['empty', 'filled']);
    await w.dockerOk('volume', 'rm', 'empty', 'filled');
    // Several layers (a read-only overlay): a file the top layer deletes (a whiteout) is not copied.
    const seeded = await tarOf(path.join(w.dir, 'seeded'), seed);
    const base = await rootfsTar(path.join(w.dir, 'base'));
    const upper = await tarOf(path.join(w.dir, 'upper'), (root) => {
      fs.mkdirSync(path.join(root, 'vv'));
      fs.writeFileSync(path.join(root, 'vv', 'b.txt'), 'b\n');
      fs.writeFileSync(path.join(root, 'vv', '.wh.seed.txt'), '');
    });
    await w.dockerOk('load', '-i', await ociArchive(path.join(w.dir, 'layered'), [base, seeded, upper], 'layered:1', { Volumes: { '/vv': {} } }));
    assert.equal(await w.dockerOk('run', '--rm', 'layered:1', 'sh', '-c', 'ls /vv'), 'b.txt');
    assert.equal(await w.dockerOk('volume', 'ls', '-q'), '');
    await w.dockerOk('rmi', 'withvol:1', 'layered:1');
    // A view a crash left mounted is gone after the next start.
    const left = path.join(w.dataRoot, 'image-views', 'left-by-a-crash');
    fs.mkdirSync(left, { recursive: true });
    await must('mount', ['-t', 'tmpfs', 'tmpfs', left]);
    await w.restart();
    assert.equal(fs.existsSync(left), false);
  });

  it('is driven the same way by berth', async () => {
    const created = await w.berth('network', 'create', '--subnet', '10.61.0.0/24', 'viaberth');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout.trim(), /^[0-9a-f]{64}$/);
    assert.match((await w.berth('network', 'ls')).stdout, /viaberth\s+bridge\s+local/);
    assert.equal((await w.berth('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'viaberth')).stdout.trim(), '10.61.0.0/24');
    const run = await w.berth('run', '--rm', '--network', 'viaberth', 'busybox', 'ip', '-4', '-o', 'addr', 'show', 'eth0');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /10\.61\.0\.2\/24/);
    const dup = await w.berth('network', 'create', 'viaberth');
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /Error response from daemon: network with name viaberth already exists/);
    assert.equal((await w.berth('network', 'rm', 'viaberth')).stdout.trim(), 'viaberth');
  });
});
