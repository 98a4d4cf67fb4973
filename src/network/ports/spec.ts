/**
 * Published ports as the daemon models them, parsed once from Docker's JSON.
 *
 * Docker's CLI expands `-p 8000-8999:80-1079` into one `PortBindings` key per port
 * ("80/tcp": [{HostPort: "8000"}], "81/tcp": …), so a range of a thousand ports arrives
 * as a thousand keys. We compress consecutive ports whose host/container offset matches
 * back into one range: the allocator and the firewall then hold one entry per range.
 * Messages follow Docker's (moby `validatePortBindings`, go-connections `nat`).
 */
import { invalid } from '../../errors.js';
import { formatIp, tryParseIp } from '../ipam/index.js';
import { byCodeUnit } from '../../util/order.js';

export type Proto = 'tcp' | 'udp' | 'sctp';
export const PROTOS: readonly Proto[] = ['tcp', 'udp', 'sctp'];

/** Inclusive port range; a single port has start === end. */
export interface PortRange {
  start: number;
  end: number;
}

/**
 * One publication: container ports published on a host address.
 *
 * As parsed from a request, `hostPorts` is one of
 *  - `{start: 0, end: 0}`: ephemeral (HostPort "" or "0"): the allocator picks a block;
 *  - as long as `containerPorts`: exactly these host ports;
 *  - longer than a single container port (`-p 8000-8010:80`): any one free port of it.
 * After allocation (a "mapping") it is always exact: as long as `containerPorts`.
 */
export interface PortSpec {
  proto: Proto;
  /** '' = every address (0.0.0.0 and ::); else one canonical address ('0.0.0.0', '::', '127.0.0.1' …). */
  hostIp: string;
  hostPorts: PortRange;
  containerPorts: PortRange;
}

/** Docker's `HostConfig.PortBindings`: container port key → bindings (null for `-P` entries). */
export type PortBindingsJson = Record<string, ReadonlyArray<{ HostIp?: string; HostPort?: string }> | null>;
/** Docker's `Config.ExposedPorts`: container port key → {}. */
export type ExposedPortsJson = Record<string, unknown>;

export const EPHEMERAL: PortRange = { start: 0, end: 0 };

export const rangeLength = (r: PortRange): number => r.end - r.start + 1;
export const isEphemeral = (s: PortSpec): boolean => s.hostPorts.start === 0;
export const isExact = (s: PortSpec): boolean => !isEphemeral(s) && rangeLength(s.hostPorts) === rangeLength(s.containerPorts);

/** "80" or "8000-8010". */
export function formatRange(r: PortRange): string {
  return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
}

const specError = (s: string): Error => invalid(`invalid port specification: "${s}"`);

/** go-connections' ParsePortRange: "80" or "8000-9000"; undefined when malformed or reversed. */
function parseRange(s: string): PortRange | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  return { start, end };
}

function parseProto(raw: string): Proto {
  const p = raw.toLowerCase();
  if (p === 'tcp' || p === 'udp' || p === 'sctp') return p;
  throw invalid(`invalid proto: ${raw}`);
}

/** A container-port key: "80/tcp", "80" (tcp), "80-90/udp". Port 0 is refused, as moby does. */
export function parsePortKey(key: string): { proto: Proto; ports: PortRange } {
  const slash = key.indexOf('/');
  const portText = slash < 0 ? key : key.slice(0, slash);
  const proto = parseProto(slash < 0 || key.slice(slash + 1) === '' ? 'tcp' : key.slice(slash + 1));
  const ports = parseRange(portText);
  if (!ports || ports.start === 0) throw specError(portText);
  return { proto, ports };
}

/** A `HostPort`: "" or "0" is ephemeral; else a port or a range. */
export function parseHostPort(s: string): PortRange {
  if (s === '') return EPHEMERAL;
  const r = parseRange(s);
  if (!r) throw specError(s);
  if (r.start === 0) {
    if (r.end !== 0) throw specError(s);
    return EPHEMERAL;
  }
  return r;
}

/** A `HostIp`: '' for all addresses; else the canonical text of one address (IPv4-mapped unmapped). */
export function parseHostIp(s: string): string {
  if (s === '') return '';
  const text = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const ip = tryParseIp(text);
  if (!ip) throw invalid(`invalid IP address: ${s}`);
  if (ip.family === 6 && ip.value >> 32n === 0xffffn) return formatIp({ family: 4, value: ip.value & 0xffffffffn });
  return formatIp(ip);
}

/** One binding of one key, validated; ranges of different lengths only with a single container port. */
function toSpec(proto: Proto, containerPorts: PortRange, hostIp: string, hostPort: string): PortSpec {
  const hostPorts = parseHostPort(hostPort);
  const spec: PortSpec = { proto, hostIp: parseHostIp(hostIp), hostPorts, containerPorts };
  if (!isEphemeral(spec) && !isExact(spec) && rangeLength(containerPorts) > 1) {
    throw invalid(`invalid ranges specified for container and host Ports: ${formatRange(containerPorts)} and ${hostPort}`);
  }
  return spec;
}

/**
 * Docker's `PortBindings` (and, with `-P`, every `ExposedPorts` key without a binding,
 * published on an ephemeral port) as compressed publication requests.
 */
