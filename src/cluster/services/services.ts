/**
 * The manager's API on services and tasks (swarmkit's controlapi as dockerd reaches it):
 * create, inspect, update, remove services; list and inspect tasks. It writes only
 * services/<id> and its claims (the name, the ingress ports); tasks are the
 * orchestrator's. Versions are etcd revisions (Docker's Version.Index), so an update made
 * against a stale one is refused as swarmkit refuses it.
 *
 * Ingress ports are allocated here, in the transaction that writes the service: a port
 * asked for that another service holds is refused with swarmkit's words, one not asked
 * for gets the lowest free one from 30000–32767. Virtual IPs are the orchestrator's.
 */
import { conflict, forbidden, invalid, notFound, notImplemented, systemError } from '../../errors.js';
import type { NetworkRecord } from '../../network/model.js';
import type { EtcdStore, StoreCondition } from '../../store/etcd.js';
import type { Op } from '../../store/kv.js';
import { addressKey } from '../networks.js';
import { newSwarmId } from '../tokens.js';
import type { PortConfig, ServiceRecord, ServiceSpec, TaskRecord, TaskStatus, UpdateStatus } from './model.js';
import { portKey, SERVICE_NAMES, SERVICES, TASK_STATUS, TASKS } from './stored.js';

export interface Versioned<T> {
  record: T;
  /** etcd's revision of its last change: Docker's Version.Index. */
  version: number;
}

/** A task with its agent's status, as the API shows it. */
export interface TaskView {
  record: TaskRecord;
  version: number;
  status?: TaskStatus;
}

/** How the API sees the daemon's own networks, to word a local one as dockerd does. */
export type LocalNetworkName = (ref: string) => string | undefined;

const OUT_OF_SEQUENCE = 'rpc error: code = Unknown desc = update out of sequence';
export const INGRESS_PORTS = { first: 30000, last: 32767 };

export class Services {
  constructor(private readonly store: EtcdStore) {}

  async list(): Promise<Versioned<ServiceRecord>[]> {
    const all = await this.store.listVersioned(SERVICES.kind.prefix);
    return [...all.values()].map((v) => ({ record: SERVICES.kind.check(v.value), version: v.version }));
  }

  /** dockerd's getService: full ID, then name, then a unique ID prefix. */
  async get(ref: string): Promise<Versioned<ServiceRecord>> {
    return pick(await this.list(), ref, (s) => s.record.id, (s) => s.record.spec.Name, 'service');
  }

  async create(spec: ServiceSpec, local: LocalNetworkName, registryAuth?: string): Promise<ServiceRecord> {
    const networks = await this.networks();
    const resolved = resolveNetworks(spec, networks, local);
    const services = await this.list();
    const ports = allocatePorts(resolved, services, undefined);
    if (ports.some((p) => p.PublishMode === 'ingress') && !networks.some((n) => n.ingress)) {
      throw invalid('rpc error: code = FailedPrecondition desc = service needs ingress network, but no ingress network is present');
    }
    const now = new Date().toISOString();
    const record: ServiceRecord = { id: newSwarmId(), version: 1, createdAt: now, updatedAt: now, spec: resolved, virtualIps: [], ports, ...(registryAuth ? { registryAuth } : {}) };
    const claims = ingressKeys(ports);
    try {
      await this.store.commitIf([SERVICE_NAMES + spec.Name, ...claims], [
        SERVICES.put(record.id, record),
        { put: SERVICE_NAMES + spec.Name, value: record.id },
        ...claims.map((k) => ({ put: k, value: record.id })),
      ]);
    } catch (e: unknown) {
      if ((await this.store.get(SERVICE_NAMES + spec.Name)) !== undefined) {
        throw conflict(`rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${spec.Name} already exists`);
      }
      throw e;
    }
    return record;
  }

  /** POST /services/{id}/update: the spec replaced (or the previous one back, `rollback`), against `version`. */
  async update(ref: string, version: number, given: ServiceSpec, rollback: boolean, local: LocalNetworkName, registryAuth?: string): Promise<void> {
    const { record: current } = await this.get(ref);
    const old = registryAuth ? { ...current, registryAuth } : current;
    let spec = resolveNetworks(given, await this.networks(), local);
    if (rollback) {
      if (!old.previousSpec) throw systemError('service does not have a previous spec');
      spec = old.previousSpec;
    }
    if ('Global' in (old.spec.Mode ?? {}) !== 'Global' in (spec.Mode ?? {})) throw notImplemented('rpc error: code = Unimplemented desc = service mode change is not allowed');
    if (old.spec.Name !== spec.Name) throw notImplemented('rpc error: code = Unimplemented desc = renaming services is not supported');
    const now = new Date().toISOString();
    // As swarmkit: a rollback says it started; an update clears the last one's word (the orchestrator says when it rolls).
    await this.replace(old, version, spec, old.spec, rollback ? { state: 'rollback_started', message: 'manually requested rollback', startedAt: now } : undefined);
  }

