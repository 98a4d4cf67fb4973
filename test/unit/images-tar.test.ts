import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readTar, type TarHeader } from '../../src/engine/images/tar.js';
import { packTar, type TarWriteEntry } from '../../src/engine/images/tar-write.js';
import { decompress } from '../../src/engine/images/compression.js';
import { extractTar, safeRelative } from '../../src/engine/images/extract.js';
import { isBerthError } from '../../src/errors.js';

async function entriesOf(buf: Buffer): Promise<{ header: TarHeader; data: Buffer }[]> {
  const out: { header: TarHeader; data: Buffer }[] = [];
  for await (const e of readTar(decompress(Readable.from([buf])))) {
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(c);
    out.push({ header: e.header, data: Buffer.concat(chunks) });
  }
  return out;
}

/** Feed a buffer in small uneven chunks, to exercise the reader's buffering. */
function chunked(buf: Buffer, size = 37): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function tmpdir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'berth-tar-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

const longDir = `${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(60)}`;
const sample: TarWriteEntry[] = [
  { path: 'dir', type: 'directory', mode: 0o750, mtime: 1000 },
  { path: 'dir/file.txt', type: 'file', mode: 0o640, uid: 12, gid: 34, mtime: 1234567890, data: Buffer.from('hello\n') },
  { path: 'dir/link', type: 'symlink', linkpath: '../etc/target', mtime: 5 },
  { path: 'dir/hard', type: 'hardlink', linkpath: 'dir/file.txt' },
  { path: `${longDir}/x.bin`, type: 'file', data: Buffer.alloc(1500, 7) },
  { path: 'n'.repeat(180), type: 'file', data: Buffer.from('nameonly') },
  { path: 'longlink', type: 'symlink', linkpath: `/${'t'.repeat(150)}` },
  { path: 'ünïcode/ファイル', type: 'file', data: Buffer.from('u') },
];

for (const longNames of ['pax', 'gnu'] as const) {
  test(`tar round trip with ${longNames} long names`, async () => {
    const tar = packTar(sample, { longNames });
    assert.equal(tar.length % 512, 0);
    const got = await entriesOf(tar);
    assert.deepEqual(
      got.map((e) => e.header.path),
      sample.map((e) => e.path),
    );
    const file = got[1];
    assert.ok(file);
    assert.equal(file.header.type, 'file');
    assert.equal(file.header.mode, 0o640);
    assert.equal(file.header.uid, 12);
    assert.equal(file.header.gid, 34);
    assert.equal(file.header.mtime, 1234567890);
    assert.equal(file.data.toString(), 'hello\n');
    assert.equal(got[0]?.header.type, 'directory');
    assert.equal(got[2]?.header.linkpath, '../etc/target');
    assert.equal(got[3]?.header.type, 'hardlink');
    assert.deepEqual(got[4]?.data, Buffer.alloc(1500, 7));
    assert.equal(got[5]?.data.toString(), 'nameonly');
    assert.equal(got[6]?.header.linkpath, `/${'t'.repeat(150)}`);
    assert.equal(got[7]?.data.toString(), 'u');
  });
}

test('tar reader: chunked and gzip input give the same entries', async () => {
  const tar = packTar(sample);
  const plain = await entriesOf(tar);
  const viaChunks: string[] = [];
  for await (const e of readTar(chunked(tar))) viaChunks.push(e.header.path); // bodies skipped
  assert.deepEqual(viaChunks, plain.map((e) => e.header.path));
  const gz = await entriesOf(gzipSync(tar));
  assert.deepEqual(gz.map((e) => [e.header.path, e.data.length]), plain.map((e) => [e.header.path, e.data.length]));
});

test('tar reader rejects a corrupt header checksum', async () => {
  const tar = packTar([{ path: 'a', type: 'file', data: Buffer.from('x') }]);
  tar[0] = 'b'.charCodeAt(0);
  await assert.rejects(entriesOf(tar), /invalid tar header/);
});

test('tar reader: huge numbers in base-256 and ustar prefix names', async () => {
  const tar = packTar([{ path: `${'p'.repeat(120)}/short`, type: 'file', uid: 0o7777777 + 5, data: Buffer.from('z') }]);
  const [e] = await entriesOf(tar);
  assert.equal(e?.header.path, `${'p'.repeat(120)}/short`);
  assert.equal(e?.header.uid, 0o7777777 + 5);
});

