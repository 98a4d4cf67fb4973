/**
 * Ports as docker's CLI handles them:
 * - `-p` specs (go-connections nat.ParsePortSpecs): `CPORT`, `HPORT:CPORT`, `IP::CPORT`,
 *   `IP:HPORT:CPORT`, `[::1]:HPORT:CPORT`, ranges, `/tcp|udp|sctp`, and the long form
 *   `published=8080,target=80,protocol=udp`; a container range expands to one key per
 *   port, a single container port with a host range keeps the range as its HostPort;
 * - `--expose` ranges added to ExposedPorts;
 * - the PORTS column of `ps` (DisplayablePorts) and `host:port` joining.
 * Errors carry docker's messages.
 */
import { isIP } from 'node:net';
import { CliError } from '../../errors.js';
import type { ApiPort, PortBinding } from './wire.js';

/** The API's ExposedPorts and PortBindings, keyed "80/tcp". */
export interface PortConfig {
  readonly exposed: Record<string, Record<string, never>>;
  readonly bindings: Record<string, PortBinding[]>;
}

export function parsePublish(specs: readonly string[], expose: readonly string[]): PortConfig {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of specs.map(standardNotation)) {
    for (const { port, binding } of parsePortSpec(spec)) {
      exposed[port] ??= {};
      (bindings[port] ??= []).push(binding);
    }
  }
  for (const e of expose) {
    if (e.includes(':')) throw new CliError(`invalid port format for --expose: ${e}`);
    const { proto, port } = splitProtoPort(e);
    let range: [number, number];
    try {
      range = parsePortRange(port);
    } catch (err: unknown) {
      throw new CliError(`invalid range format for --expose: ${e}, error: ${err instanceof Error ? err.message : String(err)}`);
    }
    for (let p = range[0]; p <= range[1]; p++) exposed[`${p}/${proto}`] ??= {};
  }
  return { exposed, bindings };
}

/** `published=8080,target=80,protocol=udp` to `8080:80/udp` (docker's convertToStandardNotation). */
function standardNotation(spec: string): string {
  if (!spec.includes('=')) return spec;
  const params: Record<string, string> = { protocol: 'tcp' };
  for (const param of spec.split(',')) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid publish opts format (should be name=value but got '${param}')`);
    params[param.slice(0, eq)] = param.slice(eq + 1);
  }
  return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol ?? ''}`;
}

/** nat.SplitProtoPort: "80/udp" to udp and 80; the protocol defaults to tcp. */
function splitProtoPort(raw: string): { proto: string; port: string } {
  const slash = raw.indexOf('/');
  const port = slash < 0 ? raw : raw.slice(0, slash);
  const proto = slash < 0 ? '' : raw.slice(slash + 1);
  if (port === '') return { proto: '', port: '' };
  return { proto: proto === '' ? 'tcp' : proto, port };
}

/** nat.ParsePortRange (only the first two parts of "a-b-c" count, as in Go). */
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseUint16(ports);
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseUint16(parts[0] ?? '');
  const end = parseUint16(parts[1] ?? '');
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** strconv.ParseUint(s, 10, 16) with Go's messages. */
function parseUint16(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

function splitParts(raw: string): { ip: string; hostPort: string; containerPort: string } {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return { ip: '', hostPort: '', containerPort: parts[0]! };
  if (n === 2) return { ip: '', hostPort: parts[0]!, containerPort: parts[1]! };
  return { ip: parts.slice(0, n - 2).join(':'), hostPort: parts[n - 2]!, containerPort: parts[n - 1]! };
}

/** nat.ParsePortSpec: one spec to its port keys and bindings. */
export function parsePortSpec(raw: string): { port: string; binding: PortBinding }[] {
  let { ip, hostPort, containerPort } = splitParts(raw);
  const split = splitProtoPort(containerPort);
  const proto = split.proto.toLowerCase();
  containerPort = split.port;
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new CliError(`invalid proto: ${proto}`);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw new CliError(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && isIP(ip) === 0) throw new CliError(`invalid IP address: ${ip}`);
  if (containerPort === '') throw new CliError(`no port specified: ${raw}<empty>`);
  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new CliError(`invalid containerPort: ${containerPort}`);
  }
  let hostStart = 0;
  let hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = parsePortRange(hostPort);
    } catch {
      throw new CliError(`invalid hostPort: ${hostPort}`);
    }
    // A host range for a single container port is the range to allocate from.
    if (end - start !== hostEnd - hostStart && end !== start) {
      throw new CliError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
  }
  const count = end - start + 1;
  const out: { port: string; binding: PortBinding }[] = [];
  for (let i = 0; i < count; i++) {
    let hPort = '';
    if (hostPort !== '') {
      hPort = String(hostStart + i);
      if (count === 1 && hostStart !== hostEnd) hPort += `-${hostEnd}`;
    }
    out.push({ port: `${start + i}/${proto}`, binding: { HostIp: ip, HostPort: hPort } });
  }
  return out;
}

/** Go's net.JoinHostPort: brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The PORTS column (formatter.DisplayablePorts): sorted; a port published on the same
 * host port, or not published, is grouped into ranges per IP and protocol
 * ("0.0.0.0:8000-8002->8000-8002/tcp", "80-81/tcp"); a port published elsewhere is
 * listed on its own ("0.0.0.0:8080->80/tcp", "[::]:8080->80/tcp"), after the groups.
 */
export function displayablePorts(ports: readonly ApiPort[]): string {
  const sorted = [...ports].sort(comparePorts);
  const groups = new Map<string, { first: number; last: number }>();
  const order: string[] = [];
  const result: string[] = [];
  const mappings: string[] = [];
  for (const port of sorted) {
    const current = port.PrivatePort;
    let key = port.Type;
    if (port.IP) {
      if ((port.PublicPort ?? 0) !== current) {
        mappings.push(`${joinHostPort(port.IP, port.PublicPort ?? 0)}->${current}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: current, last: current });
      order.push(key);
    } else if (current === group.last + 1) {
      group.last = current;
    } else {
      result.push(formGroup(key, group.first, group.last));
      groups.set(key, { first: current, last: current });
    }
  }
  for (const key of order) {
    const g = groups.get(key)!;
    result.push(formGroup(key, g.first, g.last));
  }
  return [...result, ...mappings].join(', ');
}

function formGroup(key: string, first: number, last: number): string {
  const parts = key.split('/');
  const ip = parts.length > 1 ? parts[0]! : '';
  const type = parts.length > 1 ? parts[1]! : parts[0]!;
  let group = String(first);
  if (first !== last) group += `-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

function comparePorts(a: ApiPort, b: ApiPort): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  const ai = a.IP ?? '';
  const bi = b.IP ?? '';
  if (ai !== bi) return ai < bi ? -1 : 1;
  const ap = a.PublicPort ?? 0;
  const bp = b.PublicPort ?? 0;
  if (ap !== bp) return ap - bp;
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}
