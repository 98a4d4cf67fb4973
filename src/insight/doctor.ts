/**
 * `berth doctor`: what keeps containers' traffic from flowing on this host, found in
 * what the kernel holds and explained in berth's terms. Pure: the facts are gathered
 * elsewhere (facts.ts) so every verdict is unit-tested against made-up hosts.
 */
import type { NodeClock } from '../cluster/clock.js';
import { FEATURES, type KernelFeature, type KernelFeatures } from '../kernel/features.js';
import { cidrsOverlap, parseCidr, tryParseCidr } from '../network/ipam/index.js';
import { admissionTable } from '../network/drivers/overlay/admission.js';

export type Verdict = 'ok' | 'warn' | 'fail' | 'info';

export interface Check {
  /** A stable name for scripts ("forwarding", "foreign-firewall:ip filter"). */
  id: string;
  verdict: Verdict;
  /** One line: what was found. */
  summary: string;
  /** What it means for containers, and what to do. */
  hint?: string;
}

export interface Report {
  /** false when any check failed: the exit status of `berth doctor`. */
  healthy: boolean;
  checks: Check[];
}

/** A table some other tool made in the daemon's namespace, and what it would do to forwarded packets. */
export interface ForeignTable {
  family: string;
  name: string;
  /** A forward hook chain whose policy is drop (iptables' FORWARD -P DROP among them). */
  forwardDrop: boolean;
}

/** An overlay network this host has: its links' MTU and what the underlay carries. */
export interface OverlayMtu {
  network: string;
  linkMtu: number;
  underlayMtu: number;
  /** Routed directly between hosts of one segment: its links carry routed packets, without VXLAN's bytes (containers' routes keep VXLAN's MTU for the rest). */
  directRouted?: true;
}

export interface DoctorFacts {
  /** sysctl values as read; undefined when the key does not exist. */
  sysctls: { ipv4Forward?: string; ipv6Forward?: string; bridgeNfCallIptables?: string };
  /** Whether any network has IPv6 (its forwarding matters then). */
  ipv6: boolean;
  /** Whether berth runs its firewall (--iptables / --firewall), and which of its tables exist. */
  firewall: { enforcing: boolean; tables: string[] };
  foreignTables: ForeignTable[];
  features: KernelFeatures;
  /** The address pools berth takes subnets from, and the host's routes (not berth's own links'). */
  pools: string[];
  hostRoutes: { dst: string; dev: string | undefined }[];
  /** Links the model expects (name → what it is for) and the berth-owned links the kernel has. */
  expectedLinks: Map<string, string>;
  ownedLinks: string[];
  overlays: OverlayMtu[];
  /**
   * A data path in a namespace of its own (--data-path-addr): whether its namespace could
   * be read, whether a link there has the address VXLAN leaves from, the nodes its guard
   * lets in (undefined: no guard), and the swarm's nodes.
   */
  dataPath?: { netns: string; addr: string; readable: boolean; hasAddress: boolean; guard: string[] | undefined; members: string[] };
  /**
   * Direct routing's tc filters: per directly routed network here, whether its VXLAN link
   * has its sending tables (and how many routed peers it sends by filter) and whether the
   * underlay link hands its frames up, and whether its admission table (admission.ts) is
   * there; the handles of receiving filters whose link is gone.
   */
  direct?: { underlay: string; networks: { network: string; vxlan: string; sending: boolean; peers: number; receiving: boolean; admitting: boolean }[]; dead: string[] };
  /** In a swarm: whether the cluster store answered, the nodes that are down, and the live nodes' clocks. */
  swarm?: { reachable: boolean; error?: string; down: string[]; clocks: NodeClock[] };
}

/** VXLAN's own bytes on the underlay. */
const VXLAN_OVERHEAD = 50;

/** What each missing kernel feature takes away. */
const WITHOUT: Readonly<Record<KernelFeature, string>> = {
  macvlan: 'macvlan networks cannot be made',
  ipvlan: 'ipvlan networks cannot be made',
  vlan: 'macvlan and ipvlan networks cannot use a parent with a VLAN ID (parent=eth0.10)',
  dummy: 'macvlan and ipvlan networks without a parent cannot be made',
  ifb: 'ipvlan networks without a parent cannot be made',
  vxlan: 'overlay networks cannot be made (swarm mode has no data plane)',
  esp: 'encrypted overlay networks (-o encrypted) are refused',
};

export function diagnose(f: DoctorFacts): Report {
  const checks = [
    ...forwarding(f),
    bridgeNetfilter(f),
    ...firewall(f),
    ...features(f.features),
    ...poolOverlaps(f),
    ...overlayMtus(f.overlays),
    ...dataPath(f),
    ...(f.direct ? directRouting(f.direct) : []),
    ...drift(f),
    ...(f.swarm ? swarm(f.swarm) : []),
  ];
  return { healthy: checks.every((c) => c.verdict !== 'fail'), checks };
}

