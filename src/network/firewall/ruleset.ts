/**
 * berth's nftables ruleset, rendered as `nft -f` text. The rules are fixed; everything
 * that varies (networks, ICC-off bridge ports, published ports) is an element of a set
 * or map, so any change is a handful of `add element`/`delete element` commands and the
 * packet path does set lookups, never a walk over per-container rules.
 *
 * Two tables, both berth's own:
 *  - `inet berth`: NAT (published ports, hairpin, localhost, masquerade) and the forward
 *    filter (internal networks, isolation between networks, no direct access from outside).
 *  - `bridge berth`: ICC off. Frames between two ports of one bridge never reach inet
 *    hooks unless br_netfilter is active, so the bridge family drops them; it matches
 *    frames not addressed to the bridge itself (pkttype other), which leaves published
 *    ports reachable by hairpin (those go to the gateway's MAC) with or without br_netfilter.
 *    Its chains exist only while some endpoint has ICC off: a base chain costs every frame
 *    of every bridge (an overlay's included) a pass, and most hosts have nothing to drop.
 */
import { invalid } from '../../errors.js';
import { IPSEC_MARK, type FirewallModel, type FwEndpoint, type FwNetwork, type FwPublication, type FwUnderlay } from './model.js';
import { endpointElements, mergeGroups, networkElements, publicationElements, SETS, underlayElements, type ElementGroup, type FwTable, type SetName } from './elements.js';

export const TABLE = 'berth';

interface SetDef {
  table: FwTable;
  /** `type …` line: a set's key type, or a map's "key : value"; `typeof …` when `typeOf` (a raw payload key). */
  type: string;
  typeOf?: true;
  interval: boolean;
  comment: string;
}

const SET_DEFS: Record<SetName, SetDef> = {
  [SETS.bridges]: { table: 'inet', type: 'ifname', interval: false, comment: 'bridges of berth networks' },
  [SETS.internal]: { table: 'inet', type: 'ifname', interval: false, comment: 'bridges of internal networks' },
  [SETS.iccPairs]: { table: 'inet', type: 'ifname . ifname', interval: false, comment: 'bridge . bridge of networks with ICC on' },
  [SETS.subnets4]: { table: 'inet', type: 'ipv4_addr . ifname', interval: true, comment: 'subnet . its bridge' },
  [SETS.subnets6]: { table: 'inet', type: 'ipv6_addr . ifname', interval: true, comment: 'subnet . its bridge' },
  [SETS.masq4]: { table: 'inet', type: 'ipv4_addr', interval: true, comment: 'subnets masqueraded on egress' },
  [SETS.masq6]: { table: 'inet', type: 'ipv6_addr', interval: true, comment: 'subnets masqueraded on egress' },
  [SETS.pub4Keep]: {
    table: 'inet',
    type: 'ipv4_addr . inet_proto . inet_service : ipv4_addr',
    interval: true,
    comment: 'published ports, same port in the container',
  },
  [SETS.pub4Port]: {
    table: 'inet',
    type: 'ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service',
    interval: true,
    comment: 'published ports, other port in the container',
  },
  [SETS.pub6Keep]: {
    table: 'inet',
    type: 'ipv6_addr . inet_proto . inet_service : ipv6_addr',
    interval: true,
    comment: 'published ports, same port in the container',
  },
  [SETS.pub6Port]: {
    table: 'inet',
    type: 'ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service',
    interval: true,
    comment: 'published ports, other port in the container',
  },
  [SETS.noIccPorts]: { table: 'bridge', type: 'ifname', interval: false, comment: 'bridge ports of networks with ICC off' },
  [SETS.swarmNodes4]: { table: 'inet', type: 'ipv4_addr', interval: false, comment: "the swarm's nodes: the only sources of VXLAN" },
  [SETS.swarmNodes6]: { table: 'inet', type: 'ipv6_addr', interval: false, comment: "the swarm's nodes: the only sources of VXLAN" },
  // The VNI: 24 bits at byte 4 of the VXLAN header, 12 bytes into the UDP datagram.
  [SETS.encryptedVnis]: { table: 'inet', type: '@th,96,24', typeOf: true, interval: false, comment: 'VNIs of encrypted overlay networks' },
};

