/** Docker's JSON shapes for containers (inspect and list). */
import { healthSuffix, type HealthState } from '../../engine/containers/health.js';
import type { ContainerRecord, EndpointConfig } from '../../engine/containers/model.js';
import { parseLink } from '../../engine/containers/networking.js';
import type { Network } from '../../network/controller.js';
import type { EndpointRecord } from '../../network/model.js';
import { modeText } from '../routes/container-create.js';
import { effectiveConfig, effectiveHostConfig } from './host-config.js';
import { humanDuration } from '../../util/humanize.js';

export interface ContainerView {
  c: ContainerRecord;
  endpoints: EndpointRecord[];
  network: (id: string) => Network | undefined;
  networkByName: (name: string) => Network | undefined;
  /** Where its hosts, hostname and resolv.conf are (the namespace owner's for container:<x>). */
  etcDir: string;
  logPath: string;
  sandboxKey: string;
  hostname: string;
  domainname: string;
  ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  /** overlay2's GraphDriver data: the image's layers (top first), the container's upper, work and merged dirs. */
  graphDriverData?: Record<string, string> | null;
}

function endpointSettings(v: ContainerView, key: string, cfg: EndpointConfig | undefined, ep: EndpointRecord | undefined): Record<string, unknown> {
  const net = ep ? v.network(ep.networkId) : v.networkByName(key);
  const user = net !== undefined && !net.record.predefined;
  const short = v.c.id.slice(0, 12);
  const aliases = user ? [...new Set([...(cfg?.aliases ?? []), short, v.hostname])] : null;
  return {
    IPAMConfig: cfg && (cfg.ipamConfig || cfg.ipv4 || cfg.ipv6) ? { ...(cfg.ipv4 ? { IPv4Address: cfg.ipv4 } : {}), ...(cfg.ipv6 ? { IPv6Address: cfg.ipv6 } : {}) } : null,
    Links: cfg && cfg.links.length > 0 ? cfg.links : null,
    Aliases: aliases,
    MacAddress: ep?.mac ?? '',
    DriverOpts: cfg?.driverOpts ?? null,
    NetworkID: net?.record.id ?? '',
    EndpointID: ep?.id ?? '',
    Gateway: ep?.ipv4?.gateway ?? '',
    IPAddress: ep?.ipv4?.address ?? '',
    IPPrefixLen: ep?.ipv4?.prefixLen ?? 0,
    IPv6Gateway: ep?.ipv6?.gateway ?? '',
    GlobalIPv6Address: ep?.ipv6?.address ?? '',
    GlobalIPv6PrefixLen: ep?.ipv6?.prefixLen ?? 0,
    DNSNames: user ? [...new Set([v.c.spec.name, ...(cfg?.aliases ?? []), short, v.hostname])] : null,
  };
}

/** NetworkSettings.Networks: keyed by network name, live endpoints when running. */
export function networksShape(v: ContainerView): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, cfg] of Object.entries(v.c.spec.networks)) {
    const net = v.networkByName(key);
    const ep = net ? v.endpoints.find((e) => e.networkId === net.record.id) : undefined;
    out[net?.record.name ?? key] = endpointSettings(v, key, cfg, ep);
  }
  return out;
}

/** Docker's State.Status: a paused container is running, but its status says "paused". */
export function stateText(c: ContainerRecord): string {
  return c.state.paused && c.state.status === 'running' ? 'paused' : c.state.status;
}

export function stateShape(c: ContainerRecord): Record<string, unknown> {
  const s = c.state;
  return {
    Status: stateText(c),
    // Docker counts a container waiting to restart as running too.
    Running: s.status === 'running' || s.status === 'restarting',
    Paused: s.status === 'running' && s.paused === true,
    Restarting: s.status === 'restarting',
    OOMKilled: false,
    Dead: s.status === 'dead',
    Pid: s.pid,
    ExitCode: s.exitCode,
    Error: s.error,
    StartedAt: s.startedAt,
    FinishedAt: s.finishedAt,
    ...(s.health ? { Health: healthShape(s.health) } : {}),
  };
}

/** State.Health: absent without a health check. */
function healthShape(h: HealthState): Record<string, unknown> {
  return {
    Status: h.status,
    FailingStreak: h.failingStreak,
    Log: h.log.map((r) => ({ Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output })),
  };
}

