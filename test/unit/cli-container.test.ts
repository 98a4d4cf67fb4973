/** The container verbs against a fake daemon: requests sent, call order, streams, output, exit codes. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, beforeEach, test } from 'node:test';
import { encodeFrame } from '../../src/cli/stdcopy.js';
import { FakeDaemon, runCli, upgraded, type Recorded, type Reply } from './cli-fake-daemon.js';

const ID = 'c0ffee'.padEnd(64, '0');
const EXEC = 'e'.repeat(64);

/** What the fake container does once started; set per test. */
interface Script {
  /** Written to the attach connection when the container starts. */
  output?: Buffer[];
  exitCode?: number;
  /** Echo what arrives on the attach connection back as stdout, exit when stdin closes. */
  echo?: boolean;
  startError?: { status: number; message: string };
  createError?: { status: number; message: string };
  tty?: boolean;
}

let daemon: FakeDaemon;
let script: Script = {};
let attach: Duplex | undefined;
let waitRes: http.ServerResponse | undefined;
let creates = 0;

function exit(code: number): void {
  attach?.end();
  waitRes?.end(JSON.stringify({ StatusCode: code }));
}

function containerJson(name: string): object {
  return {
    Id: ID,
    Name: `/${name}`,
    Config: { Tty: script.tty ?? false, OpenStdin: true },
    State: { Running: true },
    HostConfig: { AutoRemove: false },
    NetworkSettings: {
      Ports: {
        '80/tcp': [
          { HostIp: '0.0.0.0', HostPort: '8080' },
          { HostIp: '::', HostPort: '8080' },
        ],
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
        '443/tcp': null,
      },
    },
  };
}

function routes(req: Recorded): Reply | undefined {
  const p = req.path;
  if (req.method === 'POST' && p === '/containers/create') {
    creates++;
    if (script.createError && creates === 1) return { status: script.createError.status, json: { message: script.createError.message } };
    return { status: 201, json: { Id: ID, Warnings: req.query.get('name') === 'warned' ? ['something odd'] : [] } };
  }
  if (req.method === 'POST' && p === '/images/create') {
    return { text: '{"status":"Pulling from library/busybox","id":"latest"}\n{"status":"Status: Downloaded newer image for busybox:latest"}\n' };
  }
  if (req.method === 'POST' && p === `/containers/${ID}/wait`) {
    return {
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        waitRes = res;
      },
    };
  }
  if (req.method === 'POST' && p === `/containers/${ID}/start`) {
    if (script.startError) return { status: script.startError.status, json: { message: script.startError.message } };
    setImmediate(() => {
      for (const chunk of script.output ?? []) attach?.write(chunk);
      if (!script.echo) exit(script.exitCode ?? 0);
    });
    return { status: 204 };
  }
  const m = /^\/containers\/([^/]+)\/json$/.exec(p);
  if (req.method === 'GET' && m) {
    const name = decodeURIComponent(m[1]!);
    return name === 'nope' ? { status: 404, json: { message: `No such container: ${name}` } } : { json: containerJson(name) };
  }
  return undefined;
}

/** The attach side of the fake: 101, then the script's behaviour. */
function attachUpgrade(req: Recorded, socket: Duplex): void {
  if (req.path !== `/containers/${ID}/attach`) {
    socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    return;
  }
  upgraded(socket, script.tty);
  attach = socket;
  if (!script.echo) return;
  let input = '';
  socket.on('data', (c: Buffer) => (input += c.toString()));
  socket.on('end', () => {
    socket.write(encodeFrame(1, `echo:${input}`));
    exit(script.exitCode ?? 0);
  });
}

before(async () => {
  daemon = await new FakeDaemon(routes).start();
});
after(async () => daemon.stop());
beforeEach(() => {
  daemon.requests.length = 0;
  daemon.on(routes).onUpgrade(attachUpgrade);
  script = {};
  attach = undefined;
  waitRes = undefined;
  creates = 0;
});