  /**
   * swarmkit's rollback after a failed update (the orchestrator's): the previous spec
   * back and none kept, the update's status "rollback_started" with the updater's word.
   * False when the service changed since `version`.
   */
  async rollBack(id: string, version: number, message: string, also: readonly StoreCondition[] = []): Promise<boolean> {
    const { record: old } = await this.get(id);
    if (!old.previousSpec || !old.updateStatus) return false;
    try {
      await this.replace(old, version, old.previousSpec, undefined, { ...old.updateStatus, state: 'rollback_started', message }, also);
      return true;
    } catch (e: unknown) {
      if (e instanceof Error && e.message === OUT_OF_SEQUENCE) return false;
      throw e;
    }
  }

  /** services/<id> with `spec`, its ports claimed, against `version` (and `also`: the orchestrator's fence). */
  private async replace(old: ServiceRecord, version: number, spec: ServiceSpec, previousSpec: ServiceSpec | undefined, updateStatus: UpdateStatus | undefined, also: readonly StoreCondition[] = []): Promise<void> {
    const ports = allocatePorts(spec, await this.list(), old);
    const before = new Set(ingressKeys(old.ports));
    const after = ingressKeys(ports);
    const added = after.filter((k) => !before.has(k));
    const dropped = [...before].filter((k) => !after.includes(k));
    const { updateStatus: _last, previousSpec: _previous, ...kept } = old;
    const next: ServiceRecord = {
      ...kept,
      version: old.version + 1,
      updatedAt: new Date().toISOString(),
      spec,
      ...(previousSpec ? { previousSpec } : {}),
      ports,
      ...(updateStatus ? { updateStatus } : {}),
    };
    const key = SERVICES.kind.prefix + old.id;
    // The new ports are claimed first (none may be another's); then the record, against the version the client read.
    if (added.length > 0) await this.store.commitIf(added, added.map((k) => ({ put: k, value: old.id })));
    const ops: Op[] = [SERVICES.put(old.id, next), ...dropped.map((k) => ({ del: k }))];
    if (!(await this.store.commitWhen([{ key, version }, ...also], ops))) {
      if (added.length > 0) await this.store.commit(added.map((k) => ({ del: k })));
      throw systemError(OUT_OF_SEQUENCE);
    }
  }

  /** DELETE /services/{id}: the service, its claims and its virtual IPs go; the orchestrator stops its tasks. */
  async remove(ref: string): Promise<void> {
    const { record } = await this.get(ref);
    await this.store.commit([
      SERVICES.del(record.id),
      { del: SERVICE_NAMES + record.spec.Name },
      ...ingressKeys(record.ports).map((k) => ({ del: k })),
      ...record.virtualIps.map((v) => ({ del: addressKey(v.networkId, v.addr.split('/')[0]!) })),
    ]);
  }

  async tasks(): Promise<TaskView[]> {
    const [tasks, statuses] = await Promise.all([this.store.listVersioned(TASKS.kind.prefix), this.store.list(TASK_STATUS.kind.prefix)]);
    return [...tasks.values()].map((v) => {
      const record = TASKS.kind.check(v.value);
      const raw = statuses.get(TASK_STATUS.kind.prefix + record.id);
      return { record, version: v.version, ...(raw !== undefined ? { status: TASK_STATUS.kind.check(raw) } : {}) };
    });
  }

  /** dockerd's getTask: full ID, then a unique ID prefix. */
  async task(ref: string): Promise<TaskView> {
    return pick(await this.tasks(), ref, (t) => t.record.id, () => undefined, 'task');
  }

  /** The swarm's networks as the store holds them. */
  async networks(): Promise<NetworkRecord[]> {
    return [...(await this.store.list('networks/')).values()].map((v) => v as unknown as NetworkRecord);
  }
}

