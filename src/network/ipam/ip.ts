/**
 * IPv4 and IPv6 addresses and prefixes as plain, immutable data. Values are `bigint`s so
 * both families share one arithmetic; nothing here touches the kernel or the network.
 *
 * Parse errors use Go's wording (`invalid IP address: X`, `invalid CIDR address: X`),
 * which is what Docker prints for the same mistakes.
 */
import { invalid } from '../../errors.js';

export type Family = 4 | 6;

/** One address. `value` is the address as an unsigned integer of 32 or 128 bits. */
export interface IP {
  readonly family: Family;
  readonly value: bigint;
}

/**
 * A prefix as written (`10.1.2.3/16`): `address` keeps the given address (what `--bip`
 * means), `network` is the masked address (what `--subnet` means).
 */
export interface Cidr {
  readonly family: Family;
  readonly address: IP;
  readonly network: IP;
  readonly prefix: number;
}

/** Number of bits in an address of `family`. */
export function bitLength(family: Family): number {
  return family === 4 ? 32 : 128;
}

function maxValue(family: Family): bigint {
  return (1n << BigInt(bitLength(family))) - 1n;
}

/** The address of `family` with integer value `value`; throws if out of range. */
export function ipFromValue(family: Family, value: bigint): IP {
  if (value < 0n || value > maxValue(family)) {
    throw invalid(`invalid IP address: value ${value} out of range for IPv${family}`);
  }
  return { family, value };
}

