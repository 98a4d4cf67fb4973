/**
 * docker update, as dockerd's ContainerUpdate: what the host's cgroups cannot limit is
 * discarded with dockerd's warning, the change is merged into the container's config as
 * UpdateContainer merges it (a zero value leaves a setting as it is; its conflicts), the
 * record is saved (later starts apply it), and a running or paused container takes the
 * new limits at once through the runtime. When the runtime refuses them (a memory limit
 * below what it uses), the record is put back.
 */
import { conflict, invalid, messageOf, systemError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import type { CgroupFeatures, ResourceLimits, ResourceUpdate, Runtime } from '../../runtime/index.js';
import type { Json } from '../../store/kv.js';
import { containerEvent } from './events.js';
import type { ContainerRecord, ContainerSpec } from './model.js';
import type { ContainerRecords } from './records.js';

/** The limits an update sets; absent (Docker's zero) leaves one as it is. */
export interface ResourceChange {
  memory?: number;
  /** -1: unlimited swap. */
  memorySwap?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** 0: unlimited. */
  pidsLimit?: number;
  blkioWeight?: number;
}

export interface UpdateRequest {
  resources: ResourceChange;
  /** Absent (an empty Name): the policy stays. */
  restartPolicy?: ContainerSpec['restartPolicy'];
}

export interface UpdateDeps {
  records: ContainerRecords;
  runtime: Runtime;
  events: EventSink;
}

/** dockerd's period when --cpus is given: 100 ms. */
const NANO_CPUS_PERIOD = 100_000;

/** Update a container; resolves with dockerd's warnings. */
export async function updateContainer(deps: UpdateDeps, idOrName: string, req: UpdateRequest): Promise<string[]> {
  const { change, warnings } = supportedChange(req.resources, deps.runtime.cgroupFeatures);
  const { id } = deps.records.find(idOrName);
  await deps.records.lock(id).run(async () => {
    const c = deps.records.find(id);
    const cannot = (msg: string): string => `Cannot update container ${c.id}: ${msg}`;
    if (c.state.status === 'removing' || c.state.status === 'dead') throw conflict(cannot('container is marked for removal and cannot be "update"'));
    let merged: Merged;
    try {
      merged = mergeUpdate(c, { resources: change, ...(req.restartPolicy ? { restartPolicy: req.restartPolicy } : {}) });
    } catch (e: unknown) {
      throw conflict(cannot(messageOf(e)));
    }
    await deps.records.save(merged.record);
    if (c.state.status !== 'running') return;
    try {
      await deps.runtime.update(c.id, merged.live);
    } catch (e: unknown) {
      await deps.records.save(c);
      throw systemError(cannot(messageOf(e)));
    }
  });
  containerEvent(deps.events, deps.records.find(id), 'update');
  return warnings;
}

/**
 * What the host cannot limit leaves the change, with dockerd's warning; then the blkio
 * weight's range (verifyPlatformContainerResources, in its order).
 */
export function supportedChange(change: ResourceChange, f: CgroupFeatures): { change: ResourceChange; warnings: string[] } {
  const out = { ...change };
  const warnings: string[] = [];
  const drop = (keys: (keyof ResourceChange)[], warning: string): void => {
    if (!keys.some((k) => out[k] !== undefined)) return;
    for (const k of keys) delete out[k];
    warnings.push(warning);
  };
  if (!f.memory) drop(['memory', 'memorySwap', 'memoryReservation'], 'Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.');
  if (f.memory && !f.swap && out.memory !== undefined && out.memorySwap !== -1) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    out.memorySwap = -1;
  }
  if (!f.cpuShares) drop(['cpuShares'], 'Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.');
  if (!f.cpuCfs) drop(['cpuPeriod', 'cpuQuota', 'nanoCpus'], 'Your kernel does not support CPU CFS scheduler. CPU period/quota discarded.');
  if (!f.cpuset) drop(['cpusetCpus', 'cpusetMems'], 'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.');
  if (!f.blkioWeight) drop(['blkioWeight'], 'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
  if (out.blkioWeight !== undefined && (out.blkioWeight < 10 || out.blkioWeight > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
  if (!f.pids && out.pidsLimit !== undefined) {
    if (out.pidsLimit > 0) warnings.push('Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.');
    delete out.pidsLimit;
  }
  return { change: out, warnings };
}

interface Merged {
  record: ContainerRecord;
  /** The whole set of limits the running container is to have. */
  live: ResourceUpdate;
}

/**
 * The container with the change merged as dockerd's UpdateContainer merges it into its
 * HostConfig (the inspect view) and its limits for later starts. Throws (a conflict's
 * words) when --cpus meets a CPU period or quota, or a memory limit passes the swap limit.
 */
export function mergeUpdate(c: ContainerRecord, req: UpdateRequest): Merged {
  const hc = hostConfigOf(c);
  const r = req.resources;
  const num = (key: string): number => (typeof hc[key] === 'number' ? hc[key] : 0);
  if (r.nanoCpus !== undefined && num('CpuPeriod') > 0) throw new Error('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if (r.nanoCpus !== undefined && num('CpuQuota') > 0) throw new Error('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if (r.cpuPeriod !== undefined && num('NanoCpus') > 0) throw new Error('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if (r.cpuQuota !== undefined && num('NanoCpus') > 0) throw new Error('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  if (r.memory !== undefined && r.memory > num('MemorySwap') && r.memorySwap === undefined) {
    throw new Error('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  if (req.restartPolicy && req.restartPolicy.name !== 'no' && c.spec.autoRemove) {
    throw new Error('Restart policy cannot be updated because AutoRemove is enabled for the container');
  }
  const set: Record<string, Json> = {};
  const fields: [keyof ResourceChange, string][] = [
    ['blkioWeight', 'BlkioWeight'], ['cpuShares', 'CpuShares'], ['nanoCpus', 'NanoCpus'], ['cpuPeriod', 'CpuPeriod'], ['cpuQuota', 'CpuQuota'],
    ['cpusetCpus', 'CpusetCpus'], ['cpusetMems', 'CpusetMems'], ['memory', 'Memory'], ['memorySwap', 'MemorySwap'], ['memoryReservation', 'MemoryReservation'],
    ['pidsLimit', 'PidsLimit'],
  ];
  for (const [key, name] of fields) if (r[key] !== undefined) set[name] = r[key];
  if (req.restartPolicy) set.RestartPolicy = { Name: req.restartPolicy.name, MaximumRetryCount: req.restartPolicy.maximumRetryCount };
  const next = { ...hc, ...set };
  const limits = limitsOf(next, c.spec.options?.resources ?? {});
  const record: ContainerRecord = {
    ...c,
    spec: { ...c.spec, ...(req.restartPolicy ? { restartPolicy: req.restartPolicy } : {}), options: { ...c.spec.options, resources: limits } },
    docker: { ...c.docker, hostConfig: next },
  };
  return { record, live: liveSet(limits, r.pidsLimit === 0) };
}

function hostConfigOf(c: ContainerRecord): Record<string, Json> {
  const hc = c.docker.hostConfig;
  return hc !== null && typeof hc === 'object' && !Array.isArray(hc) ? hc : {};
}

/** The limits a start applies, from the merged HostConfig; the rest of `before` (swappiness, throttles …) kept. */
function limitsOf(hc: Record<string, Json>, before: ResourceLimits): ResourceLimits {
  const num = (key: string): number => (typeof hc[key] === 'number' ? hc[key] : 0);
  const str = (key: string): string => (typeof hc[key] === 'string' ? hc[key] : '');
  const nano = num('NanoCpus');
  const quota = nano > 0 ? Math.floor((nano * NANO_CPUS_PERIOD) / 1e9) : num('CpuQuota');
  const period = nano > 0 ? NANO_CPUS_PERIOD : num('CpuPeriod');
  const given: ResourceLimits = {
    memory: num('Memory') || undefined,
    memorySwap: num('MemorySwap') || undefined,
    memoryReservation: num('MemoryReservation') || undefined,
    cpuShares: num('CpuShares') || undefined,
    cpuQuota: quota || undefined,
    cpuPeriod: period || undefined,
    cpusetCpus: str('CpusetCpus') || undefined,
    cpusetMems: str('CpusetMems') || undefined,
    pidsLimit: num('PidsLimit') > 0 ? num('PidsLimit') : undefined,
    blkioWeight: num('BlkioWeight') || undefined,
  };
  const out: ResourceLimits = { ...before };
  for (const [k, v] of Object.entries(given) as [keyof ResourceLimits, ResourceLimits[keyof ResourceLimits]][]) {
    if (v === undefined) delete out[k];
    else (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

/** What runc update is given: the whole set (runc forgets what one leaves out); unlimited pids as -1. */
function liveSet(l: ResourceLimits, pidsUnlimited: boolean): ResourceUpdate {
  const out: ResourceUpdate = {
    memory: l.memory,
    memoryReservation: l.memoryReservation,
    memorySwap: l.memorySwap,
    cpuShares: l.cpuShares,
    cpuQuota: l.cpuQuota,
    cpuPeriod: l.cpuPeriod,
    cpusetCpus: l.cpusetCpus,
    cpusetMems: l.cpusetMems,
    pidsLimit: pidsUnlimited ? -1 : l.pidsLimit,
    blkioWeight: l.blkioWeight,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as ResourceUpdate;
}
