/**
 * The canonical container records: one object per container in memory, persisted as
 * container/<id> on every change, and a lock per container that serialises the
 * operations on it (start, exit, connect …) while different containers go in parallel.
 */
import { invalid, notFound } from '../../errors.js';
import type { KvStore } from '../../store/kv.js';
import { byCodeUnit } from '../../util/order.js';
import { Serial } from '../../util/serial.js';
import type { ContainerId, ContainerRecord } from './model.js';
import { CONTAINERS } from './stored.js';

export class ContainerRecords {
  private readonly byId = new Map<ContainerId, ContainerRecord>();
  private readonly locks = new Map<ContainerId, Serial>();

  private constructor(private readonly store: KvStore) {}

  static async load(store: KvStore): Promise<ContainerRecords> {
    const records = new ContainerRecords(store);
    for (const c of (await CONTAINERS.load(store)).values()) records.byId.set(c.id, c);
    return records;
  }

  get(id: ContainerId): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  /** Newest first, as docker ps lists them; without `all`, only those running or about to restart. */
  list(all: boolean): ContainerRecord[] {
    // A container waiting to restart is listed with the running ones, as Docker's ps does.
    const out = this.all().filter((c) => all || c.state.status === 'running' || c.state.status === 'restarting');
    return out.sort((a, b) => byCodeUnit(b.created, a.created));
  }

  /** By full ID, exact name (a leading "/" allowed), or unique ID prefix. */
  find(idOrName: string): ContainerRecord {
    const term = idOrName.startsWith('/') ? idOrName.slice(1) : idOrName;
    const byId = this.byId.get(term as ContainerId);
    if (byId) return byId;
    const all = this.all();
    const byName = all.find((c) => c.spec.name === term);
    if (byName) return byName;
    const byPrefix = term === '' ? [] : all.filter((c) => c.id.startsWith(term));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw invalid(`multiple IDs found with provided prefix: ${term}`);
    throw notFound(`No such container: ${idOrName}`);
  }

  /** The ID of the container with this name, if any. */
  named(name: string): ContainerId | undefined {
    return this.all().find((c) => c.spec.name === name)?.id;
  }

  /** Persist, then publish: readers never see a change the store does not hold. */
  async save(c: ContainerRecord): Promise<void> {
    await this.store.commit([CONTAINERS.put(c.id, c)]);
    this.byId.set(c.id, c);
  }

  async delete(id: ContainerId): Promise<void> {
    await this.store.commit([CONTAINERS.del(id)]);
    this.byId.delete(id);
    this.locks.delete(id);
  }

  /** The container's lock: its operations run one at a time, in order. */
  lock(id: ContainerId): Serial {
    let s = this.locks.get(id);
    if (!s) this.locks.set(id, (s = new Serial()));
    return s;
  }
}
