/**
 * The runtime settings of a container create (cgroup limits, ulimits, devices, groups,
 * namespaces, security) from its decoded HostConfig, checked as dockerd checks them
 * (daemon_unix.go verifyPlatformContainerResources and friends, with their wording).
 * Values berth does not implement are refused, naming them.
 */
import { cpus } from 'node:os';
import { invalid } from '../../errors.js';
import type { NetworkMode } from '../../engine/containers/model.js';
import { DEVICE_RULE } from '../../runtime/oci.js';
import type { DeviceMapping, DeviceRate, ResourceLimits, RunOptions, Ulimit } from '../../runtime/types.js';
import { unsupported } from '../docker-fields.js';
import { optNumber, optString, type WireObject } from '../wire.js';

/** dockerd's linuxMinMemory. */
export const MIN_MEMORY = 6 * 1024 * 1024;

/** go-units' ulimit names. */
const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** Sysctls of an IPC namespace (runc's list); net.* need a network namespace of the container's own. */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export interface ParsedOptions {
  options: RunOptions;
  /** dockerd's warnings for settings it takes but discards or doubts. */
  warnings: string[];
}

/** `hc` is the decoded HostConfig (docker-fields.ts decodeStruct): every field under its own name and type-checked. */
export function parseRunOptions(hc: Record<string, unknown>, mode: NetworkMode): ParsedOptions {
  const warnings: string[] = [];
  checkPlatformFields(hc, warnings);
  const options: RunOptions = {};
  const resources = parseResources(hc, warnings);
  if (Object.keys(resources).length > 0) options.resources = resources;
  const devices = (hc.Devices as WireObject[] | null) ?? [];
  if (devices.length > 0) options.devices = devices.map(parseDevice);
  const rules = (hc.DeviceCgroupRules as string[] | null) ?? [];
  for (const r of rules) if (!DEVICE_RULE.test(r)) throw invalid(`invalid device cgroup rule format: '${r}'`);
  if (rules.length > 0) options.deviceCgroupRules = rules;
  const ulimits = ((hc.Ulimits as WireObject[] | null) ?? []).map(parseUlimit);
  if (ulimits.length > 0) options.ulimits = ulimits;
  const groups = (hc.GroupAdd as string[] | null) ?? [];
  if (groups.length > 0) options.groupAdd = groups;
  const shm = hc.ShmSize as number;
  if (shm < 0) throw invalid('SHM size can not be less than 0');
  if (shm > 0) options.shmSize = shm;
  const oom = hc.OomScoreAdj as number;
  if (oom < -1000 || oom > 1000) throw invalid(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
  if (oom !== 0) options.oomScoreAdj = oom;
  if (hc.Init === true) options.init = true;
  Object.assign(options, parseNamespaces(hc));
  Object.assign(options, parseSecurityOpt((hc.SecurityOpt as string[] | null) ?? []));
  if (hc.MaskedPaths !== null && hc.MaskedPaths !== undefined) options.maskedPaths = hc.MaskedPaths as string[];
  if (hc.ReadonlyPaths !== null && hc.ReadonlyPaths !== undefined) options.readonlyPaths = hc.ReadonlyPaths as string[];
  const annotations = (hc.Annotations as Record<string, string> | undefined) ?? {};
  if (Object.keys(annotations).length > 0) options.annotations = annotations;
  const sysctls = (hc.Sysctls as Record<string, string> | undefined) ?? {};
  for (const k of Object.keys(sysctls)) checkSysctl(k, mode, options);
  if (Object.keys(sysctls).length > 0) options.sysctls = sysctls;
  const [rows = 0, cols = 0] = hc.ConsoleSize as [number, number];
  if (rows > 0 && cols > 0) options.consoleSize = { rows, cols };
  return { options, warnings };
}

/** Settings only other platforms or other daemons have, as dockerd on Linux answers them. */
function checkPlatformFields(hc: Record<string, unknown>, warnings: string[]): void {
  const isolation = hc.Isolation as string;
  if (isolation !== '' && isolation !== 'default') throw invalid(`invalid isolation (${isolation}): linux only supports 'default'`);
  if (hc.IOMaximumBandwidth !== 0) throw invalid('invalid option: QoS maximum bandwidth configuration is not supported on linux');
  if (hc.IOMaximumIOps !== 0) throw invalid('invalid option: QoS maximum IOPs configuration is not supported on linux');
  if ((hc.CpuPercent as number) > 0) warnings.push('linux does not support CPU percent. Percent discarded.');
  const runtime = (hc.Runtime as string | undefined) ?? '';
  if (runtime !== '' && runtime !== 'runc') throw invalid(`unknown or invalid runtime name: ${runtime}`);
  const volumeDriver = hc.VolumeDriver as string;
  if (volumeDriver !== '' && volumeDriver !== 'local') throw invalid(unsupported('HostConfig.VolumeDriver', volumeDriver));
  const userns = hc.UsernsMode as string;
  if (userns !== '' && userns !== 'host') throw invalid(unsupported('HostConfig.UsernsMode', userns));
}

function parseResources(hc: Record<string, unknown>, warnings: string[]): ResourceLimits {
  const r: ResourceLimits = {};
  const memory = hc.Memory as number;
  const reservation = hc.MemoryReservation as number;
  let swap = hc.MemorySwap as number;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  // dockerd's default: swap as much as memory again.
  if (memory > 0 && swap === 0) swap = memory * 2;
  if (memory > 0 && swap > 0 && swap < memory) throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0) throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (reservation > 0 && reservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (memory > 0) r.memory = memory;
  if (swap !== 0) r.memorySwap = swap;
  if (reservation > 0) r.memoryReservation = reservation;
  const swappiness = hc.MemorySwappiness as number | null;
  // -1 is the CLI's "not set" (dockerd's fixMemorySwappiness).
  if (swappiness !== null && swappiness !== -1) {
    if (swappiness < 0 || swappiness > 100) throw invalid(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
    r.memorySwappiness = swappiness;
  }
  const tcp = (hc.KernelMemoryTCP as number | undefined) ?? 0;
  if (tcp > 0) r.kernelMemoryTcp = tcp;
  const oomKillDisable = hc.OomKillDisable as boolean | null;
  if (oomKillDisable === true) {
    r.oomKillDisable = true;
    if (memory === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  const pids = hc.PidsLimit as number | null;
  if (pids !== null && pids > 0) r.pidsLimit = pids;
  Object.assign(r, parseCpu(hc));
  const throttles: [string, keyof ResourceLimits][] = [
    ['BlkioDeviceReadBps', 'blkioReadBps'],
    ['BlkioDeviceWriteBps', 'blkioWriteBps'],
    ['BlkioDeviceReadIOps', 'blkioReadIops'],
    ['BlkioDeviceWriteIOps', 'blkioWriteIops'],
  ];
  for (const [name, key] of throttles) {
    const list = ((hc[name] as WireObject[] | null) ?? []).map((d) => parseRate(d, name));
    if (list.length > 0) (r as Record<string, DeviceRate[]>)[key] = list;
  }
  return r;
}

function parseCpu(hc: Record<string, unknown>): ResourceLimits {
  const r: ResourceLimits = {};
  const nano = hc.NanoCpus as number;
  const period = hc.CpuPeriod as number;
  const quota = hc.CpuQuota as number;
  const shares = hc.CpuShares as number;
  if (nano > 0 && period > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && quota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const n = cpus().length;
  if (nano !== 0 && (nano < 0 || nano > n * 1e9)) throw invalid(`range of CPUs is from 0.01 to ${n}.00, as there are only ${n} CPUs available`);
  if (shares < 0) throw invalid(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (period !== 0 && (period < 1000 || period > 1000000)) throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (shares > 0) r.cpuShares = shares;
  if (nano > 0) {
    // dockerd: a 100 ms period and the share of it.
    r.cpuPeriod = 100000;
    r.cpuQuota = Math.floor((nano * 100000) / 1e9);
  }
  if (period !== 0) r.cpuPeriod = period;
  if (quota !== 0) r.cpuQuota = quota;
  const cpuset = hc.CpusetCpus as string;
  const mems = hc.CpusetMems as string;
  checkCpusets(cpuset, mems);
  if (cpuset !== '') r.cpusetCpus = cpuset;
  if (mems !== '') r.cpusetMems = mems;
  return r;
}

/** --cpuset-cpus and --cpuset-mems ('' for none) in their format, the CPUs among the machine's. */
export function checkCpusets(cpuset: string, mems: string): void {
  const n = cpus().length;
  if (cpuset !== '' && parseCpuList(cpuset, 'cpus').some((c) => c >= n)) {
    throw invalid(`Requested CPUs are not available - requested ${cpuset}, available: ${n === 1 ? '0' : `0-${n - 1}`}`);
  }
  if (mems !== '') parseCpuList(mems, 'mems');
}

/** "0-2,4" into its numbers (go's parsers.ParseUintList). */
function parseCpuList(list: string, what: 'cpus' | 'mems'): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) throw invalid(`Invalid value ${list} for cpuset ${what}: invalid format: ${list}`);
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]); i++) out.push(i);
  }
  return out;
}

function parseRate(d: WireObject, name: string): DeviceRate {
  const path = optString(d, 'Path') ?? '';
  const rate = optNumber(d, 'Rate') ?? 0;
  if (!path.startsWith('/') || !Number.isInteger(rate) || rate < 0) throw invalid(`invalid ${name} entry: ${JSON.stringify(d)}`);
  return { path, rate };
}

function parseDevice(d: WireObject): DeviceMapping {
  const pathOnHost = optString(d, 'PathOnHost') ?? '';
  const pathInContainer = optString(d, 'PathInContainer') || pathOnHost;
  const permissions = optString(d, 'CgroupPermissions') || 'rwm';
  if (!pathOnHost.startsWith('/') || !pathInContainer.startsWith('/')) throw invalid(`invalid device path: ${JSON.stringify(d)}`);
  if (!/^[rwm]{1,3}$/.test(permissions)) throw invalid(`invalid device mode: ${permissions}`);
  return { pathOnHost, pathInContainer, permissions };
}

function parseUlimit(u: WireObject): Ulimit {
  const name = optString(u, 'Name') ?? '';
  const soft = optNumber(u, 'Soft') ?? 0;
  const hard = optNumber(u, 'Hard') ?? 0;
  if (!ULIMITS.has(name)) throw invalid(`invalid ulimit type: ${name}`);
  if (soft > hard) throw invalid(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { name, soft, hard };
}

/** IPC, PID and cgroup namespaces: the container's own, or the host's. */
function parseNamespaces(hc: Record<string, unknown>): RunOptions {
  const out: RunOptions = {};
  const ipc = hc.IpcMode as string;
  if (ipc === 'host' || ipc === 'none') out.ipc = ipc;
  else if (ipc.startsWith('container:')) throw invalid(unsupported('HostConfig.IpcMode', ipc));
  else if (!['', 'private', 'shareable'].includes(ipc)) throw invalid(`invalid IPC mode: ${ipc}`);
  const pid = hc.PidMode as string;
  if (pid === 'host') out.pidHost = true;
  else if (pid.startsWith('container:')) throw invalid(unsupported('HostConfig.PidMode', pid));
  else if (pid !== '') throw invalid(`invalid PID mode: ${pid}`);
  const cgroupns = hc.CgroupnsMode as string;
  if (cgroupns === 'private') out.cgroupnsPrivate = true;
  else if (cgroupns !== '' && cgroupns !== 'host') throw invalid(`invalid cgroup namespace mode: ${cgroupns}`);
  return out;
}

/**
 * dockerd's parseSecurityOpt. berth runs containers without SELinux, AppArmor or
 * seccomp profiles: asking for none of them is what it does; asking for one is refused.
 */
function parseSecurityOpt(opts: readonly string[]): RunOptions {
  const out: RunOptions = {};
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') continue;
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (!sep) throw invalid(`invalid --security-opt 1: "${opt}"`);
    const at = opt.indexOf(sep);
    const [k, v] = [opt.slice(0, at), opt.slice(at + 1)];
    switch (k) {
      case 'label':
        if (v !== 'disable') throw invalid(unsupported('HostConfig.SecurityOpt', opt));
        break;
      case 'apparmor':
      case 'seccomp':
        if (v !== 'unconfined') throw invalid(unsupported('HostConfig.SecurityOpt', opt));
        break;
      case 'no-new-privileges':
        if (!['1', 't', 'T', 'true', 'TRUE', 'True', '0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) throw invalid(`invalid --security-opt 2: "${opt}"`);
        out.noNewPrivileges = ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v);
        break;
      default:
        throw invalid(`invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

/** runc's checks: a sysctl must belong to a namespace the container has of its own. */
function checkSysctl(name: string, mode: NetworkMode, options: RunOptions): void {
  const ipc = IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.');
  if (ipc) {
    if (options.ipc === 'host') throw invalid(`sysctl "${name}" not allowed in host IPC namespace`);
    return;
  }
  if (name.startsWith('net.')) {
    if (mode.kind === 'host') throw invalid(`sysctl "${name}" not allowed in host network namespace`);
    return;
  }
  if (name === 'kernel.hostname') throw invalid(`sysctl "${name}" is not allowed as it conflicts with the OCI "hostname" field`);
  if (name === 'kernel.domainname') return;
  throw invalid(`sysctl "${name}" is not in a separate kernel namespace`);
}