function forwarding(f: DoctorFacts): Check[] {
  const checks: Check[] = [
    f.sysctls.ipv4Forward === '1'
      ? { id: 'forwarding:ipv4', verdict: 'ok', summary: 'IPv4 forwarding is on' }
      : {
          id: 'forwarding:ipv4',
          verdict: 'fail',
          summary: `IPv4 forwarding is off (net.ipv4.ip_forward=${f.sysctls.ipv4Forward ?? 'missing'})`,
          hint: 'containers cannot reach other networks, the outside or published ports from outside; berthd turns it on at start: something turned it off since (restart berthd, or sysctl -w net.ipv4.ip_forward=1)',
        },
  ];
  if (f.ipv6 && f.sysctls.ipv6Forward !== '1') {
    checks.push({
      id: 'forwarding:ipv6',
      verdict: 'fail',
      summary: `IPv6 forwarding is off (net.ipv6.conf.all.forwarding=${f.sysctls.ipv6Forward ?? 'missing'}) while networks have IPv6`,
      hint: 'containers\' IPv6 goes nowhere beyond their bridge (sysctl -w net.ipv6.conf.all.forwarding=1)',
    });
  }
  return checks;
}

function bridgeNetfilter(f: DoctorFacts): Check {
  const v = f.sysctls.bridgeNfCallIptables;
  if (v === undefined) return { id: 'br_netfilter', verdict: 'ok', summary: 'br_netfilter is not loaded: frames within a bridge skip the IP hooks (berth enforces ICC in its bridge table)' };
  if (v === '1') {
    return {
      id: 'br_netfilter',
      verdict: 'warn',
      summary: 'br_netfilter passes bridged traffic through the IP hooks (net.bridge.bridge-nf-call-iptables=1)',
      hint: 'traffic between containers of one network then meets every table\'s forward chains, other firewalls\' included: a drop there cuts containers of one network off from each other',
    };
  }
  return { id: 'br_netfilter', verdict: 'ok', summary: 'br_netfilter is loaded but does not pass bridged traffic to the IP hooks' };
}

function firewall(f: DoctorFacts): Check[] {
  const checks: Check[] = [];
  if (!f.firewall.enforcing) {
    checks.push({ id: 'firewall', verdict: 'info', summary: 'berth\'s firewall is off (--iptables=false): no isolation, NAT or published ports in the kernel; published ports go through the daemon\'s relay' });
  } else {
    const missing = ['inet berth', 'bridge berth'].filter((t) => !f.firewall.tables.includes(t));
    checks.push(
      missing.length === 0
        ? { id: 'firewall', verdict: 'ok', summary: 'berth\'s nftables tables are in place (inet berth, bridge berth)' }
        : { id: 'firewall', verdict: 'fail', summary: `berth's table${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`, hint: 'someone flushed the ruleset: isolation, NAT and published ports are gone until berthd puts them back (it does at its next change; restart berthd to do it now)' },
    );
  }
  for (const t of f.foreignTables) {
    const id = `foreign-firewall:${t.family} ${t.name}`;
    if (t.forwardDrop) {
      checks.push({
        id,
        verdict: 'fail',
        summary: `table ${t.family} ${t.name} drops forwarded packets by default (a forward chain with policy drop)`,
        hint: 'every table\'s forward chain sees each packet and any drop wins: containers\' traffic to other networks and the outside, and published ports, are dropped there unless that table accepts them (iptables -P FORWARD ACCEPT, or rules for berth\'s bridges)',
      });
    } else if (t.name === 'firewalld') {
      checks.push({ id, verdict: 'warn', summary: 'firewalld is active (table inet firewalld)', hint: 'its zones may reject forwarded container traffic; put berth\'s bridges in a trusted zone' });
    } else {
      checks.push({ id, verdict: 'info', summary: `table ${t.family} ${t.name} is another tool's; it does not drop forwarded packets by default` });
    }
  }
  return checks;
}

function features(fs: KernelFeatures): Check[] {
  return (Object.keys(WITHOUT) as KernelFeature[]).flatMap((k): Check[] => {
    if (fs[k] === true) return [];
    return [{ id: `kernel:${k}`, verdict: 'info', summary: `the kernel ${fs[k] === false ? 'lacks' : 'could not be probed for'} ${FEATURES[k].label}`, hint: WITHOUT[k] }];
  });
}

