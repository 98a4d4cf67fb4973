import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from '../../src/store/local.js';

/** Run `fn` in a fresh temporary folder, removed afterwards. */
async function inTmpDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-store-'));
  try {
    await fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

describe('LocalStore', () => {
  it('commits atomically and reads back after reopen', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      await s.commit([{ put: 'network/a', value: { name: 'a' } }, { put: 'network/b', value: { name: 'b' } }]);
      await s.commit([{ del: 'network/a' }, { put: 'endpoint/x', value: 1 }]);
      await s.close();
      const r = LocalStore.open(dir);
      assert.deepEqual([...(await r.list('network/')).keys()], ['network/b']);
      assert.equal(await r.get('endpoint/x'), 1);
      assert.equal(await r.get('network/a'), undefined);
      await r.close();
    });
  });

  it('drops a torn last transaction and keeps appending after it', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      await s.commit([{ put: 'k1', value: 'v1' }]);
      await s.commit([{ put: 'k2', value: 'v2' }]);
      await s.close();
      const file = path.join(dir, 'berth.db');
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.slice(0, text.length - 5)); // a crash in the middle of the second write
      const r = LocalStore.open(dir);
      assert.equal(await r.get('k1'), 'v1');
      assert.equal(await r.get('k2'), undefined);
      await r.commit([{ put: 'k3', value: 'v3' }]);
      await r.close();
      const again = LocalStore.open(dir);
      assert.deepEqual([...(await again.list('k')).entries()], [['k1', 'v1'], ['k3', 'v3']]);
      await again.close();
    });
  });

  it('keeps the order of concurrent commits, each durable when it resolves', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      const big = 'y'.repeat(2048);
      // Enough to need compactions on the way, all in flight at once.
      const commits = Array.from({ length: 800 }, (_, i) => s.commit([{ put: `k${i % 7}`, value: `${i}-${big}` }, { put: 'last', value: i }]));
      let resolvedInOrder = true;
      let seen = -1;
      await Promise.all(commits.map((c, i) => c.then(() => ((resolvedInOrder &&= i > seen), (seen = i)))));
      assert.ok(resolvedInOrder, 'commits resolve in the order they were made');
      assert.equal(await s.get('last'), 799);
      await s.close();
      const r = LocalStore.open(dir);
      assert.equal(await r.get('last'), 799);
      for (let k = 0; k < 7; k++) assert.equal(await r.get(`k${k}`), `${799 - ((799 - k) % 7)}-${big}`);
      await r.close();
    });
  });

  it('refuses commits once closed', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      const pending = s.commit([{ put: 'k', value: 1 }]);
      await s.close(); // waits for the commit in flight
      await pending;
      await assert.rejects(s.commit([{ put: 'k', value: 2 }]), /store is closed/);
      const r = LocalStore.open(dir);
      assert.equal(await r.get('k'), 1);
      await r.close();
    });
  });

  it('refuses a line whose checksum does not match', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      await s.commit([{ put: 'k', value: 'good' }]);
      await s.close();
      const file = path.join(dir, 'berth.db');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('good', 'evil'));
      const r = LocalStore.open(dir);
      assert.equal(await r.get('k'), undefined);
      await r.close();
    });
  });

  it('compacts a long history without losing live keys', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      const big = 'x'.repeat(4096);
      for (let i = 0; i < 400; i++) await s.commit([{ put: `k${i % 5}`, value: `${i}-${big}` }]);
      await s.close();
      assert.ok(fs.statSync(path.join(dir, 'berth.db')).size < 1 << 20, 'log was compacted');
      const r = LocalStore.open(dir);
      assert.equal((await r.list('k')).size, 5);
      assert.equal(await r.get('k4'), `399-${big}`);
      await r.close();
    });
  });

  it('hands out copies, never its own objects', async () => {
    await inTmpDir(async (dir) => {
      const s = LocalStore.open(dir);
      await s.commit([{ put: 'o', value: { a: 1 } }]);
      const got = (await s.get('o')) as { a: number };
      got.a = 2;
      assert.deepEqual(await s.get('o'), { a: 1 });
      await s.close();
    });
  });
});
