/**
 * Every field of Docker's container Config and HostConfig (API 1.44, moby v25's Go
 * types), with its JSON shape and what berth does with it:
 *
 * - `implemented`: berth acts on it (some values may still be refused by the create
 *   parser, as the field's note says);
 * - `client`: nothing for a daemon to do (dockerd does nothing with it either on Linux,
 *   or it is for the client or the image builder); accepted;
 * - `refused`: berth does not implement it; any value but the zero one is refused.
 *
 * The zero value (0, "", false, null, [], {}) always means "not set": clients send every
 * field (the docker CLI a full HostConfig), most of them zero.
 */
import { invalid } from '../errors.js';
import { field, type WireObject } from './wire.js';

/** The JSON shape of a Go field, and so its zero value and how it is checked. */
export type FieldKind =
  | 'string'
  | 'int'
  | 'uint'
  | 'bool'
  /** []string */
  | 'strings'
  /** strslice.StrSlice: a list of strings, or one string */
  | 'strslice'
  /** a slice of structs */
  | 'objects'
  | 'stringmap'
  /** map[string]<struct> (PortBindings, ExposedPorts, Volumes) */
  | 'objectmap'
  /** *int64, *bool, *struct: null when unset */
  | 'ptr-int'
  | 'ptr-bool'
  | 'ptr-object'
  /** [2]uint */
  | 'console-size'
  | 'log-config'
  | 'restart-policy';

export type Support = 'implemented' | 'client' | 'refused';

export interface FieldSpec {
  kind: FieldKind;
  support: Support;
  /** Go's `omitempty`: left out of dockerd's JSON when zero. */
  omitempty?: boolean;
  /** What of it berth does not do (refused with an error naming the value). */
  note?: string;
}

const impl = (kind: FieldKind, more: Partial<FieldSpec> = {}): FieldSpec => ({ kind, support: 'implemented', ...more });
const client = (kind: FieldKind, more: Partial<FieldSpec> = {}): FieldSpec => ({ kind, support: 'client', ...more });
const refused = (kind: FieldKind, more: Partial<FieldSpec> = {}): FieldSpec => ({ kind, support: 'refused', ...more });

/** HostConfig, in dockerd's order. */
export const HOST_CONFIG_FIELDS: Readonly<Record<string, FieldSpec>> = {
  Binds: impl('strings'),
  ContainerIDFile: client('string'),
  LogConfig: impl('log-config', { note: 'drivers json-file, local, none, journald, syslog, gelf, fluentd and their options' }),
  NetworkMode: impl('string'),
  PortBindings: impl('objectmap'),
  RestartPolicy: impl('restart-policy'),
  AutoRemove: impl('bool'),
  VolumeDriver: impl('string', { note: 'only "local"' }),
  VolumesFrom: impl('strings'),
  ConsoleSize: impl('console-size'),
  Annotations: impl('stringmap', { omitempty: true }),
  CapAdd: impl('strslice'),
  CapDrop: impl('strslice'),
  CgroupnsMode: impl('string'),
  Dns: impl('strings'),
  DnsOptions: impl('strings'),
  DnsSearch: impl('strings'),
  ExtraHosts: impl('strings'),
  GroupAdd: impl('strings'),
  IpcMode: impl('string', { note: 'container:<name> refused' }),
  Cgroup: refused('string'),
  Links: impl('strings'),
  OomScoreAdj: impl('int'),
  PidMode: impl('string', { note: 'container:<name> refused' }),
  Privileged: impl('bool'),
  PublishAllPorts: impl('bool'),
  ReadonlyRootfs: impl('bool'),
  SecurityOpt: impl('strings', { note: 'no-new-privileges, and the unconfined or disabled profiles berth runs with; other profiles refused' }),
  StorageOpt: refused('stringmap', { omitempty: true }),
  Tmpfs: impl('stringmap', { omitempty: true }),
  UTSMode: refused('string'),
  UsernsMode: impl('string', { note: 'only "host": berth makes no user namespaces' }),
  ShmSize: impl('int'),
  Sysctls: impl('stringmap', { omitempty: true }),
  Runtime: impl('string', { omitempty: true, note: 'only "runc"' }),
  Isolation: impl('string', { note: 'only "default"' }),
  CpuShares: impl('int'),
  Memory: impl('int'),
  NanoCpus: impl('int'),
  CgroupParent: refused('string'),
  BlkioWeight: refused('uint'),
  BlkioWeightDevice: refused('objects'),
  BlkioDeviceReadBps: impl('objects'),
  BlkioDeviceWriteBps: impl('objects'),
  BlkioDeviceReadIOps: impl('objects'),
  BlkioDeviceWriteIOps: impl('objects'),
  CpuPeriod: impl('int'),
  CpuQuota: impl('int'),
  CpuRealtimePeriod: refused('int'),
  CpuRealtimeRuntime: refused('int'),
  CpusetCpus: impl('string'),
  CpusetMems: impl('string'),
  Devices: impl('objects'),
  DeviceCgroupRules: impl('strings'),
  DeviceRequests: refused('objects'),
  // Removed in API 1.42: dockerd zeroes it, so it is never refused.
  KernelMemory: client('int', { omitempty: true }),
  KernelMemoryTCP: impl('int', { omitempty: true }),
  MemoryReservation: impl('int'),
  MemorySwap: impl('int'),
  MemorySwappiness: impl('ptr-int'),
  OomKillDisable: impl('ptr-bool'),
  PidsLimit: impl('ptr-int'),
  Ulimits: impl('objects'),
  CpuCount: refused('int'),
  // dockerd on Linux discards it with a warning, and refuses the two IO limits.
  CpuPercent: impl('int', { note: 'discarded with dockerd\'s warning' }),
  IOMaximumIOps: impl('uint', { note: 'refused with dockerd\'s error' }),
  IOMaximumBandwidth: impl('uint', { note: 'refused with dockerd\'s error' }),
  Mounts: impl('objects', { omitempty: true, note: 'types bind and volume' }),
  MaskedPaths: impl('strings'),
  ReadonlyPaths: impl('strings'),
  Init: impl('ptr-bool', { omitempty: true }),
};