// ---- parsing ----------------------------------------------------------------

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV4Value(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // Leading zeros are refused, as Go's netip does: "010" could mean octal 8.
    if (!DECIMAL_OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** Groups of one side of an IPv6 address; a dotted quad may end the last side. */
function parseV6Groups(side: string, last: boolean): number[] | undefined {
  if (side === '') return [];
  const pieces = side.split(':');
  const groups: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i] ?? '';
    if (last && i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseV4Value(piece);
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else if (HEX_GROUP.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function parseV6Value(s: string): bigint | undefined {
  const halves = s.split('::');
  let groups: number[];
  if (halves.length === 1) {
    const all = parseV6Groups(s, true);
    if (all === undefined || all.length !== 8) return undefined;
    groups = all;
  } else if (halves.length === 2) {
    const head = parseV6Groups(halves[0] ?? '', false);
    const tail = parseV6Groups(halves[1] ?? '', true);
    if (head === undefined || tail === undefined) return undefined;
    const missing = 8 - head.length - tail.length;
    // "::" stands for at least one group of zeros.
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    return undefined;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** Parses an address, or returns undefined. Zones (`fe80::1%eth0`) are not accepted. */
export function tryParseIp(s: string): IP | undefined {
  if (s.includes(':')) {
    const v = parseV6Value(s);
    return v === undefined ? undefined : { family: 6, value: v };
  }
  const v = parseV4Value(s);
  return v === undefined ? undefined : { family: 4, value: v };
}

/** Parses an address; throws `invalid IP address: <s>`. */
export function parseIp(s: string): IP {
  const ip = tryParseIp(s);
  if (ip === undefined) throw invalid(`invalid IP address: ${s}`);
  return ip;
}

const PREFIX_LENGTH = /^(0|[1-9][0-9]{0,2})$/;

/** Parses `addr/len`, or returns undefined. */
export function tryParseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = tryParseIp(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (ip === undefined || !PREFIX_LENGTH.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > bitLength(ip.family)) return undefined;
  return makeCidr(ip, prefix);
}

/** Parses `addr/len`; throws `invalid CIDR address: <s>`. */
export function parseCidr(s: string): Cidr {
  const c = tryParseCidr(s);
  if (c === undefined) throw invalid(`invalid CIDR address: ${s}`);
  return c;
}

/** The prefix `ip/prefix`; throws if the length does not fit the family. */
export function makeCidr(ip: IP, prefix: number): Cidr {
  const bits = bitLength(ip.family);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) {
    throw invalid(`invalid CIDR address: ${formatIp(ip)}/${prefix}`);
  }
  const network: IP = { family: ip.family, value: ip.value & mask(ip.family, prefix) };
  return { family: ip.family, address: ip, network, prefix };
}

function mask(family: Family, prefix: number): bigint {
  const host = BigInt(bitLength(family) - prefix);
  return maxValue(family) ^ ((1n << host) - 1n);
}

// ---- formatting -------------------------------------------------------------

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

/** RFC 5952: lowercase, no leading zeros, the longest (first on a tie) run of two or more zero groups as `::`. */
function formatV6(value: bigint): string {
  // IPv4-mapped addresses keep the dotted quad (RFC 5952 section 5), as Go prints them.
  if (value >> 32n === 0xffffn) return `::ffff:${formatV4(value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** The canonical text of an address (dotted quad, or RFC 5952 for IPv6). */
export function formatIp(ip: IP): string {
  return ip.family === 4 ? formatV4(ip.value) : formatV6(ip.value);
}

/** `address/prefix` as given, e.g. `172.17.0.1/16`. */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.address)}/${c.prefix}`;
}

/** `network/prefix`, e.g. `172.17.0.0/16`. */
export function formatNetwork(c: Cidr): string {
  return `${formatIp(c.network)}/${c.prefix}`;
}

/** The same prefix with the address masked to the network. */
export function canonicalCidr(c: Cidr): Cidr {
  return c.address.value === c.network.value ? c : { ...c, address: c.network };
}

/** True when the given address is the network address (`10.1.0.0/16`, not `10.1.2.3/16`). */
export function isCanonical(c: Cidr): boolean {
  return c.address.value === c.network.value;
}

// ---- arithmetic and relations -------------------------------------------------

export function ipEquals(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Orders IPv4 before IPv6, then by value. */
export function compareIp(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Orders by network address, then shorter prefix first (Go's netiputil.PrefixCompare). */
export function compareCidr(a: Cidr, b: Cidr): number {
  return compareIp(a.network, b.network) || a.prefix - b.prefix;
}

/** `ip + n`; throws when the result leaves the address space. */
export function addToIp(ip: IP, n: bigint): IP {
  return ipFromValue(ip.family, ip.value + n);
}

/** The number of addresses in the prefix (2^(bits-prefix)). */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bitLength(c.family) - c.prefix);
}

/** The network address. */
export function firstAddress(c: Cidr): IP {
  return c.network;
}

/** The last address (the IPv4 broadcast address). */
export function lastAddress(c: Cidr): IP {
  return { family: c.family, value: c.network.value + cidrSize(c) - 1n };
}

/** The n-th address of the prefix, counting the network address as 0. */
export function nthAddress(c: Cidr, n: bigint): IP {
  if (n < 0n || n >= cidrSize(c)) {
    throw invalid(`address index ${n} is outside ${formatNetwork(c)}`);
  }
  return { family: c.family, value: c.network.value + n };
}

export function cidrContains(c: Cidr, ip: IP): boolean {
  return ip.family === c.family && ip.value >= c.network.value && ip.value <= lastAddress(c).value;
}

/** True when every address of `inner` is in `outer`. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

/** True when the prefixes share at least one address (one then contains the other). */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && (cidrContains(a, b.network) || cidrContains(b, a.network));
}

/**
 * Docker's MAC address for a container: `02:42` followed by the four bytes of its IPv4
 * address, so 172.17.0.2 gets `02:42:ac:11:00:02`.
 */
export function macFromIPv4(ip: IP): string {
  if (ip.family !== 4) throw invalid(`a MAC address is derived from an IPv4 address, not ${formatIp(ip)}`);
  const bytes = [24n, 16n, 8n, 0n].map((shift) => Number((ip.value >> shift) & 0xffn));
  return ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
