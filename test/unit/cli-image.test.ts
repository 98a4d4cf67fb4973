/** The image and volume verbs against a fake daemon. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { FakeDaemon, runCli, type Recorded, type Reply } from './cli-fake-daemon.js';

const IMG = `sha256:${'ab12'.repeat(16)}`;
const OLD = `sha256:${'cd34'.repeat(16)}`;
const DIGEST = `sha256:${'ef'.repeat(32)}`;

function images(): object[] {
  const now = Math.floor(Date.now() / 1000);
  return [
    {
      Id: IMG, RepoTags: ['busybox:latest', 'busybox:1.36', 'localhost:5000/tools/bb:v1'], RepoDigests: [`busybox@${DIGEST}`],
      Created: now - 3 * 86400, Size: 4261550, SharedSize: -1, Containers: -1, Labels: null,
    },
    { Id: OLD, RepoTags: [], RepoDigests: [], Created: now - 20 * 86400, Size: 1234, SharedSize: -1, Containers: 2 },
  ];
}

let daemon: FakeDaemon;
let dir: string;

function routes(req: Recorded): Reply | undefined {
  const p = req.path;
  if (req.method === 'GET' && p === '/images/json') return { json: images() };
  if (req.method === 'POST' && p === '/images/create' && req.query.has('fromImage')) {
    if (req.query.get('fromImage') === 'docker.io/library/gone') {
      return { text: '{"status":"Pulling from library/gone","id":"latest"}\n{"errorDetail":{"message":"manifest for gone:latest not found"},"error":"manifest for gone:latest not found"}\n' };
    }
    return {
      text: [
        '{"status":"Pulling from library/busybox","id":"latest"}',
        '{"status":"Pulling fs layer","progressDetail":{},"id":"0123456789ab"}',
        '{"status":"Downloading","progressDetail":{"current":100,"total":2000},"progress":"[>   ]","id":"0123456789ab"}',
        '{"status":"Pull complete","progressDetail":{},"id":"0123456789ab"}',
        `{"status":"Digest: ${DIGEST}"}`,
        '{"status":"Status: Downloaded newer image for busybox:latest"}',
        '',
      ].join('\n'),
    };
  }
  if (req.method === 'POST' && p === '/images/create') return { text: `{"status":"${IMG}"}\n` };
  if (req.method === 'POST' && p === '/images/load') {
    return { body: Buffer.from('{"stream":"Loaded image: busybox:latest\\n"}\n'), contentType: 'application/json' };
  }
  if (req.method === 'POST' && p.endsWith('/tag')) return { status: 201 };
  if (req.method === 'DELETE' && p === '/images/busybox') return { json: [{ Untagged: 'busybox:latest' }, { Deleted: IMG }] };
  if (req.method === 'DELETE' && p === '/images/nope') return { status: 404, json: { message: 'No such image: nope:latest' } };
  if (req.method === 'DELETE' && p === '/images/used') {
    return { status: 409, json: { message: 'conflict: unable to delete cd34cd34cd34 (must be forced) - image is being used by stopped container 0123456789ab' } };
  }
  if (req.method === 'GET' && p === '/images/busybox:latest/json') return { json: { Id: IMG, RepoTags: ['busybox:latest'] } };
  if (req.method === 'POST' && p === '/volumes/create') return { status: 201, json: { Name: JSON.parse(req.body).Name ?? 'f'.repeat(64), Driver: 'local' } };
  if (req.method === 'GET' && p === '/volumes') {
    return { json: { Volumes: [{ Name: 'vol10', Driver: 'local' }, { Name: 'vol9', Driver: 'local', Labels: { team: 'blue' } }], Warnings: [] } };
  }
  if (req.method === 'GET' && p === '/volumes/vol9') return { json: { Name: 'vol9', Driver: 'local', Mountpoint: '/var/lib/berth/volumes/vol9/_data' } };
  if (p === '/volumes/busy') return { status: 409, json: { message: 'remove busy: volume is in use - [0123456789ab]' } };
  if (req.method === 'DELETE' && p.startsWith('/volumes/')) return { status: 204 };
  return undefined;
}

before(async () => {
  daemon = await new FakeDaemon(routes).start();
  dir = mkdtempSync(join(tmpdir(), 'berth-cli-img-'));
});
after(async () => {
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  daemon.requests.length = 0;
});

const berth = (...argv: string[]) => runCli(daemon.host, argv);

test('images: a row per repository and tag, <none> for dangling images', async () => {
  const r = await berth('images');
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    [
      'REPOSITORY                TAG       IMAGE ID       CREATED       SIZE',
      'busybox                   latest    ab12ab12ab12   3 days ago    4.26MB',
      'busybox                   1.36      ab12ab12ab12   3 days ago    4.26MB',
      'localhost:5000/tools/bb   v1        ab12ab12ab12   3 days ago    4.26MB',
      '<none>                    <none>    cd34cd34cd34   2 weeks ago   1.23kB',
      '',
    ].join('\n'),
  );
});

test('images: -q, --no-trunc, --digests, REPO filter, -a', async () => {
  const q = await berth('image', 'ls', '-q');
  assert.equal(q.stdout, 'ab12ab12ab12\nab12ab12ab12\nab12ab12ab12\ncd34cd34cd34\n');
  const digests = await berth('images', '--digests', '--format', 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}');
  assert.equal(digests.stdout.split('\n')[1], `busybox                   latest    ${DIGEST}`);
  const full = await berth('images', '--no-trunc', '--format', '{{.ID}}');
  assert.equal(full.stdout.split('\n')[0], IMG);
  daemon.requests.length = 0;
  await berth('images', '-a', 'busybox');
  assert.deepEqual(Object.fromEntries(daemon.requests[0]!.query), { all: '1', filters: '{"reference":{"busybox":true}}' });
});

test('pull: default tag note, fromImage and tag, progress lines without the bars, the full reference', async () => {
  const r = await berth('pull', 'busybox');
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    [
      'Using default tag: latest',
      'latest: Pulling from library/busybox',
      '0123456789ab: Pulling fs layer',
      '0123456789ab: Pull complete',
      `Digest: ${DIGEST}`,
      'Status: Downloaded newer image for busybox:latest',
      'docker.io/library/busybox:latest',
      '',
    ].join('\n'),
  );
  assert.equal(daemon.requests[0]!.query.toString(), 'fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest');
  const quiet = await berth('pull', '-q', 'localhost:5000/tools/bb:v1');
  assert.equal(quiet.stdout, 'localhost:5000/tools/bb:v1\n');
  assert.equal(daemon.requests.at(-1)!.query.toString(), 'fromImage=localhost%3A5000%2Ftools%2Fbb&tag=v1');
});

test('pull: a stream error fails with its message; bad references and -a with a tag are refused', async () => {
  const gone = await berth('pull', 'gone');
  assert.equal(gone.status, 1);
  assert.equal(gone.stderr, 'manifest for gone:latest not found\n');
  const bad = await berth('pull', 'Bad');
  assert.equal(bad.stderr, 'invalid reference format: repository name (library/Bad) must be lowercase\n');
  const all = await berth('pull', '-a', 'busybox:1');
  assert.equal(all.stderr, "tag can't be used with --all-tags/-a\n");
});

test('import: the tarball is the body; repo, message and each change in the query', async () => {
  const tar = join(dir, 'rootfs.tar');
  writeFileSync(tar, 'TARBALL-BYTES');
  const r = await berth('import', '-c', 'CMD ["sh"]', '--change', 'ENV A=1', '-m', 'hello', tar, 'mine:v1');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${IMG}\n`);
  const req = daemon.requests[0]!;
  assert.equal(req.body, 'TARBALL-BYTES');
  assert.equal(req.query.get('fromSrc'), '-');
  assert.equal(req.query.get('repo'), 'mine:v1');
  assert.equal(req.query.get('message'), 'hello');
  assert.deepEqual(req.query.getAll('changes'), ['CMD ["sh"]', 'ENV A=1']);
  const fromStdin = await runCli(daemon.host, ['import', '-'], 'FROM-STDIN');
  assert.equal(fromStdin.status, 0);
  assert.equal(daemon.requests.at(-1)!.body, 'FROM-STDIN');
  const missing = await berth('import', join(dir, 'nope.tar'));
  assert.equal(missing.stderr, `open ${join(dir, 'nope.tar')}: no such file or directory\n`);
});

test('load: the archive with Content-Type application/x-tar, quiet off a terminal, Loaded image lines', async () => {
  const tar = join(dir, 'image.tar');
  writeFileSync(tar, 'IMAGE-ARCHIVE');
  const r = await berth('load', '-i', tar);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'Loaded image: busybox:latest\n');
  const req = daemon.requests[0]!;
  assert.equal(req.headers['content-type'], 'application/x-tar');
  assert.equal(req.query.get('quiet'), '1');
  assert.equal(req.body, 'IMAGE-ARCHIVE');
});

test('tag: repo and tag from the target; digests refused', async () => {
  const r = await berth('tag', 'busybox:latest', 'localhost:5000/me/bb');
  assert.equal(r.status, 0);
  assert.equal(daemon.requests[0]!.path, '/images/busybox:latest/tag');
  assert.equal(daemon.requests[0]!.query.toString(), 'repo=localhost%3A5000%2Fme%2Fbb&tag=latest');
  const digest = await berth('tag', 'busybox', `bb@${DIGEST}`);
  assert.equal(digest.stderr, 'refusing to create a tag with a digest reference\n');
  const bad = await berth('tag', 'busybox', 'UPPER');
  assert.equal(bad.stderr, 'Error parsing reference: "UPPER" is not a valid repository/tag: invalid reference format\n');
});

test('rmi: Untagged and Deleted lines; -f tolerates missing images but not conflicts', async () => {
  const r = await berth('rmi', 'busybox');
  assert.equal(r.stdout, `Untagged: busybox:latest\nDeleted: ${IMG}\n`);
  assert.equal(daemon.requests[0]!.query.toString(), '');
  const forced = await berth('rmi', '-f', 'nope', 'busybox');
  assert.equal(forced.status, 0);
  assert.equal(forced.stderr, 'Error response from daemon: No such image: nope:latest\n');
  assert.equal(daemon.requests.at(-1)!.query.toString(), 'force=1');
  const conflict = await berth('image', 'rm', '-f', 'nope', 'used');
  assert.equal(conflict.status, 1);
  const plain = await berth('rmi', '--no-prune', 'nope');
  assert.equal(plain.status, 1);
  assert.equal(daemon.requests.at(-1)!.query.toString(), 'noprune=1');
});

test('image inspect by name', async () => {
  const r = await berth('image', 'inspect', '-f', '{{.Id}}', 'busybox:latest');
  assert.equal(r.stdout, `${IMG}\n`);
});

test('volume create, ls, inspect, rm', async () => {
  const c = await berth('volume', 'create', '--label', 'team=blue', '-o', 'type=tmpfs', 'data');
  assert.equal(c.stdout, 'data\n');
  assert.deepEqual(JSON.parse(daemon.requests[0]!.body), { Driver: 'local', DriverOpts: { type: 'tmpfs' }, Labels: { team: 'blue' }, Name: 'data' });
  const anon = await berth('volume', 'create');
  assert.equal(anon.stdout, `${'f'.repeat(64)}\n`);
  const ls = await berth('volume', 'ls');
  assert.equal(ls.stdout, 'DRIVER    VOLUME NAME\nlocal     vol9\nlocal     vol10\n');
  const q = await berth('volume', 'ls', '-q', '-f', 'dangling=true');
  assert.equal(q.stdout, 'vol9\nvol10\n');
  assert.equal(daemon.requests.at(-1)!.query.get('filters'), '{"dangling":{"true":true}}');
  const fmt = await berth('volume', 'ls', '--format', '{{.Name}}:{{.Label "team"}}');
  assert.equal(fmt.stdout, 'vol9:blue\nvol10:\n');
  const i = await berth('volume', 'inspect', '--format', '{{.Mountpoint}}', 'vol9');
  assert.equal(i.stdout, '/var/lib/berth/volumes/vol9/_data\n');
  const rm = await berth('volume', 'rm', '-f', 'vol9', 'busy');
  assert.equal(rm.status, 1);
  assert.equal(rm.stdout, 'vol9\n');
  assert.equal(rm.stderr, 'Error response from daemon: remove busy: volume is in use - [0123456789ab]\n');
  assert.equal(daemon.requests.find((q2) => q2.method === 'DELETE')!.query.toString(), 'force=1');
});