const berth = (...argv: string[]) => runCli(daemon.host, argv);
const calls = (): string[] => daemon.requests.map((r) => `${r.method} ${r.path}`);
const request = (method: string, path: string): Recorded => {
  const r = daemon.requests.find((q) => q.method === method && q.path === path);
  assert.ok(r, `no ${method} ${path} in ${calls().join(', ')}`);
  return r;
};

test('run -d: the create body for a complex command line', async () => {
  const argv = [
    'run', '-d', '--name', 'web',
    '-p', '8080:80', '-p', '127.0.0.1::53/udp', '-p', '[::1]:9000-9001:9000-9001', '-p', '7000-7001', '--expose', '3000/tcp',
    '-e', 'A=1', '-e', 'FROM_ENV', '-e', 'MISSING',
    '-v', '/h:/c:ro', '-v', 'vol:/n', '-v', '/anon', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=64m',
    '--network', 'mynet', '--ip', '10.1.0.5', '--network-alias', 'db', '--link', 'other:o', '--mac-address', '02:42:ac:11:00:02',
    '--dns', '1.1.1.1', '--dns-search', 'example.com', '--dns-option', 'ndots:2', '--add-host', 'h1:10.0.0.1', '--add-host', 'h2=[::1]',
    '--cap-add', 'NET_ADMIN', '--cap-drop', 'ALL', '--privileged', '--restart', 'on-failure:3', '--log-driver', 'none',
    '--stop-signal', 'SIGINT', '--stop-timeout', '5', '-l', 'k=v', '-u', '1000', '-w', '/work', '--entrypoint', '/bin/sh',
    '-h', 'host1', 'busybox', '-c', 'echo hi',
  ];
  const r = await runCli(daemon.host, argv, '', { FROM_ENV: 'x' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${ID}\n`);
  const create = request('POST', '/containers/create');
  assert.equal(create.query.get('name'), 'web');
  const body = JSON.parse(create.body) as Record<string, unknown> & { HostConfig: Record<string, unknown>; NetworkingConfig: { EndpointsConfig: Record<string, unknown> } };
  assert.deepEqual(
    { ...body, HostConfig: undefined, NetworkingConfig: undefined },
    {
      Hostname: 'host1', Domainname: '', User: '1000',
      AttachStdin: false, AttachStdout: false, AttachStderr: false,
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {}, '7000/tcp': {}, '7001/tcp': {}, '3000/tcp': {} },
      Tty: false, OpenStdin: false, StdinOnce: false,
      Env: ['A=1', 'FROM_ENV=x', 'MISSING'], Cmd: ['-c', 'echo hi'], Image: 'busybox', Volumes: { '/anon': {} },
      WorkingDir: '/work', Entrypoint: ['/bin/sh'], MacAddress: '02:42:ac:11:00:02', OnBuild: null, Labels: { k: 'v' },
      StopSignal: 'SIGINT', StopTimeout: 5, HostConfig: undefined, NetworkingConfig: undefined,
    },
  );
  const hc = body.HostConfig;
  assert.deepEqual(hc.PortBindings, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }],
    '53/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    '9000/tcp': [{ HostIp: '::1', HostPort: '9000' }],
    '9001/tcp': [{ HostIp: '::1', HostPort: '9001' }],
    '7000/tcp': [{ HostIp: '', HostPort: '' }],
    '7001/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(hc.Binds, ['/h:/c:ro', 'vol:/n']);
  assert.deepEqual(hc.Mounts, [{ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 1024 * 1024 } }]);
  assert.equal(hc.NetworkMode, 'mynet');
  assert.deepEqual(hc.Links, ['other:o']);
  assert.deepEqual([hc.Dns, hc.DnsSearch, hc.DnsOptions, hc.ExtraHosts], [['1.1.1.1'], ['example.com'], ['ndots:2'], ['h1:10.0.0.1', 'h2:::1']]);
  assert.deepEqual([hc.CapAdd, hc.CapDrop, hc.Privileged], [['NET_ADMIN'], ['ALL'], true]);
  assert.deepEqual(hc.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(hc.LogConfig, { Type: 'none', Config: {} });
  assert.deepEqual([hc.AutoRemove, hc.PublishAllPorts, hc.ConsoleSize], [false, false, [0, 0]]);
  assert.deepEqual(body.NetworkingConfig.EndpointsConfig, {
    mynet: {
      IPAMConfig: { IPv4Address: '10.1.0.5' }, Links: ['other:o'], Aliases: ['db'], MacAddress: '02:42:ac:11:00:02', DriverOpts: null, GwPriority: 0,
      NetworkID: '', EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
    },
  });
});

test('run -d: create, wait (next-exit, before start), start; the ID is printed', async () => {
  const r = await berth('run', '-d', 'busybox');
  assert.equal(r.status, 0);
  assert.deepEqual(calls(), ['POST /containers/create', `POST /containers/${ID}/wait`, `POST /containers/${ID}/start`]);
  assert.equal(request('POST', `/containers/${ID}/wait`).query.get('condition'), 'next-exit');
  const body = JSON.parse(request('POST', '/containers/create').body) as { NetworkingConfig: unknown; HostConfig: { NetworkMode: string } };
  assert.equal(body.HostConfig.NetworkMode, 'default');
  assert.deepEqual(Object.keys((body.NetworkingConfig as { EndpointsConfig: object }).EndpointsConfig), ['default']);
});

test('run: attach before wait before start; demultiplexed output; the exit code is the container\'s', async () => {
  script = { output: [encodeFrame(1, 'hello\n'), encodeFrame(2, 'oops\n'), encodeFrame(1, 'bye\n')], exitCode: 3 };
  const r = await berth('run', '--rm', 'busybox', 'sh', '-c', 'echo hello');
  assert.equal(r.stdout, 'hello\nbye\n');
  assert.equal(r.stderr, 'oops\n');
  assert.equal(r.status, 3);
  assert.deepEqual(calls(), ['POST /containers/create', `POST /containers/${ID}/attach`, `POST /containers/${ID}/wait`, `POST /containers/${ID}/start`]);
  const att = request('POST', `/containers/${ID}/attach`);
  assert.equal(att.headers.upgrade, 'tcp');
  assert.equal(att.query.toString(), 'stream=1&stdout=1&stderr=1');
  assert.equal(request('POST', `/containers/${ID}/wait`).query.get('condition'), 'removed');
  const body = JSON.parse(request('POST', '/containers/create').body) as Record<string, unknown> & { HostConfig: { AutoRemove: boolean } };
  assert.deepEqual([body.AttachStdin, body.AttachStdout, body.AttachStderr, body.OpenStdin, body.HostConfig.AutoRemove], [false, true, true, false, true]);
});

test('run -i: stdin goes to the container, its end half-closes the connection', async () => {
  script = { echo: true };
  const r = await runCli(daemon.host, ['run', '-i', 'busybox', 'cat'], 'line one\nline two\n');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'echo:line one\nline two\n');
  assert.equal(request('POST', `/containers/${ID}/attach`).query.toString(), 'stream=1&stdin=1&stdout=1&stderr=1');
  const body = JSON.parse(request('POST', '/containers/create').body) as Record<string, unknown>;
  assert.deepEqual([body.AttachStdin, body.OpenStdin, body.StdinOnce], [true, true, true]);
});

test('run -t: raw output copied as is', async () => {
  script = { tty: true, output: [Buffer.from('\x1b[1mhi\r\n')] };
  const r = await berth('run', '-t', 'busybox');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '\x1b[1mhi\r\n');
});

test('run -it without a terminal: the input device is not a TTY, nothing sent', async () => {
  const r = await berth('run', '-it', 'busybox');
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'the input device is not a TTY\n');
  assert.deepEqual(calls(), []);
});

test('run: a missing image is pulled, then create is tried again', async () => {
  script = { createError: { status: 404, message: 'No such image: busybox:latest' } };
  const r = await berth('run', '-d', 'busybox');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${ID}\n`);
  assert.equal(r.stderr, "Unable to find image 'busybox:latest' locally\nlatest: Pulling from library/busybox\nStatus: Downloaded newer image for busybox:latest\n");
  assert.deepEqual(calls().slice(0, 3), ['POST /containers/create', 'POST /images/create', 'POST /containers/create']);
  const pull = request('POST', '/images/create');
  assert.equal(pull.query.toString(), 'fromImage=docker.io%2Flibrary%2Fbusybox&tag=latest');
  assert.equal(pull.headers['x-registry-auth'], 'e30=');
});

test('run --pull never: no pull; the daemon error exits 125 with the help pointer', async () => {
  script = { createError: { status: 404, message: 'No such image: busybox:latest' } };
  const r = await berth('run', '--pull', 'never', 'busybox');
  assert.equal(r.status, 125);
  assert.equal(r.stderr, "berth: Error response from daemon: No such image: busybox:latest\n\nRun 'berth run --help' for more information\n");
  assert.deepEqual(calls(), ['POST /containers/create']);
});

test('run: start failures exit 127 (command not found), 126 (cannot execute), 125 otherwise', async () => {
  const cases: [string, number][] = [
    ['failed to create task: exec: "nope": executable file not found in $PATH', 127],
    ['exec /etc: permission denied', 126],
    ['network nope not found', 125],
  ];
  for (const [message, status] of cases) {
    script = { startError: { status: 500, message } };
    const r = await berth('run', 'busybox', 'nope');
    assert.equal(r.status, status, message);
    assert.equal(r.stderr, `berth: Error response from daemon: ${message}\n\nRun 'berth run --help' for more information\n`);
  }
});

test('run: bad flags exit 125 before any request, with docker\'s texts', async () => {
  const cases: [string[], string][] = [
    [['-p', '80/xyz'], "berth: invalid proto: xyz\n\nRun 'berth run --help' for more information\n"],
    [['--restart', 'always', '--rm'], "berth: conflicting options: cannot specify both --restart and --rm\n\nRun 'berth run --help' for more information\n"],
    [['--network-alias', 'x'], "berth: network-scoped aliases are only supported for user-defined networks\n\nRun 'berth run --help' for more information\n"],
    [['--pull', 'sometimes'], `berth: invalid pull option: 'sometimes': must be one of "always", "missing" or "never"\n\nRun 'berth run --help' for more information\n`],
    [['-e', '=x'], `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x\nSee 'berth container run --help'.\n`],
    [['--add-host', 'nocolon'], `invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"\nSee 'berth container run --help'.\n`],
  ];
  for (const [flags, stderr] of cases) {
    const r = await berth('container', 'run', ...flags, 'busybox');
    assert.equal(r.status, 125, flags.join(' '));
    assert.equal(r.stderr, stderr);
  }
  assert.deepEqual(calls(), []);
});

test('create: prints the ID and warnings; daemon errors are plain (exit 1)', async () => {
  const ok = await berth('create', '--name', 'warned', '--dns', '127.0.0.53', 'busybox');
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, `${ID}\n`);
  assert.equal(ok.stderr, 'WARNING: something odd\nWARNING: Localhost DNS (127.0.0.53) may fail in containers.\n');
  assert.deepEqual(calls(), ['POST /containers/create']);
  script = { createError: { status: 409, message: 'Conflict. The container name "/web" is already in use' } };
  creates = 0;
  const bad = await berth('create', '--name', 'web', 'busybox');
  assert.equal(bad.status, 1);
  assert.equal(bad.stderr, 'Error response from daemon: Conflict. The container name "/web" is already in use\n');
});

