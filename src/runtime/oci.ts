/**
 * The OCI runtime spec (config.json) of a container and the process.json of an exec,
 * built by pure functions from a RunSpec. Defaults follow Docker's (moby oci/defaults.go):
 * mounts, masked and read-only paths, capabilities, device rules.
 */
import { effectiveCaps } from './caps.js';
import type { HostLookups, OciDevice, OciDeviceRate } from './host-lookups.js';
import type { ExecSpec, MountSpec, ProcessUser, ResourceLimits, RunSpec, TmpfsSpec } from './types.js';

export interface OciMount {
  destination: string;
  type?: string;
  source: string;
  options: string[];
}

export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
  rlimits: { type: string; hard: number; soft: number }[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
  consoleSize?: { height: number; width: number };
}

export interface OciNamespace {
  type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup' | 'user';
  path?: string;
}

export interface OciDeviceRule {
  allow: boolean;
  access: string;
  type?: string;
  major?: number;
  minor?: number;
}

export interface OciResources {
  devices: OciDeviceRule[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernelTCP?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    throttleReadBpsDevice?: OciDeviceRate[];
    throttleWriteBpsDevice?: OciDeviceRate[];
    throttleReadIOPSDevice?: OciDeviceRate[];
    throttleWriteIOPSDevice?: OciDeviceRate[];
  };
}

export interface OciConfig {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: OciNamespace[];
    cgroupsPath: string;
    sysctl: Record<string, string>;
    resources: OciResources;
    devices?: OciDevice[];
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/** What the config needs to know about the host and the daemon. */
export interface HostFacts {
  /** Parent of the container's cgroup (cgroupfs), e.g. "berth". */
  cgroupParent: string;
  /** The daemon's hard RLIMIT_NOFILE; the container gets no more. */
  nofileHard: number;
}

export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi',
  '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];

/** Docker's containers get 1048576 open files, unless the daemon itself may not. */
const NOFILE_WANTED = 1048576;

/** Where --init's binary is mounted, and so PID 1 (Docker's path). */
export const INIT_PATH = '/sbin/docker-init';

const NO_LOOKUPS: HostLookups = { devices: [], additionalGids: [], blkio: { readBps: [], writeBps: [], readIops: [], writeIops: [] } };

export function ociConfig(spec: RunSpec, host: HostFacts, found: HostLookups = NO_LOOKUPS): OciConfig {
  const caps = effectiveCaps(spec);
  const o = spec.options ?? {};
  const user = ociUser(found.user);
  const groups = [...new Set([user.gid, ...(user.additionalGids ?? []), ...found.additionalGids])];
  const init = o.init && found.initPath !== undefined;
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.process.tty,
      user: groups.length > 1 ? { ...user, additionalGids: groups } : user,
      args: init ? [INIT_PATH, '--', ...spec.process.args] : spec.process.args,
      env: spec.process.env,
      cwd: spec.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: rlimits(o.ulimits ?? [], host.nofileHard),
      noNewPrivileges: o.noNewPrivileges ?? false,
      oomScoreAdj: o.oomScoreAdj ?? 0,
      ...(spec.process.tty && o.consoleSize ? { consoleSize: { height: o.consoleSize.rows, width: o.consoleSize.cols } } : {}),
    },
    root: { path: spec.rootfs.merged, readonly: spec.rootfs.readonly ?? false },
    hostname: spec.hostname,
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    mounts: [
      ...defaultMounts(spec),
      ...(init ? [{ destination: INIT_PATH, type: 'bind', source: found.initPath!, options: ['bind', 'ro'] }] : []),
      ...byDepth([...spec.mounts.map(bindMount), ...(spec.tmpfs ?? []).map(tmpfsMount)]),
    ],
    ...(o.annotations && Object.keys(o.annotations).length > 0 ? { annotations: o.annotations } : {}),
    linux: {
      namespaces: namespaces(spec),
      cgroupsPath: `/${host.cgroupParent}/${spec.id}`,
      sysctl: sysctls(spec),
      resources: resources(spec, found),
      ...(found.devices.length > 0 ? { devices: found.devices.map(({ permissions: _, ...d }) => d) } : {}),
      maskedPaths: spec.privileged ? [] : [...(o.maskedPaths ?? MASKED_PATHS)],
      readonlyPaths: spec.privileged ? [] : [...(o.readonlyPaths ?? READONLY_PATHS)],
    },
  };
}

/** Docker's nofile unless the user sets one; the user's other ulimits as they are. */
function rlimits(ulimits: readonly { name: string; soft: number; hard: number }[], nofileHard: number): OciProcess['rlimits'] {
  const nofile = Math.min(NOFILE_WANTED, nofileHard);
  const own = ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, hard: u.hard, soft: u.soft }));
  return own.some((r) => r.type === 'RLIMIT_NOFILE') ? own : [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }, ...own];
}

