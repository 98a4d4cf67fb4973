import assert from 'node:assert/strict';
import * as http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient, parseHost, queryString } from '../../src/cli/client.js';
import { ConnectionError, DaemonError, describeError } from '../../src/cli/errors.js';
import { filtersParam } from '../../src/cli/opts.js';
import { FakeDaemon } from './cli-fake-daemon.js';

let daemon: FakeDaemon;
let client: ApiClient;

before(async () => {
  daemon = await new FakeDaemon((req) => {
    if (req.path === '/networks' && req.method === 'GET') return { json: [{ Name: 'bridge', Id: 'x' }] };
    if (req.path === '/networks/create') return { status: 201, json: { Id: 'new', Warning: '' } };
    if (req.path === '/networks/gone') return { status: 404, json: { message: 'network gone not found' } };
    if (req.path === '/plain') return { status: 500, text: 'boom\n' };
    if (req.path === '/empty') return { status: 204 };
    if (req.path === '/progress') return { text: '{"status":"a"}\r\n{"status":"b"}\r\n' };
    return undefined;
  }).start();
  client = new ApiClient(daemon.host);
});

after(async () => {
  client.close();
  await daemon.stop();
});

test('requests carry the API version prefix and JSON bodies', async () => {
  const res = await client.json<{ Id: string }>('POST', '/networks/create', { body: { Name: 'n1' } });
  assert.equal(res.Id, 'new');
  const req = daemon.requests.at(-1)!;
  assert.equal(req.method, 'POST');
  assert.equal(req.path, '/networks/create');
  assert.equal(req.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(req.body), { Name: 'n1' });
  assert.match(String(req.headers['user-agent']), /^berth-cli/);
});

test('filters are sent as docker encodes them', async () => {
  await client.json('GET', '/networks', { query: { filters: filtersParam(['driver=bridge', 'label=a=b', 'driver=macvlan']) } });
  const req = daemon.requests.at(-1)!;
  assert.deepEqual(JSON.parse(req.query.get('filters') ?? ''), { driver: { bridge: true, macvlan: true }, label: { 'a=b': true } });
});

test('no filters: the parameter is left out', async () => {
  await client.json('GET', '/networks', { query: { filters: filtersParam([]) } });
  assert.equal(daemon.requests.at(-1)!.query.has('filters'), false);
});

test('query encoding: undefined left out, booleans as 1/0', () => {
  assert.equal(queryString({ a: undefined, b: true, c: false, d: 'x y' }), '?b=1&c=0&d=x+y');
  assert.equal(queryString({}), '');
});

test('an error status with {message} becomes a DaemonError with that message', async () => {
  await assert.rejects(client.send('DELETE', '/networks/gone'), (e: unknown) => {
    assert.ok(e instanceof DaemonError);
    assert.equal(e.statusCode, 404);
    assert.equal(describeError(e), 'Error response from daemon: network gone not found');
    return true;
  });
});

test('a non-JSON error body is shown as text', async () => {
  await assert.rejects(client.send('GET', '/plain'), (e: unknown) => e instanceof DaemonError && e.message === 'boom');
});

test('an unknown endpoint is the daemon 404 message', async () => {
  await assert.rejects(client.json('GET', '/nope'), /page not found: \/nope/);
});

test('an empty successful body parses as undefined', async () => {
  assert.equal(await client.json('GET', '/empty'), undefined);
});

test('request() gives the raw response whatever the status', async () => {
  const res = await client.request('DELETE', '/networks/gone');
  assert.equal(res.statusCode, 404);
  res.resume();
});

test('jsonStream yields each progress message', async () => {
  const seen: unknown[] = [];
  for await (const m of client.jsonStream('POST', '/progress')) seen.push(m);
  assert.deepEqual(seen, [{ status: 'a' }, { status: 'b' }]);
});

test('no daemon at the socket: a connection error naming the host', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  const host = `unix://${join(dir, 'none.sock')}`;
  const c = new ApiClient(host);
  try {
    await assert.rejects(c.json('GET', '/version'), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.equal(e.message, `Cannot connect to the berth daemon at ${host}. Is berthd running?`);
      return true;
    });
  } finally {
    c.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hijack: 101 hands over the raw connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  const sock = join(dir, 'h.sock');
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req: http.IncomingMessage, socket) => {
    assert.equal(req.headers.upgrade, 'tcp');
    socket.write('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello');
    socket.on('data', (d: Buffer) => socket.end(`echo:${d.toString()}`));
  });
  await new Promise<void>((r) => server.listen(sock, r));
  const c = new ApiClient(`unix://${sock}`);
  try {
    const { socket, head } = await c.hijack('POST', '/containers/x/attach');
    let got = head.toString();
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.write('ping');
    await new Promise((r) => socket.on('end', r));
    assert.equal(got, 'helloecho:ping');
    socket.destroy();
  } finally {
    c.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hijack: an error status is the daemon message', async () => {
  await assert.rejects(client.hijack('POST', '/networks/gone'), /network gone not found/);
});

test('host parsing', () => {
  assert.deepEqual(parseHost('unix:///run/berth/berth.sock'), { socketPath: '/run/berth/berth.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { hostname: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseHost('tcp://[::1]:2376'), { hostname: '::1', port: 2376 });
  assert.throws(() => parseHost('ssh://x'));
});