export function parsePortBindings(
  bindings: PortBindingsJson | null | undefined,
  exposed?: ExposedPortsJson | null,
  publishAll = false,
): PortSpec[] {
  const specs: PortSpec[] = [];
  const keys = new Set(Object.keys(bindings ?? {}));
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { proto, ports } = parsePortKey(key);
    for (const b of list ?? []) specs.push(toSpec(proto, ports, b.HostIp ?? '', b.HostPort ?? ''));
    if (publishAll && (list ?? []).length === 0) specs.push(toSpec(proto, ports, '', ''));
  }
  if (publishAll) {
    for (const key of Object.keys(exposed ?? {})) {
      if (keys.has(key)) continue;
      const { proto, ports } = parsePortKey(key);
      specs.push(toSpec(proto, ports, '', ''));
    }
  }
  return compressSpecs(specs);
}

/** The container ports a container exposes (`ExposedPorts`), compressed; for inspect and `-P`. */
export function parseExposedPorts(exposed: ExposedPortsJson | null | undefined): { proto: Proto; ports: PortRange }[] {
  const specs = Object.keys(exposed ?? {}).map((key): PortSpec => {
    const { proto, ports } = parsePortKey(key);
    return { proto, hostIp: '', hostPorts: EPHEMERAL, containerPorts: ports };
  });
  return compressSpecs(specs).map((s) => ({ proto: s.proto, ports: s.containerPorts }));
}

const KIND_ORDER = (s: PortSpec): number => (isEphemeral(s) ? 0 : isExact(s) ? 1 : 2);

function sameGroup(a: PortSpec, b: PortSpec): boolean {
  return a.proto === b.proto && a.hostIp === b.hostIp && KIND_ORDER(a) === KIND_ORDER(b);
}

/** b continues a: the next container port, and (for exact specs) the next host port. */
function continues(a: PortSpec, b: PortSpec): boolean {
  if (!sameGroup(a, b) || b.containerPorts.start !== a.containerPorts.end + 1) return false;
  if (isEphemeral(a)) return true;
  return isExact(a) && b.hostPorts.start === a.hostPorts.end + 1;
}

/**
 * Merges consecutive specs with the same proto, host address and offset into ranges,
 * and drops duplicates. Pure; the order of the result is by proto, address, port.
 */
export function compressSpecs(specs: readonly PortSpec[]): PortSpec[] {
  const sorted = [...specs].sort(
    (a, b) =>
      byCodeUnit(a.proto, b.proto) ||
      byCodeUnit(a.hostIp, b.hostIp) ||
      KIND_ORDER(a) - KIND_ORDER(b) ||
      a.containerPorts.start - b.containerPorts.start ||
      a.hostPorts.start - b.hostPorts.start ||
      a.containerPorts.end - b.containerPorts.end ||
      a.hostPorts.end - b.hostPorts.end,
  );
  const out: PortSpec[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    // Identical exact bindings are one; two ephemeral ones (`-p 80 -p 80`) are two ports.
    if (last && !isEphemeral(s) && sameSpec(last, s)) continue;
    if (last && continues(last, s)) {
      out[out.length - 1] = {
        ...last,
        containerPorts: { start: last.containerPorts.start, end: s.containerPorts.end },
        hostPorts: isEphemeral(last) ? EPHEMERAL : { start: last.hostPorts.start, end: s.hostPorts.end },
      };
      continue;
    }
    out.push({ ...s, hostPorts: { ...s.hostPorts }, containerPorts: { ...s.containerPorts } });
  }
  return out;
}

export function sameSpec(a: PortSpec, b: PortSpec): boolean {
  return (
    a.proto === b.proto &&
    a.hostIp === b.hostIp &&
    a.hostPorts.start === b.hostPorts.start &&
    a.hostPorts.end === b.hostPorts.end &&
    a.containerPorts.start === b.containerPorts.start &&
    a.containerPorts.end === b.containerPorts.end
  );
}

/**
 * The host address a publication binds when the request names none: the network's
 * `com.docker.network.bridge.host_binding_ipv4` unless that is 0.0.0.0 (Docker's rule).
 */
export function resolveHostIp(hostIp: string, hostBindingIpv4: string): string {
  if (hostIp !== '' || hostBindingIpv4 === '' || hostBindingIpv4 === '0.0.0.0') return hostIp;
  return parseHostIp(hostBindingIpv4);
}

/** One port of an allocated mapping, as Docker shows it (`NetworkSettings.Ports`, `docker port`). */
export interface PortPair {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

/** The per-port view of allocated mappings (one entry per port of each range). */
export function expandMappings(mappings: readonly PortSpec[]): PortPair[] {
  const out: PortPair[] = [];
  for (const m of mappings) {
    for (let i = 0; i < rangeLength(m.containerPorts); i++) {
      out.push({ proto: m.proto, hostIp: m.hostIp, hostPort: m.hostPorts.start + i, containerPort: m.containerPorts.start + i });
    }
  }
  return out;
}

/** `0.0.0.0:8000-8010->80-90/tcp`, as `docker ps` prints a compressed mapping. */
export function formatMapping(m: PortSpec): string {
  const ip = m.hostIp === '' ? '0.0.0.0' : m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp;
  return `${ip}:${formatRange(m.hostPorts)}->${formatRange(m.containerPorts)}/${m.proto}`;
}
