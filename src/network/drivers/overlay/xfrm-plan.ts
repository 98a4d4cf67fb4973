/**
 * The IPsec plan of an encrypted overlay network between this host and one other, as
 * Docker's overlay driver programs it: ESP in transport mode over the VXLAN datagrams,
 * AES-GCM (rfc4106) with a 16-byte key from the swarm and the SPI as the 4-byte salt.
 *
 * For each of the swarm's keys (the primary first) the SPIs of both directions are
 * derived from the two addresses and the key's tag, so both hosts compute the same ones
 * without talking: the primary key gets an outbound association and an inbound one, the
 * others an inbound one only (the peer may still send with them during a rotation). One
 * outbound policy sends the VXLAN the firewall marked (an encrypted network's VNIs,
 * firewall/ruleset.ts) to the peer through the primary's association; the firewall also
 * drops such VXLAN when it arrives in cleartext, and a policy behind all the others
 * blocks marked VXLAN to a host without an association. Pure.
 */
import { invalid } from '../../../errors.js';
import type { XfrmPolicy, XfrmState } from '../../../kernel/xfrm.js';
import { IPSEC_MARK } from '../../firewall/model.js';
import { tryParseIp } from '../../ipam/index.js';
import type { NetworkKey } from '../../shared.js';

export const KEY_BYTES = 16;
/** The ICV's length, in bits (Docker's). */
const ICV_BITS = 64;

export interface PairPlan {
  states: XfrmState[];
  policies: XfrmPolicy[];
}

/** The associations and policy between `local` and `remote` for VXLAN on `port`, with `keys` (primary first). */
export function pairPlan(o: { local: string; remote: string; keys: readonly NetworkKey[]; port: number }): PairPlan {
  if (o.keys.length === 0) throw invalid('the swarm has no encryption key for its data path');
  const states: XfrmState[] = [];
  let policy: XfrmPolicy | undefined;
  o.keys.forEach((k, i) => {
    const forward = buildSpi(o.local, o.remote, k.tag);
    const reverse = buildSpi(o.remote, o.local, k.tag);
    states.push(association(o.remote, o.local, reverse, k));
    if (i > 0) return;
    states.push(association(o.local, o.remote, forward, k));
    policy = { src: hostPrefix(o.local), dst: hostPrefix(o.remote), dport: o.port, mark: IPSEC_MARK, tmpl: { src: o.local, dst: o.remote, spi: forward, reqid: IPSEC_MARK } };
  });
  return { states, policies: policy ? [policy] : [] };
}

/**
 * Behind every pair's policy: marked VXLAN to a host that has none (yet, or any more) is
 * blocked, never sent in cleartext (Docker has no such guard).
 */
export function blockPolicy(local: string, port: number): XfrmPolicy {
  const any = local.includes(':') ? '::/0' : '0.0.0.0/0';
  return { src: any, dst: any, dport: port, mark: IPSEC_MARK, priority: BLOCK_PRIORITY };
}

/** Below the pairs' policies (priority 0 by default): they go first. */
const BLOCK_PRIORITY = 10_000;

const hostPrefix = (ip: string): string => `${ip}/${ip.includes(':') ? 128 : 32}`;

function association(src: string, dst: string, spi: number, k: NetworkKey): XfrmState {
  if (!new RegExp(`^[0-9a-f]{${KEY_BYTES * 2}}$`).test(k.key)) throw invalid(`an encryption key of the swarm is not ${KEY_BYTES} bytes of hex`);
  return { src, dst, spi, reqid: IPSEC_MARK, aeadKey: k.key + spi.toString(16).padStart(8, '0'), icvBits: ICV_BITS };
}

/**
 * Docker's buildSPI: FNV-1a (32 bits) over the source address in 16 bytes (an IPv4
 * address mapped into IPv6), the tag (4 bytes, big-endian), the destination likewise.
 */
export function buildSpi(src: string, dst: string, tag: number): number {
  let h = 0x811c9dc5;
  const feed = (bytes: readonly number[]): void => {
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  };
  feed(as16(src));
  feed([(tag >>> 24) & 0xff, (tag >>> 16) & 0xff, (tag >>> 8) & 0xff, tag & 0xff]);
  feed(as16(dst));
  return h;
}

function as16(ip: string): number[] {
  const parsed = tryParseIp(ip);
  if (!parsed) throw invalid(`invalid IP address: ${ip}`);
  const value = parsed.family === 4 ? (0xffffn << 32n) | parsed.value : parsed.value;
  return Array.from({ length: 16 }, (_, i) => Number((value >> BigInt(8 * (15 - i))) & 0xffn));
}
