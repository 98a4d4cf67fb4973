/**
 * The services as the network layer follows them: a task takes connections once its
 * agent says its container runs and while the orchestrator wants it running; only a
 * change of that wakes the balancer (a task's status moves through many states).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterServices } from '../../src/cluster/services/view.js';
import type { EtcdStore, WatchEvent } from '../../src/store/etcd.js';
import type { Json } from '../../src/store/kv.js';

/** The part of EtcdStore the view uses: a listing, then the changes under each prefix. */
class WatchedStore {
  readonly data = new Map<string, Json>();
  private readonly watchers: { prefix: string; on: (e: WatchEvent) => void }[] = [];
  private rev = 1;

  async revision(): Promise<number> {
    return this.rev;
  }
  async list(prefix: string): Promise<Map<string, Json>> {
    return new Map([...this.data].filter(([k]) => k.startsWith(prefix)));
  }
  async watch(prefix: string, _from: number, on: (e: WatchEvent) => void): Promise<() => Promise<void>> {
    const w = { prefix, on };
    this.watchers.push(w);
    return async () => void this.watchers.splice(this.watchers.indexOf(w), 1);
  }
  put(key: string, value: Json): void {
    this.data.set(key, value);
    this.tell({ kind: 'put', key, value, revision: ++this.rev });
  }
  del(key: string): void {
    this.data.delete(key);
    this.tell({ kind: 'delete', key, revision: ++this.rev });
  }
  private tell(e: WatchEvent): void {
    for (const w of this.watchers) if (e.key.startsWith(w.prefix)) w.on(e);
  }
}

const task = (desiredState: string): Json => ({ id: 't1', desiredState });
const status = (state: string): Json => ({ state, message: state, timestamp: '', networks: [] });

describe('the services view', () => {
  it('takes a task as serving from its start until the orchestrator stops wanting it', async () => {
    const store = new WatchedStore();
    store.put('tasks/t1', task('running'));
    const view = await ClusterServices.open(store as unknown as EtcdStore, () => undefined);
    let woken = 0;
    view.watch({ servicesChanged: () => woken++ });
    assert.equal(view.taskServing('t1'), false, 'no status yet: its container may not run');
    for (const s of ['preparing', 'starting']) store.put('task-status/t1', status(s));
    assert.equal(view.taskServing('t1'), false);
    assert.equal(woken, 0, 'states before its start wake nothing');
    store.put('task-status/t1', status('running'));
    assert.equal(view.taskServing('t1'), true);
    assert.equal(woken, 1);
    store.put('task-status/t1', status('running'));
    assert.equal(woken, 1, 'the same word again wakes nothing');
    store.put('tasks/t1', task('shutdown'));
    assert.equal(view.taskServing('t1'), false, 'the orchestrator stops it: no new connection, its container still runs');
    assert.equal(view.taskServing('unknown'), true, 'a task the view does not know is taken as serving');
    await view.close();
  });

  it('knows after a listing which tasks run (a daemon restart)', async () => {
    const store = new WatchedStore();
    store.put('tasks/t1', task('running'));
    store.put('task-status/t1', status('running'));
    const view = await ClusterServices.open(store as unknown as EtcdStore, () => undefined);
    assert.equal(view.taskServing('t1'), true);
    store.put('task-status/t1', status('failed'));
    assert.equal(view.taskServing('t1'), false);
    await view.close();
  });
});