/** Config (the create body's top level, without HostConfig and NetworkingConfig), in dockerd's order. */
export const CONFIG_FIELDS: Readonly<Record<string, FieldSpec>> = {
  Hostname: impl('string'),
  Domainname: impl('string'),
  User: impl('string'),
  AttachStdin: client('bool'),
  AttachStdout: client('bool'),
  AttachStderr: client('bool'),
  ExposedPorts: impl('objectmap', { omitempty: true }),
  Tty: impl('bool'),
  OpenStdin: impl('bool'),
  StdinOnce: impl('bool'),
  Env: impl('strings'),
  Cmd: impl('strslice'),
  Healthcheck: impl('ptr-object', { omitempty: true }),
  // Windows only.
  ArgsEscaped: client('bool', { omitempty: true }),
  Image: impl('string'),
  Volumes: impl('objectmap'),
  WorkingDir: impl('string'),
  Entrypoint: impl('strslice'),
  NetworkDisabled: refused('bool', { omitempty: true }),
  MacAddress: impl('string', { omitempty: true, note: 'deprecated: moved to the main network\'s endpoint' }),
  // Image build metadata: no effect on a container.
  OnBuild: client('strings'),
  Labels: impl('stringmap'),
  StopSignal: impl('string', { omitempty: true }),
  StopTimeout: impl('ptr-int', { omitempty: true }),
  Shell: client('strslice', { omitempty: true }),
};

/** Config.Healthcheck's HealthConfig (durations in nanoseconds), in dockerd's order. */
export const HEALTH_CONFIG_FIELDS: Readonly<Record<string, FieldSpec>> = {
  Test: impl('strings', { omitempty: true }),
  Interval: impl('int', { omitempty: true }),
  Timeout: impl('int', { omitempty: true }),
  StartPeriod: impl('int', { omitempty: true }),
  StartInterval: impl('int', { omitempty: true }),
  Retries: impl('int', { omitempty: true }),
};

/** Go's zero value of a kind, as dockerd's JSON shows an unset field. */
export function zeroOf(kind: FieldKind): unknown {
  switch (kind) {
    case 'string':
      return '';
    case 'int':
    case 'uint':
      return 0;
    case 'bool':
      return false;
    case 'console-size':
      return [0, 0];
    case 'log-config':
      return { Type: '', Config: null };
    case 'restart-policy':
      return { Name: '', MaximumRetryCount: 0 };
    default:
      return null;
  }
}

