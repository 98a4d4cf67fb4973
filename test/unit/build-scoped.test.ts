import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImageTree } from '../../src/engine/build/image-tree.js';
import { resolveScoped, scopedPath } from '../../src/engine/build/scoped.js';
import { findSources } from '../../src/engine/build/sources.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-scoped-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tree(name: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(root, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), text);
  }
  for (const [p, target] of Object.entries(links)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.symlinkSync(target, path.join(root, p));
  }
  return root;
}

test('links in a context stay inside it: absolute targets start again at its root, .. stops there', async () => {
  const ctx = tree('ctx', { 'etc/own': 'mine', 'd/f': 'f' }, { esc: '/', up: '../../../..', 'd/rel': 'f', top: '/etc/own' });
  assert.deepEqual(await resolveScoped(ctx, 'esc/etc/passwd', true), ['etc', 'passwd']);
  assert.deepEqual(await resolveScoped(ctx, 'up/etc/own', true), ['etc', 'own']);
  assert.deepEqual(await resolveScoped(ctx, 'd/rel', true), ['d', 'f']);
  assert.deepEqual(await resolveScoped(ctx, 'd/rel', false), ['d', 'rel']);
  assert.equal(await scopedPath(ctx, 'top'), path.join(ctx, 'etc/own'));
  await assert.rejects(findSources(ctx, 'esc/etc/passwd', undefined, 'COPY'), /COPY failed: file not found in build context/);
  const viaGlob = await findSources(ctx, 'e*/etc/*', undefined, 'COPY');
  assert.deepEqual(viaGlob.map((s) => [s.rel, s.host]), [['esc/etc/own', path.join(ctx, 'etc/own')]], "never the host's /etc");
});

test("an image's layers are read without following their links out of them", async () => {
  const lower = tree('lower', { 'usr/lib/x.so': 'x', 'etc/group': 'staff:x:50:' }, { lib: 'usr/lib', host: '/etc', abs: '/usr/lib' });
  const upper = tree('upper', { 'etc/passwd': 'app:x:1000:1000::/:/bin/sh' });
  const img = new ImageTree([lower, upper]);
  assert.equal(await img.stat('host/passwd'), undefined, 'a link on the way is not followed by stat');
  assert.equal(await img.resolve('/host/passwd', true), '/etc/passwd');
  assert.equal(await img.read('host/passwd'), 'app:x:1000:1000::/:/bin/sh', "the image's own /etc/passwd, not the host's");
  assert.equal(await img.resolve('/lib/x.so', true), '/usr/lib/x.so');
  assert.equal(await img.resolve('/abs/', true), '/usr/lib');
  assert.equal(await img.read('etc/group'), 'staff:x:50:', 'found in a lower layer');
  const out = path.join(tmp, 'out');
  await img.materialize('/', out);
  assert.equal(fs.readlinkSync(path.join(out, 'host')), '/etc', 'links are copied as links');
  assert.equal(fs.readFileSync(path.join(out, 'etc/passwd'), 'utf8'), 'app:x:1000:1000::/:/bin/sh');
});
