/**
 * The log drivers against real files and protocol-faithful listeners in the test's
 * namespace (UDP/TCP/TLS servers under nsenter, unix sockets in the test's folder): every
 * field each driver sends, rotation, docker logs' options, the cache, a stalled
 * destination, a daemon restart in the middle of the output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { decodeMulti } from '@msgpack/msgpack';
import { settled, sleep } from '../lib/async.js';
import { LogListener } from '../lib/log-listener.js';
import { World } from '../lib/world.js';

/** journald's native protocol: KEY=value lines, or KEY\n<u64 LE length><bytes>\n. */
function journalFields(d: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < d.length) {
    const nl = d.indexOf(0x0a, pos);
    const line = d.toString('utf8', pos, nl);
    const eq = line.indexOf('=');
    if (eq >= 0) {
      out.set(line.slice(0, eq), line.slice(eq + 1));
      pos = nl + 1;
    } else {
      const len = Number(d.readBigUInt64LE(nl + 1));
      out.set(line, d.toString('utf8', nl + 9, nl + 9 + len));
      pos = nl + 9 + len + 1;
    }
  }
  return out;
}

/** GELF datagrams (chunked or not, gzip) into messages. */
function gelfMessages(datagrams: Buffer[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const chunks = new Map<string, Buffer[]>();
  for (const d of datagrams) {
    if (d[0] === 0x1e && d[1] === 0x0f) {
      const id = d.subarray(2, 10).toString('hex');
      const parts = chunks.get(id) ?? new Array<Buffer>(d[11]!);
      parts[d[10]!] = d.subarray(12);
      chunks.set(id, parts);
      if (parts.filter(Boolean).length === d[11]) out.push(JSON.parse(gunzipSync(Buffer.concat(parts)).toString()) as Record<string, unknown>);
    } else out.push(JSON.parse(gunzipSync(d).toString()) as Record<string, unknown>);
  }
  return out;
}

describe('log drivers', () => {
  let w: World;
  let sockets: string;
  let pid: number;
  const listeners: LogListener[] = [];
  const listen = async (...args: Parameters<typeof LogListener.start>): Promise<LogListener> => {
    const l = await LogListener.start(...args);
    listeners.push(l);
    return l;
  };

  before(async () => {
    sockets = fs.mkdtempSync(path.join(tmpdir(), 'berth-logsock-'));
    w = await World.create({ daemonEnv: { BERTH_JOURNAL_SOCKET: path.join(sockets, 'journal.sock'), TZ: 'UTC' } });
    pid = Number(fs.readFileSync(path.join(w.execRoot, 'berthd.pid'), 'utf8'));
  });
  after(async () => {
    for (const l of listeners) l.stop();
    await w.dispose();
    fs.rmSync(sockets, { recursive: true, force: true });
  });

  const idOf = async (name: string): Promise<string> => w.dockerOk('inspect', '-f', '{{.Id}}', name);
  const dirOf = async (name: string): Promise<string> => path.join(w.dataRoot, 'containers', await idOf(name));

  it('json-file: Docker\'s lines with attrs, docker logs with --details, -t, --tail, --since and --until', async () => {
    await w.dockerOk('run', '--name', 'jf', '--label', 'app=shop', '-e', 'REGION=eu', '--log-opt', 'labels=app', '--log-opt', 'env=REGION',
      '--log-opt', 'tag={{.Name}}/{{.ImageName}}', 'busybox', 'sh', '-c', 'echo "out <1>"; sleep 0.2; echo err >&2; sleep 0.2; printf partial');
    const logPath = await w.dockerOk('inspect', '-f', '{{.LogPath}}', 'jf');
    assert.equal(logPath, path.join(await dirOf('jf'), `${await idOf('jf')}-json.log`));
    const lines = fs.readFileSync(logPath, 'utf8').trimEnd().split('\n');
    const attrs = '"attrs":{"REGION":"eu","app":"shop","tag":"jf/busybox"}';
    const time = '"time":"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?Z"';
    assert.match(lines[0]!, new RegExp(`^\\{"log":"out \\\\u003c1\\\\u003e\\\\n","stream":"stdout",${attrs},${time}\\}$`));
    assert.match(lines[1]!, new RegExp(`^\\{"log":"err\\\\n","stream":"stderr",${attrs},${time}\\}$`));
    assert.match(lines[2]!, new RegExp(`^\\{"log":"partial","stream":"stdout",${attrs},${time}\\}$`));
    const logs = await w.docker('logs', 'jf');
    assert.deepEqual([logs.stdout, logs.stderr], ['out <1>\npartial', 'err\n']);
    const details = await w.dockerOk('logs', '--details', 'jf');
    assert.equal(details, 'REGION=eu,app=shop,tag=jf%2Fbusybox out <1>\nREGION=eu,app=shop,tag=jf%2Fbusybox partial');
    const stamped = (await w.docker('logs', '-t', 'jf')).stderr;
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err\n$/);
    const tail = await w.docker('logs', '--tail', '1', 'jf');
    assert.deepEqual([tail.stdout, tail.stderr], ['partial', '']);
    const errTime = JSON.parse(lines[1]!).time as string;
    const since = await w.docker('logs', '--since', errTime, 'jf');
    assert.deepEqual([since.stdout, since.stderr], ['partial', 'err\n']);
    const until = await w.docker('logs', '--until', errTime, 'jf');
    assert.deepEqual([until.stdout, until.stderr], ['out <1>\n', 'err\n']);
  });

  it('json-file rotates at max-size, keeps max-file files and gzips them with lastTime; logs -f reads across rotations', async () => {
    await w.dockerOk('run', '-d', '--name', 'rot', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', '--log-opt', 'compress=true',
      'busybox', 'sh', '-c', 'sleep 0.5; i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); [ $((i % 20)) = 0 ] && sleep 0.02; done');
    const followed = await w.docker('logs', '-f', 'rot');
    assert.deepEqual(followed.stdout.trimEnd().split('\n'), Array.from({ length: 300 }, (_, i) => `line ${i + 1}`), 'the follower saw every line');
    const dir = await dirOf('rot');
    const id = await idOf('rot');
    const files = await settled(async () => fs.readdirSync(dir).filter((f) => f.startsWith(id)).sort(), (f) => !f.some((x) => /\.\d$/.test(x)));
    assert.deepEqual(files, [`${id}-json.log`, `${id}-json.log.1.gz`, `${id}-json.log.2.gz`]);
    assert.ok(fs.statSync(path.join(dir, `${id}-json.log`)).size <= 2100);
    const gz = fs.readFileSync(path.join(dir, `${id}-json.log.1.gz`));
    assert.equal(gz[3]! & 0x04, 0x04, 'FEXTRA');
    const extra = JSON.parse(gz.toString('utf8', 12, 12 + gz.readUInt16LE(10))) as { lastTime: string };
    assert.match(extra.lastTime, /^\d{4}-.*Z$/);
    const kept = (await w.dockerOk('logs', 'rot')).split('\n');
    assert.equal(kept[kept.length - 1], 'line 300');
    assert.ok(kept.length < 300 && kept.length > 40, `${kept.length} lines kept`);
    assert.deepEqual(kept, kept.map((_, i) => `line ${301 - kept.length + i}`), 'what is kept is contiguous');
  });

  it('local: the protobuf-framed file under local-logs, no LogPath, docker logs with --tail', async () => {
    await w.dockerOk('run', '--name', 'loc', '--log-driver', 'local', '--log-opt', 'max-size=1k', 'busybox', 'sh', '-c', 'i=1; while [ $i -le 60 ]; do echo "n$i"; i=$((i+1)); done');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.LogPath}}', 'loc'), '');
    const dir = path.join(await dirOf('loc'), 'local-logs');
    const files = await settled(async () => fs.readdirSync(dir).sort(), (f) => !f.some((x) => /\.\d$/.test(x)));
    assert.deepEqual(files.slice(0, 2), ['container.log', 'container.log.1.gz']);
    const data = fs.readFileSync(path.join(dir, 'container.log'));
    const len = data.readUInt32BE(0);
    assert.equal(data.readUInt32BE(4 + len), len, 'the length again after the entry');
    assert.deepEqual(data.subarray(4, 12), Buffer.from([0x0a, 6, ...Buffer.from('stdout')]));
    assert.equal(await w.dockerOk('logs', '--tail', '2', 'loc'), 'n59\nn60');
    const all = (await w.dockerOk('logs', 'loc')).split('\n');
    assert.equal(all.length, 60, 'default max-file 5: nothing dropped yet');
  });

  it('none: nothing kept; docker logs answers 501 as dockerd', async () => {
    await w.dockerOk('run', '--name', 'quiet', '--log-driver', 'none', 'busybox', 'echo', 'x');
    const r = await w.docker('logs', 'quiet');
    assert.match(r.stderr, /configured logging driver does not support reading/);
    assert.equal((await w.api('GET', '/containers/quiet/logs?stdout=1')).status, 501);
  });

  it('journald: the native protocol\'s datagrams with Docker\'s fields; docker logs reads the cache; no journal fails the start', async () => {
    const sock = path.join(sockets, 'journal.sock');
    const journal = await listen({ kind: 'unixgram', path: sock }, null);
    await w.dockerOk('run', '--name', 'jd', '--label', 'com.example.tier=front', '--log-driver', 'journald', '--log-opt', 'labels=com.example.tier',
      'busybox', 'sh', '-c', 'echo hello; sleep 0.1; echo oops >&2');
    await journal.until(() => journal.datagrams().length >= 2);
    const [a, b] = journal.datagrams().map(journalFields);
    const id = await idOf('jd');
    for (const [f, priority, message, ordinal] of [[a!, '6', 'hello', '1'], [b!, '3', 'oops', '2']] as const) {
      assert.equal(f.get('PRIORITY'), priority);
      assert.equal(f.get('MESSAGE'), message);
      assert.equal(f.get('CONTAINER_ID'), id.slice(0, 12));
      assert.equal(f.get('CONTAINER_ID_FULL'), id);
      assert.equal(f.get('CONTAINER_NAME'), 'jd');
      assert.equal(f.get('CONTAINER_TAG'), id.slice(0, 12));
      assert.equal(f.get('SYSLOG_IDENTIFIER'), id.slice(0, 12));
      assert.equal(f.get('IMAGE_NAME'), 'busybox');
      assert.equal(f.get('COM_EXAMPLE_TIER'), 'front');
      assert.equal(f.get('CONTAINER_LOG_ORDINAL'), ordinal);
      assert.match(f.get('CONTAINER_LOG_EPOCH')!, /^[0-9a-f]{64}$/);
      assert.match(f.get('SYSLOG_TIMESTAMP')!, /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    }
    assert.equal(a!.get('CONTAINER_LOG_EPOCH'), b!.get('CONTAINER_LOG_EPOCH'));
    const logs = await w.docker('logs', 'jd');
    assert.deepEqual([logs.stdout, logs.stderr], ['hello\n', 'oops\n'], 'the local cache answers docker logs');
    await w.dockerOk('run', '--name', 'jd-nocache', '--log-driver', 'journald', '--log-opt', 'cache-disabled=true', 'busybox', 'true');
    assert.match((await w.docker('logs', 'jd-nocache')).stderr, /configured logging driver does not support reading/);
    journal.stop();
    fs.rmSync(sock, { force: true });
    const r = await w.docker('run', '--name', 'jd-off', '--log-driver', 'journald', 'busybox', 'true');
    assert.match(r.stderr, /failed to initialize logging driver: journald is not enabled on this host/);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'jd-off'), 'created');
  });

  it('syslog over udp (rfc5424, facility, tag template), tcp (rfc3164), tcp+tls (rfc5424micro, octet counting), unix and unixgram', async () => {
    const host = hostname();
    const udp = await listen({ kind: 'udp', port: 5514 }, w.nsPath);
    await w.dockerOk('run', '--name', 'sl-udp', '--log-driver', 'syslog', '--log-opt', 'syslog-address=udp://127.0.0.1:5514', '--log-opt', 'syslog-format=rfc5424',
      '--log-opt', 'syslog-facility=local3', '--log-opt', 'tag={{.ImageName}}', 'busybox', 'sh', '-c', 'echo out; echo; sleep 0.1; echo err >&2');
    await udp.until(() => udp.datagrams().length >= 2);
    const stamp5424 = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d)';
    const [d1, d2] = udp.datagrams().map((d) => d.toString());
    assert.match(d1!, new RegExp(`^<158>1 ${stamp5424} ${host} busybox ${pid} busybox - out\\n$`));
    assert.match(d2!, new RegExp(`^<155>1 ${stamp5424} ${host} busybox ${pid} busybox - err\\n$`));
    assert.equal(udp.datagrams().length, 2, 'the empty line is not sent');
    assert.equal((await w.docker('logs', 'sl-udp')).stdout, 'out\n\n', 'the cache keeps every line');

    const tcp = await listen({ kind: 'tcp', port: 5515 }, w.nsPath);
    await w.dockerOk('run', '--name', 'sl-tcp', '--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://127.0.0.1:5515', '--log-opt', 'syslog-format=rfc3164',
      '--log-opt', 'tag={{.Name}}', 'busybox', 'sh', '-c', 'echo one; echo two');
    await tcp.until(() => tcp.streams()[0]?.toString().split('\n').length === 3);
    const stamp3164 = '[A-Z][a-z]{2} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d';
    assert.match(tcp.streams()[0]!.toString(), new RegExp(`^<30>${stamp3164} ${host} sl-tcp\\[${pid}\\]: one\\n<30>${stamp3164} ${host} sl-tcp\\[${pid}\\]: two\\n$`));

    const cert = makeCert(sockets);
    const tls = await listen({ kind: 'tls', port: 5516, cert: cert.cert, key: cert.key }, w.nsPath);
    await w.dockerOk('run', '--name', 'sl-tls', '--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp+tls://127.0.0.1:5516', '--log-opt', `syslog-tls-ca-cert=${cert.cert}`,
      '--log-opt', 'syslog-format=rfc5424micro', 'busybox', 'echo', 'secret');
    await tls.until(() => tls.streams().length > 0 && tls.streams()[0]!.toString().endsWith('\n'));
    const framed = tls.streams()[0]!.toString();
    const sp = framed.indexOf(' ');
    assert.equal(Number(framed.slice(0, sp)), Buffer.byteLength(framed.slice(sp + 1)), 'octet counting');
    const short = (await idOf('sl-tls')).slice(0, 12);
    assert.match(framed.slice(sp + 1), new RegExp(`^<30>1 \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}(Z|[+-]\\d\\d:\\d\\d) ${host} ${short} ${pid} ${short} - secret\\n$`));
    const untrusted = await w.docker('run', '--name', 'sl-tls-bad', '--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp+tls://127.0.0.1:5516', 'busybox', 'true');
    assert.match(untrusted.stderr, /failed to initialize logging driver: tls: failed to verify certificate/);

    const unixPath = path.join(sockets, 'syslog.sock');
    const unix = await listen({ kind: 'unix', path: unixPath }, null);
    await w.dockerOk('run', '--name', 'sl-unix', '--log-driver', 'syslog', '--log-opt', `syslog-address=unix://${unixPath}`, '--log-opt', 'syslog-facility=user', 'busybox', 'echo', 'via-unix');
    await unix.until(() => unix.streams().length > 0);
    const id = (await idOf('sl-unix')).slice(0, 12);
    assert.match(unix.streams()[0]!.toString(), new RegExp(`^<14>${stamp3164} ${id}\\[${pid}\\]: via-unix\\n$`));

    const gramPath = path.join(sockets, 'syslog-dgram.sock');
    const gram = await listen({ kind: 'unixgram', path: gramPath }, null);
    await w.dockerOk('run', '--name', 'sl-gram', '--log-driver', 'syslog', '--log-opt', `syslog-address=unixgram://${gramPath}`, 'busybox', 'echo', 'via-unixgram');
    await gram.until(() => gram.datagrams().length > 0);
    assert.match(gram.datagrams()[0]!.toString(), new RegExp(`^<30>${stamp3164} [0-9a-f]{12}\\[${pid}\\]: via-unixgram\\n$`));

    const down = await w.docker('run', '--name', 'sl-down', '--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://127.0.0.1:5599', 'busybox', 'true');
    assert.match(down.stderr, /failed to initialize logging driver: dial tcp 127\.0\.0\.1:5599: connect: connection refused/);
  });

  it('gelf over udp (gzip, a long line in chunks) and tcp (zero-terminated), with Docker\'s fields', async () => {
    const udp = await listen({ kind: 'udp', port: 12201 }, w.nsPath);
    await w.dockerOk('run', '--name', 'gl', '--label', 'team=core', '--log-opt', 'labels=team', '--log-driver', 'gelf', '--log-opt', 'gelf-address=udp://127.0.0.1:12201',
      'busybox', 'sh', '-c', 'echo short; head -c 4000 /dev/urandom | od -An -tx1 | tr -d " \\n"; echo');
    await udp.until(() => gelfMessages(udp.datagrams()).length >= 2);
    assert.ok(udp.datagrams().some((d) => d[0] === 0x1e && d[1] === 0x0f), 'the long line came in chunks');
    const [m1, m2] = gelfMessages(udp.datagrams());
    const id = await idOf('gl');
    const image = await w.dockerOk('inspect', '-f', '{{.Image}}', 'gl');
    const created = await w.dockerOk('inspect', '-f', '{{.Created}}', 'gl');
    assert.equal(m1!.short_message, 'short');
    assert.deepEqual(Object.keys(m1!), ['version', 'host', 'short_message', 'timestamp', 'level', '_command', '_container_id', '_container_name', '_created', '_image_id', '_image_name', '_tag', '_team']);
    assert.deepEqual({ ...m1!, timestamp: 0, _created: '' }, {
      version: '1.1', host: hostname(), short_message: 'short', timestamp: 0, level: 6, _command: 'sh -c echo short; head -c 4000 /dev/urandom | od -An -tx1 | tr -d " \\n"; echo',
      _container_id: id, _container_name: 'gl', _created: '', _image_id: image, _image_name: 'busybox', _tag: id.slice(0, 12), _team: 'core',
    });
    assert.equal(Date.parse(m1!._created as string), Date.parse(created));
    assert.ok(Math.abs((m1!.timestamp as number) * 1000 - Date.now()) < 60_000);
    assert.match(m2!.short_message as string, /^[0-9a-f]{8000}$/);

    const tcp = await listen({ kind: 'tcp', port: 12202 }, w.nsPath);
    await w.dockerOk('run', '--name', 'gl-tcp', '--log-driver', 'gelf', '--log-opt', 'gelf-address=tcp://127.0.0.1:12202', 'busybox', 'sh', '-c', 'echo a; echo b >&2');
    await tcp.until(() => (tcp.streams()[0]?.filter((b) => b === 0).length ?? 0) >= 2);
    const msgs = tcp.streams()[0]!.toString().split('\0').filter(Boolean).map((t) => JSON.parse(t) as Record<string, unknown>);
    assert.deepEqual(msgs.map((m) => [m.short_message, m.level]), [['a', 6], ['b', 3]]);
  });

  it('fluentd: [tag, time, record, option] over tcp and a unix socket; async starts without a server', async () => {
    const tcp = await listen({ kind: 'tcp', port: 24224 }, w.nsPath);
    await w.dockerOk('run', '--name', 'fd', '--log-driver', 'fluentd', '-e', 'STAGE=prod', '--log-opt', 'env=STAGE', '--log-opt', 'tag=docker.{{.Name}}',
      '--log-opt', 'fluentd-sub-second-precision=true', 'busybox', 'sh', '-c', 'echo hi; echo ho >&2');
    const decoded = (): unknown[][] => [...decodeMulti(tcp.streams()[0] ?? Buffer.alloc(0), { extensionCodec: undefined })] as unknown[][];
    await tcp.until(() => {
      try {
        return decoded().length >= 2;
      } catch {
        return false;
      }
    });
    const id = await idOf('fd');
    const [a, b] = decoded();
    assert.equal(a![0], 'docker.fd');
    assert.deepEqual(a![2], { container_id: id, container_name: '/fd', source: 'stdout', log: 'hi', STAGE: 'prod' });
    assert.deepEqual(b![2], { container_id: id, container_name: '/fd', source: 'stderr', log: 'ho', STAGE: 'prod' });
    assert.deepEqual(a![3], {});
    const ext = a![1] as { type: number; data: Uint8Array };
    assert.equal(ext.type, 0, 'EventTime');
    assert.ok(Math.abs(Buffer.from(ext.data).readInt32BE(0) * 1000 - Date.now()) < 60_000);

    const unixPath = path.join(sockets, 'fluent.sock');
    const unix = await listen({ kind: 'unix', path: unixPath }, null);
    await w.dockerOk('run', '--name', 'fd-unix', '--log-driver', 'fluentd', '--log-opt', `fluentd-address=unix://${unixPath}`, 'busybox', 'echo', 'u');
    await unix.until(() => unix.streams().length > 0 && unix.streams()[0]!.length > 20);
    const [m] = [...decodeMulti(unix.streams()[0]!)] as unknown[][];
    assert.equal(typeof m![1], 'number', 'whole seconds by default');
    assert.equal((m![2] as Record<string, string>).log, 'u');

    const down = await w.docker('run', '--name', 'fd-down', '--log-driver', 'fluentd', '--log-opt', 'fluentd-address=127.0.0.1:24299', 'busybox', 'true');
    assert.match(down.stderr, /failed to initialize logging driver: dial tcp 127\.0\.0\.1:24299: connect: connection refused/);
    await w.dockerOk('run', '--name', 'fd-async', '--log-driver', 'fluentd', '--log-opt', 'fluentd-address=127.0.0.1:24299', '--log-opt', 'fluentd-async=true', 'busybox', 'echo', 'kept');
    assert.equal(await w.dockerOk('logs', 'fd-async'), 'kept');
  });

  it('a stalled destination does not slow the container; the cache has every line and the drops are logged', async () => {
    // Far more than the kernel's socket buffers and the queue (64 KiB of lines here) hold.
    const writer = ['busybox', 'sh', '-c', 'seq 1 300000'];
    const t0 = Date.now();
    await w.dockerOk('run', '--name', 'fast-file', ...writer);
    const baseline = Date.now() - t0;
    await listen({ kind: 'tcp', port: 5520, stall: true }, w.nsPath);
    const t1 = Date.now();
    await w.dockerOk('run', '--name', 'stalled', '--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://127.0.0.1:5520', '--log-opt', 'mode=non-blocking', '--log-opt', 'max-buffer-size=64k', ...writer);
    const stalled = Date.now() - t1;
    assert.ok(stalled < baseline * 2 + 3000, `run took ${stalled} ms against ${baseline} ms with json-file`);
    const lines = (await w.dockerOk('logs', 'stalled')).split('\n');
    assert.equal(lines.length, 300000);
    assert.equal(lines[299999], '300000');
    const log = await settled(async () => w.log, (l) => /logs of stalled .*syslog: \d+ dropped \(destination slow or down\)/.test(l), 15_000);
    assert.match(log, /logs of stalled .*syslog: \d+ dropped \(destination slow or down\)/);
  });

  it('a daemon killed while a container writes picks up where it stopped: no line lost', async () => {
    await w.dockerOk('run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 60 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done');
    await sleep(700);
    await w.restart('SIGKILL');
    await w.dockerOk('wait', 'ticker');
    const ticks = (await w.dockerOk('logs', 'ticker')).split('\n');
    const unique = [...new Set(ticks)];
    assert.deepEqual(unique, Array.from({ length: 60 }, (_, i) => `tick ${i}`));
    assert.ok(ticks.length - unique.length <= 5, `${ticks.length - unique.length} lines again after the crash`);
    pid = Number(fs.readFileSync(path.join(w.execRoot, 'berthd.pid'), 'utf8'));
  });
});

