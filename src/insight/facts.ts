/**
 * The facts `berth doctor` judges, read from the daemon's namespace through the Kernel
 * port and from berth's own model: each read is independent, so they run at once.
 */
import type { SwarmState } from '../cluster/swarm-state.js';
import { messageOf } from '../errors.js';
import { setElements } from '../kernel/nft.js';
import type { Kernel } from '../kernel/port.js';
import { DATA_PATH_TABLE } from '../network/firewall/data-path.js';
import { deadReceiving, directState } from '../network/drivers/overlay/direct-path.js';
import { admissionTable } from '../network/drivers/overlay/admission.js';
import type { NetworkController } from '../network/controller.js';
import type { TopologyModel } from '../network/topology-model.js';
import type { DoctorFacts, ForeignTable } from './doctor.js';

export interface DoctorDeps {
  kernel: Kernel;
  networks: NetworkController;
  /** Whether berth runs its firewall (it does unless --iptables=false). */
  firewallEnforcing: boolean;
  swarm: SwarmState;
}

const SYSCTLS = {
  ipv4Forward: ['net', 'ipv4', 'ip_forward'],
  ipv6Forward: ['net', 'ipv6', 'conf', 'all', 'forwarding'],
  bridgeNfCallIptables: ['net', 'bridge', 'bridge-nf-call-iptables'],
} as const;

export async function gatherFacts(d: DoctorDeps): Promise<DoctorFacts> {
  const model = d.networks.topologyModel();
  const view = expected(model);
  const listed = d.kernel.nft.listTables();
  const [sysctls, tables, features, routes, links, swarm, dataPath, direct] = await Promise.all([
    readSysctls(d.kernel),
    listed,
    d.kernel.features(),
    d.kernel.routes([4, 6]),
    d.kernel.links.list(),
    swarmFacts(d.swarm),
    dataPathFacts(d.kernel, model.dataPath),
    directFacts(d.kernel, model, listed),
  ]);
  const berthTables = tables.filter((t) => t.name === 'berth').map((t) => `${t.family} ${t.name}`);
  // berth's own: its firewall (berth), the services' mesh (berth_ingress), a trace under way (berth_trace_*).
  const foreign = await Promise.all(tables.filter((t) => t.name !== 'berth' && !t.name.startsWith('berth_')).map(async (t) => foreignTable(d.kernel, t)));
  const byName = new Map(links.map((l) => [l.name, l]));
  // A link made by the user (-b, a macvlan parent) is expected and present without being berth's.
  const present = links.filter((l) => l.ownedByBerth || view.links.has(l.name)).map((l) => l.name);
  return {
    sysctls,
    ipv6: view.ipv6,
    firewall: { enforcing: d.firewallEnforcing, tables: berthTables },
    foreignTables: foreign,
    features,
    pools: view.pools,
    // Routes of berth's own networks are the pools' subnets in use, not the host's.
    hostRoutes: routes.filter((r) => r.dev === undefined || !view.links.has(r.dev)),
    expectedLinks: view.links,
    ownedLinks: present,
    overlays: view.overlays.flatMap((o) => {
      const link = byName.get(o.link);
      return link ? [{ network: o.network, linkMtu: link.mtu, underlayMtu: o.underlayMtu, ...(o.directRouted ? { directRouted: true as const } : {}) }] : [];
    }),
    ...(swarm ? { swarm } : {}),
    ...(dataPath ? { dataPath } : {}),
    ...(direct ? { direct } : {}),
  };
}

/** Direct routing's filters: each directly routed network's here, and receiving filters left redirecting to nothing. */
async function directFacts(kernel: Kernel, m: TopologyModel, tables: Promise<{ family: string; name: string }[]>): Promise<DoctorFacts['direct']> {
  const underlay = m.underlayLink;
  // A data path in a namespace of its own routes nothing directly.
  if (underlay === undefined || m.dataPath) return undefined;
  const read = async (dev: string, side: 'ingress' | 'egress') => kernel.tc.filters(dev, side).catch(() => []);
  const [ingress, netdev] = await Promise.all([read(underlay, 'ingress'), tables.then((ts) => new Set(ts.filter((t) => t.family === 'netdev').map((t) => t.name)), () => new Set<string>())]);
  const networks = await Promise.all(
    m.networks.flatMap((n) => {
      const vxlan = n.links.find((l) => l.startsWith('vx-'));
      return n.directRouted && vxlan ? [(async () => ({ network: n.name, vxlan, ...directState(vxlan, await read(vxlan, 'egress'), ingress), admitting: netdev.has(admissionTable(vxlan)) }))()] : [];
    }),
  );
  const dead = deadReceiving(ingress);
  return networks.length > 0 || dead.length > 0 ? { underlay, networks, dead } : undefined;
}