export function mountsShape(c: ContainerRecord, volumePath: (name: string) => string): Record<string, unknown>[] {
  return c.spec.mounts.map((m) => {
    if (m.type === 'bind') return { Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.readonly ? 'ro' : '', RW: !m.readonly, Propagation: 'rprivate' };
    // Docker gives a named volume the mode "z" and an anonymous one none.
    const mode = m.readonly ? 'ro' : m.anonymous ? '' : 'z';
    return { Type: 'volume', Name: m.source, Source: volumePath(m.source), Destination: m.destination, Driver: 'local', Mode: mode, RW: !m.readonly, Propagation: '' };
  });
}

export function inspectShape(v: ContainerView, volumePath: (name: string) => string): Record<string, unknown> {
  const c = v.c;
  const networks = networksShape(v);
  const bridge = (networks.bridge ?? {}) as Record<string, unknown>;
  const config = configShape(v);
  const [path = '', ...args] = [...(c.spec.process.entrypoint.length ? c.spec.process.entrypoint : []), ...c.spec.process.cmd];
  return {
    Id: c.id,
    Created: c.created,
    Path: path,
    Args: args,
    State: stateShape(c),
    Image: c.spec.image.id,
    ResolvConfPath: `${v.etcDir}/resolv.conf`,
    HostnamePath: `${v.etcDir}/hostname`,
    HostsPath: `${v.etcDir}/hosts`,
    LogPath: v.logPath,
    Name: `/${c.spec.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfigShape(c),
    GraphDriver: { Data: v.graphDriverData ?? null, Name: 'overlay2' },
    Mounts: mountsShape(c, volumePath),
    Config: config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: c.state.status === 'running' ? c.id : '',
      SandboxKey: c.state.status === 'running' ? v.sandboxKey : '',
      Ports: v.ports,
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: bridge.EndpointID ?? '',
      Gateway: bridge.Gateway ?? '',
      GlobalIPv6Address: bridge.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: bridge.GlobalIPv6PrefixLen ?? 0,
      IPAddress: bridge.IPAddress ?? '',
      IPPrefixLen: bridge.IPPrefixLen ?? 0,
      IPv6Gateway: bridge.IPv6Gateway ?? '',
      MacAddress: bridge.MacAddress ?? '',
      Networks: networks,
    },
  };
}

/**
 * The effective HostConfig; Links as dockerd shows the default bridge's legacy links
 * ("/target:/container/alias"; none on a user network, where links are the endpoint's).
 */
export function hostConfigShape(c: ContainerRecord): Record<string, unknown> {
  const links = c.spec.links.map(parseLink).map((l) => `/${l.target}:/${c.spec.name}/${l.alias}`);
  return { ...effectiveHostConfig({ ...asRecord(c.docker.hostConfig), NetworkMode: modeText(c.spec.networkMode) }), Links: links.length > 0 ? links : null };
}

/**
 * The Config with the hostname it runs with; the deprecated MacAddress as dockerd 25
 * still fills it: the main network's configured MAC, when the user gave none.
 */
function configShape(v: ContainerView): Record<string, unknown> {
  const config: Record<string, unknown> = { ...effectiveConfig(v.c.docker.config), Hostname: v.hostname, Domainname: v.domainname };
  const mode = v.c.spec.networkMode;
  const main = mode.kind === 'bridge' ? 'bridge' : mode.kind === 'network' ? mode.name : undefined;
  const mac = main !== undefined ? v.c.spec.networks[main]?.mac : undefined;
  if (config.MacAddress === undefined && mac) config.MacAddress = mac;
  return config;
}

function asRecord(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** An entry of the list's Ports: a binding, or an exposed port without one (no IP, no PublicPort). */
export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export function listShape(v: ContainerView, imageName: string, ports: PortSummary[], volumePath: (name: string) => string): Record<string, unknown> {
  const c = v.c;
  return {
    Id: c.id,
    Names: [`/${c.spec.name}`],
    Image: imageName,
    ImageID: c.spec.image.id,
    Command: commandText([...c.spec.process.entrypoint, ...c.spec.process.cmd]),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: ports,
    Labels: c.spec.labels,
    State: stateText(c),
    Status: statusText(c),
    HostConfig: { NetworkMode: modeText(c.spec.networkMode) },
    NetworkSettings: { Networks: networksShape(v) },
    Mounts: mountsShape(c, volumePath),
  };
}

function commandText(args: string[]): string {
  return args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ');
}

export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.state;
  switch (s.status) {
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.startedAt))}${s.paused ? ' (Paused)' : healthSuffix(s.health)}`;
    case 'exited':
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'restarting':
      return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'created':
      return 'Created';
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
  }
}