/** The device cgroup (deny all, then --device and --device-cgroup-rule), and the cgroup limits. */
function resources(spec: RunSpec, found: HostLookups): OciResources {
  const o = spec.options ?? {};
  const devices: OciDeviceRule[] = [{ allow: spec.privileged, access: 'rwm' }];
  for (const d of found.devices) devices.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: d.permissions });
  for (const rule of o.deviceCgroupRules ?? []) devices.push(parseDeviceRule(rule));
  const r: ResourceLimits = o.resources ?? {};
  const memory = compact({
    limit: r.memory,
    reservation: r.memoryReservation,
    swap: r.memorySwap !== undefined && r.memorySwap > 0 ? r.memorySwap : undefined,
    kernelTCP: r.kernelMemoryTcp,
    swappiness: r.memorySwappiness,
    disableOOMKiller: r.oomKillDisable,
  });
  const cpu = compact({ shares: r.cpuShares, quota: r.cpuQuota, period: r.cpuPeriod, cpus: r.cpusetCpus, mems: r.cpusetMems });
  const blockIO = compact({
    weight: r.blkioWeight,
    throttleReadBpsDevice: nonEmpty(found.blkio.readBps),
    throttleWriteBpsDevice: nonEmpty(found.blkio.writeBps),
    throttleReadIOPSDevice: nonEmpty(found.blkio.readIops),
    throttleWriteIOPSDevice: nonEmpty(found.blkio.writeIops),
  });
  return {
    devices,
    ...(memory ? { memory } : {}),
    ...(cpu ? { cpu } : {}),
    ...(r.pidsLimit !== undefined ? { pids: { limit: r.pidsLimit } } : {}),
    ...(blockIO ? { blockIO } : {}),
  };
}

/** "c 7:128 rwm", "a *:* m" (checked at create) as a cgroup rule; * is any. */
export function parseDeviceRule(rule: string): OciDeviceRule {
  const m = DEVICE_RULE.exec(rule);
  if (!m) throw new Error(`invalid device cgroup rule format: '${rule}'`);
  const num = (x: string): number | undefined => (x === '*' ? undefined : Number(x));
  const major = num(m[2]!);
  const minor = num(m[3]!);
  return { allow: true, type: m[1]!, ...(major !== undefined ? { major } : {}), ...(minor !== undefined ? { minor } : {}), access: m[4]! };
}

/** Docker's deviceCgroupRuleRegex. */
export const DEVICE_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

function compact<T extends Record<string, unknown>>(o: T): Partial<T> | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return Object.keys(out).length > 0 ? out : undefined;
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

/**
 * The process.json for `runc exec`: the container's own process settings (capabilities,
 * rlimits) with the exec's command, environment, directory, user (looked up already;
 * absent: the container's) and terminal.
 */
export function execProcess(container: OciProcess, exec: ExecSpec, user?: ProcessUser): OciProcess {
  // --privileged: every capability the daemon may pass on, as for a privileged container.
  const caps = exec.privileged ? effectiveCaps({ privileged: true, capAdd: [], capDrop: [] }) : container.capabilities.bounding;
  return {
    ...container,
    terminal: exec.tty,
    user: user ? ociUser(user) : container.user,
    args: exec.args,
    env: exec.env,
    cwd: exec.cwd,
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    ...(exec.tty && exec.consoleSize ? { consoleSize: { height: exec.consoleSize.rows, width: exec.consoleSize.cols } } : {}),
  };
}

function ociUser(u: ProcessUser | undefined): OciProcess['user'] {
  if (!u) return { uid: 0, gid: 0 };
  return u.additionalGids?.length ? { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids } : { uid: u.uid, gid: u.gid };
}

function namespaces(spec: RunSpec): OciNamespace[] {
  const o = spec.options ?? {};
  const ns: OciNamespace[] = [];
  if (!o.pidHost) ns.push({ type: 'pid' });
  if (o.ipc !== 'host') ns.push({ type: 'ipc' });
  ns.push({ type: 'uts' }, { type: 'mount' });
  if (spec.network.kind === 'netns') ns.push({ type: 'network', path: spec.network.path });
  if (spec.network.kind === 'new') ns.push({ type: 'network' });
  if (o.cgroupnsPrivate) ns.push({ type: 'cgroup' });
  return ns;
}

/**
 * Docker lets unprivileged users ping; net.* sysctls are refused in the host's netns.
 * The domain name is set as Docker does, through its sysctl in the container's own UTS
 * namespace: runc before 1.2 ignores the spec's `domainname`. The user's --sysctl wins.
 */
function sysctls(spec: RunSpec): Record<string, string> {
  const own: Record<string, string> = spec.network.kind !== 'host' ? { 'net.ipv4.ping_group_range': '0 2147483647' } : {};
  if (spec.domainname) own['kernel.domainname'] = spec.domainname;
  return { ...own, ...(spec.options?.sysctls ?? {}) };
}

/** Docker's /dev/shm: 64 MiB unless --shm-size; the host's with --ipc host; none with --ipc none. */
const DEFAULT_SHM_SIZE = 67108864;

function defaultMounts(spec: RunSpec): OciMount[] {
  const privileged = spec.privileged;
  const o = spec.options ?? {};
  const shm: OciMount[] =
    o.ipc === 'none'
      ? []
      : o.ipc === 'host'
        ? [{ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] }]
        : [{ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${o.shmSize ?? DEFAULT_SHM_SIZE}`] }];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'],
    },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    ...shm,
  ];
}

function tmpfsMount(t: TmpfsSpec): OciMount {
  return { destination: t.destination, type: 'tmpfs', source: 'tmpfs', options: t.options };
}

/** Parents before what is mounted inside them; stable, so equal depths keep their order. */
function byDepth(mounts: OciMount[]): OciMount[] {
  const depth = (m: OciMount): number => m.destination.split('/').filter((c) => c !== '').length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}

function bindMount(m: MountSpec): OciMount {
  return {
    destination: m.destination,
    type: 'bind',
    source: m.source,
    options: ['rbind', 'rprivate', m.readonly ? 'ro' : 'rw'],
  };
}
