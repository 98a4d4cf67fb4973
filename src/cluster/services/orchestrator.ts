/**
 * The orchestrator: on one manager at a time, it turns services into tasks and keeps
 * them so (reconcile.ts decides, this applies), and gives each service its virtual IPs.
 *
 * One at a time: the manager whose liveness key (alive/<id>, bound to its etcd lease) is
 * the oldest of the managers alive leads, as an etcd election of leased keys does; when
 * it dies its lease lapses and the next oldest takes over within the lease's TTL. Its
 * writes are tasks/<id> (and task-status/<id> of tasks it forgets), and the virtual IPs
 * of services/<id>, guarded by the service's revision. Every write is fenced: it applies
 * only while this manager's liveness key is still the one it led with, so a manager that
 * lost its lease without noticing yet (a long pause) writes nothing over the next one's.
 */
import { messageOf } from '../../errors.js';
import type { SharedNetworks } from '../../network/shared.js';
import type { EtcdStore, StoreCondition } from '../../store/etcd.js';
import type { Op } from '../../store/kv.js';
import { addressKey, VIP_HOLDER } from '../networks.js';
import { ALIVE } from '../stored.js';
import type { ServiceCache } from './cache.js';
import type { NetworkRecord } from '../../network/model.js';
import type { ServiceRecord, VirtualIp } from './model.js';
import type { PlacementNode } from './placement.js';
import { reconcileRemoved, reconcileService, upToDate, type ClusterPicture, type Decisions, type TaskView } from './reconcile.js';
import { SERVICES, TASK_STATUS, TASKS } from './stored.js';

const LOST_LEAD = 'this manager no longer leads (its liveness key is not the one it led with: its lease lapsed); nothing written';

export interface OrchestratorOptions {
  store: EtcdStore;
  cache: ServiceCache;
  nodeId: string;
  /** The swarm's shared networks (for virtual IPs), once open. */
  shared: () => SharedNetworks | undefined;
  log: (m: string) => void;
}

export class Orchestrator {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: NodeJS.Timeout | undefined;
  private readonly lastBatch = new Map<string, number>();
  private stop: (() => void) | undefined;
  private closed = false;
  private leading = false;

  constructor(private readonly o: OrchestratorOptions) {}

  start(): void {
    this.stop = this.o.cache.onChange(() => this.soon());
    this.soon();
  }

  close(): void {
    this.closed = true;
    this.stop?.();
    clearTimeout(this.timer);
    clearTimeout(this.wake);
  }

  /** Whether this manager leads: the oldest liveness key among the managers alive. */
  leads(): boolean {
    const c = this.o.cache;
    let best: { id: string; rev: number } | undefined;
    for (const [id, rev] of c.alive) {
      if (c.nodes.get(id)?.spec.role !== 'manager') continue;
      if (!best || rev < best.rev) best = { id, rev };
    }
    return best?.id === this.o.nodeId;
  }

