/**
 * A container's counters from the texts of its cgroup files, for cgroup v1 (a hierarchy
 * per controller) and v2 (one hierarchy), as containerd's cgroups package reads them for
 * dockerd: the same files, units and memory.stat keys. Pure; kernel/cgroup.ts reads the
 * files.
 */
import type { BlkioEntry, CgroupStats } from './types.js';

/** The files read on cgroup v1, as "<controller>/<file>". */
export const V1_FILES = [
  'cpuacct/cpuacct.usage',
  'cpuacct/cpuacct.usage_percpu',
  'cpuacct/cpuacct.stat',
  'cpu/cpu.stat',
  'memory/memory.usage_in_bytes',
  'memory/memory.max_usage_in_bytes',
  'memory/memory.limit_in_bytes',
  'memory/memory.failcnt',
  'memory/memory.stat',
  'pids/pids.current',
  'pids/pids.max',
  ...[
    'sectors_recursive',
    'io_service_bytes_recursive',
    'io_serviced_recursive',
    'io_queued_recursive',
    'io_service_time_recursive',
    'io_wait_time_recursive',
    'io_merged_recursive',
    'time_recursive',
    'throttle.io_service_bytes_recursive',
    'throttle.io_serviced_recursive',
  ].map((f) => `blkio/blkio.${f}`),
] as const;

/** The files read on cgroup v2, in the container's group. */
export const V2_FILES = ['cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'memory.events', 'pids.current', 'pids.max', 'io.stat'] as const;

/** File texts by the names above; a file that could not be read is absent. */
export type CgroupFiles = ReadonlyMap<string, string>;

/** USER_HZ: cpuacct.stat counts in these ticks. */
const CLOCK_TICKS = 100;

/** memory.stat keys dockerd reports on cgroup v1 (containerd's MemoryStat fields). */
const V1_MEMORY_KEYS = [
  'cache', 'rss', 'rss_huge', 'mapped_file', 'dirty', 'writeback', 'pgpgin', 'pgpgout', 'pgfault', 'pgmajfault',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable',
  'hierarchical_memory_limit', 'hierarchical_memsw_limit',
  'total_cache', 'total_rss', 'total_rss_huge', 'total_mapped_file', 'total_dirty', 'total_writeback',
  'total_pgpgin', 'total_pgpgout', 'total_pgfault', 'total_pgmajfault',
  'total_inactive_anon', 'total_active_anon', 'total_inactive_file', 'total_active_file', 'total_unevictable',
];

/** memory.stat keys dockerd reports on cgroup v2. */
const V2_MEMORY_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim',
  'pgrefill', 'pgscan', 'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
];

/** Docker's blkio_stats lists and the v1 files they come from. */
const V1_BLKIO: readonly [string, string][] = [
  ['sectors_recursive', 'sectors_recursive'],
  ['io_service_bytes_recursive', 'io_service_bytes_recursive'],
  ['io_serviced_recursive', 'io_serviced_recursive'],
  ['io_queue_recursive', 'io_queued_recursive'],
  ['io_service_time_recursive', 'io_service_time_recursive'],
  ['io_wait_time_recursive', 'io_wait_time_recursive'],
  ['io_merged_recursive', 'io_merged_recursive'],
  ['io_time_recursive', 'time_recursive'],
];

/** The unlimited value of cgroup v2's "max" (containerd's math.MaxUint64). */
const MAX_U64 = 18446744073709551615;

export function parseCgroupV1(files: CgroupFiles): CgroupStats {
  const get = (name: string): string => files.get(name) ?? '';
  const cpuacct = keyed(get('cpuacct/cpuacct.stat'));
  const cpuStat = keyed(get('cpu/cpu.stat'));
  const pidsMax = get('pids/pids.max').trim();
  const memoryStat = keyed(get('memory/memory.stat'));
  return {
    cpu: {
      total: num(get('cpuacct/cpuacct.usage')),
      perCpu: get('cpuacct/cpuacct.usage_percpu').trim().split(/\s+/).filter((x) => x !== '').map(Number),
      kernel: ticksToNs(cpuacct.get('system')),
      user: ticksToNs(cpuacct.get('user')),
      periods: cpuStat.get('nr_periods') ?? 0,
      throttledPeriods: cpuStat.get('nr_throttled') ?? 0,
      throttledTime: cpuStat.get('throttled_time') ?? 0,
    },
    memory: {
      usage: num(get('memory/memory.usage_in_bytes')),
      maxUsage: num(get('memory/memory.max_usage_in_bytes')),
      limit: num(get('memory/memory.limit_in_bytes')),
      failcnt: num(get('memory/memory.failcnt')),
      stats: Object.fromEntries(V1_MEMORY_KEYS.map((k) => [k, memoryStat.get(k) ?? 0])),
    },
    pids: { current: num(get('pids/pids.current')), limit: pidsMax === 'max' ? 0 : num(pidsMax) },
    blkio: v1Blkio(files),
  };
}

