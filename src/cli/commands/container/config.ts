/**
 * docker's `parse()` for `create`/`run`: ContainerOptions into the body of
 * `POST /containers/create` (Config at the top level, plus HostConfig and
 * NetworkingConfig), with the JSON keys and null/empty choices docker's client makes.
 * Pure apart from the injected environment (env lookups, env/label files, cwd).
 * Errors are CliErrors with docker's messages; callers add "Run '… --help'".
 */
import { CliError } from '../../errors.js';
import { readKvFiles, withEnvValue } from '../../kvfile.js';
import type { ContainerOptions } from './flags.js';
import { parseMount, splitVolumes, type ApiMount } from './mounts.js';
import { endpointsConfig, isMacAddress, networkMode, networkName, parseNetworkFlag, type EndpointSettings } from './networks.js';
import { parsePublish } from './ports.js';
import type { PortBinding } from './wire.js';

/** What parsing may read besides the flags. */
export interface ParseEnvironment {
  /** The user's environment, for `-e NAME` and bare names in `--env-file`. */
  lookupEnv(name: string): string | undefined;
  /** Reads `--env-file`/`--label-file`; throws with the OS error. */
  readFile(path: string): string;
  readonly cwd: string;
  /** [height, width] of the terminal, [0, 0] without one. */
  readonly consoleSize: readonly [number, number];
}

export interface HostConfigBody {
  Binds: string[] | null;
  ContainerIDFile: string;
  LogConfig: { Type: string; Config: Record<string, string> };
  NetworkMode: string;
  PortBindings: Record<string, PortBinding[]>;
  RestartPolicy: { Name: string; MaximumRetryCount: number };
  AutoRemove: boolean;
  VolumeDriver: string;
  VolumesFrom: string[] | null;
  ConsoleSize: [number, number];
  CapAdd: string[] | null;
  CapDrop: string[] | null;
  CgroupnsMode: string;
  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[] | null;
  GroupAdd: string[] | null;
  IpcMode: string;
  Cgroup: string;
  Links: string[] | null;
  OomScoreAdj: number;
  PidMode: string;
  Privileged: boolean;
  PublishAllPorts: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[] | null;
  Tmpfs?: Record<string, string>;
  UTSMode: string;
  UsernsMode: string;
  ShmSize: number;
  Sysctls?: Record<string, string>;
  Runtime?: string;
  Isolation: string;
  CpuShares: number;
  Memory: number;
  NanoCpus: number;
  CgroupParent: string;
  BlkioWeight: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  Devices: unknown[];
  DeviceCgroupRules: string[] | null;
  DeviceRequests: unknown[] | null;
  MemoryReservation: number;
  MemorySwap: number;
  MemorySwappiness: number;
  OomKillDisable: boolean;
  PidsLimit: number;
  Ulimits: unknown[] | null;
  Mounts?: ApiMount[];
  MaskedPaths: string[] | null;
  ReadonlyPaths: string[] | null;
  Init?: boolean;
}

/** The create request body (container.Config flattened, plus HostConfig and NetworkingConfig). */
export interface CreateBody {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, Record<string, never>>;
  WorkingDir: string;
  Entrypoint: string[] | null;
  MacAddress?: string;
  OnBuild: null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  HostConfig: HostConfigBody;
  NetworkingConfig: { EndpointsConfig: Record<string, EndpointSettings> };
}

const orNull = <T>(list: readonly T[]): T[] | null => (list.length > 0 ? [...list] : null);