  /** A pass soon (changes come in bursts: one pass for them). */
  private soon(delayMs = 20): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.pass()
        .catch((e: unknown) => this.o.log(`orchestrator: ${messageOf(e)}`))
        .finally(() => {
          this.running = undefined;
          if (this.again) {
            this.again = false;
            this.soon();
          }
        });
    }, delayMs);
  }

  private async pass(): Promise<void> {
    const leads = this.leads();
    if (leads !== this.leading) this.o.log(leads ? 'orchestrator: this manager leads' : 'orchestrator: another manager leads');
    this.leading = leads;
    if (!leads) return;
    const c = this.o.cache;
    const now = Date.now();
    const nodes = this.placementNodes();
    const picture: ClusterPicture = { nodes, totalLoad: new Map(), heldPorts: new Map(), now, historyLimit: c.historyLimit };
    const byService = new Map<string, TaskView[]>();
    for (const t of c.tasks.values()) {
      const status = c.statuses.get(t.id);
      byService.set(t.serviceId, [...(byService.get(t.serviceId) ?? []), { record: t, ...(status ? { status } : {}) }]);
      if (t.desiredState === 'running' && t.nodeId !== '') {
        picture.totalLoad.set(t.nodeId, (picture.totalLoad.get(t.nodeId) ?? 0) + 1);
        const service = c.services.get(t.serviceId)?.record;
        for (const p of service?.ports ?? []) {
          if (p.PublishMode !== 'host' || !p.PublishedPort) continue;
          const held = picture.heldPorts.get(t.nodeId) ?? new Set<string>();
          held.add(`${p.Protocol}/${p.PublishedPort}`);
          picture.heldPorts.set(t.nodeId, held);
        }
      }
    }
    let wakeAt: number | undefined;
    for (const { record, version } of [...c.services.values()]) {
      await this.allocate(record, version).catch((e: unknown) => this.o.log(`orchestrator: ${record.spec.Name}: virtual IPs: ${messageOf(e)}`));
      await this.tellUpdate(record, version, byService.get(record.id) ?? []).catch((e: unknown) => this.o.log(`orchestrator: ${record.spec.Name}: update status: ${messageOf(e)}`));
      let d: Decisions;
      try {
        d = reconcileService(record, byService.get(record.id) ?? [], picture, this.lastBatch.get(record.id));
      } catch (e: unknown) {
        this.o.log(`orchestrator: ${record.spec.Name}: ${messageOf(e)}`);
        continue;
      }
      if (d.lastBatchAt !== undefined) this.lastBatch.set(record.id, d.lastBatchAt);
      if (d.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, d.wakeAt);
      await this.apply(d);
    }
    for (const [serviceId, tasks] of byService) {
      if (c.services.has(serviceId)) continue;
      this.lastBatch.delete(serviceId);
      await this.apply(reconcileRemoved(tasks, nodes, now));
    }
    // Statuses whose task is gone (an agent's last word after the task was forgotten).
    const orphans = [...c.statuses.keys()].filter((id) => !c.tasks.has(id));
    await this.write(orphans.map((id) => TASK_STATUS.del(id)));
    clearTimeout(this.wake);
    if (wakeAt !== undefined) this.wake = setTimeout(() => this.soon(0), Math.max(0, wakeAt - Date.now()) + 5);
  }

  private placementNodes(): PlacementNode[] {
    const c = this.o.cache;
    return [...c.nodes.values()].map((n) => ({
      id: n.id,
      hostname: n.description.hostname,
      role: n.spec.role,
      labels: n.spec.labels,
      availability: n.spec.availability,
      ready: c.alive.has(n.id),
      addr: n.addr,
      os: n.description.os,
      arch: n.description.architecture,
    }));
  }

  /**
   * Commit `ops` if `also` holds and this manager still holds the lead it started the pass
   * with (its liveness key as it was made); false, nothing written, otherwise.
   */
  private async write(ops: readonly Op[], also: readonly StoreCondition[] = []): Promise<boolean> {
    if (ops.length === 0) return true;
    const created = this.o.cache.alive.get(this.o.nodeId);
    if (created === undefined) return false;
    return this.o.store.commitWhen([...also, { key: ALIVE.kind.prefix + this.o.nodeId, created }], ops);
  }

  private async apply(d: Decisions): Promise<void> {
    const ops: Op[] = [...d.create.map((t) => TASKS.put(t.id, t)), ...d.update.map((t) => TASKS.put(t.id, t)), ...d.remove.flatMap((id) => [TASKS.del(id), TASK_STATUS.del(id)])];
    if (ops.length === 0) return;
    if (!(await this.write(ops))) throw new Error(LOST_LEAD);
    for (const t of [...d.create, ...d.update]) this.o.cache.putTask(t);
    for (const id of d.remove) this.o.cache.dropTask(id);
  }

  /**
   * The service's UpdateStatus, as swarmkit's updater keeps it: "updating" once some task
   * runs an older spec, "completed" (or "rollback_completed") once every task meant to
   * run is up to date and running. The API wrote the spec against `version`: a write of
   * the API's meanwhile wins, the next pass looks again.
   */
  private async tellUpdate(s: ServiceRecord, version: number, tasks: readonly TaskView[]): Promise<void> {
    const meant = tasks.filter((t) => t.record.desiredState === 'running');
    const outdated = meant.some((t) => !upToDate(t.record, s));
    const settled = !outdated && meant.every((t) => t.status?.state === 'running');
    const now = new Date().toISOString();
    const state = s.updateStatus?.state;
    let next: ServiceRecord['updateStatus'];
    if (outdated && state === undefined) next = { state: 'updating', message: 'update in progress', startedAt: now };
    else if (settled && state === 'updating') next = { ...s.updateStatus!, state: 'completed', message: 'update completed', completedAt: now };
    else if (settled && state === 'rollback_started') next = { ...s.updateStatus!, state: 'rollback_completed', message: 'rollback completed', completedAt: now };
    if (!next) return;
    await this.write([SERVICES.put(s.id, { ...s, updateStatus: next })], [{ key: SERVICES.kind.prefix + s.id, version }]);
  }

  /**
   * A virtual IP on each of the service's networks (and the ingress network when it
   * publishes a port there) in vip mode, none in dnsrr; those of networks it left go back.
   */
  private async allocate(s: ServiceRecord, version: number): Promise<void> {
    const shared = this.o.shared();
    if (!shared) return;
    const networks = new Map<string, NetworkRecord>(shared.networks().map((n) => [n.id as string, n]));
    const want = new Set<string>();
    if ((s.spec.EndpointSpec?.Mode ?? 'vip') === 'vip') {
      for (const a of s.spec.TaskTemplate.Networks ?? []) if (networks.has(a.Target)) want.add(a.Target);
      const ingress = [...networks.values()].find((n) => n.ingress);
      if (ingress && s.ports.some((p) => p.PublishMode === 'ingress')) want.add(ingress.id);
    }
    const kept = s.virtualIps.filter((v) => want.has(v.networkId));
    const dropped = s.virtualIps.filter((v) => !want.has(v.networkId));
    const missing = [...want].filter((id) => !kept.some((v) => v.networkId === id));
    if (missing.length === 0 && dropped.length === 0) return;
    const claimed: VirtualIp[] = [];
    try {
      for (const id of missing) {
        const net = networks.get(id)!;
        const a = await shared.claimAddress(net, undefined, `${VIP_HOLDER}${s.id}`);
        claimed.push({ networkId: id, addr: `${a.address}/${a.prefixLen}` });
      }
      const next: ServiceRecord = { ...s, virtualIps: [...kept, ...claimed] };
      const ops: Op[] = [SERVICES.put(s.id, next), ...dropped.map((v) => ({ del: addressKey(v.networkId, v.addr.split('/')[0]!) }))];
      if (!(await this.write(ops, [{ key: SERVICES.kind.prefix + s.id, version }]))) throw new Error('the service changed meanwhile, or this manager no longer leads; next pass');
    } catch (e: unknown) {
      if (claimed.length > 0) await this.o.store.commit(claimed.map((v) => ({ del: addressKey(v.networkId, v.addr.split('/')[0]!) }))).catch(() => undefined);
      throw e;
    }
  }
}

