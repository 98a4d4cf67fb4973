/**
 * POST /containers/{id}/update: the body (UpdateConfig: Docker's Resources and a
 * RestartPolicy) decoded as dockerd's Go decoder reads it and checked as its
 * verifyContainerSettings checks an update, with its words. Zero values mean "leave as
 * it is". Settings an update cannot change (devices, ulimits, throttles …) are ignored,
 * as dockerd ignores them.
 */
import { cpus } from 'node:os';
import { invalid, joinProblems } from '../../errors.js';
import type { ContainerEngine } from '../../engine/containers/engine.js';
import type { ContainerSpec } from '../../engine/containers/model.js';
import type { ResourceChange, UpdateRequest } from '../../engine/containers/update.js';
import { decodeStruct, HOST_CONFIG_FIELDS, unsupported, type FieldSpec } from '../docker-fields.js';
import { compareVersions, type Router } from '../router.js';
import { asObject } from '../wire.js';
import { checkCpusets, MIN_MEMORY } from './create-options.js';

/** Docker's container.Resources, which UpdateConfig embeds, and the restart policy. */
const RESOURCES = [
  'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps',
  'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems',
  'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap', 'MemorySwappiness',
  'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
];
const UPDATE_FIELDS: Record<string, FieldSpec> = Object.fromEntries([...RESOURCES, 'RestartPolicy'].map((k) => [k, HOST_CONFIG_FIELDS[k]!]));

/** What an update takes from the body; berth refuses the realtime scheduler here as at create. */
const REFUSED = ['CpuRealtimePeriod', 'CpuRealtimeRuntime'];

export function containerUpdateRoutes(router: Router, engine: ContainerEngine): void {
  router.add('POST', '/containers/{id}/update', async (req) => {
    const { request, warnings } = parseUpdate(await req.json(), req.version);
    const more = await engine.ops.update(req.params.id!, request);
    return { status: 200, body: { Warnings: [...warnings, ...more] } };
  });
}

export function parseUpdate(body: unknown, version: string): { request: UpdateRequest; warnings: string[] } {
  const u = decodeStruct(asObject(body, 'UpdateConfig'), UPDATE_FIELDS, 'UpdateConfig', true);
  const num = (k: string): number => (typeof u[k] === 'number' ? u[k] : 0);
  const refused = REFUSED.filter((k) => num(k) !== 0).map((k) => unsupported(`UpdateConfig.${k}`, u[k]));
  if (refused.length > 0) throw invalid(joinProblems(refused));
  const warnings: string[] = [];
  checkMemory(num('Memory'), num('MemorySwap'), num('MemoryReservation'), u.MemorySwappiness as number | null);
  checkCpu(num('NanoCpus'), num('CpuPeriod'), num('CpuQuota'));
  if (num('CpuPercent') > 0) warnings.push('linux does not support CPU percent. Percent discarded.');
  checkCpusets(u.CpusetCpus as string, u.CpusetMems as string);
  if (num('IOMaximumBandwidth') !== 0 || num('IOMaximumIOps') !== 0) throw invalid('Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps');
  // Before API 1.40 there was no PidsLimit to update; 0 and below are "unlimited".
  const pids = compareVersions(version, '1.40') < 0 ? null : (u.PidsLimit as number | null);
  const resources: ResourceChange = {};
  const given: [keyof ResourceChange, unknown][] = [
    ['memory', num('Memory')], ['memorySwap', num('MemorySwap')], ['memoryReservation', num('MemoryReservation')], ['nanoCpus', num('NanoCpus')],
    ['cpuShares', num('CpuShares')], ['cpuPeriod', num('CpuPeriod')], ['cpuQuota', num('CpuQuota')], ['cpusetCpus', u.CpusetCpus],
    ['cpusetMems', u.CpusetMems], ['blkioWeight', num('BlkioWeight')],
  ];
  for (const [key, v] of given) if (v !== undefined && v !== 0 && v !== '') (resources as Record<string, unknown>)[key] = v;
  if (pids !== null) resources.pidsLimit = Math.max(0, pids);
  const restartPolicy = parseRestartPolicy(u.RestartPolicy as { Name: string; MaximumRetryCount: number });
  return { request: { resources, ...(restartPolicy ? { restartPolicy } : {}) }, warnings };
}

/** dockerd's memory checks of an update (a swap limit alone is allowed). */
function checkMemory(memory: number, swap: number, reservation: number, swappiness: number | null): void {
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  // -1 is the CLI's "not set" (dockerd's fixMemorySwappiness).
  if (swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw invalid(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
}

function checkCpu(nano: number, period: number, quota: number): void {
  if (nano > 0 && period > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const n = cpus().length;
  if (nano < 0 || nano > n * 1e9) throw invalid(`Range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  if (period !== 0 && (period < 1000 || period > 1000000)) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
}

/** moby's ValidateRestartPolicy; an empty Name leaves the policy as it is. */
function parseRestartPolicy(p: { Name: string; MaximumRetryCount: number }): ContainerSpec['restartPolicy'] | undefined {
  const count = p.MaximumRetryCount;
  switch (p.Name) {
    case '':
      return undefined;
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (count !== 0) {
        throw invalid(`invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
      }
      return { name: p.Name, maximumRetryCount: 0 };
    case 'on-failure':
      if (count < 0) throw invalid('invalid restart policy: maximum retry count cannot be negative');
      return { name: 'on-failure', maximumRetryCount: count };
    default:
      throw invalid(`invalid restart policy: unknown policy '${p.Name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}