test('start -a: attach, wait, start, stream, exit status', async () => {
  script = { output: [encodeFrame(1, 'started\n')], exitCode: 7 };
  const r = await berth('start', '-a', 'web');
  assert.equal(r.stdout, 'started\n');
  assert.equal(r.status, 7);
  assert.deepEqual(calls(), ['GET /containers/web/json', `POST /containers/${ID}/attach`, `POST /containers/${ID}/wait`, `POST /containers/${ID}/start`]);
});

test('logs: inspect for Config.Tty, query as docker sends it, streams demultiplexed', async () => {
  daemon.on((req) => {
    if (req.path === `/containers/${ID}/logs`) {
      return { body: Buffer.concat([encodeFrame(1, 'out 1\n'), encodeFrame(2, 'err 1\n')]), contentType: 'application/vnd.docker.multiplexed-stream' };
    }
    return routes(req);
  });
  const r = await berth('logs', '--tail', '5', '-t', '--since', '1717236672', '--until', '2024-06-01T10:11:12Z', '-f', 'web');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'out 1\n');
  assert.equal(r.stderr, 'err 1\n');
  const q = request('GET', `/containers/${ID}/logs`).query;
  assert.deepEqual(Object.fromEntries(q), { stdout: '1', stderr: '1', since: '1717236672', timestamps: '1', follow: '1', tail: '5', until: '1717236672.000000000' });
  const nope = await berth('logs', 'nope');
  assert.equal(nope.status, 1);
  assert.equal(nope.stderr, 'Error response from daemon: No such container: nope\n');
});

