/**
 * A VXLAN link's forwarding and neighbour tables as the kernel has them (`bridge -j fdb
 * show dev`, `ip -j neigh show dev`): what a restarted daemon compares with what its
 * cluster says, so it removes what went while it was down and adds nothing twice.
 */
import { runJson } from './exec.js';

/** A forwarding entry of the link itself (`self`): a MAC address sent to a remote VTEP. */
export interface FdbEntry {
  mac: string;
  /** The remote VTEP (the host's underlay address); undefined for the link's own entries. */
  dst: string | undefined;
  permanent: boolean;
}

/** A neighbour entry: an IP address at a MAC address. */
export interface NeighbourEntry {
  ip: string;
  mac: string;
  permanent: boolean;
}

interface RawFdb {
  mac?: string;
  dst?: string;
  flags?: string[];
  state?: string;
  master?: string;
}

interface RawNeigh {
  dst?: string;
  lladdr?: string;
  state?: string[];
}

/** The `self` entries of `bridge -j fdb show dev X` (the bridge's own entries, `master`, are not the link's). */
export function parseFdb(raw: readonly RawFdb[]): FdbEntry[] {
  return raw
    .filter((r) => r.mac !== undefined && (r.flags ?? []).includes('self') && r.master === undefined)
    .map((r) => ({ mac: r.mac!.toLowerCase(), dst: r.dst, permanent: r.state === 'permanent' }));
}

/** The entries of `ip -j neigh show dev X` that have an address. */
export function parseNeighbours(raw: readonly RawNeigh[]): NeighbourEntry[] {
  return raw
    .filter((r) => r.dst !== undefined && r.lladdr !== undefined)
    .map((r) => ({ ip: r.dst!, mac: r.lladdr!.toLowerCase(), permanent: (r.state ?? []).includes('PERMANENT') }));
}

export async function listFdb(dev: string): Promise<FdbEntry[]> {
  return parseFdb(await runJson<RawFdb>('bridge', ['-j', 'fdb', 'show', 'dev', dev]));
}

export async function listNeighbours(dev: string): Promise<NeighbourEntry[]> {
  return parseNeighbours(await runJson<RawNeigh>('ip', ['-j', 'neigh', 'show', 'dev', dev]));
}