function poolOverlaps(f: DoctorFacts): Check[] {
  return f.pools.flatMap((pool): Check[] => {
    const base = parseCidr(pool);
    const hits = f.hostRoutes.filter((r) => {
      const c = tryParseCidr(r.dst);
      return c !== undefined && c.prefix > 0 && cidrsOverlap(base, c);
    });
    if (hits.length === 0) return [];
    return [{
      id: `pool:${pool}`,
      verdict: 'info',
      summary: `address pool ${pool} overlaps host routes ${hits.map((r) => `${r.dst}${r.dev ? ` (${r.dev})` : ''}`).join(', ')}`,
      hint: 'new networks skip the overlapping subnets; a network given such a subnet by hand would hide part of the host\'s network from containers',
    }];
  });
}

function overlayMtus(overlays: readonly OverlayMtu[]): Check[] {
  return overlays.flatMap((o): Check[] => {
    if (o.directRouted) {
      if (o.linkMtu <= o.underlayMtu) return [];
      return [{ id: `mtu:${o.network}`, verdict: 'fail', summary: `overlay ${o.network}: links at MTU ${o.linkMtu}, routed to other hosts over an underlay that carries ${o.underlayMtu}`, hint: `full-size routed packets between hosts are lost: set -o com.docker.network.driver.mtu to the underlay's MTU (${o.underlayMtu}) or less` }];
    }
    if (o.linkMtu + VXLAN_OVERHEAD <= o.underlayMtu) return [];
    return [{
      id: `mtu:${o.network}`,
      verdict: 'fail',
      summary: `overlay ${o.network}: links at MTU ${o.linkMtu} need ${o.linkMtu + VXLAN_OVERHEAD} on the underlay, which carries ${o.underlayMtu}`,
      hint: `full-size packets between hosts are lost (VXLAN takes ${VXLAN_OVERHEAD} bytes): set -o com.docker.network.driver.mtu to the underlay's MTU (${o.underlayMtu}) or less`,
    }];
  });
}

/** Direct routing's filters: without them routed peers' frames are lost; one left redirecting to a link that is gone drops what it matches. */
function directRouting(d: NonNullable<DoctorFacts['direct']>): Check[] {
  const restart = 'restart berthd: it makes a network\'s filters exact and sweeps the ones of links that are gone';
  const checks = d.networks.map(({ network, vxlan, sending, peers, receiving, admitting }): Check => {
    const id = `direct:${network}`;
    if (!sending) return { id, verdict: 'fail', summary: `overlay ${network}: ${vxlan} has no sending filters`, hint: `frames to containers on hosts of this segment go into VXLAN, which has no entry for them, and are lost; ${restart}` };
    if (!receiving) return { id, verdict: 'fail', summary: `overlay ${network}: nothing on ${d.underlay} hands its frames to ${vxlan}`, hint: `frames from containers on hosts of this segment reach the host instead and are dropped; ${restart}` };
    if (!admitting) return { id, verdict: 'fail', summary: `overlay ${network}: ${vxlan} has no admission table (netdev ${admissionTable(vxlan)})`, hint: `any machine of the segment can send into the network from its subnet; ${restart}` };
    return { id, verdict: 'ok', summary: `overlay ${network} routed directly: ${peers} peer${peers === 1 ? '' : 's'} sent by filter from ${vxlan}, received through ${d.underlay}` };
  });
  if (d.dead.length === 0) return checks;
  return [...checks, {
    id: 'direct:stale',
    verdict: 'fail',
    summary: `${d.dead.length} filter${d.dead.length === 1 ? '' : 's'} on ${d.underlay} redirect${d.dead.length === 1 ? 's' : ''} to a link that is gone (handle ${d.dead.join(', ')})`,
    hint: `each drops the overlay frames it matches; ${restart}, or tc filter del dev ${d.underlay} ingress prio 179 handle H protocol ip u32`,
  }];
}

/** The data path's namespace: VXLAN's only socket on this node, and its guard the only filter of VXLAN. */
function dataPath(f: DoctorFacts): Check[] {
  const dp = f.dataPath;
  if (!dp) return [];
  const id = 'data-path';
  const remake = 'restart berthd: it makes the namespace again, with its guard (a reboot empties the exec root, where it is bound)';
  if (!dp.readable) return [{ id, verdict: 'fail', summary: `the data path's namespace ${dp.netns} is gone`, hint: `VXLAN has no socket on this node: overlay traffic to and from other hosts stops; ${remake}` }];
  if (!dp.hasAddress) return [{ id, verdict: 'fail', summary: `the data path's namespace has no link with ${dp.addr}, the address VXLAN leaves from`, hint: `overlay traffic to and from other hosts stops; ${remake}` }];
  if (dp.guard === undefined) {
    return f.firewall.enforcing
      ? [{ id, verdict: 'fail', summary: "the data path's guard is missing: VXLAN from any machine on the underlay reaches this node's overlays", hint: remake }]
      : [{ id, verdict: 'info', summary: "berth's firewall is off: the data path takes VXLAN from any machine on the underlay" }];
  }
  const guard = new Set(dp.guard);
  const missing = dp.members.filter((m) => !guard.has(m));
  if (missing.length > 0) return [{ id, verdict: 'warn', summary: `the data path's guard lacks nodes ${missing.join(', ')}: their VXLAN is dropped`, hint: `berthd writes the nodes in as they come; if this lasts, ${remake}` }];
  return [{ id, verdict: 'ok', summary: `VXLAN leaves from ${dp.addr} in a namespace of its own; its guard lets in the swarm's ${dp.members.length} nodes only` }];
}