test('logs of a TTY container are copied raw', async () => {
  script = { tty: true };
  daemon.on((req) => (req.path === `/containers/${ID}/logs` ? { body: Buffer.from('raw\r\n'), contentType: 'application/vnd.docker.raw-stream' } : routes(req)));
  const r = await berth('logs', 'web');
  assert.equal(r.stdout, 'raw\r\n');
  assert.equal(request('GET', `/containers/${ID}/logs`).query.get('tail'), 'all');
});

test('exec: inspect, create, hijacked start, exit code from the exec inspect', async () => {
  daemon.on((req) => {
    if (req.method === 'POST' && req.path === '/containers/web/exec') return { status: 201, json: { Id: EXEC } };
    if (req.method === 'GET' && req.path === `/exec/${EXEC}/json`) return { json: { ID: EXEC, Running: false, ExitCode: 42 } };
    if (req.method === 'POST' && req.path === `/exec/${EXEC}/start`) return { status: 200 };
    return routes(req);
  });
  daemon.onUpgrade((req, socket) => {
    assert.equal(req.path, `/exec/${EXEC}/start`);
    upgraded(socket);
    socket.end(Buffer.concat([encodeFrame(1, 'in exec\n'), encodeFrame(2, 'warn\n')]));
  });
  const r = await runCli(daemon.host, ['exec', '-e', 'A=1', '-e', 'HOME_DIR', '-w', '/tmp', '-u', 'nobody', 'web', 'ls', '-l'], '', { HOME_DIR: '/root' });
  assert.equal(r.stdout, 'in exec\n');
  assert.equal(r.stderr, 'warn\n');
  assert.equal(r.status, 42);
  assert.deepEqual(calls(), ['GET /containers/web/json', 'POST /containers/web/exec', `POST /exec/${EXEC}/start`, `GET /exec/${EXEC}/json`]);
  assert.deepEqual(JSON.parse(request('POST', '/containers/web/exec').body), {
    User: 'nobody', Privileged: false, Tty: false, AttachStdin: false, AttachStderr: true, AttachStdout: true, Detach: false,
    DetachKeys: '', Env: ['A=1', 'HOME_DIR=/root'], WorkingDir: '/tmp', Cmd: ['ls', '-l'],
  });
  assert.deepEqual(JSON.parse(request('POST', `/exec/${EXEC}/start`).body), { Detach: false, Tty: false });
  daemon.requests.length = 0;
  const d = await berth('exec', '-d', 'web', 'sleep', '1');
  assert.equal(d.status, 0);
  assert.deepEqual(calls(), ['GET /containers/web/json', 'POST /containers/web/exec', `POST /exec/${EXEC}/start`]);
  assert.deepEqual(JSON.parse(request('POST', `/exec/${EXEC}/start`).body), { Detach: true, Tty: false });
});

