/** Docker's container create body into berth's typed ContainerSpec (validated at the edge). */
import { posix } from 'node:path';
import { invalid, joinProblems } from '../../errors.js';
import type { ContainerSpec, EndpointConfig, NetworkMode, PortBinding } from '../../engine/containers/model.js';
import { HOST_GATEWAY } from '../../engine/containers/files.js';
import { DEFAULT_LOG_CONFIG, settleLogConfig, type LogConfig } from '../../logs/config.js';
import { tryParseIp } from '../../network/ipam/index.js';
import type { Json } from '../../store/kv.js';
import { checkHealthConfig, healthJson, type HealthConfig } from '../../engine/containers/health-config.js';
import { CONFIG_FIELDS, decodeStruct, HEALTH_CONFIG_FIELDS, HOST_CONFIG_FIELDS, refusedFields, unsupported } from '../docker-fields.js';
import { API_VERSION, compareVersions } from '../router.js';
import { effectiveHostConfig } from '../shapes/host-config.js';
import { asObject, commandList, field, objectField, optBool, optNumber, optString, stringList, stringMap, type WireObject } from '../wire.js';
import { adjustForVersion, checkEndpointCount, migrateMacAddress } from './create-legacy.js';
import { parseAllMounts } from './create-mounts.js';
import { parseRunOptions } from './create-options.js';

/** The daemon's defaults applied to a create's LogConfig, and the result checked (logs/config.ts). */
export type LogSettler = (requested: { type: string; config: Record<string, string> | null }) => LogConfig;

export type CreateRequest = Omit<ContainerSpec, 'name' | 'image'> & { name: string | undefined; imageRef: string };

const PREDEFINED = new Set(['bridge', 'host', 'none', 'default']);
const SIGNALS = /^(SIG)?[A-Z0-9]+$|^\d+$/;

export interface ParsedCreate {
  req: CreateRequest;
  docker: { config: Json; hostConfig: Json };
  /** The create response's Warnings (the CLI prints each as WARNING). */
  warnings: string[];
}

/**
 * A create request as dockerd reads it for API `version`: every field decoded (and its
 * type checked) as Go decodes it, refused when berth does not implement it.
 */
