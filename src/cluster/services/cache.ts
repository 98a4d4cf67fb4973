/**
 * What the orchestrator and the agents read of the store, kept in memory: services
 * (with the revision of their last change, for guarded writes), tasks, task statuses,
 * nodes, which nodes are alive (and since which revision: the oldest manager alive leads),
 * the swarm's networks and its task history limit. Listed, then followed by a watch from
 * that revision; a watch that cannot resume starts it over. Listeners hear that something
 * changed (they look again at what they care about).
 */
import { messageOf } from '../../errors.js';
import type { NetworkRecord } from '../../network/model.js';
import type { EtcdStore, WatchEvent } from '../../store/etcd.js';
import type { Json } from '../../store/kv.js';
import type { NodeRecord } from '../model.js';
import { ALIVE, CLUSTER, CLUSTER_ID, NODES } from '../stored.js';
import type { ServiceRecord, TaskRecord, TaskStatus } from './model.js';
import { SERVICES, TASK_STATUS, TASKS } from './stored.js';
import { relistUntilDone } from '../relist.js';

export class ServiceCache {
  readonly services = new Map<string, { record: ServiceRecord; version: number }>();
  readonly tasks = new Map<string, TaskRecord>();
  readonly statuses = new Map<string, TaskStatus>();
  readonly nodes = new Map<string, NodeRecord>();
  /** Alive node IDs -> the revision their liveness key was made at. */
  readonly alive = new Map<string, number>();
  readonly networks = new Map<string, NetworkRecord>();
  historyLimit = 5;
  private readonly listeners = new Set<() => void>();
  private stopWatch: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(
    private readonly store: EtcdStore,
    private readonly log: (m: string) => void,
  ) {}

  /** List, then follow. */
  async open(): Promise<void> {
    await this.relist();
  }

  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    await stop?.().catch(() => undefined);
  }

  /** A write of this node's, applied at once (the watch brings it again: the same value). */
  putTask(t: TaskRecord): void {
    this.tasks.set(t.id, t);
  }

  dropTask(id: string): void {
    this.tasks.delete(id);
    this.statuses.delete(id);
  }

  putStatus(id: string, s: TaskStatus): void {
    this.statuses.set(id, s);
  }

  private async relist(): Promise<void> {
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    await stop?.().catch(() => undefined);
    const rev = await this.store.revision();
    const [services, tasks, statuses, nodes, alive, networks, cluster] = await Promise.all([
      this.store.listVersioned(SERVICES.kind.prefix),
      this.store.list(TASKS.kind.prefix),
      this.store.list(TASK_STATUS.kind.prefix),
      this.store.list(NODES.kind.prefix),
      this.store.listVersioned(ALIVE.kind.prefix),
      this.store.list('networks/'),
      this.store.get(CLUSTER.kind.prefix + CLUSTER_ID),
    ]);
    this.services.clear();
    for (const [key, v] of services) this.take(key, v.value, v.version);
    this.tasks.clear();
    for (const [key, v] of tasks) this.take(key, v, rev);
    this.statuses.clear();
    for (const [key, v] of statuses) this.take(key, v, rev);
    this.nodes.clear();
    for (const [key, v] of nodes) this.take(key, v, rev);
    this.alive.clear();
    for (const [key, v] of alive) this.alive.set(key.slice(ALIVE.kind.prefix.length), v.created);
    this.networks.clear();
    for (const [key, v] of networks) this.take(key, v, rev);
    if (cluster !== undefined) this.take(CLUSTER.kind.prefix + CLUSTER_ID, cluster, rev);
    if (this.closed) return;
    this.stopWatch = await this.store.watch('', rev, (e) => this.apply(e), (e) => {
      this.log(`services: the store's watch ended (${messageOf(e)}); listing again`);
      void relistUntilDone('services: relist', async () => this.relist(), () => this.closed, (m) => this.log(m));
    });
    this.changed();
  }

  private apply(e: WatchEvent): void {
    if (e.key.startsWith(ALIVE.kind.prefix)) {
      const id = e.key.slice(ALIVE.kind.prefix.length);
      // A put of a key that exists keeps its creation; a new one is made now.
      if (e.kind === 'put' && !this.alive.has(id)) this.alive.set(id, e.revision);
      else if (e.kind === 'delete') this.alive.delete(id);
      else return;
      this.changed();
      return;
    }
    const known = [SERVICES.kind.prefix, TASKS.kind.prefix, TASK_STATUS.kind.prefix, NODES.kind.prefix, 'networks/', CLUSTER.kind.prefix];
    if (!known.some((p) => e.key.startsWith(p))) return;
    if (e.kind === 'put') this.take(e.key, e.value, e.revision);
    else this.forget(e.key);
    this.changed();
  }

  private take(key: string, v: Json, revision: number): void {
    try {
      const id = key.slice(key.indexOf('/') + 1);
      if (key.startsWith(SERVICES.kind.prefix)) this.services.set(id, { record: SERVICES.kind.check(v), version: revision });
      else if (key.startsWith(TASKS.kind.prefix)) this.tasks.set(id, TASKS.kind.check(v));
      else if (key.startsWith(TASK_STATUS.kind.prefix)) this.statuses.set(id, TASK_STATUS.kind.check(v));
      else if (key.startsWith(NODES.kind.prefix)) this.nodes.set(id, NODES.kind.check(v));
      else if (key.startsWith('networks/')) this.networks.set(id, v as unknown as NetworkRecord);
      else if (key === CLUSTER.kind.prefix + CLUSTER_ID) this.historyLimit = CLUSTER.kind.check(v).spec.taskHistoryRetentionLimit;
    } catch (e: unknown) {
      this.log(`services: ${key}: ${messageOf(e)}`);
    }
  }

  private forget(key: string): void {
    const id = key.slice(key.indexOf('/') + 1);
    if (key.startsWith(SERVICES.kind.prefix)) this.services.delete(id);
    else if (key.startsWith(TASKS.kind.prefix)) this.tasks.delete(id);
    else if (key.startsWith(TASK_STATUS.kind.prefix)) this.statuses.delete(id);
    else if (key.startsWith(NODES.kind.prefix)) this.nodes.delete(id);
    else if (key.startsWith('networks/')) this.networks.delete(id);
  }

  private changed(): void {
    for (const f of this.listeners) {
      try {
        f();
      } catch (e: unknown) {
        this.log(`services: ${messageOf(e)}`);
      }
    }
  }
}