/** Zero, empty or null: "not set", whatever the kind. */
export function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0 || v.every((x) => x === 0);
  if (typeof v === 'object') return Object.values(v).every(isZero);
  return false;
}

const GO_TYPE: Record<FieldKind, string> = {
  string: 'string',
  int: 'int64',
  uint: 'uint64',
  bool: 'bool',
  strings: '[]string',
  strslice: 'strslice.StrSlice',
  objects: 'array',
  stringmap: 'map[string]string',
  objectmap: 'map',
  'ptr-int': 'int64',
  'ptr-bool': 'bool',
  'ptr-object': 'object',
  'console-size': '[2]uint',
  'log-config': 'container.LogConfig',
  'restart-policy': 'container.RestartPolicy',
};

/**
 * A struct as dockerd's Go decoder reads it and its encoder writes it back: every field
 * under its own name (keys matched case-insensitively), unknown ones dropped, absent
 * ones zero, omitempty ones left out when zero. `strict` checks each value's type, with
 * Go's wording, for a request; without it a bad value is taken as zero (a stored record).
 */
export function decodeStruct(o: WireObject, fields: Readonly<Record<string, FieldSpec>>, struct: string, strict: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    const raw = field(o, name);
    let v: unknown;
    try {
      v = decodeValue(raw, spec.kind, `${struct}.${name}`);
    } catch (e: unknown) {
      if (strict) throw e;
      v = zeroOf(spec.kind);
    }
    if (spec.omitempty && isEmptyForOmit(v)) continue;
    out[name] = v;
  }
  return out;
}

function decodeValue(v: unknown, kind: FieldKind, path: string): unknown {
  const bad = (): never => {
    throw invalid(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${path} of type ${GO_TYPE[kind]}`);
  };
  if (v === undefined) return zeroOf(kind);
  // Go leaves a field as it is on null: zero for a value, nil for a pointer, slice or map.
  if (v === null) return zeroOf(kind);
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? v : bad();
    case 'int':
    case 'ptr-int':
      return typeof v === 'number' && Number.isInteger(v) ? v : bad();
    case 'uint':
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : bad();
    case 'bool':
    case 'ptr-bool':
      return typeof v === 'boolean' ? v : bad();
    case 'strings':
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : bad();
    case 'strslice':
      if (typeof v === 'string') return [v];
      return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : bad();
    case 'objects':
      return Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x)) ? v : bad();
    case 'stringmap':
      return isObject(v) && Object.values(v).every((x) => typeof x === 'string') ? v : bad();
    case 'objectmap':
    case 'ptr-object':
      return isObject(v) ? v : bad();
    case 'console-size':
      return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0) ? v : bad();
    case 'log-config': {
      if (!isObject(v)) return bad();
      return { Type: decodeValue(field(v, 'Type'), 'string', `${path}.Type`), Config: decodeValue(field(v, 'Config'), 'stringmap', `${path}.Config`) };
    }
    case 'restart-policy': {
      if (!isObject(v)) return bad();
      return { Name: decodeValue(field(v, 'Name'), 'string', `${path}.Name`), MaximumRetryCount: decodeValue(field(v, 'MaximumRetryCount'), 'int', `${path}.MaximumRetryCount`) };
    }
  }
}

/** Go's omitempty: false, 0, "", nil, and empty slices and maps. */
function isEmptyForOmit(v: unknown): boolean {
  if (v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return isObject(v) && Object.keys(v).length === 0;
}

function isObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

/**
 * The refused fields a request sets (their zero value aside): one message per field,
 * `berth does not support HostConfig.CpuCount 2`.
 */
export function refusedFields(decoded: Record<string, unknown>, fields: Readonly<Record<string, FieldSpec>>, struct: string): string[] {
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.support !== 'refused' || isZero(decoded[name])) continue;
    problems.push(unsupported(`${struct}.${name}`, decoded[name]));
  }
  return problems;
}

/** berth's words for a setting it does not implement, naming the value (cut short). */
export function unsupported(what: string, value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return `berth does not support ${what} ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}