const hexMark = (m: number): string => `0x${m.toString(16).padStart(8, '0')}`;

/**
 * The inet table's chains. What every host has: the loopback guard, published ports, NAT,
 * the forward filter. In a swarm, the VXLAN guard, with the data-path port written into
 * its rules: every packet of every overlay crosses them on both hosts, so they cost a
 * compare, not a set lookup, until the packet is VXLAN. The rules of encrypted networks
 * exist only while such a network does (their set lookups would cost every packet
 * otherwise). A change of that shape renders the table again (changeUnderlay); a change
 * of the nodes or of other networks is a change of elements.
 */
function inetChains(model: FirewallModel): string {
  const u = model.underlay;
  const vxlan = u ? `udp dport ${portMatch(u.vxlanPorts)}` : '';
  // VXLAN that arrives in a namespace of its own is guarded there (data-path.ts).
  const hostVxlan = u !== undefined && u.netns === undefined;
  const encrypted = u !== undefined && u.encryptedVnis.length > 0;
  const rules = (...lines: (string | false)[]): string => lines.filter((l): l is string => l !== false).map((l) => `\t\t${l}\n`).join('');
  const chain = (name: string, body: string): string => `\tchain ${name} {\n${body}\t}\n`;
  // With --userland-proxy, TCP to 127.0.0.0/8 reaches the relay's socket instead of the
  // DNAT. Only TCP: the relay does not serve IPv4 UDP, and has no SCTP at all.
  const loopbackProxy = model.loopbackByProxy ? 'meta l4proto tcp ip daddr 127.0.0.0/8 return comment "served by the userland proxy"' : false;
  return [
    chain('guard', rules(
      'comment "only the host reaches its loopback: DNAT runs before routing drops a martian 127/8"',
      'type filter hook prerouting priority raw; policy accept;',
      'ip daddr 127.0.0.0/8 iifname != "lo" drop comment "loopback from a container or another host"',
      hostVxlan && `${vxlan} notrack comment "the swarm's VXLAN: stateless, no conntrack entry per flow"`,
    )),
    chain('dnat_in', rules(
      'comment "published ports: connections from outside and from containers"',
      'type nat hook prerouting priority dstnat; policy accept;',
      'fib daddr type local jump publish',
    )),
    chain('dnat_local', rules(
      'comment "published ports: connections from the host itself, 127.0.0.1 included"',
      'type nat hook output priority -100; policy accept;',
      'ip6 daddr ::1 return comment "no DNAT from ::1 in IPv6: berth\'s relay serves it"',
      loopbackProxy,
      'fib daddr type local jump publish',
    )),
    chain('publish', rules(
      'meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @pub4_port',
      'meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @pub4_keep',
      'meta l4proto { tcp, udp, sctp } dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub6_port',
      'meta l4proto { tcp, udp, sctp } dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub6_keep',
    )),
    chain('source_nat', rules(
      'type nat hook postrouting priority srcnat; policy accept;',
      'ct status dnat ip saddr . oifname @subnets4 masquerade comment "hairpin"',
      'ct status dnat ip6 saddr . oifname @subnets6 masquerade comment "hairpin"',
      'ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade comment "from the host\'s loopback"',
      'ip saddr @masq4 ip saddr . oifname != @subnets4 masquerade comment "egress"',
      'ip6 saddr @masq6 ip6 saddr . oifname != @subnets6 masquerade comment "egress"',
    )),
    chain('forward', rules(
      'type filter hook forward priority filter; policy accept;',
      'iifname . oifname @icc_pairs accept comment "within a network"',
      'iifname @internal drop comment "internal network: no way out"',
      'oifname @internal drop comment "internal network: no way in"',
      'oifname @bridges ct state established,related accept',
      'oifname @bridges ct status dnat accept comment "published ports"',
      'oifname @bridges drop comment "other networks and outside: no direct access"',
    )),
    ...(!hostVxlan
      ? []
      : [
          chain('underlay_in', rules(
            `comment "VXLAN of swarm overlay networks: from the swarm's nodes only${encrypted ? ', an encrypted network\'s through IPsec only' : ''}"`,
            'type filter hook input priority filter; policy accept;',
            `${vxlan} jump vxlan_in`,
          )),
          chain('vxlan_in', rules(
            'ip saddr != @swarm_nodes4 counter drop comment "VXLAN from outside the swarm"',
            'ip6 saddr != @swarm_nodes6 counter drop comment "VXLAN from outside the swarm"',
            encrypted && '@th,96,24 @encrypted_vnis meta ipsec missing counter drop comment "an encrypted network\'s VXLAN in cleartext"',
          )),
          chain('underlay_untracked', rules(
            'comment "the swarm\'s VXLAN leaves untracked: conntrack would keep an entry per inner flow\'s source port"',
            'type filter hook output priority raw; policy accept;',
            `${vxlan} notrack`,
          )),
        ]),
    ...(encrypted
      ? [
          chain('underlay_out', rules(
            'comment "an encrypted network\'s VXLAN takes berth\'s IPsec policies, which select this mark"',
            'type route hook output priority mangle; policy accept;',
            `${vxlan} @th,96,24 @encrypted_vnis meta mark set ${hexMark(IPSEC_MARK)}`,
          )),
        ]
      : []),
  ].join('\n');
}