test('stop, restart, kill: queries as docker sends them; names printed; errors joined at the end', async () => {
  daemon.on((req) => {
    if (req.path.startsWith('/containers/nope/')) return { status: 404, json: { message: 'No such container: nope' } };
    if (req.method === 'POST' && /\/(stop|restart|kill)$/.test(req.path)) return { status: 204 };
    return undefined;
  });
  const stop = await berth('stop', '-t', '3', '-s', 'SIGUSR1', 'a', 'nope', 'b');
  assert.equal(stop.status, 1);
  assert.equal(stop.stdout, 'a\nb\n');
  assert.equal(stop.stderr, 'Error response from daemon: No such container: nope\n');
  assert.equal(daemon.requests[0]!.query.toString(), 't=3&signal=SIGUSR1');
  daemon.requests.length = 0;
  await berth('restart', 'a');
  assert.equal(daemon.requests[0]!.query.toString(), '');
  daemon.requests.length = 0;
  const kill = await berth('kill', '-s', 'HUP', 'a');
  assert.equal(kill.stdout, 'a\n');
  assert.equal(daemon.requests[0]!.query.toString(), 'signal=HUP');
  const both = await berth('stop', '--time', '1', '-t', '2', 'a');
  assert.equal(both.stderr, 'conflicting options: cannot specify both --timeout and --time\n');
});

