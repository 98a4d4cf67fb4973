/**
 * Direct routing's data plane: tc filters that move a routed peer's frames between the
 * VXLAN link and the underlay link as they are, never through the host's IP stack.
 *
 * - Sending: the VXLAN link's egress looks each IPv4 frame's destination up in a u32 hash
 *   table (256 buckets keyed on the address's last byte, so the lookup stays one bucket
 *   as peers grow) and redirects a routed peer's frame to the underlay link's egress. The
 *   container addressed it to the peer's own MAC (its neighbour entry), so it arrives there.
 * - Receiving: the underlay link's ingress hands a frame from the network's subnet to its
 *   subnet up to the VXLAN link, whose macvlans deliver it by MAC, as if VXLAN had.
 *
 * What the underlay sees changes: the containers' MACs and addresses travel on it, and no
 * host decrements the TTL. The receiving filter checks subnets, not which host sent the
 * frame: a machine on the segment can send into the network (as it could reach the host).
 *
 * Every filter has a handle of its own derived from the address (none the kernel picks),
 * so one is replaced or deleted without reading the table; a restart reads the tables and
 * makes them exact. The receiving filters are on a link berth does not own: they go with
 * their network, and a sweep removes any whose VXLAN link is gone (it would drop what it
 * matches). Pure: commands for `tc -batch`.
 */
import type { U32Filter, U32Match } from '../../../kernel/tc.js';
import { invalid } from '../../../errors.js';
import { DIRECT_ROUTING_OPTION } from './config.js';
import { parseCidr, parseIp } from '../../ipam/index.js';

/** The receiving filters' priority on the underlay link: berth's number (as its routes' protocol). */
export const RECEIVE_PRIO = 179;
const SEND_PRIO = 1;
/** The sending hash table's id; the root table 800: links to it. */
const TABLE = 1;
/**
 * A filter's node id within its bucket is the address's bits above the last byte: 11 of
 * them (the id has 12, and 0 asks the kernel to pick), unique in a /13 or smaller.
 */
const NODE_BITS = 11;
export const WIDEST_PREFIX = 32 - 8 - NODE_BITS;

/** A directly routed network's subnets must fit the handles (see NODE_BITS). */
export function checkSubnets(subnets: readonly string[]): void {
  const wide = subnets.find((s) => parseCidr(s).prefix < WIDEST_PREFIX);
  if (wide !== undefined) throw invalid(`${DIRECT_ROUTING_OPTION} needs subnets of /${WIDEST_PREFIX} or smaller: ${wide} is wider`);
}

const v4 = (ip: string): number => Number(parseIp(ip).value);
const hex = (n: number): string => n.toString(16);

/** The sending filter of a peer's address: its bucket and its handle there. */
function peerSlot(ip: string): { bucket: string; handle: string } {
  const a = v4(ip);
  const bucket = hex(a & 0xff);
  return { bucket, handle: `${TABLE}:${bucket}:${hex(((a >>> 8) & ((1 << NODE_BITS) - 1)) + 1)}` };
}

/** The VXLAN link's sending table: its clsact qdisc, the hash table, and a root filter per subnet hashing into it. */
export function sendTable(vxlan: string, subnets: readonly string[]): string[] {
  return [
    `qdisc replace dev ${vxlan} clsact`,
    `filter add dev ${vxlan} egress prio ${SEND_PRIO} handle ${TABLE}: protocol ip u32 divisor 256`,
    ...subnets.map((s, i) => `filter replace dev ${vxlan} egress prio ${SEND_PRIO} handle 800::${hex(i + 1)} protocol ip u32 ht 800:: match ip dst ${s} hashkey mask 0x000000ff at 16 link ${TABLE}:`),
  ];
}

/** Send a routed peer's frames to the underlay link as they are. */
export function sendDirect(vxlan: string, ip: string, underlay: string): string {
  const { bucket, handle } = peerSlot(ip);
  return `filter replace dev ${vxlan} egress prio ${SEND_PRIO} handle ${handle} protocol ip u32 ht ${TABLE}:${bucket}: match ip dst ${ip}/32 action mirred egress redirect dev ${underlay}`;
}