export function buildCreateBody(o: ContainerOptions, env: ParseEnvironment): CreateBody {
  if (o.macAddress !== '' && !isMacAddress(o.macAddress.trim())) throw new CliError(`${o.macAddress} is not a valid mac address`);
  const attach = new Set(o.attach);
  const attachStdin = attach.has('stdin') || o.interactive;
  const attachStdout = o.attach.length === 0 || attach.has('stdout');
  const attachStderr = o.attach.length === 0 || attach.has('stderr');

  const { binds, volumes } = splitVolumes(o.volumes, env.cwd);
  const ports = parsePublish(o.publish, o.expose);
  const envVars = [...readKvFiles(o.envFiles, env), ...o.env.map((e) => withEnvValue(e, (name) => env.lookupEnv(name)))];
  const labels = [...readKvFiles(o.labelFiles, { readFile: (path) => env.readFile(path) }), ...o.labels];
  checkNamespaceModes(o);
  const restart = parseRestartPolicy(o.restart);
  if (o.logDriver === 'none' && o.logOpts.length > 0) throw new CliError(`invalid logging opts for driver ${o.logDriver}`);
  const security = parseSecurityOpts(o.securityOpt, env);
  if (o.autoRemove && restart.Name !== '' && restart.Name !== 'no') {
    throw new CliError('conflicting options: cannot specify both --restart and --rm');
  }
  const attachments = o.networks.map((n) => {
    try {
      return parseNetworkFlag(n);
    } catch (e: unknown) {
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
  });
  const mode = networkMode(attachments);
  const endpoints = endpointsConfig(attachments, {
    aliases: o.aliases,
    links: o.links,
    ipv4: o.ip,
    ipv6: o.ip6,
    macAddress: o.macAddress,
    linkLocalIps: o.linkLocalIps,
  });
  const mainMac = endpoints[networkName(mode)]?.MacAddress ?? '';
  const mounts = o.mounts.map((m) => parseMount(m, env.cwd));
  const tmpfs = Object.fromEntries(o.tmpfs.map((t) => splitOnce(t, ':')));
  const sysctls = Object.fromEntries(o.sysctls.map((s) => splitOnce(s, '=')));

  return {
    Hostname: o.hostname,
    Domainname: o.domainname,
    User: o.user,
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(Object.keys(ports.exposed).length > 0 ? { ExposedPorts: ports.exposed } : {}),
    Tty: o.tty,
    OpenStdin: o.interactive,
    // With stdin attached, the container's stdin closes when the client disconnects.
    StdinOnce: o.interactive && attachStdin,
    Env: orNull(envVars),
    Cmd: orNull(o.args),
    Image: o.image,
    Volumes: volumes,
    WorkingDir: o.workdir,
    Entrypoint: o.entrypoint === undefined ? null : [o.entrypoint],
    ...(mainMac !== '' ? { MacAddress: mainMac } : {}),
    OnBuild: null,
    Labels: kvMap(labels),
    ...(o.stopSignal !== '' ? { StopSignal: o.stopSignal } : {}),
    ...(o.stopTimeout !== undefined ? { StopTimeout: o.stopTimeout } : {}),
    HostConfig: {
      Binds: orNull(binds),
      ContainerIDFile: '',
      LogConfig: { Type: o.logDriver, Config: kvMap(o.logOpts) },
      NetworkMode: mode,
      PortBindings: ports.bindings,
      RestartPolicy: restart,
      AutoRemove: o.autoRemove,
      VolumeDriver: o.volumeDriver,
      VolumesFrom: orNull(o.volumesFrom),
      ConsoleSize: [env.consoleSize[0], env.consoleSize[1]],
      CapAdd: orNull(o.capAdd),
      CapDrop: orNull(o.capDrop),
      CgroupnsMode: o.cgroupns,
      Dns: [...o.dns],
      DnsOptions: [...o.dnsOptions],
      DnsSearch: [...o.dnsSearch],
      ExtraHosts: orNull(o.extraHosts),
      GroupAdd: orNull(o.groupAdd),
      IpcMode: o.ipc,
      Cgroup: '',
      Links: orNull(o.links),
      OomScoreAdj: 0,
      PidMode: o.pid,
      Privileged: o.privileged,
      PublishAllPorts: o.publishAll,
      ReadonlyRootfs: o.readOnly,
      SecurityOpt: orNull(security.options),
      ...(o.tmpfs.length > 0 ? { Tmpfs: tmpfs } : {}),
      UTSMode: o.uts,
      UsernsMode: o.userns,
      ShmSize: 0,
      ...(o.sysctls.length > 0 ? { Sysctls: sysctls } : {}),
      ...(o.runtime !== '' ? { Runtime: o.runtime } : {}),
      Isolation: '',
      CpuShares: 0,
      Memory: 0,
      NanoCpus: 0,
      CgroupParent: '',
      BlkioWeight: 0,
      CpuPeriod: 0,
      CpuQuota: 0,
      CpusetCpus: '',
      CpusetMems: '',
      Devices: [],
      DeviceCgroupRules: null,
      DeviceRequests: null,
      MemoryReservation: 0,
      MemorySwap: 0,
      MemorySwappiness: -1,
      OomKillDisable: false,
      PidsLimit: 0,
      Ulimits: null,
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      MaskedPaths: security.unconfinedPaths ? [] : null,
      ReadonlyPaths: security.unconfinedPaths ? [] : null,
      ...(o.init !== undefined ? { Init: o.init } : {}),
    },
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

/** ConvertKVStringsToMap: later keys win, a bare key maps to "". */
function kvMap(pairs: readonly string[]): Record<string, string> {
  return Object.fromEntries(pairs.map((p) => splitOnce(p, '=')));
}

/** opts.ParseRestartPolicy: "", "no", "always", "unless-stopped", "on-failure[:N]". */
export function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const [name, count] = splitOnce(policy, ':');
  if (policy.includes(':') && name === '') throw new CliError('invalid restart policy format: no policy provided before colon');
  let max = 0;
  if (count !== '') {
    if (!/^[+-]?\d+$/.test(count)) throw new CliError('invalid restart policy format: maximum retry count must be an integer');
    max = Number(count);
  }
  return { Name: name, MaximumRetryCount: max };
}

function checkNamespaceModes(o: ContainerOptions): void {
  const isContainerRef = (m: string): boolean => m.startsWith('container:') && m.length > 'container:'.length;
  if (!(o.pid === '' || o.pid === 'host' || isContainerRef(o.pid))) throw new CliError('--pid: invalid PID mode');
  if (!(o.uts === '' || o.uts === 'host')) throw new CliError('--uts: invalid UTS mode');
  if (!(o.userns === '' || o.userns === 'host')) throw new CliError('--userns: invalid USER mode');
  if (!['', 'host', 'private'].includes(o.cgroupns)) throw new CliError('--cgroupns: invalid CGROUP mode');
}

/**
 * parseSecurityOpts and parseSystemPaths: options need a value (except
 * no-new-privileges); a seccomp profile file is sent as its compacted JSON;
 * `systempaths=unconfined` is handled here and not sent.
 */
function parseSecurityOpts(opts: readonly string[], env: ParseEnvironment): { options: string[]; unconfinedPaths: boolean } {
  const options: string[] = [];
  let unconfinedPaths = false;
  for (const opt of opts) {
    let [key, value] = splitOnce(opt, '=');
    let hasValue = opt.includes('=');
    if (!hasValue && key !== 'no-new-privileges') {
      [key, value] = splitOnce(opt, ':');
      hasValue = opt.includes(':');
    }
    if ((!hasValue || value === '') && key !== 'no-new-privileges') throw new CliError(`Invalid --security-opt: ${JSON.stringify(opt)}`);
    if (opt === 'systempaths=unconfined') {
      unconfinedPaths = true;
      continue;
    }
    if (key === 'seccomp' && value !== 'builtin' && value !== 'unconfined') {
      let profile: string;
      try {
        profile = JSON.stringify(JSON.parse(env.readFile(value)));
      } catch (e: unknown) {
        throw new CliError(`opening seccomp profile (${value}) failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      options.push(`seccomp=${profile}`);
      continue;
    }
    options.push(opt);
  }
  return { options, unconfinedPaths };
}