test('rm: v/force/link query; -f reports a missing container but succeeds', async () => {
  daemon.on((req) => {
    if (req.path === '/containers/nope') return { status: 404, json: { message: 'No such container: nope' } };
    if (req.path === '/containers/busy') return { status: 409, json: { message: 'cannot remove container "busy": container is running: stop the container before removing or force remove' } };
    return req.method === 'DELETE' ? { status: 204 } : undefined;
  });
  const r = await berth('rm', '-v', 'a', 'busy', 'b');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, 'a\nb\n');
  assert.match(r.stderr, /^Error response from daemon: cannot remove container "busy"/);
  assert.equal(daemon.requests[0]!.query.toString(), 'v=1');
  const forced = await berth('rm', '-f', 'nope', 'a');
  assert.equal(forced.status, 0);
  assert.equal(forced.stdout, 'a\n');
  assert.equal(forced.stderr, 'Error response from daemon: No such container: nope\n');
  assert.equal(daemon.requests.at(-1)!.query.toString(), 'force=1');
});

test('wait prints each exit code', async () => {
  daemon.on((req) => (req.path.endsWith('/wait') ? { json: { StatusCode: req.path.includes('/a/') ? 0 : 137 } } : undefined));
  const r = await berth('wait', 'a', 'b');
  assert.equal(r.stdout, '0\n137\n');
  assert.equal(daemon.requests[0]!.query.has('condition'), false);
});

test('port: all mappings sorted, or one port\'s addresses; errors like docker', async () => {
  const all = await berth('port', 'web');
  assert.equal(all.stdout, '53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n80/tcp -> [::]:8080\n');
  const one = await berth('port', 'web', '80');
  assert.equal(one.stdout, '0.0.0.0:8080\n[::]:8080\n');
  const missing = await berth('port', 'web', '443/tcp');
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, "Error: No public port '443/tcp' published for web\n");
  const bad = await berth('port', 'web', 'http');
  assert.equal(bad.stderr, 'Error: invalid port (http): strconv.ParseUint: parsing "http": invalid syntax\n');
});