function drift(f: DoctorFacts): Check[] {
  const owned = new Set(f.ownedLinks);
  const missing = [...f.expectedLinks].filter(([name]) => !owned.has(name));
  const extra = f.ownedLinks.filter((name) => !f.expectedLinks.has(name));
  const checks: Check[] = [];
  if (missing.length === 0 && extra.length === 0) checks.push({ id: 'drift', verdict: 'ok', summary: `the kernel has exactly the ${f.expectedLinks.size} links berth's model expects` });
  if (missing.length > 0) {
    checks.push({
      id: 'drift:missing',
      verdict: 'fail',
      summary: `missing from the kernel: ${missing.map(([name, what]) => `${name} (${what})`).join(', ')}`,
      hint: 'someone deleted them: those containers or networks have no traffic; restarting the container (or berthd, for a network) makes them again',
    });
  }
  if (extra.length > 0) {
    checks.push({ id: 'drift:extra', verdict: 'warn', summary: `links marked as berth's that its model does not know: ${extra.join(', ')}`, hint: 'leftovers of a crash: berthd removes them at its next start' });
  }
  return checks;
}

function swarm(s: NonNullable<DoctorFacts['swarm']>): Check[] {
  if (!s.reachable) return [{ id: 'swarm:store', verdict: 'fail', summary: `the cluster store does not answer${s.error ? `: ${s.error}` : ''}`, hint: 'containers keep their traffic; changes on other nodes do not reach this one until it answers' }];
  return [
    { id: 'swarm:store', verdict: 'ok', summary: 'the cluster store answers' },
    s.down.length === 0
      ? { id: 'swarm:nodes', verdict: 'ok', summary: 'every node holds its lease' }
      : { id: 'swarm:nodes', verdict: 'warn', summary: `nodes down (their lease lapsed): ${s.down.join(', ')}`, hint: 'their endpoints have left every other node; their containers are unreachable from here' },
    clockSkew(s.clocks),
  ];
}

/** etcd's own limit for its peers' clocks. */
const SKEW_WARN_MS = 1000;
/** How far back the swarm's CA dates a certificate it signs (ca.ts). */
const SKEW_FAIL_MS = 60_000;

/** The other nodes' clocks: a skew beyond doubt (beyond the probe's error) counts. */
function clockSkew(clocks: readonly NodeClock[]): Check {
  const skew = (c: NodeClock): number => ('offset' in c ? Math.max(0, Math.abs(c.offset.offsetMs) - c.offset.errorMs) : 0);
  const show = (c: NodeClock): string => ('offset' in c ? `${c.hostname} ${c.offset.offsetMs >= 0 ? '+' : '-'}${(Math.abs(c.offset.offsetMs) / 1000).toFixed(3)} s` : `${c.hostname} (not asked: ${c.error})`);
  const far = clocks.filter((c) => skew(c) > SKEW_WARN_MS);
  const unasked = clocks.filter((c) => 'error' in c);
  if (far.some((c) => skew(c) > SKEW_FAIL_MS)) {
    return { id: 'swarm:clock', verdict: 'fail', summary: `clocks apart by more than a minute: ${far.map(show).join(', ')}`, hint: 'a certificate one node signs is not yet valid (or already expired) on the other: joins, promotions and renewals fail; run NTP (chrony, systemd-timesyncd) on every node' };
  }
  if (far.length > 0 || unasked.length > 0) {
    return { id: 'swarm:clock', verdict: 'warn', summary: `clocks apart (from this node's): ${[...far, ...unasked].map(show).join(', ')}`, hint: "task and log times from those nodes do not line up with this node's; run NTP (chrony, systemd-timesyncd) on every node" };
  }
  return { id: 'swarm:clock', verdict: 'ok', summary: clocks.length === 0 ? 'no other node to compare clocks with' : `clocks agree within ${SKEW_WARN_MS / 1000} s: ${clocks.map(show).join(', ')}` };
}
