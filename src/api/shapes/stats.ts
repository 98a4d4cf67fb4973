/**
 * Docker's stats JSON (api/types StatsJSON, its fields in Go's order and with Go's
 * omitempty): a sample with the previous one's CPU counters as precpu_stats. A container
 * that is not running has the empty sample: zeros, its name and ID, no networks.
 */
import type { ContainerRecord } from '../../engine/containers/model.js';
import type { StatsSample } from '../../engine/containers/stats.js';
import type { BlkioEntry } from '../../runtime/index.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** dockerd's blkio_stats lists, in order. */
const BLKIO_KEYS = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
];

/** What the next sample shows as its previous one. */
export interface PreviousSample {
  read: string;
  cpu: Record<string, unknown>;
}

export function statsShape(c: ContainerRecord, sample: StatsSample | undefined, pre: PreviousSample | undefined): Record<string, unknown> {
  const s = sample?.cgroup;
  const blkio = Object.fromEntries(BLKIO_KEYS.map((k) => [k, blkioList(s?.blkio[k])]));
  const memory = s
    ? omitZero({ usage: s.memory.usage, max_usage: s.memory.maxUsage, stats: s.memory.stats, failcnt: s.memory.failcnt, limit: s.memory.limit })
    : {};
  return {
    read: sample?.read ?? ZERO_TIME,
    preread: pre?.read ?? ZERO_TIME,
    pids_stats: s ? omitZero({ current: s.pids.current, limit: s.pids.limit }) : {},
    blkio_stats: blkio,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuShape(sample),
    precpu_stats: pre?.cpu ?? cpuShape(undefined),
    memory_stats: memory,
    name: `/${c.spec.name}`,
    id: c.id,
    ...(sample && sample.networks.size > 0 ? { networks: Object.fromEntries(sample.networks) } : {}),
  };
}

/** The sample's cpu_stats, also what the next one shows as precpu_stats. */
export function cpuShape(sample: StatsSample | undefined): Record<string, unknown> {
  const cpu = sample?.cgroup.cpu;
  return {
    cpu_usage: {
      total_usage: cpu?.total ?? 0,
      ...(cpu?.perCpu && cpu.perCpu.length > 0 ? { percpu_usage: cpu.perCpu } : {}),
      usage_in_kernelmode: cpu?.kernel ?? 0,
      usage_in_usermode: cpu?.user ?? 0,
    },
    ...omitZero({ system_cpu_usage: sample?.systemCpuUsage, online_cpus: sample?.onlineCpus }),
    throttling_data: { periods: cpu?.periods ?? 0, throttled_periods: cpu?.throttledPeriods ?? 0, throttled_time: cpu?.throttledTime ?? 0 },
  };
}

/** Go's nil slice is null; an empty one []: cgroup v1 gives every list, v2 only the bytes. */
function blkioList(entries: BlkioEntry[] | undefined): BlkioEntry[] | null {
  return entries ?? null;
}

/** Go's omitempty: zero numbers, empty maps and absent values left out. */
function omitZero(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined && v !== 0 && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0)),
  );
}
