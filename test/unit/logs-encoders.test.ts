/** The log drivers' wire formats, byte for byte: json-file, local, journald, syslog, GELF, fluentd. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, inflateSync } from 'node:zlib';
import { decode as msgpackDecode, ExtensionCodec } from '@msgpack/msgpack';
import { encodeJsonLine, jsonAttrs, jsonFileCodec } from '../../src/logs/codecs/json-file.js';
import { encodeLocalEntry, localAttrs, localCodec } from '../../src/logs/codecs/local.js';
import { goJsonBytes } from '../../src/logs/go-json.js';
import { journalDatagram, journalKey, journalVars } from '../../src/logs/drivers/journald.js';
import { localRfc3339, stamp, syslogMessage } from '../../src/logs/drivers/syslog.js';
import { CHUNK_SIZE, gelfDatagrams, gelfExtra, gelfJson } from '../../src/logs/drivers/gelf.js';
import { FluentdEncoder, fluentdMessage, fluentdRecord } from '../../src/logs/drivers/fluentd.js';
import { decodeAck, pack } from '../../src/logs/codecs/msgpack.js';
import type { LogInfo } from '../../src/logs/info.js';
import type { LogMessage, LogRecord } from '../../src/logs/message.js';

// 2024-05-01T10:00:00.123456789Z
const T = { sec: 1714557600, nsec: 123456789 };
const msg = (line: string, more: Partial<LogMessage> = {}): LogMessage => ({ stream: 'stdout', line: Buffer.from(line), time: T, ...more });
const ID = 'a'.repeat(12) + 'b'.repeat(52);
const info = (config: Record<string, string> = {}): LogInfo => ({
  config,
  containerId: ID,
  containerName: '/web',
  entrypoint: 'sh',
  args: ['-c', 'echo hi'],
  imageId: 'sha256:' + 'c'.repeat(64),
  imageName: 'busybox',
  created: '2024-05-01T09:00:00.500000000Z',
  env: ['PATH=/bin', 'REGION=eu'],
  labels: { app: 'shop', 'com.example.tier': 'front' },
  hostname: 'host1',
});

describe('json-file lines', () => {
  it('are what Docker writes: log with its newline, stream, attrs only when asked, RFC3339Nano time', () => {
    assert.equal(encodeJsonLine(msg('hello'), null).toString(), '{"log":"hello\\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}\n');
    const piece = msg('part', { stream: 'stderr', partial: { id: 'x', ordinal: 1, last: false }, time: { sec: T.sec, nsec: 500_000_000 } });
    assert.equal(encodeJsonLine(piece, null).toString(), '{"log":"part","stream":"stderr","time":"2024-05-01T10:00:00.5Z"}\n');
    const attrs = jsonAttrs({ tag: 'web', app: 'shop' });
    assert.equal(encodeJsonLine(msg('x'), attrs).toString(), '{"log":"x\\n","stream":"stdout","attrs":{"app":"shop","tag":"web"},"time":"2024-05-01T10:00:00.123456789Z"}\n');
  });

  it('escape as Go does: <>& and control bytes as \\u00XX, invalid UTF-8 as \\ufffd, U+2028', () => {
    assert.equal(goJsonBytes(Buffer.from('a<b>&"\\\t\r\x01é€')), '"a\\u003cb\\u003e\\u0026\\"\\\\\\u0009\\r\\u0001é€"');
    assert.equal(goJsonBytes(Buffer.from([0x61, 0xff, 0x62, 0xc3])), '"a\\ufffdb\\ufffd"');
    assert.equal(goJsonBytes(Buffer.from('\u2028\u2029')), '"\\u2028\\u2029"');
    assert.equal(goJsonBytes(Buffer.from([0xed, 0xa0, 0x80])), '"\\ufffd\\ufffd\\ufffd"'); // a surrogate is not UTF-8
  });

  it('read back: records with their attrs; a torn last line waits', () => {
    const text = encodeJsonLine(msg('one'), jsonAttrs({ tag: 't' })).toString() + '{"log":"tw';
    const out: LogRecord[] = [];
    const used = jsonFileCodec.decode(Buffer.from(text), out);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.line.toString(), 'one\n');
    assert.deepEqual(out[0]!.attrs, [['tag', 't']]);
    assert.deepEqual(out[0]!.time, T);
    assert.equal(text.length - used, '{"log":"tw'.length);
  });
});

describe('local entries', () => {
  it('are a protobuf LogEntry framed by its big-endian length on both sides', () => {
    const b = encodeLocalEntry(msg('hi'), []);
    const body = Buffer.concat([
      Buffer.from([0x0a, 6]), Buffer.from('stdout'),
      Buffer.from([0x10]), varint(1714557600123456789n),
      Buffer.from([0x1a, 2]), Buffer.from('hi'),
    ]);
    assert.deepEqual(b.subarray(4, b.length - 4), body);
    assert.equal(b.readUInt32BE(0), body.length);
    assert.equal(b.readUInt32BE(b.length - 4), body.length);
  });

  it('carry partial metadata and sorted attributes, and read back with the newline restored', () => {
    const piece = msg('abc', { partial: { id: 'p1', ordinal: 2, last: false } });
    const last = msg('def', { stream: 'stderr', partial: { id: 'p1', ordinal: 3, last: true } });
    const attrs = localAttrs({ tag: 'web', app: 'shop' });
    const data = Buffer.concat([encodeLocalEntry(piece, attrs), encodeLocalEntry(last, attrs), encodeLocalEntry(msg('whole'), [])]);
    const out: LogRecord[] = [];
    assert.equal(localCodec.decode(Buffer.concat([data, data.subarray(0, 7)]), out), data.length);
    assert.deepEqual(out.map((r) => [r.stream, r.line.toString()]), [['stdout', 'abc'], ['stderr', 'def\n'], ['stdout', 'whole\n']]);
    assert.deepEqual(out[0]!.attrs, [['app', 'shop'], ['tag', 'web']]);
    assert.deepEqual(out[2]!.time, T);
    // field 4 (partial) and 5 (metadata: last, id, ordinal) as gogo-protobuf writes them
    const enc = encodeLocalEntry(piece, []);
    assert.ok(enc.includes(Buffer.from([0x20, 0x01, 0x2a, 0x06, 0x12, 0x02, 0x70, 0x31, 0x18, 0x02])));
  });
});

function varint(n: bigint): Buffer {
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number(n & 0x7fn) | 0x80);
    n >>= 7n;
  }
  out.push(Number(n));
  return Buffer.from(out);
}

describe('journald native protocol', () => {
  it('sends PRIORITY, MESSAGE and Docker\'s fields as KEY=value lines', () => {
    const vars = journalVars(info({ labels: 'app', env: 'REGION', tag: '{{.Name}}' }), 'e'.repeat(64));
    const text = journalDatagram(msg('hello'), vars, 1).toString();
    assert.equal(
      text,
      [
        'PRIORITY=6', 'MESSAGE=hello', `CONTAINER_ID=${ID.slice(0, 12)}`, `CONTAINER_ID_FULL=${ID}`, 'CONTAINER_NAME=web',
        'CONTAINER_TAG=web', 'IMAGE_NAME=busybox', 'SYSLOG_IDENTIFIER=web', `CONTAINER_LOG_EPOCH=${'e'.repeat(64)}`, 'APP=shop', 'REGION=eu',
        'SYSLOG_TIMESTAMP=2024-05-01T10:00:00.123456789Z', 'CONTAINER_LOG_ORDINAL=1', '',
      ].join('\n'),
    );
  });

  it('priority 3 for stderr; pieces carry CONTAINER_PARTIAL_*; a value with a newline goes binary-safe', () => {
    const d = journalDatagram(msg('a\nb', { stream: 'stderr', partial: { id: 'pid', ordinal: 1, last: false } }), [], 7);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(3n);
    assert.ok(d.subarray(0, 11).equals(Buffer.from('PRIORITY=3\n')));
    assert.ok(d.includes(Buffer.concat([Buffer.from('MESSAGE\n'), len, Buffer.from('a\nb\n')])));
    const rest = d.toString('latin1');
    for (const f of ['CONTAINER_PARTIAL_ID=pid\n', 'CONTAINER_PARTIAL_ORDINAL=1\n', 'CONTAINER_PARTIAL_LAST=false\n', 'CONTAINER_PARTIAL_MESSAGE=true\n', 'CONTAINER_LOG_ORDINAL=7\n']) {
      assert.ok(rest.includes(f), f);
    }
    const last = journalDatagram(msg('z', { partial: { id: 'pid', ordinal: 2, last: true } }), [], 8).toString();
    assert.ok(last.includes('CONTAINER_PARTIAL_LAST=true\n') && !last.includes('CONTAINER_PARTIAL_MESSAGE'));
  });

  it('field names from labels are upper-cased with other characters as _', () => {
    assert.equal(journalKey('com.example.tier'), 'COM_EXAMPLE_TIER');
    assert.equal(journalKey('_x-y'), 'X_Y');
  });
});

describe('syslog formats', () => {
  const tz = process.env.TZ;
  const o = { facility: 3 << 3, hostname: 'host1', tag: 'web', pid: 42 };
  it('default, rfc3164, rfc5424 and rfc5424micro as srslog writes them, in local time', () => {
    process.env.TZ = 'Etc/GMT-2'; // UTC+2
    try {
      assert.equal(stamp(T), 'May  1 12:00:00');
      assert.equal(localRfc3339(T, 6), '2024-05-01T12:00:00.123456+02:00');
      const m = msg('hello');
      assert.equal(syslogMessage(m, { ...o, format: '', proto: 'udp' }).toString(), '<30>May  1 12:00:00 web[42]: hello\n');
      assert.equal(syslogMessage(m, { ...o, format: 'rfc3164', proto: 'udp' }).toString(), '<30>May  1 12:00:00 host1 web[42]: hello\n');
      assert.equal(syslogMessage(m, { ...o, format: 'rfc5424', proto: 'tcp' }).toString(), '<30>1 2024-05-01T12:00:00+02:00 host1 web 42 web - hello\n');
      assert.equal(syslogMessage(msg('e', { stream: 'stderr' }), { ...o, format: 'rfc5424micro', proto: 'udp' }).toString(), '<27>1 2024-05-01T12:00:00.123456+02:00 host1 web 42 web - e\n');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('rfc5424 over TLS is framed by octet counting; rfc3164 is not', () => {
    process.env.TZ = 'UTC';
    try {
      const framed = syslogMessage(msg('hi'), { ...o, format: 'rfc5424', proto: 'tcp+tls' }).toString();
      const body = '<30>1 2024-05-01T10:00:00Z host1 web 42 web - hi\n';
      assert.equal(framed, `${body.length} ${body}`);
      assert.equal(syslogMessage(msg('hi'), { ...o, format: 'rfc3164', proto: 'tcp+tls' }).toString(), '<30>May  1 10:00:00 host1 web[42]: hi\n');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe('GELF', () => {
  it('is GELF 1.1 JSON with Docker\'s fields, keys sorted, timestamp in milliseconds', () => {
    const extra = gelfExtra(info({ labels: 'app', env: 'REGION' }));
    const v = JSON.parse(gelfJson(msg('hello <b>'), 'host1', extra).toString()) as Record<string, unknown>;
    assert.deepEqual(v, {
      version: '1.1', host: 'host1', short_message: 'hello <b>', timestamp: 1714557600.123, level: 6,
      _command: 'sh -c echo hi', _container_id: ID, _container_name: 'web', _created: '2024-05-01T09:00:00.5Z', _image_id: 'sha256:' + 'c'.repeat(64),
      _image_name: 'busybox', _tag: ID.slice(0, 12), _app: 'shop', _REGION: 'eu',
    });
    assert.ok(gelfJson(msg('<'), 'h', '').toString().includes('"short_message":"\\u003c"'));
    assert.equal(JSON.parse(gelfJson(msg('x', { stream: 'stderr' }), 'h', '').toString()).level, 3);
  });

  it('UDP: gzip, zlib or plain; chunked past 1420 bytes with the magic, one id, sequence and count', () => {
    const json = gelfJson(msg('hi'), 'h', '');
    assert.deepEqual(gunzipSync(gelfDatagrams(json, 'gzip', 1)[0]!), json);
    assert.deepEqual(inflateSync(gelfDatagrams(json, 'zlib', 1)[0]!), json);
    assert.deepEqual(gelfDatagrams(json, 'none', 1)[0], json);
    const big = Buffer.alloc(3000, 0x61);
    const chunks = gelfDatagrams(big, 'none', 1);
    assert.equal(chunks.length, 3);
    const id = chunks[0]!.subarray(2, 10);
    chunks.forEach((c, i) => {
      assert.deepEqual([c[0], c[1]], [0x1e, 0x0f]);
      assert.deepEqual(c.subarray(2, 10), id);
      assert.deepEqual([c[10], c[11]], [i, 3]);
      assert.ok(c.length <= CHUNK_SIZE);
    });
    assert.deepEqual(Buffer.concat(chunks.map((c) => c.subarray(12))), big);
    // go-gelf's count: an exact multiple of 1408 gets one more, empty chunk
    assert.equal(gelfDatagrams(Buffer.alloc(2816), 'none', 1).length, 3);
    assert.throws(() => gelfDatagrams(Buffer.alloc(1408 * 128), 'none', 1), /msg too large, would need 129 chunks/);
  });
});

describe('fluentd forward messages', () => {
  const codec = new ExtensionCodec();
  codec.register({ type: 0, encode: () => null, decode: (d: Uint8Array) => [Buffer.from(d).readInt32BE(0), Buffer.from(d).readInt32BE(4)] });
  it('are [tag, time, record, option] in msgpack, record with Docker\'s keys and attributes', () => {
    const rec = fluentdRecord(msg('hello'), { id: ID, name: '/web' }, { app: 'shop' });
    const m = msgpackDecode(fluentdMessage('docker.web', msg('hello'), rec, false), { extensionCodec: codec });
    assert.deepEqual(m, ['docker.web', T.sec, { container_id: ID, container_name: '/web', source: 'stdout', log: 'hello', app: 'shop' }, {}]);
  });

  it('EventTime with nanoseconds on request, the chunk option, pieces marked', () => {
    const piece = msg('p', { partial: { id: 'x1', ordinal: 1, last: false } });
    const m = msgpackDecode(fluentdMessage('t', piece, fluentdRecord(piece, { id: ID, name: '/web' }, {}), true, 'Y2h1bms='), { extensionCodec: codec }) as unknown[];
    assert.deepEqual(m[1], [T.sec, T.nsec]);
    assert.deepEqual(m[3], { chunk: 'Y2h1bms=' });
    assert.deepEqual(m[2], { container_id: ID, container_name: '/web', source: 'stdout', log: 'p', partial_message: 'true', partial_id: 'x1', partial_ordinal: '1', partial_last: 'false' });
  });

  it('the per-container encoder writes the same message', () => {
    const piece = msg('p', { partial: { id: 'x1', ordinal: 1, last: false } });
    const enc = new FluentdEncoder('t', { id: ID, name: '/web' }, { app: 'shop' });
    for (const m of [msg('hello'), piece]) {
      for (const sub of [false, true]) {
        const expected = msgpackDecode(fluentdMessage('t', m, fluentdRecord(m, { id: ID, name: '/web' }, { app: 'shop' }), sub, 'c'), { extensionCodec: codec });
        assert.deepEqual(msgpackDecode(enc.encode(m, sub, 'c'), { extensionCodec: codec }), expected);
      }
    }
  });

  it('integers in msgp\'s signed forms; an ack is read back', () => {
    assert.deepEqual(pack(1714557600), Buffer.from([0xd2, 0x66, 0x32, 0x12, 0xa0]));
    assert.deepEqual(pack([5, -1, 200]), Buffer.from([0x93, 0x05, 0xff, 0xd1, 0x00, 0xc8]));
    const ack = pack({ ack: 'abc' });
    assert.equal(decodeAck(ack.subarray(0, 3)), null);
    assert.deepEqual(decodeAck(ack), { ack: 'abc', used: ack.length });
  });
});