export function stopSending(vxlan: string, ip: string): string {
  return `filter del dev ${vxlan} egress prio ${SEND_PRIO} handle ${peerSlot(ip).handle} protocol ip u32`;
}

/**
 * The commands that make the VXLAN link's sending filters exactly `ips`', from `have`
 * (its egress filters as the kernel has them): the table made when it is missing, a
 * filter of an address no longer routed deleted, each wanted one replaced.
 */
export function reconcileSending(vxlan: string, subnets: readonly string[], ips: readonly string[], underlay: string, have: readonly U32Filter[]): string[] {
  const mine = have.filter((f) => f.prio === SEND_PRIO);
  const table = mine.some((f) => f.handle === `${TABLE}:`) ? [] : sendTable(vxlan, subnets);
  const wanted = new Set(ips.map((ip) => peerSlot(ip).handle));
  const stale = mine.filter((f) => f.handle.startsWith(`${TABLE}:`) && f.handle !== `${TABLE}:` && !wanted.has(f.handle));
  return [...table, ...stale.map((f) => `filter del dev ${vxlan} egress prio ${SEND_PRIO} handle ${f.handle} protocol ip u32`), ...ips.map((ip) => sendDirect(vxlan, ip, underlay))];
}

/** u32's key for a prefix at an offset of the IPv4 header (12: source, 16: destination). */
export function u32Prefix(cidr: string, at: number): U32Match {
  const c = parseCidr(cidr);
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return { value: hex(Number(c.network.value)).padStart(8, '0'), mask: hex(mask).padStart(8, '0'), at };
}

/** Each pair of the network's subnets, source and destination. */
function pairs(subnets: readonly string[]): [string, string][] {
  return subnets.flatMap((src) => subnets.map((dst): [string, string] => [src, dst]));
}

const sameKeys = (a: readonly U32Match[], b: readonly U32Match[]): boolean => a.length === b.length && a.every((k, i) => k.value === b[i]!.value && k.mask === b[i]!.mask && k.at === b[i]!.at);

/** Whether a filter of the underlay link's ingress is one of berth's receiving filters. */
const receiving = (f: U32Filter): boolean => f.prio === RECEIVE_PRIO && f.redirect?.side === 'ingress';

const dropReceiving = (underlay: string, f: U32Filter): string => `filter del dev ${underlay} ingress prio ${RECEIVE_PRIO} handle ${f.handle} protocol ip u32`;

/**
 * The underlay link's receiving filters for `vxlan`'s network, from `have`: those it lacks
 * added, and first any whose VXLAN link is gone deleted (a link made again after a crash
 * has another index: such a filter, found before the new one, would drop its frames).
 * The qdisc is made apart: it may be someone else's.
 */
export function receiveFilters(vxlan: string, subnets: readonly string[], underlay: string, have: readonly U32Filter[]): string[] {
  const dead = have.filter((f) => receiving(f) && f.redirect?.dev === undefined);
  const mine = have.filter((f) => receiving(f) && f.redirect?.dev === vxlan);
  const missing = pairs(subnets).filter(([src, dst]) => !mine.some((f) => sameKeys(f.matches, [u32Prefix(src, 12), u32Prefix(dst, 16)])));
  return [
    ...dead.map((f) => dropReceiving(underlay, f)),
    ...missing.map(([src, dst]) => `filter add dev ${underlay} ingress prio ${RECEIVE_PRIO} protocol ip u32 match ip src ${src} match ip dst ${dst} action mirred ingress redirect dev ${vxlan}`),
  ];
}

/** Delete the receiving filters of `vxlan`'s network. */
export function receiveGone(vxlan: string, underlay: string, have: readonly U32Filter[]): string[] {
  return have.filter((f) => receiving(f) && f.redirect?.dev === vxlan).map((f) => dropReceiving(underlay, f));
}

/** Delete receiving filters whose VXLAN link is gone or not one of `live` (after a crash, a network removed meanwhile). */
export function receiveStray(live: ReadonlySet<string>, underlay: string, have: readonly U32Filter[]): string[] {
  return have.filter((f) => receiving(f) && (f.redirect?.dev === undefined || (/^vx-[0-9a-f]{6}$/.test(f.redirect.dev) && !live.has(f.redirect.dev)))).map((f) => dropReceiving(underlay, f));
}