async function dataPathFacts(kernel: Kernel, dp: TopologyModel['dataPath']): Promise<DoctorFacts['dataPath']> {
  if (!dp) return undefined;
  const ns = await kernel.readNamespace(dp.netns).catch(() => undefined);
  const table = ns ? await kernel.nft.listTableIn(dp.netns, 'inet', DATA_PATH_TABLE).catch(() => undefined) : undefined;
  return {
    netns: dp.netns,
    addr: dp.addr,
    readable: ns !== undefined,
    hasAddress: ns?.interfaces.some((i) => i.addresses.some((a) => a.split('/')[0] === dp.addr)) ?? false,
    guard: table ? [...setElements(table, 'swarm_nodes4'), ...setElements(table, 'swarm_nodes6')] : undefined,
    members: dp.members,
  };
}

/** What the model says the kernel should have: each link it expects (name → what for), the overlays' MTUs. */
export function expected(m: TopologyModel): { links: Map<string, string>; overlays: { network: string; link: string; underlayMtu: number; directRouted: boolean }[]; pools: string[]; ipv6: boolean } {
  const links = new Map<string, string>();
  const netName = new Map(m.networks.map((n) => [n.id, n.name]));
  for (const n of m.networks) for (const l of n.links) links.set(l, `network ${n.name}`);
  for (const e of m.endpoints) if (e.hostIfName) links.set(e.hostIfName, `${e.name} on ${netName.get(e.networkId) ?? e.networkId}`);
  const underlayMtu = m.underlayMtu;
  const overlays = underlayMtu === undefined ? [] : m.networks.filter((n) => n.scope === 'swarm' && n.links[0]).map((n) => ({ network: n.name, link: n.links[0]!, underlayMtu, directRouted: n.directRouted === true }));
  return { links, overlays, pools: m.pools, ipv6: m.networks.some((n) => n.ipv6) };
}

async function readSysctls(kernel: Kernel): Promise<DoctorFacts['sysctls']> {
  const out: DoctorFacts['sysctls'] = {};
  for (const [key, path] of Object.entries(SYSCTLS) as [keyof typeof SYSCTLS, readonly string[]][]) {
    // A key the kernel does not have (br_netfilter not loaded) reads as absent.
    const value = await kernel.sysctls.read(path).catch(() => undefined);
    if (value !== undefined) out[key] = value.trim();
  }
  return out;
}

/** Whether a table of another tool drops forwarded packets: a base chain on the forward hook with policy drop. */
async function foreignTable(kernel: Kernel, t: { family: string; name: string }): Promise<ForeignTable> {
  const family = t.family as Parameters<Kernel['nft']['listTable']>[0];
  const objects = (await kernel.nft.listTable(family, t.name).catch(() => undefined)) ?? [];
  const forwardDrop = objects.some((o) => {
    const chain = o['chain'];
    return chain !== undefined && chain['hook'] === 'forward' && chain['policy'] === 'drop';
  });
  return { family: t.family, name: t.name, forwardDrop };
}

async function swarmFacts(swarm: SwarmState): Promise<DoctorFacts['swarm']> {
  const status = swarm.status();
  if (status.state !== 'active' && status.state !== 'error') return undefined;
  try {
    await swarm.details();
    const [down, clocks] = await Promise.all([
      status.controlAvailable ? swarm.managerOrThrow().nodes().then((ns) => ns.filter((n) => !n.ready).map((n) => n.record.description.hostname)) : [],
      swarm.clocks().then((c) => c ?? []),
    ]);
    return { reachable: true, down, clocks };
  } catch (e: unknown) {
    return { reachable: false, error: messageOf(e), down: [], clocks: [] };
  }
}
