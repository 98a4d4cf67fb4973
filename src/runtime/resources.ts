/**
 * The OCI LinuxResources JSON `runc update --resources -` reads, from a ResourceUpdate.
 * runc keeps what an update leaves out only for some fields (cpusets and the pids limit
 * are taken as given), so the whole set is always sent. Pure.
 */
import type { ResourceUpdate } from './types.js';

export interface OciUpdateResources {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: { weight: number };
}

export function ociResources(r: ResourceUpdate): OciUpdateResources {
  const out: OciUpdateResources = {};
  const memory = pick({ limit: r.memory, reservation: r.memoryReservation, swap: r.memorySwap });
  if (memory) out.memory = memory;
  const cpu = pick({ shares: r.cpuShares, quota: r.cpuQuota, period: r.cpuPeriod, cpus: r.cpusetCpus, mems: r.cpusetMems });
  if (cpu) out.cpu = cpu;
  if (r.pidsLimit !== undefined) out.pids = { limit: r.pidsLimit };
  if (r.blkioWeight !== undefined) out.blockIO = { weight: r.blkioWeight };
  return out;
}

/** The object without its undefined fields, or undefined when none is left. */
function pick<T extends Record<string, number | string | undefined>>(o: T): Partial<T> | undefined {
  const kept = Object.entries(o).filter(([, v]) => v !== undefined);
  return kept.length > 0 ? (Object.fromEntries(kept) as Partial<T>) : undefined;
}