export function parseContainerCreate(body: unknown, name: string | null, version = API_VERSION, settleLog: LogSettler = (r) => settleLogConfig(r, DEFAULT_LOG_CONFIG)): ParsedCreate {
  const o = asObject(body, 'container create');
  const hc = objectField(o, 'HostConfig');
  const image = optString(o, 'Image') ?? '';
  if (image === '') throw invalid('config cannot be empty in order to create a container');
  const decodedConfig = decodeStruct(o, CONFIG_FIELDS, 'Config', true);
  const decodedHost = decodeStruct(hc, HOST_CONFIG_FIELDS, 'HostConfig', true);
  adjustForVersion(version, decodedHost);
  const refused = [...refusedFields(decodedConfig, CONFIG_FIELDS, 'Config'), ...refusedFields(decodedHost, HOST_CONFIG_FIELDS, 'HostConfig')];
  if (refused.length > 0) throw invalid(joinProblems(refused));
  const healthcheck = parseHealthcheck(decodedConfig.Healthcheck, version);
  // As dockerd echoes it: the fields it read, the zero ones left out (docker-py sends nulls).
  if (healthcheck) decodedConfig.Healthcheck = healthJson(healthcheck);
  const networkMode = parseNetworkMode(optString(hc, 'NetworkMode') ?? '');
  const endpointsRaw = objectField(objectField(o, 'NetworkingConfig'), 'EndpointsConfig');
  checkEndpointCount(version, Object.keys(endpointsRaw));
  const networks = endpointsFor(networkMode, endpointsRaw);
  const macWarnings = migrateMacAddress(version, (decodedConfig.MacAddress as string | undefined) ?? '', networkMode, networks);
  const links = stringList(hc, 'Links');
  const portBindings = parsePortBindings(objectField(hc, 'PortBindings'));
  const mode = networkMode.kind;
  if (mode === 'host' && links.length > 0) {
    throw invalid("conflicting options: host type networking can't be used with links. This would result in undefined behavior");
  }
  if (mode === 'container') {
    if (optString(o, 'Hostname')) throw invalid('conflicting options: hostname and the network mode');
    if (stringList(hc, 'Dns').length > 0) throw invalid('conflicting options: dns and the network mode');
    if (stringList(hc, 'ExtraHosts').length > 0) throw invalid('conflicting options: custom host-to-IP mapping and the network mode');
    if (portBindings.length > 0 || optBool(hc, 'PublishAllPorts')) throw invalid('conflicting options: port publishing and the container type network mode');
    if (Object.keys(objectField(o, 'ExposedPorts')).length > 0) throw invalid('conflicting options: port exposing and the container type network mode');
    if (links.length > 0) throw invalid("conflicting options: container type network can't be used with links. This would result in undefined behavior");
  }
  const { options, warnings: optionWarnings } = parseRunOptions(decodedHost, networkMode);
  const restart = objectField(hc, 'RestartPolicy');
  const restartName = optString(restart, 'Name') || 'no';
  if (!['no', 'always', 'on-failure', 'unless-stopped'].includes(restartName)) throw invalid(`invalid restart policy '${restartName}'`);
  const autoRemove = optBool(hc, 'AutoRemove') ?? false;
  if (autoRemove && restartName !== 'no') throw invalid("can't create 'AutoRemove' container with restart policy");
  const requestedLog = decodedHost.LogConfig as { Type: string; Config: Record<string, string> | null };
  const logConfig = settleLog({ type: requestedLog.Type, config: requestedLog.Config });
  // Empty: the image's STOPSIGNAL or SIGTERM, chosen at create.
  const stopSignal = optString(o, 'StopSignal') ?? '';
  if (stopSignal !== '' && !SIGNALS.test(stopSignal)) throw invalid(`Invalid signal: ${stopSignal}`);
  const workingDir = optString(o, 'WorkingDir') ?? '';
  if (workingDir !== '' && !workingDir.startsWith('/')) {
    throw invalid(`the working directory '${workingDir.slice(0, 64)}' is invalid, it needs to be an absolute path`);
  }
  for (const e of stringList(o, 'Env')) {
    const eq = e.indexOf('=');
    if (eq === 0 || e.length > 128 * 1024 || (eq < 0 && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(e))) {
      throw invalid(`invalid environment variable: ${e.slice(0, 64)}`);
    }
  }
  const hostname = optString(o, 'Hostname') ?? '';
  if (hostname.length > 63 || /[^a-zA-Z0-9.-]/.test(hostname)) throw invalid(`invalid hostname format: ${hostname.slice(0, 64)}`);
  for (const h of stringList(hc, 'ExtraHosts')) checkExtraHost(h);
  const { mounts, tmpfs } = parseAllMounts(hc, version);
  const req: CreateRequest = {
    name: name ?? undefined,
    imageRef: image,
    hostname,
    domainname: optString(o, 'Domainname') ?? '',
    process: {
      entrypoint: commandList(o, 'Entrypoint'),
      cmd: commandList(o, 'Cmd'),
      env: stringList(o, 'Env'),
      workingDir: optString(o, 'WorkingDir') ?? '',
      user: optString(o, 'User') ?? '',
      tty: optBool(o, 'Tty') ?? false,
      openStdin: optBool(o, 'OpenStdin') ?? false,
      stdinOnce: optBool(o, 'StdinOnce') ?? false,
    },
    labels: stringMap(o, 'Labels'),
    networkMode,
    networks,
    dns: stringList(hc, 'Dns'),
    dnsSearch: stringList(hc, 'DnsSearch'),
    dnsOptions: stringList(hc, 'DnsOptions'),
    extraHosts: stringList(hc, 'ExtraHosts'),
    links: mode === 'network' ? [] : links,
    mounts,
    tmpfs,
    readonlyRootfs: optBool(hc, 'ReadonlyRootfs') ?? false,
    volumesFrom: stringList(hc, 'VolumesFrom'),
    volumes: Object.keys(objectField(o, 'Volumes')).map((p) => posix.resolve('/', p)),
    exposedPorts: Object.keys(objectField(o, 'ExposedPorts')).map(checkPortKey),
    portBindings,
    publishAllPorts: optBool(hc, 'PublishAllPorts') ?? false,
    autoRemove,
    privileged: optBool(hc, 'Privileged') ?? false,
    capAdd: stringList(hc, 'CapAdd'),
    capDrop: stringList(hc, 'CapDrop'),
    stopSignal,
    stopTimeout: optNumber(o, 'StopTimeout') ?? 10,
    restartPolicy: { name: restartName as ContainerSpec['restartPolicy']['name'], maximumRetryCount: optNumber(restart, 'MaximumRetryCount') ?? 0 },
    logDriver: logConfig.type,
    logOptions: logConfig.config,
    ...(Object.keys(options).length > 0 ? { options } : {}),
    ...(healthcheck ? { healthcheck } : {}),
  };
  // Links on a user network are network-scoped aliases for DNS; keep them on the endpoint.
  if (mode === 'network') {
    const first = Object.values(networks)[0];
    // The docker CLI sends them in both places: once each.
    if (first) first.links = [...new Set([...first.links, ...links])];
  }
  const hostConfig = effectiveHostConfig({ ...decodedHost, NetworkMode: modeText(networkMode), LogConfig: { Type: logConfig.type, Config: logConfig.config } });
  const warnings = [...createWarnings(networkMode, hc), ...optionWarnings, ...macWarnings];
  return { req, docker: { config: decodedConfig as Json, hostConfig: hostConfig as Json }, warnings };
}

