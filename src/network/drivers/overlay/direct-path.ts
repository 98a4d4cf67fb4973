/**
 * Direct routing's data plane: tc filters that move a routed peer's frames between the
 * VXLAN link and the underlay link as they are, never through the host's IP stack.
 *
 * - Sending: the VXLAN link's egress looks each IPv4 frame's destination up in its
 *   subnet's u32 hash table (256 buckets keyed on the address's last byte, so the lookup
 *   stays one bucket as peers grow) and redirects a routed peer's frame to the underlay
 *   link's egress. The container addressed it to the peer's own MAC (its neighbour
 *   entry), so it arrives there.
 * - Receiving: the underlay link's ingress hands a frame from the network's subnet to its
 *   subnet up to the VXLAN link, whose macvlans deliver it by MAC, as if VXLAN had.
 *
 * What the underlay sees changes: the containers' MACs and addresses travel on it, and no
 * host decrements the TTL. The receiving filter checks subnets, not which host sent the
 * frame: a machine on the segment can send into the network (as it could reach the host).
 *
 * A sending filter's handle is derived from the address (none the kernel picks), so one
 * is replaced or deleted without reading the table; a restart reads the tables and makes
 * them exact. The receiving filters are on a link berth does not own: they go with their
 * network, and a sweep removes any whose VXLAN link is gone (it would drop what it
 * matches). Pure: commands for `tc -batch`.
 */
import type { U32Filter, U32Match } from '../../../kernel/tc.js';
import { invalid } from '../../../errors.js';
import { DIRECT_ROUTING_OPTION } from './config.js';
import { cidrContains, parseCidr, parseIp } from '../../ipam/index.js';

/** The receiving filters' priority on the underlay link (0xb3: "b3" for berth). */
export const RECEIVE_PRIO = 179;
const SEND_PRIO = 1;
/**
 * A sending filter's node id within its bucket is the address's bits above the last
 * byte: 11 of them (the id has 12, and 0 asks the kernel to pick), unique in a /13 or
 * smaller. Each subnet has a table of its own, so subnets cannot collide.
 */
const NODE_BITS = 11;
export const WIDEST_PREFIX = 32 - 8 - NODE_BITS;

const hex = (n: number): string => n.toString(16);

/** u32's key for a prefix at an offset of the IPv4 header (12: source, 16: destination). */
export function u32Prefix(cidr: string, at: number): U32Match {
  const c = parseCidr(cidr);
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return { value: hex(Number(c.network.value)).padStart(8, '0'), mask: hex(mask).padStart(8, '0'), at };
}

const sameKeys = (a: readonly U32Match[], b: readonly U32Match[]): boolean => a.length === b.length && a.every((k, i) => k.value === b[i]!.value && k.mask === b[i]!.mask && k.at === b[i]!.at);

/** A u32 filter of berth's receiving priority that redirects into a link (the kinds others' may be are left alone). */
const receiving = (f: U32Filter): boolean => f.kind === 'u32' && f.prio === RECEIVE_PRIO && f.redirect?.side === 'ingress';

const dropReceiving = (underlay: string, f: { handle: string }): string => `filter del dev ${underlay} ingress prio ${RECEIVE_PRIO} handle ${f.handle} protocol ip u32`;

/** One directly routed network's filters: its VXLAN link's and its IPv4 subnets'. */
export class DirectPath {
  constructor(
    private readonly vxlan: string,
    private readonly subnets: readonly string[],
  ) {
    const wide = subnets.find((s) => parseCidr(s).prefix < WIDEST_PREFIX);
    if (wide !== undefined) throw invalid(`${DIRECT_ROUTING_OPTION} needs subnets of /${WIDEST_PREFIX} or smaller: ${wide} is wider`);
  }

  /** The VXLAN link's sending tables: its clsact qdisc, and per subnet a hash table and the root filter hashing into it. */
  sendTables(): string[] {
    return ['qdisc replace dev ' + this.vxlan + ' clsact', ...this.subnets.flatMap((_, i) => [this.table(i), this.root(i)])];
  }

  /** Send a routed peer's frames to the underlay link as they are (nothing for an address outside the subnets). */
  send(ip: string, underlay: string): string[] {
    const slot = this.slot(ip);
    return slot ? [`filter replace dev ${this.vxlan} egress prio ${SEND_PRIO} handle ${slot.handle} protocol ip u32 ht ${slot.bucket} match ip dst ${ip}/32 action mirred egress redirect dev ${underlay}`] : [];
  }

  stop(ip: string): string[] {
    const slot = this.slot(ip);
    return slot ? [`filter del dev ${this.vxlan} egress prio ${SEND_PRIO} handle ${slot.handle} protocol ip u32`] : [];
  }

  /**
   * The commands that make the VXLAN link's sending filters exactly `ips`', from `have`
   * (its egress filters as the kernel has them): a missing table made, the root filters
   * made again (one lost halfway would leave its table unreached), a filter of an address
   * no longer routed deleted, each wanted one replaced.
   */
  reconcileSending(ips: readonly string[], underlay: string, have: readonly U32Filter[]): string[] {
    const mine = have.filter((f) => f.kind === 'u32' && f.prio === SEND_PRIO);
    const tables = this.subnets.flatMap((_, i) => [...(mine.some((f) => f.handle === `${hex(i + 1)}:`) ? [] : [this.table(i)]), this.root(i)]);
    const wanted = new Set(ips.flatMap((ip) => this.slot(ip)?.handle ?? []));
    const stale = mine.filter((f) => /^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+$/.test(f.handle) && !f.handle.startsWith('800:') && !wanted.has(f.handle));
    return [...tables, ...stale.map((f) => `filter del dev ${this.vxlan} egress prio ${SEND_PRIO} handle ${f.handle} protocol ip u32`), ...ips.flatMap((ip) => this.send(ip, underlay))];
  }

