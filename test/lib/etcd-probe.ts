/**
 * Run inside a test's namespace (nsenter … node etcd-probe.js DIR ADDRESS): exercises the
 * EtcdStore against the member the test started there and prints what it saw, as JSON.
 */
import * as fs from 'node:fs';
import { tlsFiles } from '../../src/cluster/etcd-member.js';
import { EtcdStore, type WatchEvent } from '../../src/store/etcd.js';

const [dir, address] = process.argv.slice(2) as [string, string];
const tls = tlsFiles(dir);
const store = new EtcdStore({
  endpoints: [`https://${address}:2379`],
  tls: { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) },
  prefix: '/berth/test/',
});
const out: Record<string, unknown> = {};
for (let i = 0; ; i++) {
  try {
    await store.get('ping');
    break;
  } catch (e: unknown) {
    if (i > 100) throw e;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const rev = await store.revision();
const seen: WatchEvent[] = [];
const stop = await store.watch('ipam/', rev, (e) => seen.push(e), () => undefined);
await store.commit([{ put: 'network/a', value: { name: 'a' } }, { put: 'network/b', value: { name: 'b' } }]);
out.list = Object.fromEntries(await store.list('network/'));
await store.commitIf(['ipam/10.0.0.2'], [{ put: 'ipam/10.0.0.2', value: 'h1' }]);
out.second = await store.commitIf(['ipam/10.0.0.2'], [{ put: 'ipam/10.0.0.2', value: 'h2' }]).then(() => 'taken twice', (e: unknown) => String(e));
out.owner = await store.get('ipam/10.0.0.2');
await store.commit([{ del: 'ipam/10.0.0.2' }]);
const lease = store.lease(1);
await lease.put('nodes/x').value('{}');
out.leased = await store.get('nodes/x');
await lease.revoke();
out.afterRevoke = (await store.get('nodes/x')) ?? null;
// A fence on a leased key: it holds while the key is the one made, not once its lease lapsed and another took its place.
const first = store.lease(5);
await first.put('alive/m1').value('{}');
const made = (await store.listVersioned('alive/')).get('alive/m1')!.created;
out.fencedWhileHeld = await store.commitWhen([{ key: 'alive/m1', created: made }], [{ put: 'tasks/t1', value: 'by m1' }]);
await first.revoke();
const again = store.lease(5);
await again.put('alive/m1').value('{}');
out.fencedAfterLapse = await store.commitWhen([{ key: 'alive/m1', created: made }], [{ put: 'tasks/t1', value: 'stale' }]);
out.fencedValue = await store.get('tasks/t1');
out.versionAndFence = await store.commitWhen([{ key: 'tasks/t1', version: 1 }, { key: 'alive/m1', created: made }], [{ put: 'tasks/t2', value: 'x' }]);
await again.revoke();
// More than one answer can carry (the client takes 4 MiB): 6,000 values of 1 KiB, 100 a transaction.
const big = 'x'.repeat(1024);
for (let i = 0; i < 6000; i += 100) await store.commit(Array.from({ length: 100 }, (_, k) => ({ put: `big/${String(i + k).padStart(5, '0')}`, value: big })));
const bigList = await store.list('big/');
out.bigList = { size: bigList.size, first: [...bigList.keys()][0], last: [...bigList.keys()].pop() };
out.bigVersioned = (await store.listVersioned('big/')).size;
await store.commit(Array.from({ length: 60 }, (_, i) => ({ del: `big/${String(i * 100).padStart(5, '0')}` })));
await new Promise((r) => setTimeout(r, 200));
out.watched = seen.map((e) => `${e.kind} ${e.key}`);
await stop();
await store.close();
process.stdout.write(JSON.stringify(out) + '\n');
