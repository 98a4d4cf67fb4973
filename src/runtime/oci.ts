/**
 * The OCI runtime spec (config.json) of a container and the process.json of an exec,
 * built by pure functions from a RunSpec. Defaults follow Docker's (moby oci/defaults.go):
 * mounts, masked and read-only paths, capabilities, device rules.
 */
import { effectiveCaps, ALL_CAPS } from './caps.js';
import type { ExecSpec, MountSpec, ProcessUser, RunSpec, TmpfsSpec } from './types.js';

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

export interface OciConfig {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: OciNamespace[];
    cgroupsPath: string;
    sysctl: Record<string, string>;
    resources: { devices: { allow: boolean; access: string; type?: string; major?: number; minor?: number }[] };
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

export function ociConfig(spec: RunSpec, host: HostFacts): OciConfig {
  const caps = effectiveCaps(spec);
  const nofile = Math.min(NOFILE_WANTED, host.nofileHard);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: spec.process.tty,
      user: ociUser(spec.process.user),
      args: spec.process.args,
      env: spec.process.env,
      cwd: spec.process.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: nofile, soft: nofile }],
      noNewPrivileges: false,
      oomScoreAdj: 0,
    },
    root: { path: spec.rootfs.merged, readonly: spec.rootfs.readonly ?? false },
    hostname: spec.hostname,
    ...(spec.domainname ? { domainname: spec.domainname } : {}),
    mounts: [...defaultMounts(spec.privileged), ...byDepth([...spec.mounts.map(bindMount), ...(spec.tmpfs ?? []).map(tmpfsMount)])],
    linux: {
      namespaces: namespaces(spec),
      cgroupsPath: `/${host.cgroupParent}/${spec.id}`,
      sysctl: sysctls(spec),
      resources: {
        devices: [{ allow: spec.privileged, access: 'rwm' }],
      },
      maskedPaths: spec.privileged ? [] : [...MASKED_PATHS],
      readonlyPaths: spec.privileged ? [] : [...READONLY_PATHS],
    },
  };
}

/**
 * The process.json for `runc exec`: the container's own process settings (capabilities,
 * rlimits) with the exec's command, environment, directory, user and terminal.
 */
export function execProcess(container: OciProcess, exec: ExecSpec): OciProcess {
  const caps = exec.privileged ? [...ALL_CAPS] : container.capabilities.bounding;
  return {
    ...container,
    terminal: exec.tty,
    user: exec.user ? ociUser(exec.user) : container.user,
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
  const ns: OciNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (spec.network.kind === 'netns') ns.push({ type: 'network', path: spec.network.path });
  if (spec.network.kind === 'new') ns.push({ type: 'network' });
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
  return { ...own, ...(spec.sysctls ?? {}) };
}

function defaultMounts(privileged: boolean): OciMount[] {
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
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
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