test('inspect: containers by default; falls through to images; --type; No such object', async () => {
  daemon.on((req) => {
    if (req.path === '/containers/busybox/json') return { status: 404, json: { message: 'No such container: busybox' } };
    if (req.path === '/images/busybox/json') return { json: { Id: 'sha256:abc', RepoTags: ['busybox:latest'] } };
    if (req.path.startsWith('/images/') || req.path.startsWith('/networks/') || req.path.startsWith('/volumes/')) return { status: 404, json: { message: 'not found' } };
    return routes(req);
  });
  const c = await berth('inspect', '-f', '{{.Name}} {{.Config.Tty}}', 'web');
  assert.equal(c.stdout, '/web false\n');
  const img = await berth('inspect', '--format', '{{index .RepoTags 0}}', 'busybox');
  assert.equal(img.stdout, 'busybox:latest\n');
  const none = await berth('inspect', 'nope');
  assert.equal(none.status, 1);
  assert.equal(none.stdout, '[]\n');
  assert.equal(none.stderr, 'Error: No such object: nope\n');
  const typed = await berth('inspect', '--type', 'image', 'web');
  assert.equal(typed.stderr, 'Error response from daemon: not found\n');
  const bad = await berth('inspect', '--type', 'thing', 'web');
  assert.match(bad.stderr, /^unknown type: "thing": must be one of "config", "container"/);
  const ci = await berth('container', 'inspect', 'web', 'nope');
  assert.equal(ci.status, 1);
  assert.equal((JSON.parse(ci.stdout) as unknown[]).length, 1);
  assert.equal(ci.stderr, 'Error response from daemon: No such container: nope\n');
});

function psList(): object[] {
  const now = Math.floor(Date.now() / 1000);
  return [
    {
      Id: 'a'.repeat(64), Names: ['/web', '/other/web-alias'], Image: 'nginx:latest', ImageID: `sha256:${'1'.repeat(64)}`,
      Command: "sh -c 'sleep 1000; echo done'", Created: now - 3 * 3600,
      Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
      Labels: { b: '2', a: '1' }, State: 'running', Status: 'Up 3 hours', SizeRw: 12345, SizeRootFs: 4261550,
      NetworkSettings: { Networks: { mynet: {}, bridge: {} } }, Mounts: [{ Name: 'averyveryverylongvolumename', Driver: 'local' }],
    },
    {
      Id: 'b'.repeat(64), Names: ['/db'], Image: `sha256:${'2'.repeat(64)}`, ImageID: `sha256:${'2'.repeat(64)}`, Command: 'postgres',
      Created: now - 2 * 86400, Ports: [{ PrivatePort: 5432, Type: 'tcp' }], Labels: {}, State: 'exited', Status: 'Exited (0) 2 days ago',
    },
    {
      Id: 'c'.repeat(64), Names: ['/r'], Image: `docker.io/library/busybox@sha256:${'f'.repeat(64)}`, ImageID: `sha256:${'3'.repeat(64)}`,
      Command: 'top', Created: now - 45 * 60, State: 'running', Status: 'Up 45 minutes',
      Ports: [8001, 8000, 8002].map((p) => ({ IP: '0.0.0.0', PrivatePort: p, PublicPort: p, Type: 'tcp' })),
    },
  ];
}

test('ps: docker\'s columns — short IDs, familiar images, quoted and cut commands, CREATED ago, PORTS grouped, main name', async () => {
  daemon.on((req) => (req.path === '/containers/json' ? { json: psList() } : undefined));
  const r = await berth('ps');
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    [
      'CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS                  PORTS                                     NAMES',
      `aaaaaaaaaaaa   nginx:latest   "sh -c 'sleep 1000; …"   3 hours ago      Up 3 hours              0.0.0.0:8080->80/tcp, [::]:8080->80/tcp   web`,
      'bbbbbbbbbbbb   222222222222   "postgres"               2 days ago       Exited (0) 2 days ago   5432/tcp                                  db',
      'cccccccccccc   busybox        "top"                    45 minutes ago   Up 45 minutes           0.0.0.0:8000-8002->8000-8002/tcp          r',
      '',
    ].join('\n'),
  );
  assert.equal(daemon.requests[0]!.query.toString(), '');
});