describe('daemon log defaults: flags, the configuration file and SIGHUP', () => {
  let w: World;
  let conf: string;
  before(async () => {
    conf = path.join(fs.mkdtempSync(path.join(tmpdir(), 'berth-conf-')), 'daemon.json');
    fs.writeFileSync(conf, JSON.stringify({ 'log-driver': 'local', 'log-opts': { 'max-size': '5m', 'max-file': '2' } }));
    w = await World.create({ daemonArgs: ['--config-file', conf] });
  });
  after(async () => {
    await w.dispose();
    fs.rmSync(path.dirname(conf), { recursive: true, force: true });
  });
  const logConfig = async (name: string): Promise<unknown> => JSON.parse(await w.dockerOk('inspect', '-f', '{{json .HostConfig.LogConfig}}', name));

  it('new containers take the file\'s driver and options; docker info shows it', async () => {
    assert.equal(await w.dockerOk('info', '--format', '{{.LoggingDriver}}'), 'local');
    await w.dockerOk('create', '--name', 'c1', 'busybox', 'true');
    assert.deepEqual(await logConfig('c1'), { Type: 'local', Config: { 'max-size': '5m', 'max-file': '2' } });
    await w.dockerOk('create', '--name', 'c2', '--log-driver', 'json-file', 'busybox', 'true');
    assert.deepEqual(await logConfig('c2'), { Type: 'json-file', Config: {} }, 'another driver does not take the defaults\' options');
  });

  it('SIGHUP reloads the default driver and options (a bad file changes nothing)', async () => {
    const pid = Number(fs.readFileSync(path.join(w.execRoot, 'berthd.pid'), 'utf8'));
    fs.writeFileSync(conf, JSON.stringify({ 'log-driver': 'json-file', 'log-opts': { 'max-size': '1m' }, 'log-level': 'debug' }));
    process.kill(pid, 'SIGHUP');
    assert.equal(await settled(async () => w.dockerOk('info', '--format', '{{.LoggingDriver}}'), (d) => d === 'json-file'), 'json-file');
    await w.dockerOk('create', '--name', 'c3', 'busybox', 'true');
    assert.deepEqual(await logConfig('c3'), { Type: 'json-file', Config: { 'max-size': '1m' } });
    assert.deepEqual(await logConfig('c1'), { Type: 'local', Config: { 'max-size': '5m', 'max-file': '2' } }, 'existing containers keep theirs');
    fs.writeFileSync(conf, JSON.stringify({ 'log-driver': 'syslog', nope: 1 }));
    process.kill(pid, 'SIGHUP');
    await settled(async () => w.log, (l) => l.includes("the following directives don't match any configuration option: nope"));
    assert.match(w.log, /error reloading configuration: .*the following directives don't match any configuration option: nope/);
    assert.equal(await w.dockerOk('info', '--format', '{{.LoggingDriver}}'), 'json-file');
  });

  it('a key both in the file and on the command line, or a bad default option, stops the start with dockerd\'s words', async () => {
    fs.writeFileSync(conf, JSON.stringify({ 'log-driver': 'local' }));
    await assert.rejects(w.restart('SIGTERM', ['--log-driver', 'json-file']), /the following directives are specified both as a flag and in the configuration file: log-driver: \(from flag: json-file, from file: local\)/);
    fs.writeFileSync(conf, '{}');
    await assert.rejects(w.start(['--log-opt', 'max-size=huge']), /failed to start daemon: failed to set log opts: invalid size: 'huge'/);
    await w.start(['--log-driver', 'local', '--log-opt', 'max-size=3m']);
    await w.dockerOk('create', '--name', 'c4', 'busybox', 'true');
    assert.deepEqual(await logConfig('c4'), { Type: 'local', Config: { 'max-size': '3m' } });
  });
});

/** A self-signed certificate for 127.0.0.1 (the TLS syslog server's, and the CA the driver trusts). */
function makeCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'syslog.crt');
  const key = path.join(dir, 'syslog.key');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr.toString()}`);
  return { cert, key };
}
