/**
 * The orchestrator: on one manager at a time, it turns services into tasks and keeps
 * them so (reconcile.ts decides, this applies), and gives each service its virtual IPs.
 *
 * One at a time: the manager whose liveness key (alive/<id>, bound to its etcd lease) is
 * the oldest of the managers alive leads, as an etcd election of leased keys does; when
 * it dies its lease lapses and the next oldest takes over within the lease's TTL. Its
 * writes are tasks/<id> (and task-status/<id> of tasks it forgets), and the virtual IPs
 * and UpdateStatus of services/<id> (its spec too when a failed update rolls back),
 * guarded by the service's revision. Every write is fenced: it applies
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
import { reconcileRemoved, reconcileService, type ClusterPicture, type Decisions, type TaskView } from './reconcile.js';
import { Services } from './services.js';
import { monitorUpdate, type UpdateVerdict } from './update-monitor.js';
import { SERVICES, TASK_STATUS, TASKS } from './stored.js';

const LOST_LEAD = 'this manager no longer leads (its liveness key is not the one it led with: its lease lapsed); nothing written';
/** Operations per etcd transaction, below etcd's default limit of 128. */
const MAX_TXN_OPS = 100;

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
  private readonly runningSince = new Map<string, number>();
  private readonly services: Services;

  constructor(private readonly o: OrchestratorOptions) {
    this.services = new Services(o.store);
  }

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
    this.noteRunning(now);
    let wakeAt: number | undefined;
    for (const { record: stored, version } of [...c.services.values()]) {
      await this.allocate(stored, version).catch((e: unknown) => this.o.log(`orchestrator: ${stored.spec.Name}: virtual IPs: ${messageOf(e)}`));
      const verdict = monitorUpdate(stored, byService.get(stored.id) ?? [], this.runningSince, now);
      if (verdict.wakeAt !== undefined) wakeAt = Math.min(wakeAt ?? Infinity, verdict.wakeAt);
      let record = stored;
      try {
        // A rollback changes the spec: the next pass reconciles to it.
        if (await this.tellUpdate(stored, version, verdict)) continue;
        if (verdict.status) record = { ...stored, updateStatus: verdict.status };
      } catch (e: unknown) {
        this.o.log(`orchestrator: ${stored.spec.Name}: update status: ${messageOf(e)}`);
      }
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
    await this.commitInParts(orphans.map((id) => [TASK_STATUS.del(id)]));
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
    const perTask: Op[][] = [...d.create.map((t) => [TASKS.put(t.id, t)]), ...d.update.map((t) => [TASKS.put(t.id, t)]), ...d.remove.map((id) => [TASKS.del(id), TASK_STATUS.del(id)])];
    await this.commitInParts(perTask);
    for (const t of [...d.create, ...d.update]) this.o.cache.putTask(t);
    for (const id of d.remove) this.o.cache.dropTask(id);
  }

  /**
   * Writes that stand alone (each task's), in transactions of at most MAX_TXN_OPS
   * operations: etcd refuses a bigger one (its --max-txn-ops, 128 by default), and a
   * service removed with its history can have more tasks than that.
   */
  private async commitInParts(groups: readonly Op[][]): Promise<void> {
    const parts: Op[][] = [[]];
    for (const g of groups) {
      if (parts.at(-1)!.length + g.length > MAX_TXN_OPS) parts.push([]);
      parts.at(-1)!.push(...g);
    }
    for (const part of parts) if (!(await this.write(part))) throw new Error(LOST_LEAD);
  }

  /** When this manager first saw each task running, for the update monitor (swarmkit's updater keeps the same in memory). */
  private noteRunning(now: number): void {
    const c = this.o.cache;
    for (const id of this.runningSince.keys()) if (!c.tasks.has(id)) this.runningSince.delete(id);
    for (const [id, status] of c.statuses) if (status.state === 'running' && !this.runningSince.has(id)) this.runningSince.set(id, now);
  }

  /**
   * The update monitor's verdict written (update-monitor.ts): the service's UpdateStatus,
   * or the rollback to its previous spec. The API wrote the spec against `version`: a
   * write of the API's meanwhile wins, the next pass looks again. True when it rolled back.
   */
  private async tellUpdate(s: ServiceRecord, version: number, verdict: UpdateVerdict): Promise<boolean> {
    if (!verdict.status) return false;
    if (verdict.rollback) {
      const created = this.o.cache.alive.get(this.o.nodeId);
      if (created === undefined) return false;
      const rolled = await this.services.rollBack(s.id, version, verdict.status.message, [{ key: ALIVE.kind.prefix + this.o.nodeId, created }]);
      if (rolled) this.o.log(`orchestrator: ${s.spec.Name}: ${verdict.status.message}`);
      return rolled;
    }
    if (verdict.status.state === 'paused' || verdict.status.state === 'rollback_paused') this.o.log(`orchestrator: ${s.spec.Name}: ${verdict.status.message}`);
    await this.write([SERVICES.put(s.id, { ...s, updateStatus: verdict.status })], [{ key: SERVICES.kind.prefix + s.id, version }]);
    return false;
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