/**
 * containerd reads the CFQ scheduler's lists when the kernel has them and some device
 * shows in one; else the throttle lists (every kernel has those), under the same names.
 */
function v1Blkio(files: CgroupFiles): Record<string, BlkioEntry[]> {
  const lists = (fileOf: (docker: string, file: string) => string | undefined): Record<string, BlkioEntry[]> =>
    Object.fromEntries(V1_BLKIO.map(([docker, file]) => [docker, blkioEntries(files.get(`blkio/blkio.${fileOf(docker, file) ?? ''}`) ?? '')]));
  const cfq = lists((_d, file) => file);
  if (files.has('blkio/blkio.io_serviced_recursive') && Object.values(cfq).some((l) => l.length > 0)) return cfq;
  const throttle: Record<string, string> = { io_service_bytes_recursive: 'throttle.io_service_bytes_recursive', io_serviced_recursive: 'throttle.io_serviced_recursive' };
  return lists((docker) => throttle[docker]);
}

/** "8:0 Read 4096" lines; the "Total n" line and malformed ones are skipped. */
export function blkioEntries(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const [op, value] = f.length >= 3 ? [f[1]!, f[2]!] : ['', f[1] ?? ''];
    if (!/^\d+$/.test(value)) continue;
    out.push({ major: Number(dev[1]), minor: Number(dev[2]), op, value: Number(value) });
  }
  return out;
}

export function parseCgroupV2(files: CgroupFiles): CgroupStats {
  const get = (name: string): string => files.get(name) ?? '';
  const cpu = keyed(get('cpu.stat'));
  const us = (k: string): number => (cpu.get(k) ?? 0) * 1000;
  const memoryStat = keyed(get('memory.stat'));
  const io = ioServiceBytes(get('io.stat'));
  return {
    cpu: {
      total: us('usage_usec'),
      kernel: us('system_usec'),
      user: us('user_usec'),
      periods: cpu.get('nr_periods') ?? 0,
      throttledPeriods: cpu.get('nr_throttled') ?? 0,
      throttledTime: us('throttled_usec'),
    },
    memory: {
      usage: num(get('memory.current')),
      limit: maxOrNum(get('memory.max')),
      failcnt: keyed(get('memory.events')).get('oom') ?? 0,
      stats: Object.fromEntries(V2_MEMORY_KEYS.map((k) => [k, memoryStat.get(k) ?? 0])),
    },
    pids: { current: num(get('pids.current')), limit: maxOrNum(get('pids.max')) },
    blkio: io.length > 0 ? { io_service_bytes_recursive: io } : {},
  };
}

/** io.stat's "8:0 rbytes=1 wbytes=2 …" as dockerd's read and write entries per device. */
function ioServiceBytes(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [devText = '', ...pairs] = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(devText);
    if (!dev) continue;
    const kv = new Map(pairs.map((p) => p.split('=') as [string, string]));
    const major = Number(dev[1]);
    const minor = Number(dev[2]);
    out.push({ major, minor, op: 'read', value: Number(kv.get('rbytes') ?? 0) }, { major, minor, op: 'write', value: Number(kv.get('wbytes') ?? 0) });
  }
  return out;
}

/** "key value" lines as a map of numbers. */
function keyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

function num(text: string): number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : 0;
}

function maxOrNum(text: string): number {
  return text.trim() === 'max' ? MAX_U64 : num(text);
}

function ticksToNs(ticks: number | undefined): number {
  return ((ticks ?? 0) * 1e9) / CLOCK_TICKS;
}
