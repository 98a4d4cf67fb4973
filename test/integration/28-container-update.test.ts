/**
 * docker update through the docker CLI and the raw API: limits applied to a running (or
 * paused) container's cgroup at once and kept for its later starts, inspect's HostConfig
 * showing them, a restart policy taking effect, dockerd's refusals and warnings, and a
 * limit the kernel refuses leaving everything as it was.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../lib/async.js';
import { World } from '../lib/world.js';

const V2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers');
const MiB = 1024 * 1024;

describe('docker update', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  /** A cgroup file of the container, read on the host (its group is berth-<daemon>/<id>). */
  const cgroup = async (name: string, v1: string, v2: string): Promise<string> => {
    const id = await w.dockerOk('inspect', '-f', '{{.Id}}', name);
    const group = `berth-${w.daemonId.slice(0, 12)}/${id}`;
    const [ctrl = '', file = ''] = v1.split('/');
    return fs.readFileSync(V2 ? path.join('/sys/fs/cgroup', group, v2) : path.join('/sys/fs/cgroup', ctrl, group, file), 'utf8').trim();
  };
  const limits = async (name: string): Promise<Record<string, string>> => ({
    memory: await cgroup(name, 'memory/memory.limit_in_bytes', 'memory.max'),
    shares: await cgroup(name, 'cpu/cpu.shares', 'cpu.weight'),
    quota: await cgroup(name, 'cpu/cpu.cfs_quota_us', 'cpu.max'),
    pids: await cgroup(name, 'pids/pids.max', 'pids.max'),
    cpus: await cgroup(name, 'cpuset/cpuset.cpus', 'cpuset.cpus'),
  });
  const hostConfig = async (name: string): Promise<Record<string, unknown>> => JSON.parse(await w.dockerOk('inspect', '-f', '{{json .HostConfig}}', name)) as Record<string, unknown>;
  const fails = async (args: string[], message: RegExp): Promise<void> => {
    const r = await w.docker(...args);
    assert.equal(r.code, 1, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
  };

  it('applies memory, swap, CPU shares, --cpus, cpuset and pids limits to a running container at once, shows them in inspect, keeps them across a restart', async () => {
    const since = (Date.now() / 1000).toFixed(3);
    const id = await w.dockerOk('run', '-d', '--name', 'lim', 'busybox', 'sleep', '300');
    assert.equal(await w.dockerOk('update', '-m', '64m', '--memory-swap', '128m', '--cpu-shares', '512', '--cpus', '0.5', '--cpuset-cpus', '0', '--pids-limit', '50', 'lim'), 'lim');
    const want = { memory: String(64 * MiB), shares: V2 ? '20' : '512', quota: V2 ? '50000 100000' : '50000', pids: '50', cpus: '0' };
    assert.deepEqual(await limits('lim'), want);
    if (!V2) assert.equal(await cgroup('lim', 'memory/memory.memsw.limit_in_bytes', ''), String(128 * MiB));
    const hc = await hostConfig('lim');
    assert.deepEqual(
      [hc.Memory, hc.MemorySwap, hc.CpuShares, hc.NanoCpus, hc.CpusetCpus, hc.PidsLimit],
      [64 * MiB, 128 * MiB, 512, 500_000_000, '0', 50],
    );
    await w.dockerOk('restart', '-t', '0', 'lim');
    assert.deepEqual(await limits('lim'), want, 'a start applies what the update recorded');
    // --pids-limit -1 is unlimited again; paused, it still takes an update.
    await w.dockerOk('pause', 'lim');
    await w.dockerOk('update', '--pids-limit', '-1', '--memory-reservation', '32m', 'lim');
    await w.dockerOk('unpause', 'lim');
    assert.equal((await limits('lim')).pids, 'max');
    assert.equal((await hostConfig('lim')).PidsLimit, null);
    assert.equal(await cgroup('lim', 'memory/memory.soft_limit_in_bytes', 'memory.low'), String(32 * MiB));
    const events = await w.dockerOk('events', '--since', since, '--until', (Date.now() / 1000).toFixed(3), '--filter', 'event=update', '--format', '{{.Actor.ID}}');
    assert.deepEqual(events.split('\n'), [id, id]);
    await w.dockerOk('rm', '-f', 'lim');
  });

  it('records the update of a stopped container for its start', async () => {
    await w.dockerOk('create', '--name', 'later', 'busybox', 'sleep', '300');
    await w.dockerOk('update', '--cpu-period', '100000', '--cpu-quota', '20000', '-m', '32m', '--memory-swap', '-1', 'later');
    await w.dockerOk('start', 'later');
    const l = await limits('later');
    assert.equal(l.memory, String(32 * MiB));
    assert.equal(l.quota, V2 ? '20000 100000' : '20000');
    assert.equal((await hostConfig('later')).MemorySwap, -1);
    await w.dockerOk('rm', '-f', 'later');
  });

  it('a restart policy set by update takes effect at the next exit', async () => {
    await w.dockerOk('run', '-d', '--name', 'flaky', 'busybox', 'sh', '-c', 'sleep 0.5; exit 3');
    await w.dockerOk('update', '--restart', 'on-failure:2', 'flaky');
    assert.deepEqual((await hostConfig('flaky')).RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    const deadline = Date.now() + 15_000;
    let state = '';
    while (Date.now() < deadline) {
      state = await w.dockerOk('inspect', '-f', '{{.State.Status}} {{.RestartCount}}', 'flaky');
      if (state === 'exited 2') break;
      await sleep(100);
    }
    assert.equal(state, 'exited 2');
    await w.dockerOk('rm', 'flaky');
  });

  it('refuses as dockerd: memory past the swap limit, --cpus against a CPU period, a restart policy with --rm, bad values, a missing container', async () => {
    const id = await w.dockerOk('run', '-d', '--name', 'strict', '--cpu-period', '100000', 'busybox', 'sleep', '300');
    await fails(['update', '-m', '64m', 'strict'], new RegExp(`Cannot update container ${id}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`));
    await fails(['update', '--cpus', '1', 'strict'], /Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set/);
    await fails(['update', '-m', '1m', 'strict'], /Minimum memory limit allowed is 6MB/);
    await fails(['update', '--cpu-quota', '500', 'strict'], /CPU cfs quota can not be less than 1ms \(i\.e\. 1000\)/);
    await fails(['update', '--cpuset-cpus', '99', 'strict'], /Requested CPUs are not available - requested 99/);
    await fails(['update', '--restart', 'sometimes', 'strict'], /invalid restart policy: unknown policy 'sometimes'/);
    await fails(['update', '-m', '10m', 'nothere'], /No such container: nothere/);
    const rm = await w.dockerOk('run', '-d', '--rm', '--name', 'gone-soon', 'busybox', 'sleep', '300');
    await fails(['update', '--restart', 'always', 'gone-soon'], new RegExp(`Cannot update container ${rm}: Restart policy cannot be updated because AutoRemove is enabled for the container`));
    assert.equal((await w.api('POST', '/containers/gone-soon/update', { RestartPolicy: { Name: 'always' } })).status, 409);
    assert.equal((await w.api('POST', '/containers/strict/update', { Memory: 1 })).status, 400);
    assert.deepEqual(await w.api('POST', '/containers/strict/update', { CpuRealtimePeriod: 1000 }), {
      status: 400,
      body: { message: 'berth does not support UpdateConfig.CpuRealtimePeriod 1000' },
    });
    assert.deepEqual(await w.api('POST', '/containers/strict/update', { CpuShares: 256 }), { status: 200, body: { Warnings: [] } });
    await w.dockerOk('rm', '-f', 'strict', 'gone-soon');
  });

  it('a blkio weight the host cannot apply is discarded with dockerd\'s warning (applied where it can)', async () => {
    await w.dockerOk('run', '-d', '--name', 'weighed', 'busybox', 'sleep', '300');
    const r = await w.docker('update', '--blkio-weight', '300', 'weighed');
    assert.equal(r.code, 0, r.stderr);
    const weighs = V2 || fs.existsSync('/sys/fs/cgroup/blkio/blkio.weight') || fs.existsSync('/sys/fs/cgroup/blkio/blkio.bfq.weight');
    if (weighs) {
      assert.equal((await hostConfig('weighed')).BlkioWeight, 300);
      await fails(['update', '--blkio-weight', '5', 'weighed'], /Range of blkio weight is from 10 to 1000/);
    } else {
      // The CLI prints the daemon's warnings on its standard output.
      assert.match(r.stdout, /Your kernel does not support Block I\/O weight or the cgroup is not mounted\. Weight discarded\./);
      assert.equal((await hostConfig('weighed')).BlkioWeight, 0);
      // Discarded before its range is checked, as dockerd.
      assert.deepEqual(await w.api('POST', '/containers/weighed/update', { BlkioWeight: 5 }), {
        status: 200,
        body: { Warnings: ['Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.'] },
      });
    }
    await w.dockerOk('rm', '-f', 'weighed');
  });

  it('a memory limit below what the container uses is refused by the kernel: the container, its record and its cgroup stay as they were', async () => {
    const id = await w.dockerOk('run', '-d', '--name', 'hog', 'busybox', 'sh', '-c', 'head -c 30000000 /dev/zero > /dev/shm/fill; sleep 300');
    await sleep(1000);
    const before = await limits('hog');
    const r = await w.api('POST', '/containers/hog/update', { Memory: 10 * MiB, MemorySwap: 10 * MiB });
    assert.equal(r.status, 500);
    assert.match((r.body as { message: string }).message, new RegExp(`^Cannot update container ${id}: .*unable to set memory limit to ${10 * MiB}`));
    assert.equal((await hostConfig('hog')).Memory, 0);
    assert.deepEqual(await limits('hog'), before);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}}', 'hog'), 'running');
    await w.dockerOk('rm', '-f', 'hog');
  });
});
