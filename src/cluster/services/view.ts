/**
 * The services as every node follows them (the read side of services/<id>, the wanted
 * state of tasks/<id> and whether task-status/<id> says it runs): listed at a revision,
 * then watched from it; a watch that ends lists again, until the store answers. The
 * network layer sees them through the SharedServices seam (network/services/model.ts):
 * names, VIPs, networks, ports, and which tasks take connections.
 */
import { messageOf } from '../../errors.js';
import type { ServiceView, SharedServices, SharedServicesListener } from '../../network/services/model.js';
import type { EtcdStore, WatchEvent } from '../../store/etcd.js';
import type { Json } from '../../store/kv.js';
import type { ServiceRecord, TaskRecord, TaskStatus } from './model.js';
import { relistUntilDone } from '../relist.js';
import { SERVICES as SERVICE_RECORDS, TASK_STATUS as TASK_STATUSES, TASKS as TASK_RECORDS } from './stored.js';

/** The key prefixes followed, as stored.ts names them. */
const SERVICES = SERVICE_RECORDS.kind.prefix;
const TASKS = TASK_RECORDS.kind.prefix;
const TASK_STATUS = TASK_STATUSES.kind.prefix;

export class ClusterServices implements SharedServices {
  private readonly views = new Map<string, ServiceView>();
  /** Task ID -> whether the orchestrator wants it running. */
  private readonly wanted = new Map<string, boolean>();
  /** The tasks whose agent says their container runs. */
  private readonly running = new Set<string>();
  private readonly listeners = new Set<SharedServicesListener>();
  private stops: (() => Promise<void>)[] = [];
  private closed = false;

  private constructor(
    private readonly store: EtcdStore,
    private readonly log: (m: string) => void,
  ) {}

  static async open(store: EtcdStore, log: (m: string) => void): Promise<ClusterServices> {
    const s = new ClusterServices(store, log);
    await s.relist();
    return s;
  }

  services(): ServiceView[] {
    return [...this.views.values()];
  }

  taskServing(taskId: string): boolean {
    const wanted = this.wanted.get(taskId);
    return wanted === undefined || (wanted && this.running.has(taskId));
  }

  watch(listener: SharedServicesListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async relist(): Promise<void> {
    await this.stopWatches();
    const rev = await this.store.revision();
    const [services, tasks, statuses] = await Promise.all([this.store.list(SERVICES), this.store.list(TASKS), this.store.list(TASK_STATUS)]);
    this.views.clear();
    this.wanted.clear();
    this.running.clear();
    for (const [key, v] of [...services, ...tasks, ...statuses]) this.take(key, v);
    const lost = (e: unknown): void => {
      this.log(`swarm: the services' watch ended (${messageOf(e)}); listing again`);
      void relistUntilDone('swarm: services relist', async () => this.relist(), () => this.closed, (m) => this.log(m));
    };
    for (const prefix of [SERVICES, TASKS, TASK_STATUS]) this.stops.push(await this.store.watch(prefix, rev, (e) => this.apply(e), lost));
    this.notify();
  }

  private apply(e: WatchEvent): void {
    if (e.key.startsWith(TASK_STATUS)) {
      // A task's status moves often; only its start and its end matter here.
      const id = e.key.slice(TASK_STATUS.length);
      const before = this.running.has(id);
      if (e.kind === 'put') this.take(e.key, e.value);
      else this.running.delete(id);
      if (this.running.has(id) !== before) this.notify();
      return;
    }
    if (e.kind === 'put') this.take(e.key, e.value);
    else if (e.key.startsWith(SERVICES)) this.views.delete(e.key.slice(SERVICES.length));
    else if (e.key.startsWith(TASKS)) this.wanted.delete(e.key.slice(TASKS.length));
    this.notify();
  }

  private take(key: string, v: Json): void {
    try {
      if (key.startsWith(SERVICES)) {
        const view = serviceView(v as unknown as ServiceRecord);
        this.views.set(key.slice(SERVICES.length), view);
      } else if (key.startsWith(TASKS)) {
        const t = v as unknown as TaskRecord;
        this.wanted.set(key.slice(TASKS.length), t.desiredState === 'running');
      } else if (key.startsWith(TASK_STATUS)) {
        const id = key.slice(TASK_STATUS.length);
        if ((v as unknown as TaskStatus).state === 'running') this.running.add(id);
        else this.running.delete(id);
      }
    } catch (e: unknown) {
      this.log(`swarm: ${key}: ${messageOf(e)}`);
    }
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l.servicesChanged();
      } catch (e: unknown) {
        this.log(`swarm: ${messageOf(e)}`);
      }
    }
  }

  private async stopWatches(): Promise<void> {
    const stops = this.stops;
    this.stops = [];
    for (const stop of stops) await stop().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.stopWatches();
  }
}

/** What the network layer needs of a service record. */
export function serviceView(r: ServiceRecord): ServiceView {
  return {
    id: r.id,
    name: r.spec.Name,
    endpointMode: r.spec.EndpointSpec?.Mode ?? 'vip',
    vips: (r.virtualIps ?? []).map((v) => ({ networkId: v.networkId, addr: v.addr.split('/')[0] ?? v.addr })),
    networks: (r.spec.TaskTemplate.Networks ?? []).map((n) => ({ networkId: n.Target, aliases: n.Aliases ?? [] })),
    ports: (r.ports ?? []).map((p) => ({ protocol: p.Protocol, targetPort: p.TargetPort, publishedPort: p.PublishedPort ?? 0, mode: p.PublishMode })),
  };
}
