/**
 * The pure parts of rename, top and stats: Docker's stats JSON and its priming, ps
 * output cut as dockerd cuts it, links and hosts lines renamed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpuShape, statsShape } from '../../src/api/shapes/stats.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';
import { hostsWithRenamedLink, renamedLinks } from '../../src/engine/containers/rename.js';
import type { StatsSample } from '../../src/engine/containers/stats.js';
import { checkPsArgs, parsePsOutput } from '../../src/engine/containers/top.js';
import type { CgroupStats } from '../../src/runtime/index.js';

describe('stats JSON', () => {
  const c = { id: 'c'.repeat(64), spec: { name: 'web' } } as unknown as ContainerRecord;
  const sample = (total: number, read: string): StatsSample => ({
    read,
    cgroup: {
      cpu: { total, perCpu: [8918786, 491278], kernel: 20_000_000, user: 30_000_000, periods: 10, throttledPeriods: 4, throttledTime: 123456 },
      memory: { usage: 446464, maxUsage: 2252800, limit: 67108864, failcnt: 0, stats: { rss: 57344 } },
      pids: { current: 2, limit: 0 },
      blkio: { io_service_bytes_recursive: [] },
    } satisfies CgroupStats,
    systemCpuUsage: 5e12,
    onlineCpus: 2,
    networks: new Map([['eth0', { rx_bytes: 1, rx_packets: 1, rx_errors: 0, rx_dropped: 0, tx_bytes: 2, tx_packets: 2, tx_errors: 0, tx_dropped: 0 }]]),
  });

  it('has Go\'s fields in Go\'s order, the previous sample\'s CPU as precpu_stats, networks by interface', () => {
    const first = sample(100, '2026-01-01T00:00:00.000Z');
    const s = statsShape(c, sample(300, '2026-01-01T00:00:01.000Z'), { read: first.read, cpu: cpuShape(first) });
    assert.deepEqual(Object.keys(s), ['read', 'preread', 'pids_stats', 'blkio_stats', 'num_procs', 'storage_stats', 'cpu_stats', 'precpu_stats', 'memory_stats', 'name', 'id', 'networks']);
    assert.equal(s.preread, '2026-01-01T00:00:00.000Z');
    assert.deepEqual((s.precpu_stats as { cpu_usage: unknown }).cpu_usage, { total_usage: 100, percpu_usage: [8918786, 491278], usage_in_kernelmode: 20_000_000, usage_in_usermode: 30_000_000 });
    assert.equal((s.cpu_stats as { online_cpus: number }).online_cpus, 2);
    assert.deepEqual(s.pids_stats, { current: 2 }, 'omitempty: no limit');
    assert.deepEqual(Object.keys(s.memory_stats as object), ['usage', 'max_usage', 'stats', 'limit'], 'failcnt 0 left out');
    assert.equal(s.name, '/web');
    assert.deepEqual(Object.keys(s.networks as object), ['eth0']);
  });

  it('a container that is not running answers zeros, its name and ID, null blkio lists, no networks', () => {
    const s = statsShape(c, undefined, undefined);
    assert.equal(s.read, '0001-01-01T00:00:00Z');
    assert.equal(s.preread, '0001-01-01T00:00:00Z');
    assert.deepEqual(s.memory_stats, {});
    assert.deepEqual(s.pids_stats, {});
    assert.equal((s.blkio_stats as Record<string, unknown>).io_service_bytes_recursive, null);
    assert.deepEqual(s.cpu_stats, { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
    assert.equal('networks' in s, false);
  });
});

describe('top', () => {
  const EF = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root        4242    4230  0 17:12 ?        00:00:00 sleep 300',
    'root        4300       1  0 17:12 ?        00:00:00 /usr/sbin/other',
    'root        4250    4230  0 17:12 ?        00:00:00 sh -c echo  two  spaces',
    '',
  ].join('\n');

  it('keeps the container\'s pids, joins the fields past the last title into it', () => {
    const r = parsePsOutput(EF, [4242, 4250]);
    assert.deepEqual(r.Titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(r.Processes, [
      ['root', '4242', '4230', '0', '17:12', '?', '00:00:00', 'sleep 300'],
      ['root', '4250', '4230', '0', '17:12', '?', '00:00:00', 'sh -c echo two spaces'],
    ]);
  });

  it('keeps the thread lines ("-" as PID) under a kept process only', () => {
    const text = ['USER PID TID CMD', 'root 10 - sleep', 'root - 10 -', 'root 11 - other', 'root - 11 -'].join('\n');
    assert.deepEqual(parsePsOutput(text, [10]).Processes, [
      ['root', '10', '-', 'sleep'],
      ['root', '-', '10', '-'],
    ]);
  });

  it('needs a PID column, and refuses a format that names another column PID', () => {
    assert.throws(() => parsePsOutput('COMMAND\nsleep\n', [1]), /Couldn't find PID field in ps output/);
    assert.throws(() => checkPsArgs('-o user=PID'), /specifying "user=PID" is not allowed/);
    checkPsArgs('-o pid=PID,comm');
    checkPsArgs('aux');
  });
});

describe('rename helpers', () => {
  it('links to the old name name the new one, the alias kept, in every form Docker writes', () => {
    assert.deepEqual(renamedLinks(['db', 'db:store', '/db:/web/cache', 'other:db', 'dbx'], 'db', 'db2'), ['db2:db', 'db2:store', '/db2:/web/cache', 'other:db', 'dbx']);
  });

  it('the hosts line of a legacy link names the target anew; other lines stay', () => {
    const text = '127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab\n172.17.0.2\tstore db 0123456789ab\n172.17.0.9\tdbhost db\n';
    assert.equal(hostsWithRenamedLink(text, { target: 'db', alias: 'db' }, 'db2'), '127.0.0.1\tlocalhost\n172.17.0.2\tdb db2 0123456789ab\n172.17.0.2\tstore db 0123456789ab\n172.17.0.9\tdbhost db\n');
    assert.equal(hostsWithRenamedLink(text, { target: 'db', alias: 'store' }, 'db2'), '127.0.0.1\tlocalhost\n172.17.0.2\tdb 0123456789ab\n172.17.0.2\tstore db2 0123456789ab\n172.17.0.9\tdbhost db\n');
  });
});