  /**
   * The underlay link's receiving filters for this network, from `have`: those it lacks
   * added, and first any whose VXLAN link is gone deleted (a link made again after a crash
   * has another index: such a filter, found before the new one, would drop its frames).
   * The qdisc is made apart: it may be someone else's.
   */
  receive(underlay: string, have: readonly U32Filter[]): { dead: string[]; add: string[] } {
    const mine = have.filter((f) => receiving(f) && f.redirect?.dev === this.vxlan);
    const missing = this.pairs().filter(([src, dst]) => !mine.some((f) => sameKeys(f.matches, [u32Prefix(src, 12), u32Prefix(dst, 16)])));
    return {
      dead: deadReceiving(have).map((handle) => dropReceiving(underlay, { handle })),
      add: missing.map(([src, dst]) => `filter add dev ${underlay} ingress prio ${RECEIVE_PRIO} protocol ip u32 match ip src ${src} match ip dst ${dst} action mirred ingress redirect dev ${this.vxlan}`),
    };
  }

  /** Delete this network's receiving filters. */
  receiveGone(underlay: string, have: readonly U32Filter[]): string[] {
    return have.filter((f) => receiving(f) && f.redirect?.dev === this.vxlan).map((f) => dropReceiving(underlay, f));
  }

  private table(i: number): string {
    return `filter add dev ${this.vxlan} egress prio ${SEND_PRIO} handle ${hex(i + 1)}: protocol ip u32 divisor 256`;
  }

  private root(i: number): string {
    return `filter replace dev ${this.vxlan} egress prio ${SEND_PRIO} handle 800::${hex(i + 1)} protocol ip u32 ht 800:: match ip dst ${this.subnets[i]!} hashkey mask 0x000000ff at 16 link ${hex(i + 1)}:`;
  }

  /** A peer's sending filter: its subnet's table, the bucket of its last byte, its handle there. */
  private slot(ip: string): { bucket: string; handle: string } | undefined {
    const address = parseIp(ip);
    const i = this.subnets.findIndex((s) => cidrContains(parseCidr(s), address));
    if (i < 0) return undefined;
    const a = Number(address.value);
    const table = hex(i + 1);
    return { bucket: `${table}:${hex(a & 0xff)}:`, handle: `${table}:${hex(a & 0xff)}:${hex(((a >>> 8) & ((1 << NODE_BITS) - 1)) + 1)}` };
  }

  /** Each pair of the network's subnets, source and destination. */
  private pairs(): [string, string][] {
    return this.subnets.flatMap((src) => this.subnets.map((dst): [string, string] => [src, dst]));
  }
}

/** Delete receiving filters whose VXLAN link is gone or not one of `live` (after a crash, a network removed meanwhile). */
export function receiveStray(live: ReadonlySet<string>, underlay: string, have: readonly U32Filter[]): string[] {
  return have.filter((f) => receiving(f) && (f.redirect?.dev === undefined || (/^vx-[0-9a-f]{6}$/.test(f.redirect.dev) && !live.has(f.redirect.dev)))).map((f) => dropReceiving(underlay, f));
}

/** What `berth doctor` reads of a directly routed network's filters: its VXLAN link's sending tables and routed peers, and whether the underlay link hands its frames up. */
export function directState(vxlan: string, egress: readonly U32Filter[], ingress: readonly U32Filter[]): { sending: boolean; peers: number; receiving: boolean } {
  const mine = egress.filter((f) => f.kind === 'u32' && f.prio === SEND_PRIO);
  return {
    sending: mine.some((f) => f.handle === '1:') && mine.some((f) => f.handle.startsWith('800:') && f.handle !== '800:'),
    peers: mine.filter((f) => f.redirect !== undefined).length,
    receiving: ingress.some((f) => receiving(f) && f.redirect?.dev === vxlan),
  };
}

/** The handles of receiving filters whose VXLAN link is gone (each drops what it matches). */
export function deadReceiving(ingress: readonly U32Filter[]): string[] {
  return ingress.filter((f) => receiving(f) && f.redirect?.dev === undefined).map((f) => f.handle);
}

/**
 * After receiving filters were deleted: the commands that tidy the underlay link. With
 * none of berth's left, its priority goes (an empty u32 root table stays otherwise); with
 * no filter of anyone's left, the clsact qdisc goes too.
 */
export function tidyUnderlay(underlay: string, ingress: readonly U32Filter[], egress: readonly U32Filter[]): string[] {
  const ours = (f: U32Filter): boolean => f.kind === 'u32' && f.prio === RECEIVE_PRIO;
  // A u32 priority's root table lists as a filter of its own (`800:`): only keys count.
  if (ingress.some((f) => ours(f) && !f.handle.endsWith(':'))) return [];
  const prio = ingress.some(ours) ? [`filter del dev ${underlay} ingress prio ${RECEIVE_PRIO} protocol ip u32`] : [];
  return ingress.some((f) => !ours(f)) || egress.length > 0 ? prio : [...prio, `qdisc del dev ${underlay} clsact`];
}
