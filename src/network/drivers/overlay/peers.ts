/**
 * A VXLAN link's tables as they must be for a set of remote endpoints, and the commands
 * that bring the kernel's there: a static FDB entry per endpoint (its MAC at its host),
 * one all-zeros entry per remote host (broadcasts and ARP go to every host with an
 * endpoint), a permanent neighbour entry per endpoint (the link's ARP proxy answers
 * from it). A peer routed directly (on this host's own underlay segment) has no FDB entry:
 * tc sends its frames out of the underlay link before VXLAN sees them (direct-path.ts).
 * A restarted daemon compares them with what the kernel kept, so an endpoint
 * that went while it was down is removed and nothing is added twice. Pure.
 */
import type { FdbEntry, NeighbourEntry } from '../../../kernel/fdb.js';
import type { RemoteEndpoint } from '../../shared.js';

export const BROADCAST_MAC = '00:00:00:00:00:00';

/** `bridge` commands (FDB) and `ip` commands (neighbours) for the link `dev`. */
export interface TableCommands {
  fdb: string[];
  neigh: string[];
}

/** Whether a peer is routed without VXLAN. */
export type Routed = (p: RemoteEndpoint) => boolean;

const NONE_ROUTED: Routed = () => false;

/** Make `dev`'s tables hold exactly `peers`' entries, from `kernel`'s as they are. */
export function reconcileTables(dev: string, peers: readonly RemoteEndpoint[], kernel: { fdb: readonly FdbEntry[]; neigh: readonly NeighbourEntry[] }, routed = NONE_ROUTED): TableCommands {
  const wantFdb = new Map<string, { mac: string; dst: string }>();
  for (const p of peers) {
    if (routed(p)) continue;
    wantFdb.set(`${BROADCAST_MAC} ${p.node}`, { mac: BROADCAST_MAC, dst: p.node });
    wantFdb.set(`${p.mac.toLowerCase()} ${p.node}`, { mac: p.mac.toLowerCase(), dst: p.node });
  }
  const haveFdb = new Set(kernel.fdb.filter((e) => e.dst !== undefined && e.permanent).map((e) => `${e.mac} ${e.dst}`));
  const fdb: string[] = [];
  for (const e of kernel.fdb) {
    if (e.dst !== undefined && !wantFdb.has(`${e.mac} ${e.dst}`)) fdb.push(`fdb del ${e.mac} dev ${dev} dst ${e.dst} self`);
  }
  for (const [key, e] of wantFdb) {
    if (haveFdb.has(key)) continue;
    fdb.push(e.mac === BROADCAST_MAC ? `fdb append ${e.mac} dev ${dev} dst ${e.dst} self permanent` : `fdb replace ${e.mac} dev ${dev} dst ${e.dst} self permanent`);
  }
  const wantNeigh = new Map(peers.map((p) => [p.ipv4, p.mac.toLowerCase()]));
  const neigh: string[] = [];
  for (const n of kernel.neigh) if (!wantNeigh.has(n.ip)) neigh.push(`neigh del ${n.ip} dev ${dev}`);
  for (const [ip, mac] of wantNeigh) {
    if (kernel.neigh.some((n) => n.ip === ip && n.mac === mac && n.permanent)) continue;
    neigh.push(`neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`);
  }
  return { fdb, neigh };
}
