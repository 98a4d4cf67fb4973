/**
 * The runtime's side of stats and update: a container's cgroup v1 and v2 files read as
 * containerd reads them for dockerd, /proc/stat and /proc/<pid>/net/dev, and the
 * resources JSON runc update reads. Pure.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDev, parseProcStat } from '../../src/kernel/procfs.js';
import { blkioEntries, parseCgroupV1, parseCgroupV2 } from '../../src/runtime/cgroup-stats.js';
import { ociResources } from '../../src/runtime/resources.js';

const V1 = new Map([
  ['cpuacct/cpuacct.usage', '9410064\n'],
  ['cpuacct/cpuacct.usage_percpu', '8918786 491278 \n'],
  ['cpuacct/cpuacct.stat', 'user 3\nsystem 2\n'],
  ['cpu/cpu.stat', 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\nnr_bursts 0\nburst_time 0\n'],
  ['memory/memory.usage_in_bytes', '446464\n'],
  ['memory/memory.max_usage_in_bytes', '2252800\n'],
  ['memory/memory.limit_in_bytes', '67108864\n'],
  ['memory/memory.failcnt', '0\n'],
  ['memory/memory.stat', 'cache 4096\nrss 57344\nworkingset_refault_anon 0\nhierarchical_memory_limit 67108864\ntotal_inactive_file 8192\ntotal_rss 57344\n'],
  ['pids/pids.current', '2\n'],
  ['pids/pids.max', 'max\n'],
  ['blkio/blkio.throttle.io_service_bytes_recursive', '7:0 Read 4096\n7:0 Write 8192\n7:0 Sync 0\n7:0 Async 12288\n7:0 Discard 0\n7:0 Total 12288\nTotal 12288\n'],
  ['blkio/blkio.throttle.io_serviced_recursive', '7:0 Read 1\n7:0 Write 2\nTotal 3\n'],
]);

const V2 = new Map([
  ['cpu.stat', 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 1\nthrottled_usec 20\n'],
  ['memory.current', '1048576\n'],
  ['memory.max', 'max\n'],
  ['memory.stat', 'anon 4096\nfile 8192\ninactive_file 2048\nworkingset_refault_anon 3\n'],
  ['memory.events', 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n'],
  ['pids.current', '3\n'],
  ['pids.max', '100\n'],
  ['io.stat', '8:16 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n'],
]);

describe('cgroup counters', () => {
  it('v1: cpuacct in nanoseconds (ticks converted), throttling, memory with Docker\'s keys, pids max as 0, the throttle blkio lists', () => {
    const s = parseCgroupV1(V1);
    assert.deepEqual(s.cpu, { total: 9410064, perCpu: [8918786, 491278], kernel: 20_000_000, user: 30_000_000, periods: 10, throttledPeriods: 4, throttledTime: 123456 });
    assert.equal(s.memory.usage, 446464);
    assert.equal(s.memory.maxUsage, 2252800);
    assert.equal(s.memory.limit, 67108864);
    assert.equal(s.memory.stats.rss, 57344);
    assert.equal(s.memory.stats.total_inactive_file, 8192);
    assert.equal(s.memory.stats.total_unevictable, 0, 'every key dockerd reports, 0 when the kernel has none');
    assert.equal(s.memory.stats.workingset_refault_anon, undefined, 'only dockerd\'s keys');
    assert.equal(Object.keys(s.memory.stats).length, 32);
    assert.deepEqual(s.pids, { current: 2, limit: 0 });
    assert.deepEqual(s.blkio.io_service_bytes_recursive?.slice(0, 2), [
      { major: 7, minor: 0, op: 'Read', value: 4096 },
      { major: 7, minor: 0, op: 'Write', value: 8192 },
    ]);
    assert.equal(s.blkio.io_service_bytes_recursive?.length, 6, 'the device lines, not the grand total');
    assert.equal(s.blkio.io_serviced_recursive?.length, 2);
    assert.deepEqual(s.blkio.io_queue_recursive, []);
    assert.deepEqual(Object.keys(s.blkio).length, 8);
  });

  it('v1: the CFQ lists when the kernel keeps them for some device', () => {
    const files = new Map([...V1, ['blkio/blkio.io_serviced_recursive', '8:0 Read 5\n8:0 Write 6\nTotal 11\n'], ['blkio/blkio.sectors_recursive', '8:0 40\n']]);
    const s = parseCgroupV1(files);
    assert.deepEqual(s.blkio.io_serviced_recursive, [
      { major: 8, minor: 0, op: 'Read', value: 5 },
      { major: 8, minor: 0, op: 'Write', value: 6 },
    ]);
    assert.deepEqual(s.blkio.sectors_recursive, [{ major: 8, minor: 0, op: '', value: 40 }]);
    assert.deepEqual(s.blkio.io_service_bytes_recursive, [], 'the CFQ file of that list is absent');
  });

  it('v2: microseconds to nanoseconds, "max" as containerd\'s MaxUint64, failcnt from memory.events oom, io.stat as read and write', () => {
    const s = parseCgroupV2(V2);
    assert.deepEqual(s.cpu, { total: 1_500_000, kernel: 500_000, user: 1_000_000, periods: 7, throttledPeriods: 1, throttledTime: 20_000 });
    assert.equal(s.memory.usage, 1048576);
    assert.ok(s.memory.limit! > 1e19);
    assert.equal(s.memory.failcnt, 1);
    assert.equal(s.memory.stats.inactive_file, 2048);
    assert.equal(s.memory.stats.workingset_refault, 0);
    assert.deepEqual(s.pids, { current: 3, limit: 100 });
    assert.deepEqual(s.blkio, {
      io_service_bytes_recursive: [
        { major: 8, minor: 16, op: 'read', value: 100 },
        { major: 8, minor: 16, op: 'write', value: 200 },
      ],
    });
    assert.deepEqual(parseCgroupV2(new Map()).blkio, {}, 'no device: Go\'s nil list');
  });

  it('skips what is not a device line', () => {
    assert.deepEqual(blkioEntries('Total 0\n\ngarbage here\n8:1 Read x\n'), []);
  });
});

describe('/proc', () => {
  it('/proc/stat: the first seven fields of the cpu line in nanoseconds, one CPU per cpuN line', () => {
    const text = 'cpu  100 1 50 1000 2 0 3 7 0 0\ncpu0 50 0 25 500 1 0 2 3 0 0\ncpu1 50 1 25 500 1 0 1 4 0 0\nintr 1 2 3\n';
    assert.deepEqual(parseProcStat(text), { usage: (100 + 1 + 50 + 1000 + 2 + 0 + 3) * 1e7, online: 2 });
  });

  it('/proc/<pid>/net/dev: each interface\'s counters under Docker\'s names', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0',
      '  eth0:    1362      15    1    2    0     0          0         0      516       6    3    4    0     0       0          0',
    ].join('\n');
    const m = parseNetDev(text);
    assert.deepEqual(m.get('eth0'), { rx_bytes: 1362, rx_packets: 15, rx_errors: 1, rx_dropped: 2, tx_bytes: 516, tx_packets: 6, tx_errors: 3, tx_dropped: 4 });
    assert.deepEqual([...m.keys()], ['lo', 'eth0']);
  });
});

describe('runc update resources', () => {
  it('names only what is set, in the OCI shape', () => {
    assert.deepEqual(ociResources({ memory: 64 << 20, memorySwap: -1, cpuShares: 512, cpusetCpus: '0', pidsLimit: -1 }), {
      memory: { limit: 64 << 20, swap: -1 },
      cpu: { shares: 512, cpus: '0' },
      pids: { limit: -1 },
    });
    assert.deepEqual(ociResources({}), {});
  });
});
