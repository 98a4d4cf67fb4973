/**
 * The set and map elements each network, endpoint and publication contributes to berth's
 * nftables tables (see ruleset.ts for the sets and the rules that read them). Pure.
 *
 * A publication is one element: an interval key "host address . proto . host ports"
 * mapped to the container address. When host and container ports are equal (8080:8080,
 * 8000-8999:8000-8999) it goes to a `*_keep` map whose value is the address alone, so
 * DNAT keeps the port and a whole range is one element. A single port with another
 * number (8080:80) maps to "address . port". A range with an offset (8000-8999:80-1079)
 * costs one element per port: nftables cannot DNAT with a port offset on this kernel
 * (nft_nat has no proto-base register; only xtables' DNAT --to-destination a:b-c/base
 * does), so each port maps on its own. It is still one transaction and no rules.
 */
import { invalid } from '../../errors.js';
import { compareIp, formatIp, formatNetwork, ipFromValue, lastAddress, tryParseCidr, tryParseIp, type Cidr } from '../ipam/index.js';
import { isIpv6Loopback } from '../ports/serving.js';
import { formatRange, rangeLength } from '../ports/spec.js';
import type { FwEndpoint, FwNetwork, FwPublication, FwUnderlay } from './model.js';
import { byCodeUnit } from '../../util/order.js';

export type FwTable = 'inet' | 'bridge';

/** Names of berth's sets and maps (one vocabulary for elements, ruleset and tests). */
export const SETS = {
  bridges: 'bridges',
  internal: 'internal',
  iccPairs: 'icc_pairs',
  subnets4: 'subnets4',
  subnets6: 'subnets6',
  masq4: 'masq4',
  masq6: 'masq6',
  pub4Keep: 'pub4_keep',
  pub4Port: 'pub4_port',
  pub6Keep: 'pub6_keep',
  pub6Port: 'pub6_port',
  noIccPorts: 'no_icc_ports',
  swarmNodes4: 'swarm_nodes4',
  swarmNodes6: 'swarm_nodes6',
  encryptedVnis: 'encrypted_vnis',
} as const;
export type SetName = (typeof SETS)[keyof typeof SETS];

export interface ElementGroup {
  table: FwTable;
  set: SetName;
  /** Elements in nft syntax: `"br0"`, `10.0.0.0/24 . "br0"`, `0.0.0.0/0 . tcp . 8080 : 10.0.0.2 . 80`. */
  elements: string[];
}

