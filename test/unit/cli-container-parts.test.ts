/** The pure pieces behind the container verbs: ports, cell formats, stream framing, escapes, times, progress. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { endpointsConfig, parseNetworkFlag } from '../../src/cli/commands/container/networks.js';
import { parseMount, parseVolumeSpec, splitVolumes } from '../../src/cli/commands/container/mounts.js';
import { displayablePorts, parsePortSpec, parsePublish } from '../../src/cli/commands/container/ports.js';
import { CliError } from '../../src/cli/errors.js';
import { parseDetachKeys } from '../../src/cli/hijack-stream.js';
import { detachKeyCodes, EscapeDetector } from '../../src/util/detach-keys.js';
import { ellipsis, formatG, humanDuration, humanSize, quoteGo } from '../../src/util/humanize.js';
import { displayJsonMessages, progressString } from '../../src/cli/progress.js';
import { copyOutput, encodeFrame, FrameDemuxer } from '../../src/cli/stdcopy.js';
import { getTimestamp, parseGoDuration } from '../../src/cli/timestamps.js';

const b = (HostIp: string, HostPort: string): { HostIp: string; HostPort: string } => ({ HostIp, HostPort });

test('-p forms: CPORT, HPORT:CPORT, IP::CPORT, IP:HPORT:CPORT, [v6]:HPORT:CPORT, protocols', () => {
  assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: b('', '') }]);
  assert.deepEqual(parsePortSpec('8080:80'), [{ port: '80/tcp', binding: b('', '8080') }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::53/udp'), [{ port: '53/udp', binding: b('127.0.0.1', '') }]);
  assert.deepEqual(parsePortSpec('10.0.0.1:8080:80/SCTP'), [{ port: '80/sctp', binding: b('10.0.0.1', '8080') }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ port: '80/tcp', binding: b('::1', '8080') }]);
  assert.deepEqual(parsePortSpec('::1:8080:80'), [{ port: '80/tcp', binding: b('::1', '8080') }]);
});

test('-p ranges expand to one key per port; a host range for one port stays a range', () => {
  assert.deepEqual(parsePortSpec('8000-8002:80-82'), [
    { port: '80/tcp', binding: b('', '8000') },
    { port: '81/tcp', binding: b('', '8001') },
    { port: '82/tcp', binding: b('', '8002') },
  ]);
  assert.deepEqual(parsePortSpec('7000-7001'), [
    { port: '7000/tcp', binding: b('', '') },
    { port: '7001/tcp', binding: b('', '') },
  ]);
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ port: '80/tcp', binding: b('', '8000-8010') }]);
});

test('parsePublish merges -p, the long form and --expose', () => {
  const { exposed, bindings } = parsePublish(['8080:80', '9090:80', 'published=53,target=53,protocol=udp'], ['3000-3001', '80']);
  assert.deepEqual(Object.keys(exposed), ['80/tcp', '53/udp', '3000/tcp', '3001/tcp']);
  assert.deepEqual(bindings, { '80/tcp': [b('', '8080'), b('', '9090')], '53/udp': [b('', '53')] });
});

test('-p and --expose errors are docker\'s', () => {
  const fails = (f: () => unknown, msg: string): void => assert.throws(f, (e: unknown) => e instanceof CliError && e.message === msg);
  fails(() => parsePortSpec('80/xyz'), 'invalid proto: xyz');
  fails(() => parsePortSpec('foo:80:80'), 'invalid IP address: foo');
  fails(() => parsePortSpec('8080:'), 'invalid proto: ');
  fails(() => parsePortSpec('8080:http'), 'invalid containerPort: http');
  fails(() => parsePortSpec('70000:80'), 'invalid hostPort: 70000');
  fails(() => parsePortSpec('8000-8001:80-85'), 'invalid ranges specified for container and host Ports: 80-85 and 8000-8001');
  fails(() => parsePublish([], ['80:80']), 'invalid port format for --expose: 80:80');
  fails(() => parsePublish([], ['x']), 'invalid range format for --expose: x, error: strconv.ParseUint: parsing "x": invalid syntax');
  fails(() => parsePublish(['published=80,bogus'], []), "invalid publish opts format (should be name=value but got 'bogus')");
});

test('PORTS column: same-port ranges grouped per IP, other mappings listed after, IPv6 bracketed', () => {
  const ports = [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
    { PrivatePort: 444, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 9001, PublicPort: 9001, Type: 'udp' },
    { IP: '0.0.0.0', PrivatePort: 9000, PublicPort: 9000, Type: 'udp' },
  ];
  assert.equal(displayablePorts(ports), '443-444/tcp, 0.0.0.0:9000-9001->9000-9001/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp');
  assert.equal(displayablePorts([]), '');
  assert.equal(
    displayablePorts([
      { PrivatePort: 80, Type: 'tcp' },
      { PrivatePort: 82, Type: 'tcp' },
    ]),
    '80/tcp, 82/tcp',
  );
});

test('go-units durations and sizes, Ellipsis, strconv.Quote', () => {
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1000), '1 second');
  assert.equal(humanDuration(5900), '5 seconds');
  assert.equal(humanDuration(60_000), 'About a minute');
  assert.equal(humanDuration(45 * 60_000), '45 minutes');
  assert.equal(humanDuration(89 * 60_000), 'About an hour');
  assert.equal(humanDuration(3 * 3_600_000), '3 hours');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
  assert.equal(humanDuration(20 * 86_400_000), '2 weeks');
  assert.equal(humanDuration(100 * 86_400_000), '3 months');
  assert.equal(humanDuration(800 * 86_400_000), '2 years');
  assert.equal(humanSize(4261550, 3), '4.26MB');
  assert.equal(humanSize(0, 3), '0B');
  assert.equal(humanSize(1000, 3), '1kB');
  assert.equal(humanSize(123456, 3), '123kB');
  assert.equal(humanSize(999900, 3), '1e+03kB');
  assert.equal(humanSize(2048), '2.048kB');
  assert.equal(formatG(12.5, 3), '12.5');
  assert.equal(ellipsis("sh -c 'sleep 1000; echo done'", 20), "sh -c 'sleep 1000; …");
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(quoteGo(`sh -c "a\\b"\n\x01`), '"sh -c \\"a\\\\b\\"\\n\\x01"');
});

test('stdcopy: frames split across chunks, stdin frames to stdout, unknown stream types rejected', () => {
  const d = new FrameDemuxer();
  const all = Buffer.concat([encodeFrame(1, 'out'), encodeFrame(2, 'err'), encodeFrame(0, 'in')]);
  const frames = [...d.push(all.subarray(0, 5)), ...d.push(all.subarray(5, 13)), ...d.push(all.subarray(13))];
  assert.deepEqual(
    frames.map((f) => [f.stream, f.payload.toString()]),
    [
      ['stdout', 'out'],
      ['stderr', 'err'],
      ['stdout', 'in'],
    ],
  );
  assert.equal(d.buffered, 0);
  assert.throws(() => new FrameDemuxer().push(Buffer.from([7, 0, 0, 0, 0, 0, 0, 0])), /Unrecognized input header: 7/);
});

test('copyOutput: demuxes to both streams, a system-error frame fails with its text', async () => {
  const collect = (s: PassThrough): (() => string) => {
    let text = '';
    s.on('data', (c: Buffer) => (text += c.toString()));
    return () => text;
  };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  await copyOutput([encodeFrame(1, 'a\n'), encodeFrame(2, 'b\n'), encodeFrame(1, 'c\n')], { stdout, stderr }, false);
  assert.equal(out(), 'a\nc\n');
  assert.equal(err(), 'b\n');
  await assert.rejects(copyOutput([encodeFrame(3, 'boom')], { stdout, stderr }, false), /^Error: boom$/);
  const raw = new PassThrough();
  const rawText = collect(raw);
  await copyOutput([Buffer.from('\x1b[1mtty\r\n')], { stdout: raw }, true);
  assert.equal(rawText(), '\x1b[1mtty\r\n');
});

test('detach keys: ctrl-p ctrl-q typed one by one detach; anything else is released', () => {
  assert.deepEqual(parseDetachKeys(undefined), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x,ctrl-@,ctrl-_'), [1, 120, 0, 31]);
  assert.deepEqual(parseDetachKeys('ctrl-nope'), [16, 17]);
  assert.equal(detachKeyCodes('ctrl-nope'), undefined, 'the daemon refuses what the CLI replaces');
  assert.deepEqual(detachKeyCodes('DEL,ctrl-\\'), [127, 28]);
  const d = new EscapeDetector([16, 17]);
  assert.deepEqual(d.feed(Buffer.from([16])), { forward: Buffer.alloc(0), detached: false });
  assert.deepEqual(d.feed(Buffer.from('a')), { forward: Buffer.from([16, 97]), detached: false });
  d.feed(Buffer.from([16]));
  assert.equal(d.feed(Buffer.from([17])).detached, true);
  assert.deepEqual(d.feed(Buffer.from([16, 17])), { forward: Buffer.from([16, 17]), detached: false });
});

test('--since/--until: durations count back from now, dates become sec.nanos, Unix times pass', () => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('abc'), undefined);
  assert.equal(getTimestamp('42m', now), String(now / 1000 - 42 * 60));
  assert.equal(getTimestamp('2025-06-01T10:11:12Z', now), `${Date.UTC(2025, 5, 1, 10, 11, 12) / 1000}.000000000`);
  assert.equal(getTimestamp('2025-06-01T10:11:12.5+02:00', now), `${Date.UTC(2025, 5, 1, 8, 11, 12) / 1000}.500000000`);
  assert.equal(getTimestamp('1717236672', now), '1717236672');
  assert.equal(getTimestamp('1717236672.123', now), '1717236672.123');
  assert.throws(() => getTimestamp('yesterday', now), /failed to parse value as time or duration: "yesterday"/);
});

test('progress display off a terminal: status lines, progress updates dropped, errors end it', async () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const messages = [
    { status: 'Pulling from library/busybox', id: 'latest' },
    { status: 'Pulling fs layer', progressDetail: {}, id: 'abc' },
    { status: 'Downloading', progressDetail: { current: 10, total: 100 }, progress: '[=>   ]', id: 'abc' },
    { status: 'Pull complete', progressDetail: {}, id: 'abc' },
    { stream: 'Loaded image: busybox:latest\n' },
    { status: 'Digest: sha256:1234' },
  ];
  await displayJsonMessages(messages, stream, { terminal: false });
  assert.equal(text, 'latest: Pulling from library/busybox\nabc: Pulling fs layer\nabc: Pull complete\nLoaded image: busybox:latest\nDigest: sha256:1234\n');
  await assert.rejects(displayJsonMessages([{ errorDetail: { message: 'manifest unknown' }, error: 'manifest unknown' }], stream, { terminal: false }), /^StreamMessageError: manifest unknown$/);
});

test('progress bar like JSONProgress.String', () => {
  assert.equal(progressString({ current: 50, total: 100 }, { terminal: true, width: 120 }), `[${'='.repeat(25)}>${' '.repeat(25)}]      50B/100B`);
  assert.equal(progressString({ current: 50, total: 100 }, { terminal: true, width: 80 }), '     50B/100B');
  assert.equal(progressString({ current: 2048 }, { terminal: true }), ' 2.048kB');
  assert.equal(progressString({}, { terminal: true }), '');
});

test('--network long form and the endpoint settings docker sends', () => {
  assert.deepEqual(parseNetworkFlag('name=web,alias=a1,alias=a2,ip=10.0.0.5,driver-opt=k=v'), {
    target: 'web',
    aliases: ['a1', 'a2'],
    driverOpts: { k: 'v' },
    links: [],
    ipv4: '10.0.0.5',
    ipv6: '',
    linkLocalIps: [],
    macAddress: '',
    gwPriority: 0,
  });
  assert.throws(() => parseNetworkFlag('name=web,bogus=1'), /invalid field key bogus/);
  const none = { aliases: [], links: [], ipv4: '', ipv6: '', macAddress: '', linkLocalIps: [] };
  const defaultEp = endpointsConfig([], none);
  assert.deepEqual(Object.keys(defaultEp), ['default']);
  assert.equal(defaultEp.default!.Aliases, null);
  assert.deepEqual(endpointsConfig([parseNetworkFlag('mynet')], none), {});
  const two = endpointsConfig([parseNetworkFlag('a'), parseNetworkFlag('b')], { ...none, aliases: ['x'] });
  assert.deepEqual(two.a!.Aliases, ['x']);
  assert.equal(two.b!.Aliases, null);
  assert.throws(() => endpointsConfig([], { ...none, aliases: ['x'] }), /network-scoped aliases are only supported for user-defined networks/);
  assert.throws(() => endpointsConfig([parseNetworkFlag('a'), parseNetworkFlag('a')], none), /network "a" is specified multiple times/);
  assert.throws(() => endpointsConfig([parseNetworkFlag('host'), parseNetworkFlag('a')], none), /cannot attach both user-defined and non-user-defined/);
  assert.throws(() => endpointsConfig([parseNetworkFlag('name=a,alias=y')], { ...none, aliases: ['x'] }), /cannot specify both --network-alias and per-network alias/);
});

test('-v and --mount', () => {
  assert.deepEqual(parseVolumeSpec('/data'), { source: '', target: '/data', type: 'volume' });
  assert.deepEqual(parseVolumeSpec('vol:/data:ro'), { source: 'vol', target: '/data', type: 'volume' });
  assert.deepEqual(parseVolumeSpec('/h:/c'), { source: '/h', target: '/c', type: 'bind' });
  assert.throws(() => parseVolumeSpec('/a::/b'), /invalid spec: \/a::\/b: empty section between colons/);
  assert.throws(() => parseVolumeSpec('/a:/b:ro:x'), /too many colons/);
  assert.deepEqual(splitVolumes(['/h:/c:ro', './rel:/r', 'vol:/v', '/anon'], '/home/me'), {
    binds: ['/h:/c:ro', '/home/me/rel:/r', 'vol:/v'],
    volumes: { '/anon': {} },
  });
  assert.deepEqual(parseMount('type=bind,src=./x,dst=/y,readonly,bind-propagation=rshared', '/w'), {
    Type: 'bind',
    Source: '/w/x',
    Target: '/y',
    ReadOnly: true,
    BindOptions: { Propagation: 'rshared' },
  });
  assert.deepEqual(parseMount('type=volume,source=v,target=/d,volume-label=a=b,volume-nocopy', '/'), {
    Type: 'volume',
    Source: 'v',
    Target: '/d',
    VolumeOptions: { Labels: { a: 'b' }, DriverConfig: {}, NoCopy: true },
  });
  assert.throws(() => parseMount('type=tmpfs,dst=/t,volume-nocopy', '/'), /cannot mix 'volume-\*' options with mount type 'tmpfs'/);
  assert.throws(() => parseMount('type=bind,src=/x', '/'), /target is required/);
});