/** Full ID, then name, then unique ID prefix (dockerd's lookups), with its errors. */
function pick<T>(all: readonly T[], ref: string, id: (x: T) => string, name: (x: T) => string | undefined, what: string): T {
  const exact = all.find((x) => id(x) === ref) ?? all.find((x) => name(x) === ref);
  if (exact) return exact;
  const byPrefix = ref === '' ? [] : all.filter((x) => id(x).startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw invalid(`${what} ${ref} is ambiguous (${byPrefix.length} matches found)`);
  throw notFound(`${what} ${ref} not found`);
}

/** The task's networks by ID (given by name, ID or ID prefix), as dockerd's populateNetworkID; swarm-scope ones only. */
function resolveNetworks(spec: ServiceSpec, networks: readonly NetworkRecord[], local: LocalNetworkName): ServiceSpec {
  const attachments = spec.TaskTemplate.Networks ?? [];
  if (attachments.length === 0) return spec;
  const resolved = attachments.map((a) => {
    const net = networks.find((n) => n.id === a.Target) ?? networks.find((n) => n.name === a.Target) ?? uniquePrefix(networks, a.Target);
    if (!net) {
      const localName = local(a.Target);
      if (localName !== undefined) {
        throw forbidden(`The network ${localName} cannot be used with services. Only networks scoped to the swarm can be used, such as those created with the overlay driver.`);
      }
      throw notFound(`network ${a.Target} not found`);
    }
    if (net.ingress) throw invalid(`rpc error: code = InvalidArgument desc = Service cannot be explicitly attached to the ingress network "${net.name}"`);
    return { ...a, Target: net.id };
  });
  return { ...spec, TaskTemplate: { ...spec.TaskTemplate, Networks: resolved } };
}

function uniquePrefix(networks: readonly NetworkRecord[], ref: string): NetworkRecord | undefined {
  const found = networks.filter((n) => n.id.startsWith(ref));
  return found.length === 1 ? found[0] : undefined;
}

/**
 * The ports as published: ingress ports asked for are checked against every other
 * service's (swarmkit's checkPortConflicts), the others get the lowest free port of
 * 30000–32767 (an update keeps the one a port had); host-mode ports stay as given.
 */
export function allocatePorts(spec: ServiceSpec, services: readonly Versioned<ServiceRecord>[], self: ServiceRecord | undefined): PortConfig[] {
  const others = services.filter((s) => s.record.id !== self?.id).map((s) => s.record);
  const taken = new Map<string, { service: ServiceRecord; mode: string }>();
  for (const s of others) for (const p of s.ports) if (p.PublishedPort) taken.set(`${p.Protocol}/${p.PublishedPort}`, { service: s, mode: p.PublishMode });
  const out: PortConfig[] = [];
  for (const p of spec.EndpointSpec?.Ports ?? []) {
    if (!p.PublishedPort) continue;
    const holder = taken.get(`${p.Protocol}/${p.PublishedPort}`);
    if (!holder) continue;
    if (holder.mode === 'ingress' || p.PublishMode === 'ingress') {
      const as = holder.mode === 'ingress' ? 'an ingress port' : 'a host-published port';
      throw invalid(`rpc error: code = InvalidArgument desc = port '${p.PublishedPort}' is already in use by service '${holder.service.spec.Name}' (${holder.service.id}) as ${as}`);
    }
  }
  const used = new Set([...taken.keys()]);
  for (const p of spec.EndpointSpec?.Ports ?? []) if (p.PublishedPort) used.add(`${p.Protocol}/${p.PublishedPort}`);
  for (const p of spec.EndpointSpec?.Ports ?? []) {
    if (p.PublishedPort || p.PublishMode === 'host') {
      out.push({ ...p });
      continue;
    }
    const kept = self?.ports.find((q) => q.Protocol === p.Protocol && q.TargetPort === p.TargetPort && q.PublishMode === 'ingress' && !used.has(`${q.Protocol}/${q.PublishedPort}`));
    let port = kept?.PublishedPort;
    for (let c = INGRESS_PORTS.first; port === undefined && c <= INGRESS_PORTS.last; c++) if (!used.has(`${p.Protocol}/${c}`)) port = c;
    if (port === undefined) throw invalid('rpc error: code = ResourceExhausted desc = could not allocate a published port: none free in 30000-32767');
    used.add(`${p.Protocol}/${port}`);
    out.push({ ...p, PublishedPort: port });
  }
  return out;
}

/** The claim keys of a service's ingress ports. */
function ingressKeys(ports: readonly PortConfig[]): string[] {
  return ports.filter((p) => p.PublishMode === 'ingress' && p.PublishedPort).map((p) => portKey(p.Protocol, p.PublishedPort!));
}