/** Config.Healthcheck (durations in nanoseconds) decoded and checked as dockerd does; StartInterval only from API 1.44. */
function parseHealthcheck(v: unknown, version: string): HealthConfig | undefined {
  if (v === null || v === undefined) return undefined;
  const hc = decodeStruct(asObject(v, 'Healthcheck'), HEALTH_CONFIG_FIELDS, 'Config.Healthcheck', true) as HealthConfig;
  if (compareVersions(version, '1.44') < 0) delete hc.StartInterval;
  checkHealthConfig(hc);
  return hc;
}

/** Docker's verifyPlatformContainerSettings warnings that apply to berth. */
function createWarnings(mode: NetworkMode, hc: WireObject): string[] {
  const warnings: string[] = [];
  // Any PortBindings key counts, even one without bindings, as Docker counts the map's entries.
  if (mode.kind === 'host' && Object.keys(objectField(hc, 'PortBindings')).length > 0) {
    warnings.push('Published ports are discarded when using host network mode');
  }
  return warnings;
}

export function parseNetworkMode(mode: string): NetworkMode {
  if (mode === '' || mode === 'default' || mode === 'bridge') return { kind: 'bridge' };
  if (mode === 'none') return { kind: 'none' };
  if (mode === 'host') return { kind: 'host' };
  if (mode.startsWith('container:')) {
    const target = mode.slice('container:'.length);
    if (target === '') throw invalid('invalid network mode: container: needs a container name or id');
    return { kind: 'container', target };
  }
  return { kind: 'network', name: mode };
}

export function modeText(m: NetworkMode): string {
  switch (m.kind) {
    case 'container':
      return `container:${m.target}`;
    case 'network':
      return m.name;
    default:
      return m.kind;
  }
}

