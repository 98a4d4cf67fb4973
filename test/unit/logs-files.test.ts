/** conmon's spool, the pieces of long lines, and the rotated files docker logs reads. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LineAssembler, MAX_LINE } from '../../src/logs/assembler.js';
import { Spool, type SpoolEntry } from '../../src/logs/spool.js';
import { fileSetFor, FileSink } from '../../src/logs/drivers/files.js';
import { gzipLastTime } from '../../src/logs/files/gzip.js';
import { readLogFiles, type ReadOptions } from '../../src/logs/files/reader.js';
import type { LogFileSet } from '../../src/logs/files/file-set.js';
import type { LogMessage } from '../../src/logs/message.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'berth-logs-'));
const k8s = (sec: number, stream: string, tag: string, body: string): string => `2024-05-01T12:00:${String(sec).padStart(2, '0')}.000000001+02:00 ${stream} ${tag} ${body}\n`;

describe('the spool', () => {
  it('parses conmon\'s lines (times to UTC), follows a fresh file renamed over it, resumes from the saved position', async () => {
    const dir = tmp();
    try {
      const path = join(dir, 'container.log');
      writeFileSync(path, k8s(1, 'stdout', 'F', 'one') + k8s(2, 'stderr', 'P', 'piece') + 'garbage\n' + k8s(3, 'stdout', 'F', ''));
      const s = new Spool(path);
      await s.resume();
      const first = await s.read();
      assert.deepEqual(first.map((e) => [e.stream, e.ends, e.body.toString()]), [['stdout', true, 'one'], ['stderr', false, 'piece'], ['stdout', true, '']]);
      assert.deepEqual(first[0]!.time, { sec: Date.UTC(2024, 4, 1, 10, 0, 1) / 1000, nsec: 1 });
      appendFileSync(path, k8s(4, 'stdout', 'F', 'before-rotation'));
      // conmon's reopen: an empty file renamed over the old one, then new lines in it
      writeFileSync(`${path}.tmp`, k8s(5, 'stdout', 'F', 'fresh'));
      renameSync(`${path}.tmp`, path);
      assert.deepEqual((await s.read()).map((e) => e.body.toString()), ['before-rotation', 'fresh']);
      await s.save(s.here());
      await s.close();
      appendFileSync(path, k8s(6, 'stdout', 'F', 'later'));
      const again = new Spool(path);
      await again.resume();
      assert.deepEqual((await again.read()).map((e) => e.body.toString()), ['later']);
      await again.remove();
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('long lines', () => {
  const entry = (body: string | Buffer, ends: boolean, stream: 'stdout' | 'stderr' = 'stdout', sec = 1): SpoolEntry => ({
    stream, ends, body: Buffer.from(body), time: { sec, nsec: 0 }, start: 0, end: 0, ino: 1,
  });
  it('a line in pieces shorter than 16 KiB is one message with the first piece\'s time', () => {
    const a = new LineAssembler();
    const out: LogMessage[] = [];
    a.push(entry('hel', false, 'stdout', 1), out);
    a.push(entry('err', true, 'stderr', 2), out);
    assert.ok(a.heldFrom());
    a.push(entry('lo', true, 'stdout', 3), out);
    assert.deepEqual(out.map((m) => [m.stream, m.line.toString(), m.time.sec, m.partial]), [['stderr', 'err', 2, undefined], ['stdout', 'hello', 1, undefined]]);
    assert.equal(a.heldFrom(), null);
  });

  it('16 KiB and more goes in 16 KiB pieces: one id, ordinals from 1, the last marked, all with the first time', () => {
    const a = new LineAssembler();
    const out: LogMessage[] = [];
    const big = Buffer.alloc(MAX_LINE * 2 + 10, 0x78);
    a.push(entry(big.subarray(0, 8192), false, 'stdout', 1), out);
    a.push(entry(big.subarray(8192, 20000), false, 'stdout', 2), out);
    a.push(entry(big.subarray(20000), true, 'stdout', 3), out);
    assert.deepEqual(out.map((m) => [m.line.length, m.partial?.ordinal, m.partial?.last, m.time.sec]), [[MAX_LINE, 1, false, 1], [MAX_LINE, 2, false, 1], [10, 3, true, 1]]);
    assert.equal(new Set(out.map((m) => m.partial?.id)).size, 1);
    assert.match(out[0]!.partial!.id, /^[0-9a-f]{64}$/);
    // exactly 16 KiB: Docker's buffer fills before the newline, so a piece and an empty last one
    const b = new LineAssembler();
    const two: LogMessage[] = [];
    b.push(entry(Buffer.alloc(MAX_LINE, 0x79), true), two);
    assert.deepEqual(two.map((m) => [m.line.length, m.partial?.last]), [[MAX_LINE, false], [0, true]]);
  });

  it('output left without a newline at exit goes as a piece that is not the last', () => {
    const a = new LineAssembler();
    const out: LogMessage[] = [];
    a.push(entry('prompt> ', false), out);
    assert.equal(out.length, 0);
    a.flush(out);
    assert.deepEqual(out.map((m) => [m.line.toString(), m.partial?.ordinal, m.partial?.last]), [['prompt> ', 1, false]]);
  });
});

async function collect(set: LogFileSet, opts: ReadOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const r of readLogFiles(set, opts)) out.push(r.line.toString().trimEnd());
  return out;
}

const lines = (from: number, n: number): LogMessage[] =>
  Array.from({ length: n }, (_, i) => ({ stream: 'stdout' as const, line: Buffer.from(`line ${from + i}`), time: { sec: 1000 + from + i, nsec: 0 } }));

describe('rotated files', () => {
  for (const format of ['json-file', 'local'] as const) {
    it(`${format}: max-size and max-file rotate, compress gzips with lastTime; docker logs reads across them with tail and since`, async () => {
      const dir = tmp();
      try {
        const set = fileSetFor(join(dir, 'c.log'), format);
        const sink = await FileSink.open(set, format, { maxSize: 600, maxFiles: 3, compress: true }, null, (m) => assert.fail(m));
        for (let i = 0; i < 60; i += 5) await sink.write(lines(i, 5));
        await sink.close();
        const files = readdirSync(dir).sort();
        assert.deepEqual(files, ['c.log', 'c.log.1.gz', 'c.log.2.gz']);
        const all = await collect(set);
        assert.equal(all[all.length - 1], 'line 59');
        assert.ok(all.length < 60 && all.length > 10, `${all.length} lines kept`);
        assert.deepEqual(all, all.map((_, i) => `line ${60 - all.length + i}`));
        assert.deepEqual(await collect(set, { tail: 3 }), ['line 57', 'line 58', 'line 59']);
        const inCurrent = (await collect(set, { tail: 1000 })).length;
        assert.equal(inCurrent, all.length, 'a tail larger than the current file reaches into the rotated ones');
        assert.deepEqual(await collect(set, { since: { sec: 1057, nsec: 0 } }), ['line 57', 'line 58', 'line 59']);
        assert.deepEqual(await collect(set, { since: { sec: 1057, nsec: 0 }, until: { sec: 1058, nsec: 0 } }), ['line 57', 'line 58']);
        const last = await gzipLastTime(join(dir, 'c.log.1.gz'));
        assert.ok(last && last.sec >= 1000, 'the header carries the last entry\'s time');
        assert.ok(gunzipSync(readFileSync(join(dir, 'c.log.1.gz'))).length > 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('max-file 1 starts the file afresh; follow reads on across a rotation until the writer closes', async () => {
    const dir = tmp();
    try {
      const set = fileSetFor(join(dir, 'c.log'), 'json-file');
      const sink = await FileSink.open(set, 'json-file', { maxSize: 300, maxFiles: 2, compress: false }, null, (m) => assert.fail(m));
      await sink.write(lines(0, 2));
      const followed = collect(set, { follow: true });
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 2; i < 12; i += 2) await sink.write(lines(i, 2));
      await sink.close();
      assert.deepEqual(await followed, lines(0, 12).map((m) => m.line.toString()));
      const one = fileSetFor(join(dir, 'one.log'), 'json-file');
      const s1 = await FileSink.open(one, 'json-file', { maxSize: 200, maxFiles: 1, compress: false }, null, (m) => assert.fail(m));
      for (let i = 0; i < 10; i += 2) await s1.write(lines(i, 2));
      await s1.close();
      assert.ok(!readdirSync(dir).includes('one.log.1'));
      assert.ok((await collect(one)).length < 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
