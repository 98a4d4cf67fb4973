/**
 * docker stats: one sample of a running container, as dockerd's GetContainerStats takes
 * it: the cgroup's counters (the runtime reads them), the machine's CPU time read right
 * after (so the two deltas line up), and the counters of the interfaces its network
 * endpoints have in its namespace (none for --network host or none).
 */
import { totalmem } from 'node:os';
import { isBerthError } from '../../errors.js';
import { readNetDev, readSystemCpu, type NetDevCounters } from '../../kernel/procfs.js';
import type { NetworkController } from '../../network/controller.js';
import type { CgroupStats, Runtime } from '../../runtime/index.js';
import type { ContainerRecord } from './model.js';
import { namespaceOwner } from './networking.js';

export interface StatsSample {
  /** When it was read (RFC 3339). */
  read: string;
  cgroup: CgroupStats;
  /** The machine's CPU time in nanoseconds, and its online CPUs. */
  systemCpuUsage: number;
  onlineCpus: number;
  /** By interface name; empty when it has none of its own. */
  networks: Map<string, NetDevCounters>;
}

export interface StatsDeps {
  runtime: Runtime;
  networks: NetworkController;
  /** Another container, by name or ID (the namespace's owner of a container:<x> container). */
  find(idOrName: string): ContainerRecord;
}

/** A sample of a running container; undefined when it is not running (or stopped while read). */
export async function sampleStats(deps: StatsDeps, c: ContainerRecord): Promise<StatsSample | undefined> {
  if (c.state.status !== 'running') return undefined;
  let cgroup: CgroupStats;
  try {
    cgroup = await deps.runtime.stats(c.id);
  } catch (e: unknown) {
    // Gone meanwhile: dockerd answers such a container's stats with the empty sample too.
    if (isBerthError(e) && (e.kind === 'Conflict' || e.kind === 'NotFound')) return undefined;
    throw e;
  }
  const system = await readSystemCpu();
  const read = new Date().toISOString();
  const machine = totalmem();
  // Unlimited is a huge number in the cgroup; dockerd shows the machine's memory instead.
  if (cgroup.memory.limit !== undefined && cgroup.memory.limit > machine) cgroup.memory.limit = machine;
  return { read, cgroup, systemCpuUsage: system.usage, onlineCpus: system.online, networks: await interfaceCounters(deps, c) };
}

async function interfaceCounters(deps: StatsDeps, c: ContainerRecord): Promise<Map<string, NetDevCounters>> {
  let owner: ContainerRecord;
  try {
    owner = namespaceOwner(c, deps.find);
  } catch {
    return new Map();
  }
  const names = new Set(deps.networks.endpointsOf(owner.id).flatMap((e) => (e.ifName ? [e.ifName] : [])));
  if (names.size === 0 || c.state.pid <= 0) return new Map();
  const all = await readNetDev(c.state.pid).catch(() => new Map<string, NetDevCounters>());
  return new Map([...all].filter(([name]) => names.has(name)));
}