/** An interface name as an nft string; anything that could escape the quotes is refused. */
export function ifname(name: string): string {
  if (!/^[^\s"\\/]{1,15}$/.test(name)) throw invalid(`invalid interface name for the firewall: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** An address as nft writes it; throws for one that is not. */
export function address(ip: string, family?: 4 | 6): string {
  const parsed = tryParseIp(ip);
  if (!parsed || (family && parsed.family !== family)) throw invalid(`invalid IP${family ? `v${family}` : ''} address: ${ip}`);
  return formatIp(parsed);
}

function subnet(cidr: string): Cidr {
  const c = tryParseCidr(cidr);
  if (!c) throw invalid(`invalid CIDR address: ${cidr}`);
  return c;
}

/**
 * A network's subnets of one family as the fewest interval elements: adjacent and
 * overlapping subnets merge into one range ("10.100.0.0-10.139.15.255"), a lone subnet
 * stays a prefix. Each element of a concatenated interval set costs the kernel work on
 * every later change of that set (a network of 10 000 /24s once took a 30 s transaction
 * to remove); contiguous subnets so cost one.
 */
export function subnetRanges(cidrs: readonly Cidr[]): string[] {
  const sorted = [...cidrs].sort((a, b) => compareIp(a.network, b.network));
  const ranges: { first: bigint; last: bigint; cidr: Cidr }[] = [];
  for (const c of sorted) {
    const first = c.network.value;
    const last = lastAddress(c).value;
    const prev = ranges[ranges.length - 1];
    if (prev && first <= prev.last + 1n) prev.last = last > prev.last ? last : prev.last;
    else ranges.push({ first, last, cidr: c });
  }
  return ranges.map(({ first, last, cidr }) =>
    first === cidr.network.value && last === lastAddress(cidr).value
      ? formatNetwork(cidr)
      : `${formatIp(ipFromValue(cidr.family, first))}-${formatIp(ipFromValue(cidr.family, last))}`,
  );
}

const group = (table: FwTable, set: SetName, elements: string[]): ElementGroup[] => (elements.length > 0 ? [{ table, set, elements }] : []);

/** Elements of a network: its bridge, its subnets, and what its options switch on. */
export function networkElements(net: FwNetwork): ElementGroup[] {
  const br = ifname(net.bridge);
  const subnets = net.subnets.map(subnet);
  const v4 = subnetRanges(subnets.filter((s) => s.family === 4));
  const v6 = subnetRanges(subnets.filter((s) => s.family === 6));
  const masq = net.masquerade && !net.internal;
  return [
    ...group('inet', SETS.bridges, [br]),
    ...group('inet', SETS.internal, net.internal ? [br] : []),
    ...group('inet', SETS.iccPairs, net.icc ? [`${br} . ${br}`] : []),
    ...group('inet', SETS.subnets4, v4.map((s) => `${s} . ${br}`)),
    ...group('inet', SETS.subnets6, v6.map((s) => `${s} . ${br}`)),
    ...group('inet', SETS.masq4, masq ? v4 : []),
    ...group('inet', SETS.masq6, masq ? v6 : []),
  ];
}

/** Elements of an endpoint: its bridge port, only when its network has ICC off. */
export function endpointElements(ep: FwEndpoint, net: FwNetwork): ElementGroup[] {
  return net.icc ? [] : group('bridge', SETS.noIccPorts, [ifname(ep.hostIfName)]);
}

function familyElements(pub: FwPublication, family: 4 | 6, target: string): ElementGroup[] {
  const wildcard = pub.hostIp === '' || pub.hostIp === (family === 4 ? '0.0.0.0' : '::');
  const host = wildcard ? (family === 4 ? '0.0.0.0/0' : '::/0') : address(pub.hostIp, family);
  const to = address(target, family);
  const keep = family === 4 ? SETS.pub4Keep : SETS.pub6Keep;
  const port = family === 4 ? SETS.pub4Port : SETS.pub6Port;
  const { hostPorts: h, containerPorts: c } = pub;
  if (rangeLength(h) !== rangeLength(c)) throw invalid(`publication ${formatRange(h)}:${formatRange(c)}/${pub.proto} is not an exact mapping`);
  if (h.start === c.start) return group('inet', keep, [`${host} . ${pub.proto} . ${formatRange(h)} : ${to}`]);
  const elements: string[] = [];
  for (let i = 0; i < rangeLength(h); i++) elements.push(`${host} . ${pub.proto} . ${h.start + i} : ${to} . ${c.start + i}`);
  return group('inet', port, elements);
}

/**
 * Elements of a publication, for each family it applies to (see the file comment). None
 * for an IPv6 host address of an IPv4-only container (nft cannot DNAT across families)
 * nor for ::1 (the kernel cannot DNAT from it): the daemon's relay serves those
 * (ports/serving.ts).
 */
export function publicationElements(pub: FwPublication): ElementGroup[] {
  const hostFamily = pub.hostIp === '' ? undefined : pub.hostIp.includes(':') ? 6 : 4;
  const loopback6 = isIpv6Loopback(pub.hostIp);
  return [
    ...(pub.ipv4 && hostFamily !== 6 ? familyElements(pub, 4, pub.ipv4) : []),
    ...(pub.ipv6 && hostFamily !== 4 && !loopback6 ? familyElements(pub, 6, pub.ipv6) : []),
  ];
}

/** Elements of the swarm's VXLAN guard: the nodes' addresses by family (when VXLAN arrives in the host's namespace), the encrypted VNIs (the port is in the rules). */
export function underlayElements(u: FwUnderlay): ElementGroup[] {
  const vni = (v: number): string => {
    if (!Number.isInteger(v) || v < 1 || v > 0xffffff) throw invalid(`invalid VXLAN ID: ${v}`);
    return String(v);
  };
  // A data path in a namespace of its own keeps its members there (data-path.ts).
  const members = u.netns === undefined ? u.members.map((m) => address(m)) : [];
  return [
    ...group('inet', SETS.swarmNodes4, members.filter((m) => !m.includes(':'))),
    ...group('inet', SETS.swarmNodes6, members.filter((m) => m.includes(':'))),
    ...group('inet', SETS.encryptedVnis, u.encryptedVnis.map(vni)),
  ];
}

/** Groups of the same set merged, duplicates dropped, in a stable order (table, then set as listed in SETS). */
export function mergeGroups(groups: readonly ElementGroup[]): ElementGroup[] {
  const order = Object.values(SETS) as string[];
  const byKey = new Map<string, { table: FwTable; set: SetName; elements: Set<string> }>();
  for (const g of groups) {
    const key = `${g.table} ${g.set}`;
    const entry = byKey.get(key) ?? { table: g.table, set: g.set, elements: new Set<string>() };
    for (const e of g.elements) entry.elements.add(e);
    byKey.set(key, entry);
  }
  return [...byKey.values()]
    .map((e) => ({ table: e.table, set: e.set, elements: [...e.elements] }))
    .sort((a, b) => byCodeUnit(a.table, b.table) || order.indexOf(a.set) - order.indexOf(b.set));
}