/** The networks joined at start: the mode's network first, then the other EndpointsConfig entries. */
function endpointsFor(mode: NetworkMode, raw: WireObject): Record<string, EndpointConfig> {
  const entries = new Map<string, EndpointConfig>();
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    const cfg = parseEndpointConfig(asObject(value, `EndpointsConfig.${key}`));
    entries.set(key === 'default' ? 'bridge' : key, cfg);
    const settings = PREDEFINED.has(key) ? predefinedNetworkProblems(cfg) : [];
    if (settings.length > 0) problems.push(`invalid config for network ${key}: invalid endpoint settings:\n${joinProblems(settings)}`);
  }
  if (problems.length > 0) throw invalid(joinProblems(problems));
  if (mode.kind === 'container') return {};
  const primary = mode.kind === 'network' ? mode.name : mode.kind;
  const out: Record<string, EndpointConfig> = { [primary]: entries.get(primary) ?? { aliases: [], links: [] } };
  for (const [k, v] of entries) if (k !== primary) out[k] = v;
  return out;
}

function predefinedNetworkProblems(cfg: EndpointConfig): string[] {
  const problems: string[] = [];
  if (cfg.ipv4 || cfg.ipv6) problems.push('user specified IP address is supported on user defined networks only');
  if (cfg.aliases.length > 0) problems.push('network-scoped alias is supported only for containers in user defined networks');
  return problems;
}

/** An EndpointSettings of a create or a connect; what inspect shows back is kept as given. */
export function parseEndpointConfig(o: WireObject): EndpointConfig {
  const ipam = objectField(o, 'IPAMConfig');
  const cfg: EndpointConfig = { aliases: stringList(o, 'Aliases'), links: stringList(o, 'Links') };
  const v4 = optString(ipam, 'IPv4Address');
  const v6 = optString(ipam, 'IPv6Address');
  const linkLocal = stringList(ipam, 'LinkLocalIPs');
  if (linkLocal.length > 0) throw invalid(unsupported('EndpointSettings.IPAMConfig.LinkLocalIPs', linkLocal));
  const mac = optString(o, 'MacAddress');
  const driverOpts = stringMap(o, 'DriverOpts');
  if (v4) cfg.ipv4 = v4;
  if (v6) cfg.ipv6 = v6;
  if (mac) cfg.mac = mac;
  if (field(o, 'IPAMConfig') !== undefined && field(o, 'IPAMConfig') !== null) cfg.ipamConfig = true;
  if (field(o, 'DriverOpts') !== undefined && field(o, 'DriverOpts') !== null) cfg.driverOpts = driverOpts;
  return cfg;
}


/** Docker's ValidateExtraHost: "name:address", split at the first colon (IPv6 addresses have more). */
function checkExtraHost(h: string): void {
  const i = h.indexOf(':');
  if (i <= 0) throw invalid(`bad format for add-host: "${h}"`);
  const address = h.slice(i + 1);
  if (address !== HOST_GATEWAY && tryParseIp(address) === undefined) throw invalid(`invalid IP address in add-host: "${address}"`);
}

function checkPortKey(key: string): string {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(key);
  const port = Number(m?.[1]);
  if (!m || port < 1 || port > 65535) throw invalid(`invalid port specification: "${key}"`);
  return `${port}/${m[2] ?? 'tcp'}`;
}

function parsePortBindings(o: WireObject): PortBinding[] {
  const out: PortBinding[] = [];
  for (const [key, value] of Object.entries(o)) {
    const port = checkPortKey(key);
    if (value === null) continue;
    if (!Array.isArray(value)) throw invalid(`invalid port binding for ${key}`);
    for (const b of value) {
      const bo = asObject(b, `PortBindings.${key}`);
      const hostPort = optString(bo, 'HostPort') ?? '';
      if (hostPort !== '' && !/^\d+(-\d+)?$/.test(hostPort)) throw invalid(`invalid hostPort: ${hostPort}`);
      out.push({ port, hostIp: optString(bo, 'HostIp') ?? '', hostPort });
    }
  }
  return out;
}
