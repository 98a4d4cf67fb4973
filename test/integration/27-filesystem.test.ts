/**
 * A container's files and images made from them, through the docker CLI and the raw
 * API against the real daemon: docker cp both ways (running and stopped containers,
 * volumes, -a, -L, links that try to leave the root), export, diff, commit, history,
 * save and load round trips, with Docker's headers, errors and events.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { packTar } from '../../src/engine/images/tar-write.js';
import { must, World } from '../lib/world.js';

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A raw request with a binary body (PUT of a tar) and the raw answer (HEAD's headers, a tar). */
function raw(w: World, method: string, urlPath: string, body?: Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: w.sock, method, path: urlPath, headers: body ? { 'Content-Type': 'application/x-tar' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const statOf = (r: RawReply): { name: string; size: number; mode: number; mtime: string; linkTarget: string } =>
  JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString()) as never;

const messageOf = (r: RawReply): string => (JSON.parse(r.body.toString()) as { message: string }).message;

describe('docker cp, export, diff, commit, history, save', () => {
  let w: World;
  let scratch: string;
  before(async () => {
    w = await World.create();
    scratch = path.join(w.dir, 'scratch');
    fs.mkdirSync(scratch);
    await w.dockerOk('pull', 'busybox');
  });
  after(async () => {
    await w.dispose();
  });

  const out = async (...args: string[]): Promise<string> => w.dockerOk(...args);

  it('cp out of and into a running container, a volume and a stopped container', async () => {
    await out('run', '-d', '--name', 'cp1', '-v', 'cpvol:/data', 'busybox', 'sleep', '1000');
    await out('exec', 'cp1', 'sh', '-c', 'echo hello > /tmp/x; mkdir -p /data/sub; echo vol > /data/sub/f');
    await out('cp', 'cp1:/tmp/x', path.join(scratch, 'x'));
    assert.equal(fs.readFileSync(path.join(scratch, 'x'), 'utf8'), 'hello\n');
    await out('cp', 'cp1:/data', path.join(scratch, 'data'));
    assert.equal(fs.readFileSync(path.join(scratch, 'data', 'sub', 'f'), 'utf8'), 'vol\n');
    fs.mkdirSync(path.join(scratch, 'tree', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(scratch, 'tree', 'deep', 'file'), 'in\n');
    await out('cp', path.join(scratch, 'tree'), 'cp1:/data/');
    assert.equal(await out('exec', 'cp1', 'cat', '/data/tree/deep/file'), 'in');
    // The volume holds it, so another container sees it.
    assert.equal(await out('run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/tree/deep/file'), 'in');
    await out('stop', '-t', '0', 'cp1');
    assert.equal(await out('cp', 'cp1:/tmp/x', '-').then((t) => t.includes('hello')), true);
    await out('cp', path.join(scratch, 'x'), 'cp1:/tmp/copied');
    await out('cp', path.join(scratch, 'x'), 'cp1:/data/copied');
    await out('start', 'cp1');
    assert.equal(await out('exec', 'cp1', 'cat', '/tmp/copied', '/data/copied'), 'hello\nhello');
    // The stopped container's root was mounted only for the calls.
    assert.deepEqual(fs.readdirSync(path.join(w.dataRoot, 'container-views')), []);
  });

  it("HEAD and GET answer Docker's stat header; errors are Docker's", async () => {
    await out('run', '-d', '--name', 'st1', 'busybox', 'sleep', '1000');
    await out('exec', 'st1', 'sh', '-c', 'ln -s /etc/passwd /pw; mkdir /d; chmod 1777 /d');
    const head = await raw(w, 'HEAD', '/containers/st1/archive?path=/pw');
    assert.equal(head.status, 200);
    assert.deepEqual({ ...statOf(head), mtime: '' }, { name: 'pw', size: 11, mode: 2 ** 27 + 0o777, mtime: '', linkTarget: '/etc/passwd' });
    assert.match(statOf(head).mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const dir = statOf(await raw(w, 'HEAD', '/containers/st1/archive?path=/d/'));
    assert.equal(dir.mode, 2 ** 31 + 2 ** 20 + 0o777);
    assert.equal(dir.name, 'd');
    const get = await raw(w, 'GET', '/containers/st1/archive?path=/etc');
    assert.equal(get.headers['content-type'], 'application/x-tar');
    assert.equal(statOf(get).name, 'etc');
    assert.equal(get.body.subarray(0, 4).toString(), 'etc/');
    const missing = await raw(w, 'GET', '/containers/st1/archive?path=/nope');
    assert.equal(missing.status, 404);
    assert.equal(messageOf(missing), 'Could not find the file /nope in container st1');
    assert.equal((await raw(w, 'HEAD', '/containers/st1/archive?path=/nope')).status, 404);
    const noPath = await raw(w, 'GET', '/containers/st1/archive');
    assert.equal(noPath.status, 400);
    assert.equal(messageOf(noPath), 'bad parameter: path cannot be empty');
    assert.equal((await raw(w, 'GET', '/containers/nosuch/archive?path=/')).status, 404);
    const notDir = await raw(w, 'PUT', '/containers/st1/archive?path=/etc/passwd', packTar([{ path: 'f', type: 'file', data: Buffer.from('x') }]));
    assert.equal(notDir.status, 400);
    assert.equal(messageOf(notDir), 'extraction point is not a directory');
    const cli = await w.docker('cp', 'st1:/nope', scratch);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /Could not find the file \/nope in container st1/);
  });

  it('links that point out of the container, and archives that climb out, stay inside its root', async () => {
    const outside = path.join(w.dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret'), 'host\n');
    await out('run', '-d', '--name', 'esc', '-v', 'escvol:/data', 'busybox', 'sleep', '1000');
    await out('exec', 'esc', 'sh', '-c', `mkdir -p ${outside}; echo container > ${outside}/secret; ln -s ../../../../../../../../${outside.slice(1)} /tmp/up; ln -s ${outside}/secret /abs; ln -s / /data/root`);
    assert.match(await out('cp', 'esc:/tmp/up/secret', '-'), /container/);
    await out('cp', '-L', 'esc:/abs', path.join(scratch, 'followed'));
    assert.equal(fs.readFileSync(path.join(scratch, 'followed'), 'utf8'), 'container\n');
    assert.match(await out('cp', 'esc:/data/root' + outside + '/secret', '-'), /container/);
    await out('cp', path.join(scratch, 'x'), 'esc:/tmp/up/');
    await out('cp', path.join(scratch, 'x'), 'esc:/data/root/tmp/');
    assert.equal(fs.existsSync(path.join(outside, 'x')), false);
    assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'host\n');
    assert.equal(await out('exec', 'esc', 'cat', `${outside}/x`, '/tmp/x'), 'hello\nhello');
    const climbing = await raw(w, 'PUT', '/containers/esc/archive?path=/tmp', packTar([{ path: '../../../../escaped', type: 'file', data: Buffer.from('x') }]));
    assert.equal(climbing.status, 400);
    assert.match(messageOf(climbing), /escapes the destination/);
    assert.equal(fs.existsSync(path.join(w.dataRoot, 'escaped')), false);
  });

  it('cp -a gives the files to the container user; read-only roots and volumes refuse writes', async () => {
    await out('run', '-d', '--name', 'own', '--user', '1:2', 'busybox', 'sleep', '1000');
    await out('cp', '-a', path.join(scratch, 'x'), 'own:/tmp/');
    assert.match(await out('exec', 'own', 'ls', '-ln', '/tmp/x'), /^\S+\s+\d+\s+1\s+2\s/);
    await out('run', '-d', '--name', 'ro', '--read-only', '-v', 'rw:/rw', '-v', 'rovol:/ro:ro', 'busybox', 'sleep', '1000');
    const root = await w.docker('cp', path.join(scratch, 'x'), 'ro:/tmp/');
    assert.match(root.stderr, /container rootfs is marked read-only/);
    const vol = await w.docker('cp', path.join(scratch, 'x'), 'ro:/ro/');
    assert.match(vol.stderr, /mounted volume is marked read-only/);
    await out('cp', path.join(scratch, 'x'), 'ro:/rw/');
    assert.equal(await out('exec', 'ro', 'cat', '/rw/x'), 'hello');
  });

  it('diff lists changes as Docker; export holds the root folder without volumes', async () => {
    await out('run', '-d', '--name', 'df1', '-v', '/mnt/vol', 'busybox', 'sleep', '1000');
    assert.equal(await out('diff', 'df1'), 'A /mnt\nA /mnt/vol');
    await out('exec', 'df1', 'sh', '-c', 'echo x > /tmp/new; rm /etc/group; rm -rf /var/spool; mkdir -p /var/spool/o; echo v > /mnt/vol/inside');
    assert.equal(await out('diff', 'df1'), ['A /mnt', 'A /mnt/vol', 'C /etc', 'D /etc/group', 'C /tmp', 'A /tmp/new', 'C /var', 'C /var/spool', 'D /var/spool/mail', 'A /var/spool/o'].sort((a, b) => (a.slice(2) < b.slice(2) ? -1 : 1)).join('\n'));
    const created = await out('create', 'busybox');
    assert.equal((await w.api('GET', `/containers/${created}/changes`)).body, null);
    const tarFile = path.join(scratch, 'export.tar');
    await out('export', '-o', tarFile, 'df1');
    const names = (await must('tar', ['-tf', tarFile])).split('\n');
    assert.ok(names.includes('tmp/new') && names.includes('bin/busybox') && names.includes('mnt/vol/'));
    assert.ok(!names.includes('etc/group') && !names.includes('mnt/vol/inside'));
    await out('stop', '-t', '0', 'df1');
    assert.ok((await must('sh', ['-c', `DOCKER_HOST=unix://${w.sock} docker export df1 | tar -t`])).split('\n').includes('tmp/new'));
  });

  it('commit makes an image that runs; history, save, rmi and load round trip', async () => {
    await out('run', '-d', '--name', 'cm1', 'busybox', 'sleep', '1000');
    await out('exec', 'cm1', 'sh', '-c', 'echo committed > /tmp/c; rm /etc/group');
    const id = await out('commit', '-m', 'the message', '-a', 'me', '-c', 'ENV COLOR=blue', '-c', 'CMD ["cat", "/tmp/c"]', '-c', 'EXPOSE 8080', 'cm1', 'made:v1');
    assert.match(id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await out('run', '--rm', 'made:v1'), 'committed');
    assert.equal(await out('run', '--rm', 'made:v1', 'sh', '-c', 'echo $COLOR; ls /etc/group 2>&1 || true'), 'blue\nls: /etc/group: No such file or directory');
    const inspect = JSON.parse(await out('image', 'inspect', 'made:v1')) as [{ Parent: string; Comment: string; Author: string; Config: { ExposedPorts: object; Cmd: string[] }; RootFS: { Layers: string[] } }];
    const busybox = await out('image', 'inspect', '-f', '{{.Id}}', 'busybox');
    assert.equal(inspect[0].Parent, busybox);
    assert.equal(inspect[0].Comment, 'the message');
    assert.equal(inspect[0].Author, 'me');
    assert.deepEqual(inspect[0].Config.Cmd, ['cat', '/tmp/c']);
    assert.deepEqual(Object.keys(inspect[0].Config.ExposedPorts), ['8080/tcp']);
    assert.equal(inspect[0].RootFS.Layers.length, 2);
    const history = (await out('history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', 'made:v1')).split('\n');
    assert.deepEqual(history, [`${id}|sleep 1000|the message`, `${busybox}|berth: synthesized from the host's /bin/busybox (busybox-static)|`]);
    const archive = path.join(scratch, 'saved.tar');
    await out('save', '-o', archive, 'made:v1', 'busybox');
    const names = (await must('tar', ['-tf', archive])).split('\n');
    for (const n of ['manifest.json', 'index.json', 'oci-layout', 'repositories', `blobs/sha256/${id.slice(7)}`]) assert.ok(names.includes(n), n);
    await out('rm', '-f', 'cm1');
    await out('rmi', 'made:v1');
    assert.equal((await w.docker('image', 'inspect', 'made:v1')).code, 1);
    assert.match(await out('load', '-i', archive), /Loaded image: made:v1/);
    assert.equal(await out('run', '--rm', 'made:v1'), 'committed');
    const missing = await w.docker('save', 'nosuch:tag');
    assert.match(missing.stderr, /reference does not exist/);
  });

  it("emits dockerd's events for cp, export and commit", async () => {
    await out('run', '-d', '--name', 'ev1', 'busybox', 'sleep', '1000');
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await out('cp', 'ev1:/etc/hostname', path.join(scratch, 'hn'));
    await out('cp', path.join(scratch, 'hn'), 'ev1:/tmp/');
    await out('export', '-o', path.join(scratch, 'ev.tar'), 'ev1');
    const id = await out('commit', 'ev1', 'evimg:1');
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const lines = (await out('events', '--since', since, '--until', until, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.imageID}}')).split('\n');
    for (const want of ['container archive-path', 'container extract-to-dir', 'container export', `container commit ${id}`, 'image create', 'image tag']) {
      assert.ok(lines.some((l) => l.trim() === want || l.startsWith(`${want} `)), `${want} in ${lines.join('; ')}`);
    }
  });
});
