/**
 * Typed store collections: records written by berth before the collections existed
 * still load (a store file made by the daemon of 2026-12, test/fixtures/store-2026-12),
 * a damaged record stops the load naming its key, and an older version is upgraded and
 * written back in one commit.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTAINERS } from '../../src/engine/containers/stored.js';
import { ENDPOINTS, NETWORKS, PUBLICATIONS, SANDBOXES } from '../../src/network/stored.js';
import { Collection } from '../../src/store/collection.js';
import { num, object, str } from '../../src/store/check.js';
import { LocalStore } from '../../src/store/local.js';
import { MemoryStore } from '../lib/memory-store.js';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/store-2026-12');
const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A copy of the fixture (a store is written to when it is opened). */
function fixtureStore(): LocalStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-store-'));
  dirs.push(dir);
  fs.copyFileSync(path.join(FIXTURE, 'berth.db'), path.join(dir, 'berth.db'));
  return LocalStore.open(dir);
}

describe('typed store collections', () => {
  it('load every record a store of the 2026-12 daemon holds', async () => {
    const store = fixtureStore();
    const networks = [...(await NETWORKS.load(store)).values()];
    assert.deepEqual(networks.map((n) => n.name).sort(), ['app', 'bridge', 'host', 'none']);
    const app = networks.find((n) => n.name === 'app')!;
    assert.deepEqual(app.ipam.pools.map((p) => p.subnet), ['10.77.0.0/24', 'fd77::/64']);
    assert.deepEqual(app.labels, { tier: 'db' });
    const endpoints = [...(await ENDPOINTS.load(store)).values()];
    assert.equal(endpoints.length, 2);
    assert.ok(endpoints.some((e) => e.networkId === app.id && e.aliases.includes('www') && e.ipv6 !== undefined));
    const containers = [...(await CONTAINERS.load(store)).values()];
    assert.deepEqual(containers.map((c) => c.spec.name).sort(), ['idle', 'side', 'web']);
    const web = containers.find((c) => c.spec.name === 'web')!;
    assert.equal(web.spec.restartPolicy.name, 'unless-stopped');
    assert.equal(web.state.status, 'running');
    const ports = (await PUBLICATIONS.load(store)).get(web.id);
    assert.deepEqual(ports?.mappings.map((m) => `${m.proto}/${m.hostPorts.start}-${m.hostPorts.end}`).sort(), ['tcp/8080-8080', 'udp/9000-9001']);
    assert.match((await SANDBOXES.load(store)).get(web.id) ?? '', /\/netns\//);
    await store.close();
  });

  it('stop the load at a damaged record, naming its key', async () => {
    const store = new MemoryStore();
    await store.commit([NETWORKS.put('n1', { id: 'n1' } as never), { put: 'network/n2', value: 'garbage' }]);
    await assert.rejects(NETWORKS.load(store), /the store's network\/n1 is not a valid record: network\.name should be a string, not null/);
  });

  it('upgrade records of an older version and write them back, with the version, in one commit', async () => {
    const store = new MemoryStore();
    await store.commit([{ put: 'thing/a', value: { name: 'a' } }, { put: 'thing/b', value: { name: 'b' } }]);
    const things = new Collection<{ name: string; size: number }>({
      prefix: 'thing/',
      version: 2,
      check: (v) => object<{ name: string; size: number }>({ name: str, size: num })(v, 'thing'),
      upgrades: [(old) => ({ ...(old as { name: string }), size: 0 })],
    });
    const loaded = await things.load(store);
    assert.deepEqual([...loaded.values()], [{ name: 'a', size: 0 }, { name: 'b', size: 0 }]);
    assert.deepEqual(store.snapshot(), { 'schema/thing/': 2, 'thing/a': { name: 'a', size: 0 }, 'thing/b': { name: 'b', size: 0 } });
    const newer = new Collection({ ...things.kind, version: 1 });
    await assert.rejects(newer.load(store), /records of version 2; this berthd reads up to 1/);
  });
});
