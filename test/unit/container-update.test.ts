/**
 * docker update's pure parts: the body read and checked as dockerd's verifyContainerSettings
 * checks an update, what the host cannot limit discarded with dockerd's warnings, and the
 * change merged as UpdateContainer merges it (its conflicts), into inspect's HostConfig,
 * the limits of later starts and the whole set runc update is given.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseUpdate } from '../../src/api/routes/container-update.js';
import type { ContainerRecord } from '../../src/engine/containers/model.js';
import { mergeUpdate, supportedChange } from '../../src/engine/containers/update.js';

const ALL = { memory: true, swap: true, cpuShares: true, cpuCfs: true, cpuset: true, blkioWeight: true, pids: true };

/** A container as create leaves it: the effective HostConfig, the limits of its starts. */
function container(hostConfig: Record<string, unknown>, over: Partial<ContainerRecord['spec']> = {}): ContainerRecord {
  return {
    id: 'c'.repeat(64),
    spec: { autoRemove: false, restartPolicy: { name: 'no', maximumRetryCount: 0 }, options: { resources: { memorySwappiness: 10 } }, ...over },
    docker: { config: {}, hostConfig: { Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuPeriod: 0, CpuQuota: 0, PidsLimit: null, ...hostConfig } },
  } as unknown as ContainerRecord;
}

describe('the update body', () => {
  it('keeps only what it sets (zero leaves a setting as it is), PidsLimit 0 and below as unlimited', () => {
    const { request } = parseUpdate({ CpuShares: 512, Memory: 64 << 20, MemorySwap: -1, CpusetCpus: '', PidsLimit: -1, RestartPolicy: { Name: '' }, Ulimits: [] }, '1.44');
    assert.deepEqual(request, { resources: { cpuShares: 512, memory: 64 << 20, memorySwap: -1, pidsLimit: 0 } });
    assert.deepEqual(parseUpdate({ PidsLimit: 5 }, '1.39').request.resources, {}, 'no PidsLimit before API 1.40');
    assert.deepEqual(parseUpdate({ PidsLimit: null }, '1.44').request.resources, {});
  });

  it('reads the restart policy as moby\'s ValidateRestartPolicy', () => {
    assert.deepEqual(parseUpdate({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 } }, '1.44').request.restartPolicy, { name: 'on-failure', maximumRetryCount: 3 });
    assert.throws(() => parseUpdate({ RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } }, '1.44'), /maximum retry count can only be used with 'on-failure'$/);
    assert.throws(() => parseUpdate({ RestartPolicy: { Name: 'no', MaximumRetryCount: -1 } }, '1.44'), /only be used with 'on-failure' and cannot be negative/);
    assert.throws(() => parseUpdate({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } }, '1.44'), /maximum retry count cannot be negative/);
    assert.throws(() => parseUpdate({ RestartPolicy: { Name: 'x' } }, '1.44'), /unknown policy 'x'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'/);
  });

  it('checks the values as dockerd, with its words; Go\'s decoder errors; berth\'s refusals', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ Memory: 1 << 20 }, /Minimum memory limit allowed is 6MB$/],
      [{ Memory: 64 << 20, MemorySwap: 32 << 20 }, /Minimum memoryswap limit should be larger than memory limit, see usage$/],
      [{ MemoryReservation: 1 }, /Minimum memory reservation allowed is 6MB$/],
      [{ Memory: 8 << 20, MemoryReservation: 16 << 20 }, /Minimum memory limit can not be less than memory reservation limit, see usage$/],
      [{ MemorySwappiness: 101 }, /Invalid value: 101, valid memory swappiness range is 0-100$/],
      [{ NanoCpus: 1e9, CpuPeriod: 100000 }, /Conflicting options: Nano CPUs and CPU Period cannot both be set$/],
      [{ NanoCpus: 1e15 }, /Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/],
      [{ CpuPeriod: 10 }, /CPU cfs period can not be less than 1ms/],
      [{ CpuQuota: 10 }, /CPU cfs quota can not be less than 1ms/],
      [{ CpusetCpus: '0-' }, /Invalid value 0- for cpuset cpus: invalid format: 0-$/],
      [{ IOMaximumIOps: 5 }, /Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps$/],
      [{ Memory: 'lots' }, /cannot unmarshal string into Go struct field UpdateConfig\.Memory of type int64/],
      [{ CpuRealtimeRuntime: 5 }, /berth does not support UpdateConfig\.CpuRealtimeRuntime 5$/],
    ];
    for (const [body, message] of bad) assert.throws(() => parseUpdate(body, '1.44'), message, JSON.stringify(body));
    assert.deepEqual(parseUpdate({ MemorySwap: 128 << 20 }, '1.44').request.resources, { memorySwap: 128 << 20 }, 'a swap limit alone is fine on update');
    assert.deepEqual(parseUpdate({ CpuPercent: 5 }, '1.44').warnings, ['linux does not support CPU percent. Percent discarded.']);
  });
});