test('ps: -a -n -l -s -f set the query; -q and --no-trunc; --format with methods; json', async () => {
  daemon.on((req) => (req.path === '/containers/json' ? { json: psList() } : undefined));
  await berth('ps', '-a', '-n', '2', '-s', '-f', 'status=exited', '-f', 'label=a=1');
  assert.deepEqual(Object.fromEntries(daemon.requests[0]!.query), { all: '1', limit: '2', size: '1', filters: '{"status":{"exited":true},"label":{"a=1":true}}' });
  daemon.requests.length = 0;
  await berth('ps', '-l');
  assert.equal(daemon.requests[0]!.query.toString(), 'limit=1');
  const q = await berth('ps', '-q');
  assert.equal(q.stdout, 'aaaaaaaaaaaa\nbbbbbbbbbbbb\ncccccccccccc\n');
  const full = await berth('ps', '--no-trunc', '--format', '{{.ID}} {{.Command}} {{.Names}} {{.Image}}');
  assert.equal(full.stdout.split('\n')[0], `${'a'.repeat(64)} "sh -c 'sleep 1000; echo done'" web,other/web-alias nginx:latest`);
  const fmt = await berth('ps', '--format', 'table {{.Names}}\t{{.Label "a"}}\t{{.Labels}}\t{{.Networks}}\t{{.Mounts}}\t{{.LocalVolumes}}\t{{.Size}}');
  assert.equal(fmt.stdout.split('\n').slice(0, 2).join('\n'), 'NAMES     LABEL     LABELS    NETWORKS       MOUNTS            LOCAL VOLUMES   SIZE\nweb       1         a=1,b=2   bridge,mynet   averyveryveryl…   1               12.3kB (virtual 4.26MB)');
  assert.equal(daemon.requests.at(-1)!.query.get('size'), '1');
  const warn = await berth('ps', '-q', '--format', '{{.Names}}');
  assert.equal(warn.stderr, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  assert.equal(warn.stdout, 'aaaaaaaaaaaa\nbbbbbbbbbbbb\ncccccccccccc\n');
  const json = await berth('ps', '--format', 'json');
  const first = JSON.parse(json.stdout.split('\n')[0]!) as Record<string, string>;
  assert.deepEqual(Object.keys(first), ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Platform', 'Ports', 'RunningFor', 'Size', 'State', 'Status']);
  assert.equal(first.Status, 'Up 3 hours');
});

test('create: --env-file and --label-file (comments, bare names), then -e/-l override; --entrypoint= resets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-env-'));
  try {
    writeFileSync(join(dir, 'env'), '\uFEFF# comment\nA=from-file\n  B=2\nFROM_ENV\nUNSET\n\n');
    writeFileSync(join(dir, 'labels'), 'team=blue\nbare\n');
    const r = await runCli(daemon.host, ['create', '--env-file', join(dir, 'env'), '-e', 'A=flag', '--label-file', join(dir, 'labels'), '-l', 'x', '--entrypoint=', 'busybox'], '', { FROM_ENV: 'y' });
    assert.equal(r.status, 0);
    const body = JSON.parse(request('POST', '/containers/create').body) as Record<string, unknown>;
    assert.deepEqual(body.Env, ['A=from-file', 'B=2', 'FROM_ENV=y', 'A=flag']);
    assert.deepEqual(body.Labels, { team: 'blue', x: '' });
    assert.deepEqual(body.Entrypoint, ['']);
    const missing = await berth('create', '--env-file', join(dir, 'nope'), 'busybox');
    assert.equal(missing.status, 125);
    assert.equal(missing.stderr, `berth: open ${join(dir, 'nope')}: no such file or directory\n\nRun 'berth create --help' for more information\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
