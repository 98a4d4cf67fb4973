/**
 * The host-port allocator: which host ports publications hold, per protocol and host
 * address. Pure and JSON-serialisable: the state is derived again at start from the
 * mappings kept in the store (`restorePortAllocator`), so it never needs its own key.
 *
 * Conflicts are per (proto, port) between addresses that overlap: '' (every address)
 * overlaps everything, 0.0.0.0 every IPv4 address, :: every IPv6 address, and a
 * specific address itself and the wildcards of its family. A range is one entry.
 */
import { conflict, unavailable } from '../../errors.js';
import { isEphemeral, isExact, rangeLength, type PortRange, type PortSpec, type Proto } from './spec.js';

/** Docker's default, and Linux's default `net.ipv4.ip_local_port_range`. */
export const DEFAULT_EPHEMERAL_RANGE: PortRange = { start: 32768, end: 60999 };

/** Host ports held by one owner (a container) for one mapping. */
export interface PortAllocation {
  owner: string;
  proto: Proto;
  hostIp: string;
  ports: PortRange;
}

export interface PortAllocatorState {
  ephemeral: PortRange;
  allocations: PortAllocation[];
  /** Where the next ephemeral search starts: Docker hands ports out round robin, so a port just freed is not reused at once. */
  next: number;
}

/** A host port found busy by a host process (bind failed): skipped by ephemeral searches. */
export interface BusyPort {
  proto: Proto;
  hostIp: string;
  port: number;
}

export function newPortAllocator(ephemeral: PortRange = DEFAULT_EPHEMERAL_RANGE): PortAllocatorState {
  return { ephemeral: { ...ephemeral }, allocations: [], next: ephemeral.start };
}

/** The allocator of a daemon restarting: every stored mapping held again by its owner. */
export function restorePortAllocator(
  owned: ReadonlyArray<{ owner: string; mappings: readonly PortSpec[] }>,
  ephemeral: PortRange = DEFAULT_EPHEMERAL_RANGE,
): PortAllocatorState {
  const state = newPortAllocator(ephemeral);
  for (const { owner, mappings } of owned) {
    for (const m of mappings) state.allocations.push({ owner, proto: m.proto, hostIp: m.hostIp, ports: { ...m.hostPorts } });
  }
  return state;
}

const familyOf = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);

/** Whether two host addresses can both receive a packet for the same port. */
export function addressesOverlap(a: string, b: string): boolean {
  if (a === '' || b === '' || a === b) return true;
  if (familyOf(a) !== familyOf(b)) return false;
  const wild = (ip: string): boolean => ip === '0.0.0.0' || ip === '::';
  return wild(a) || wild(b);
}

const overlaps = (a: PortRange, b: PortRange): boolean => a.start <= b.end && b.start <= a.end;

/** Docker's text for an allocator conflict; a request for every address names the family that clashed. */
function alreadyAllocated(hostIp: string, clashIp: string, port: number): Error {
  const ip = hostIp !== '' ? hostIp : clashIp.includes(':') ? '::' : '0.0.0.0';
  return conflict(`Bind for ${ip.includes(':') ? `[${ip}]` : ip}:${port} failed: port is already allocated`);
}

/** Port intervals that `hostIp`/`proto` cannot take, sorted and merged. */
function blocked(held: readonly PortAllocation[], busy: readonly BusyPort[], proto: Proto, hostIp: string): PortRange[] {
  const list: PortRange[] = [];
  for (const a of held) if (a.proto === proto && addressesOverlap(a.hostIp, hostIp)) list.push(a.ports);
  for (const b of busy) if (b.proto === proto && addressesOverlap(b.hostIp, hostIp)) list.push({ start: b.port, end: b.port });
  list.sort((x, y) => x.start - y.start);
  const merged: PortRange[] = [];
  for (const r of list) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

/** The first block of `n` free ports in `within`, searching from `from` and wrapping around. */
function findFree(taken: readonly PortRange[], within: PortRange, n: number, from: number): number | undefined {
  const scan = (lo: number, hi: number): number | undefined => {
    let candidate = lo;
    for (const t of taken) {
      if (t.end < candidate) continue;
      if (t.start > hi) break;
      if (t.start - candidate >= n) return candidate;
      candidate = Math.max(candidate, t.end + 1);
    }
    return hi - candidate + 1 >= n ? candidate : undefined;
  };
  const start = from >= within.start && from <= within.end ? from : within.start;
  return scan(start, within.end) ?? scan(within.start, Math.min(within.end, start + n - 2));
}

/**
 * Allocates host ports for the requests of one owner, all or nothing. Exact requests must
 * be free (else Conflict "Bind for 0.0.0.0:8000 failed: port is already allocated");
 * ephemeral ones take a contiguous block of the ephemeral range, a host range with one
 * container port takes its first free port (else Unavailable "all ports are allocated").
 * Returns the exact mappings, in request order, and the new state; `state` is unchanged.
 */
export function allocatePorts(
  state: PortAllocatorState,
  owner: string,
  requests: readonly PortSpec[],
  busy: readonly BusyPort[] = [],
): { state: PortAllocatorState; mappings: PortSpec[] } {
  const allocations = [...state.allocations];
  let next = state.next;
  const mappings: PortSpec[] = [];
  for (const req of requests) {
    const n = rangeLength(req.containerPorts);
    let hostPorts: PortRange;
    if (isExact(req)) {
      const clash = allocations.find((a) => a.proto === req.proto && addressesOverlap(a.hostIp, req.hostIp) && overlaps(a.ports, req.hostPorts));
      if (clash) throw alreadyAllocated(req.hostIp, clash.hostIp, Math.max(clash.ports.start, req.hostPorts.start));
      hostPorts = { ...req.hostPorts };
    } else {
      const within = isEphemeral(req) ? state.ephemeral : req.hostPorts;
      const from = isEphemeral(req) ? next : within.start;
      const start = findFree(blocked(allocations, busy, req.proto, req.hostIp), within, n, from);
      if (start === undefined) throw unavailable('all ports are allocated');
      hostPorts = { start, end: start + n - 1 };
      if (isEphemeral(req)) next = hostPorts.end + 1 > state.ephemeral.end ? state.ephemeral.start : hostPorts.end + 1;
    }
    allocations.push({ owner, proto: req.proto, hostIp: req.hostIp, ports: hostPorts });
    mappings.push({ proto: req.proto, hostIp: req.hostIp, hostPorts, containerPorts: { ...req.containerPorts } });
  }
  return { state: { ...state, allocations, next }, mappings };
}

/** Frees everything `owner` holds. Idempotent. */
export function releasePorts(state: PortAllocatorState, owner: string): PortAllocatorState {
  const allocations = state.allocations.filter((a) => a.owner !== owner);
  return allocations.length === state.allocations.length ? state : { ...state, allocations };
}

/** The mappings `owner` holds (host side only), e.g. to check the store and the allocator agree. */
export function heldBy(state: PortAllocatorState, owner: string): PortAllocation[] {
  return state.allocations.filter((a) => a.owner === owner);
}