describe('what the host supports', () => {
  it('drops what its cgroups cannot limit, with dockerd\'s warnings', () => {
    const { change, warnings } = supportedChange({ memory: 64 << 20, cpuShares: 2, blkioWeight: 300, pidsLimit: 5 }, { ...ALL, swap: false, blkioWeight: false, pids: false });
    assert.deepEqual(change, { memory: 64 << 20, memorySwap: -1, cpuShares: 2 });
    assert.deepEqual(warnings, [
      'Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
      'Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.',
    ]);
    assert.throws(() => supportedChange({ blkioWeight: 5 }, ALL), /Range of blkio weight is from 10 to 1000$/);
    assert.deepEqual(supportedChange({ blkioWeight: 5 }, { ...ALL, blkioWeight: false }).change, {}, 'discarded before its range is checked');
  });
});

describe('the merge', () => {
  it('sets what the change names in the HostConfig, recomputes the limits of later starts (others kept) and gives runc the whole set', () => {
    const c = container({ Memory: 32 << 20, MemorySwap: 64 << 20, CpuShares: 100, CpusetCpus: '0' });
    const { record, live } = mergeUpdate(c, { resources: { memory: 48 << 20, nanoCpus: 1.5e9, pidsLimit: 20 } });
    const hc = record.docker.hostConfig as Record<string, unknown>;
    assert.deepEqual([hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.CpuShares, hc.PidsLimit], [48 << 20, 64 << 20, 1.5e9, 100, 20]);
    assert.deepEqual(record.spec.options?.resources, {
      memorySwappiness: 10,
      memory: 48 << 20,
      memorySwap: 64 << 20,
      cpuShares: 100,
      cpuQuota: 150000,
      cpuPeriod: 100000,
      cpusetCpus: '0',
      pidsLimit: 20,
    });
    assert.deepEqual(live, { memory: 48 << 20, memorySwap: 64 << 20, cpuShares: 100, cpuQuota: 150000, cpuPeriod: 100000, cpusetCpus: '0', pidsLimit: 20 });
  });

  it('unlimited pids: none for later starts, -1 for the running container', () => {
    const { record, live } = mergeUpdate(container({ PidsLimit: 20 }, { options: { resources: { pidsLimit: 20 } } }), { resources: { pidsLimit: 0 } });
    assert.equal(record.spec.options?.resources?.pidsLimit, undefined);
    assert.equal(live.pidsLimit, -1);
  });

  it('a restart policy goes to the spec and the HostConfig, unless the container has --rm', () => {
    const { record } = mergeUpdate(container({}), { resources: {}, restartPolicy: { name: 'always', maximumRetryCount: 0 } });
    assert.deepEqual(record.spec.restartPolicy, { name: 'always', maximumRetryCount: 0 });
    assert.deepEqual((record.docker.hostConfig as Record<string, unknown>).RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
    assert.throws(() => mergeUpdate(container({}, { autoRemove: true }), { resources: {}, restartPolicy: { name: 'always', maximumRetryCount: 0 } }), /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    mergeUpdate(container({}, { autoRemove: true }), { resources: {}, restartPolicy: { name: 'no', maximumRetryCount: 0 } });
  });

  it('refuses as UpdateContainer: --cpus against a period or quota and back, memory past the swap limit without a new one', () => {
    assert.throws(() => mergeUpdate(container({ CpuPeriod: 50000 }), { resources: { nanoCpus: 1e9 } }), /Nano CPUs cannot be updated as CPU Period has already been set/);
    assert.throws(() => mergeUpdate(container({ CpuQuota: 50000 }), { resources: { nanoCpus: 1e9 } }), /Nano CPUs cannot be updated as CPU Quota has already been set/);
    assert.throws(() => mergeUpdate(container({ NanoCpus: 1e9 }), { resources: { cpuPeriod: 50000 } }), /CPU Period cannot be updated as NanoCPUs has already been set/);
    assert.throws(() => mergeUpdate(container({ NanoCpus: 1e9 }), { resources: { cpuQuota: 50000 } }), /CPU Quota cannot be updated as NanoCPUs has already been set/);
    assert.throws(() => mergeUpdate(container({}), { resources: { memory: 64 << 20 } }), /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    mergeUpdate(container({ Memory: 32 << 20, MemorySwap: 128 << 20 }), { resources: { memory: 64 << 20 } });
    mergeUpdate(container({}), { resources: { memory: 64 << 20, memorySwap: -1 } });
  });
});