test('safeRelative strips leading slashes and refuses ..', () => {
  assert.equal(safeRelative('/etc/passwd'), 'etc/passwd');
  assert.equal(safeRelative('./a//b/.'), 'a/b');
  assert.equal(safeRelative('./'), '');
  assert.throws(() => safeRelative('../x'), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter');
  assert.throws(() => safeRelative('a/../../x'));
  assert.throws(() => safeRelative('a/..'));
});

test('extraction writes files, modes, symlinks, hardlinks; absolute paths stay inside', async (t) => {
  const dir = await tmpdir(t);
  const dest = path.join(dir, 'root');
  await fs.mkdir(dest);
  const tar = packTar([
    { path: '/abs/file', type: 'file', mode: 0o4755, data: Buffer.from('abs') },
    { path: 'tmp', type: 'directory', mode: 0o1777 },
    { path: 'lnk', type: 'symlink', linkpath: '/etc/shadow' },
    { path: 'hard', type: 'hardlink', linkpath: '/abs/file' },
  ]);
  const stats = await extractTar(readTar(Readable.from([tar])), dest, { whiteouts: true });
  assert.equal(await fs.readFile(path.join(dest, 'abs/file'), 'utf8'), 'abs');
  assert.equal((await fs.stat(path.join(dest, 'abs/file'))).mode & 0o7777, 0o4755);
  assert.equal((await fs.stat(path.join(dest, 'tmp'))).mode & 0o7777, 0o1777);
  assert.equal(await fs.readlink(path.join(dest, 'lnk')), '/etc/shadow');
  assert.equal((await fs.stat(path.join(dest, 'hard'))).ino, (await fs.stat(path.join(dest, 'abs/file'))).ino);
  assert.equal(stats.bytes, 3);
  assert.equal(stats.entries, 4);
});

test('extraction refuses entries that escape the destination', async (t) => {
  const dir = await tmpdir(t);
  const cases: TarWriteEntry[][] = [
    [{ path: '../evil', type: 'file', data: Buffer.from('x') }],
    [{ path: 'a/../../evil', type: 'file', data: Buffer.from('x') }],
    // write through a symlink pointing outside
    [
      { path: 'out', type: 'symlink', linkpath: dir },
      { path: 'out/evil', type: 'file', data: Buffer.from('x') },
    ],
    // hardlink to a file outside
    [{ path: 'h', type: 'hardlink', linkpath: '../outside' }],
    // hardlink through a symlinked directory
    [
      { path: 'up', type: 'symlink', linkpath: '..' },
      { path: 'h', type: 'hardlink', linkpath: 'up/outside' },
    ],
  ];
  await fs.writeFile(path.join(dir, 'outside'), 'secret');
  for (const [i, entries] of cases.entries()) {
    const dest = path.join(dir, `d${i}`);
    await fs.mkdir(dest);
    await assert.rejects(
      extractTar(readTar(Readable.from([packTar(entries)])), dest, { whiteouts: false }),
      (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter',
      `case ${i}`,
    );
  }
  await assert.rejects(fs.lstat(path.join(dir, 'evil')));
  assert.equal(await fs.readFile(path.join(dir, 'outside'), 'utf8'), 'secret');
});

test('a symlink entry replaced by a file does not write through the link', async (t) => {
  const dir = await tmpdir(t);
  const dest = path.join(dir, 'root');
  await fs.mkdir(dest);
  await fs.writeFile(path.join(dir, 'victim'), 'keep');
  const tar = packTar([
    { path: 'f', type: 'symlink', linkpath: path.join(dir, 'victim') },
    { path: 'f', type: 'file', data: Buffer.from('new') },
  ]);
  await extractTar(readTar(Readable.from([tar])), dest, { whiteouts: false });
  assert.equal(await fs.readFile(path.join(dir, 'victim'), 'utf8'), 'keep');
  assert.equal((await fs.lstat(path.join(dest, 'f'))).isFile(), true);
});

test('whiteouts become overlayfs whiteouts (char 0/0); opaque markers are handled', async (t) => {
  const dir = await tmpdir(t);
  const dest = path.join(dir, 'root');
  await fs.mkdir(dest);
  const tar = packTar([
    { path: 'etc', type: 'directory' },
    { path: 'etc/.wh.motd', type: 'file' },
    { path: 'opq', type: 'directory' },
    { path: 'opq/.wh..wh..opq', type: 'file' },
    { path: '.wh.gone', type: 'file' },
  ]);
  const stats = await extractTar(readTar(Readable.from([tar])), dest, { whiteouts: true });
  for (const p of ['etc/motd', 'gone']) {
    const st = await fs.lstat(path.join(dest, p));
    assert.equal(st.isCharacterDevice(), true, p);
    assert.equal(st.rdev, 0, p);
  }
  await assert.rejects(fs.lstat(path.join(dest, 'etc/.wh.motd')));
  await assert.rejects(fs.lstat(path.join(dest, 'opq/.wh..wh..opq')));
  // Without setfattr the opaque dir is reported, not silently dropped.
  assert.ok(stats.notes.every((n) => n.includes('opq')));
});

test('without whiteout conversion .wh. files stay plain files', async (t) => {
  const dir = await tmpdir(t);
  const tar = packTar([{ path: '.wh.x', type: 'file', data: Buffer.from('1') }]);
  await extractTar(readTar(Readable.from([tar])), dir, { whiteouts: false });
  assert.equal(await fs.readFile(path.join(dir, '.wh.x'), 'utf8'), '1');
});