/** The data-path port(s) as a rule's match: `4789`, or an anonymous set while a change of port has two. */
export function portMatch(ports: readonly number[]): string {
  const valid = ports.map((p) => {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalid(`invalid VXLAN port: ${p}`);
    return String(p);
  });
  return valid.length === 1 ? valid[0]! : `{ ${valid.join(', ')} }`;
}

/** What of the swarm's underlay is written into the rules (not the sets): a change of it renders the table again. */
export function underlayShape(u: FwUnderlay | undefined): string {
  return u === undefined ? 'none' : JSON.stringify({ ports: u.vxlanPorts, encrypted: u.encryptedVnis.length > 0, netns: u.netns?.path ?? '' });
}

const BRIDGE_CHAINS = `	chain icc_unicast {
		type filter hook prerouting priority -300; policy accept;
		iifname @no_icc_ports meta pkttype other meta protocol { ip, ip6 } drop comment "ICC off"
	}

	chain icc_flood {
		type filter hook forward priority filter; policy accept;
		iifname @no_icc_ports oifname @no_icc_ports meta pkttype { broadcast, multicast } meta protocol { ip, ip6 } drop comment "ICC off"
	}
`;

function renderSet(name: SetName, elements: readonly string[]): string {
  const d = SET_DEFS[name];
  const kind = d.type.includes(' : ') ? 'map' : 'set';
  const lines = [`\t${kind} ${name} {`, `\t\t${d.typeOf ? 'typeof' : 'type'} ${d.type}`];
  if (d.interval) lines.push('\t\tflags interval');
  lines.push(`\t\tcomment "${d.comment}"`);
  if (elements.length > 0) lines.push(`\t\telements = { ${elements.join(', ')} }`);
  lines.push('\t}', '');
  return lines.join('\n');
}

function renderTable(table: FwTable, groups: readonly ElementGroup[], model: FirewallModel): string {
  const names = (Object.keys(SET_DEFS) as SetName[]).filter((n) => SET_DEFS[n].table === table);
  const sets = names.map((n) => renderSet(n, groups.find((g) => g.table === table && g.set === n)?.elements ?? [])).join('\n');
  const iccOff = groups.some((g) => g.set === SETS.noIccPorts && g.elements.length > 0);
  const chains = table === 'inet' ? inetChains(model) : iccOff ? BRIDGE_CHAINS : '';
  return `table ${table} ${TABLE} {\n\tcomment "managed by berthd: changes are overwritten"\n\n${sets}${chains === '' ? '' : `\n${chains}`}}\n`;
}

/** Every element of a model (networks, ICC-off endpoints, publications), merged per set. */
export function modelElements(model: FirewallModel): ElementGroup[] {
  const nets = new Map(model.networks.map((n) => [n.id, n]));
  const endpoints = model.endpoints.flatMap((ep) => {
    const net = nets.get(ep.networkId);
    return net ? endpointElements(ep, net) : [];
  });
  const underlay = model.underlay ? underlayElements(model.underlay) : [];
  return mergeGroups([...model.networks.flatMap(networkElements), ...endpoints, ...model.publications.flatMap(publicationElements), ...underlay]);
}

/**
 * The whole ruleset for `model`, as one transaction that replaces berth's tables (and
 * touches no other): used at start, by reconcile, and after anyone flushed the ruleset.
 * Idempotent: the `add table` lines make the deletes valid when the tables are missing.
 */
export function renderFull(model: FirewallModel): string {
  const groups = modelElements(model);
  return [
    `add table inet ${TABLE}`,
    `delete table inet ${TABLE}`,
    `add table bridge ${TABLE}`,
    `delete table bridge ${TABLE}`,
    renderTable('inet', groups, model) + renderTable('bridge', groups, model),
  ].join('\n');
}

/** The tables with no elements: the fixed part of the ruleset. */
export const renderBase = (): string => renderFull({ networks: [], endpoints: [], publications: [] });

/** `add element …` / `delete element …` lines for element groups, one line per set. */
export function renderElements(op: 'add' | 'delete', groups: readonly ElementGroup[]): string {
  const merged = mergeGroups(groups);
  const key = (e: string): string => (op === 'delete' ? (e.split(' : ')[0] ?? e) : e);
  return merged.map((g) => `${op} element ${g.table} ${TABLE} ${g.set} { ${g.elements.map(key).join(', ')} }\n`).join('');
}

export const addNetwork = (net: FwNetwork): string => renderElements('add', networkElements(net));
export const removeNetwork = (net: FwNetwork): string => renderElements('delete', networkElements(net));
/** The bridge table's chains, added in the transaction of the first ICC-off endpoint (see the header). */
export const addBridgeChains = (): string => `table bridge ${TABLE} {\n${BRIDGE_CHAINS}}\n`;
/** Removed in the transaction of the last ICC-off endpoint's departure. */
export const removeBridgeChains = (): string => `delete chain bridge ${TABLE} icc_unicast\ndelete chain bridge ${TABLE} icc_flood\n`;

/** How many bridge ports have ICC off in `model`: the bridge chains exist while this is not 0. */
export function iccOffPorts(model: FirewallModel): number {
  return modelElements(model).find((g) => g.set === SETS.noIccPorts)?.elements.length ?? 0;
}

export const addEndpoint = (ep: FwEndpoint, net: FwNetwork): string => renderElements('add', endpointElements(ep, net));
export const removeEndpoint = (ep: FwEndpoint, net: FwNetwork): string => renderElements('delete', endpointElements(ep, net));
export const addPublications = (pubs: readonly FwPublication[]): string => renderElements('add', pubs.flatMap(publicationElements));
export const removePublications = (pubs: readonly FwPublication[]): string => renderElements('delete', pubs.flatMap(publicationElements));

/**
 * What turns the swarm's VXLAN guard `from` into `to` (either undefined: outside a swarm):
 * only the elements that differ, or, when what the rules say changes (joining or leaving,
 * the port, the first or last encrypted network, a directly routed one coming or going), the whole ruleset
 * of `after` (the model with `to`) in one transaction.
 */
export function changeUnderlay(from: FwUnderlay | undefined, to: FwUnderlay | undefined, model: () => FirewallModel): string {
  if (underlayShape(from) !== underlayShape(to)) return renderFull(model());
  const before = from ? underlayElements(from) : [];
  const after = to ? underlayElements(to) : [];
  const minus = (a: readonly ElementGroup[], b: readonly ElementGroup[]): ElementGroup[] =>
    a.map((g) => {
      const other = new Set(b.find((x) => x.set === g.set)?.elements ?? []);
      return { ...g, elements: g.elements.filter((e) => !other.has(e)) };
    }).filter((g) => g.elements.length > 0);
  const gone = minus(before, after);
  const come = minus(after, before);
  return (gone.length > 0 ? renderElements('delete', gone) : '') + (come.length > 0 ? renderElements('add', come) : '');
}
