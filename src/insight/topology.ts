/**
 * `berth topology`: the host's network as the tutorials draw it, read from the kernel and
 * named after berth's model — namespaces (the host's, each container's), their
 * interfaces, the veth pairs between them, bridges and their ports, VXLAN links and the
 * remote endpoints they reach, published ports and the rule that serves each — with
 * whatever the kernel and the model disagree on flagged as drift. Pure: the kernel's
 * views and the model come in (gathered by the daemon), the topology goes out.
 */
import type { FdbEntry } from '../kernel/fdb.js';
import { OWNER_ALIAS } from '../kernel/links.js';
import type { NamespaceView, NsInterface, NsRoute } from '../kernel/namespace-view.js';
import type { TopologyModel } from '../network/topology-model.js';

/** An interface with what berth knows of it. */
export interface TopoInterface extends NsInterface {
  /** The network it belongs to (a bridge, a VXLAN link, an endpoint's link on either side). */
  network?: string;
  /** A veth's other end, by namespace and name ("host:veth1a2b", "web:eth0"). */
  peerName?: string;
}

export interface TopoNamespace {
  /** berthd's own, the swarm's data path (--data-path-addr: VXLAN's socket in a namespace of its own), or a container's. */
  kind: 'host' | 'data-path' | 'container';
  /** "host", "data path", or the container's name. */
  name: string;
  containerId?: string;
  /** The namespace's file (the data path's, containers'). */
  path?: string;
  interfaces: TopoInterface[];
  routes: NsRoute[];
}

export interface TopoNetwork {
  id: string;
  gateways: string[];
  name: string;
  driver: string;
  scope: 'local' | 'swarm';
  /** Its links on this host (a bridge, a VXLAN link). */
  links: string[];
  subnets: string[];
  /** Its local containers, by name. */
  containers: string[];
}

export interface TopoPort {
  container: string;
  proto: string;
  hostIp: string;
  hostPorts: string;
  containerIp: string;
  containerPorts: string;
  /** What serves it in the kernel: the nft map of berth's DNAT. */
  rule: string;
}

export interface TopoTunnel {
  link: string;
  network: string | undefined;
  vni: number;
  local: string | undefined;
  /** Remote endpoints this link sends to, by their host's address (the VTEP). */
  peers: { vtep: string; mac: string; endpoint?: string; ip?: string }[];
}

export interface Drift {
  /** "missing": the model has it, the kernel does not; "unknown": the reverse; "mismatch": both, differently. */
  kind: 'missing' | 'unknown' | 'mismatch';
  detail: string;
}

export interface Topology {
  namespaces: TopoNamespace[];
  networks: TopoNetwork[];
  ports: TopoPort[];
  tunnels: TopoTunnel[];
  drift: Drift[];
}

export interface TopologyInput {
  model: TopologyModel;
  /** Container ID → its name (the engine's). */
  containerNames: ReadonlyMap<string, string>;
  host: NamespaceView;
  /** Each sandbox's view; undefined when it could not be read (gone). */
  sandboxes: ReadonlyMap<string, NamespaceView | undefined>;
  /** A VXLAN link's FDB entries, by link name. */
  fdb: ReadonlyMap<string, readonly FdbEntry[]>;
  /** The data path's namespace (the model has one), undefined when it could not be read. */
  dataPath?: NamespaceView | undefined;
}

export interface TopologyFilter {
  network?: string;
  container?: string;
}

const BROADCAST = '00:00:00:00:00:00';

export function buildTopology(input: TopologyInput, filter: TopologyFilter = {}): Topology {
  const { model } = input;
  const drift: Drift[] = [];
  const netName = new Map(model.networks.map((n) => [n.id, n.name]));
  const nameOf = (containerId: string): string => input.containerNames.get(containerId) ?? containerId.slice(0, 12);
  const linkNetwork = new Map<string, string>();
  for (const n of model.networks) for (const l of n.links) linkNetwork.set(l, n.name);
  for (const e of model.endpoints) if (e.hostIfName) linkNetwork.set(e.hostIfName, netName.get(e.networkId) ?? e.networkId);

  const host: TopoNamespace = { kind: 'host', name: 'host', interfaces: input.host.interfaces.map((i) => ({ ...i, ...(linkNetwork.has(i.name) ? { network: linkNetwork.get(i.name)! } : {}) })), routes: input.host.routes };
  const hostByName = new Map(host.interfaces.map((i) => [i.name, i]));
  const hostByIndex = new Map(host.interfaces.map((i) => [i.ifindex, i]));

  const containers: TopoNamespace[] = [];
  for (const sb of model.sandboxes) {
    const name = nameOf(sb.containerId);
    const view = input.sandboxes.get(sb.containerId);
    const eps = model.endpoints.filter((e) => e.containerId === sb.containerId);
    if (!view) {
      drift.push({ kind: 'missing', detail: `container ${name}: its namespace ${sb.path} cannot be read` });
      continue;
    }
    const interfaces: TopoInterface[] = view.interfaces.map((i) => {
      const ep = eps.find((e) => e.ifName === i.name);
      const out: TopoInterface = { ...i, ...(ep ? { network: netName.get(ep.networkId) ?? ep.networkId } : {}) };
      if (i.peer?.otherNamespace) {
        const other = hostByIndex.get(i.peer.ifindex);
        if (other && other.peer?.ifindex === i.ifindex) {
          out.peerName = `host:${other.name}`;
          hostByName.set(other.name, { ...other, peerName: `${name}:${i.name}` });
        }
      }
      return out;
    });
    for (const ep of eps) {
      const inside = interfaces.find((i) => i.name === ep.ifName);
      if (ep.ifName && !inside) drift.push({ kind: 'missing', detail: `${name}: ${ep.ifName} on ${netName.get(ep.networkId) ?? ep.networkId} is not in its namespace` });
      if (ep.hostIfName && !hostByName.has(ep.hostIfName)) drift.push({ kind: 'missing', detail: `${name}: host link ${ep.hostIfName} (${netName.get(ep.networkId) ?? ep.networkId}) is not in the host's namespace` });
      if (inside && ep.hostIfName && inside.peerName && inside.peerName !== `host:${ep.hostIfName}`) drift.push({ kind: 'mismatch', detail: `${name}: ${ep.ifName} is paired with ${inside.peerName}, the model says host:${ep.hostIfName}` });
      if (inside && ep.ipv4 && !inside.addresses.includes(ep.ipv4)) drift.push({ kind: 'mismatch', detail: `${name}: ${ep.ifName} has ${inside.addresses.join(', ') || 'no address'}, the model says ${ep.ipv4}` });
    }
    containers.push({ kind: 'container', name, containerId: sb.containerId, path: sb.path, interfaces, routes: view.routes });
  }
  host.interfaces = host.interfaces.map((i) => hostByName.get(i.name) ?? i);
  for (const n of model.networks) {
    for (const l of n.links) if (!hostByName.has(l)) drift.push({ kind: 'missing', detail: `network ${n.name}: link ${l} is not in the host's namespace` });
  }
  for (const i of host.interfaces) {
    if (i.alias === OWNER_ALIAS && !linkNetwork.has(i.name)) drift.push({ kind: 'unknown', detail: `host link ${i.name} is marked as berth's but belongs to no network or endpoint berth knows` });
  }

  const networks: TopoNetwork[] = model.networks.map((n) => ({
    ...n,
    containers: [...new Set(model.endpoints.filter((e) => e.networkId === n.id).map((e) => nameOf(e.containerId)))].sort(),
  }));
  const ports = model.published.map(({ containerId, port }): TopoPort => {
    const ep = model.endpoints.find((e) => e.containerId === containerId && e.ipv4);
    const range = (r: { start: number; end: number }): string => (r.start === r.end ? String(r.start) : `${r.start}-${r.end}`);
    const same = port.hostPorts.start === port.containerPorts.start && port.hostPorts.end === port.containerPorts.end;
    return {
      container: nameOf(containerId),
      proto: port.proto,
      hostIp: port.hostIp === '' ? '0.0.0.0' : port.hostIp,
      hostPorts: range(port.hostPorts),
      containerIp: ep?.ipv4?.split('/')[0] ?? '',
      containerPorts: range(port.containerPorts),
      rule: `DNAT in table inet berth, map ${same ? 'pub4_keep' : 'pub4_port'}`,
    };
  });
  const remoteByMac = new Map(model.remote.map((r) => [r.mac.toLowerCase(), r]));
  const tunnels: TopoTunnel[] = host.interfaces.flatMap((i): TopoTunnel[] => {
    if (!i.vxlan) return [];
    const peers = (input.fdb.get(i.name) ?? [])
      .filter((e) => e.dst !== undefined && e.mac !== BROADCAST)
      .map((e) => {
        const r = remoteByMac.get(e.mac);
        return { vtep: e.dst!, mac: e.mac, ...(r ? { endpoint: r.name, ip: r.ipv4 } : {}) };
      });
    for (const p of peers) if (!p.endpoint) drift.push({ kind: 'unknown', detail: `${i.name}: FDB entry ${p.mac} → ${p.vtep} is no endpoint the cluster knows` });
    return [{ link: i.name, network: linkNetwork.get(i.name), vni: i.vxlan.vni, local: i.vxlan.local, peers }];
  });
  return narrow({ namespaces: [host, ...dataPathNamespace(input, drift), ...containers], networks, ports, tunnels, drift }, filter);
}

/** The data path's namespace, when the node has one: its link to the underlay, with the address VXLAN leaves from. */
function dataPathNamespace(input: TopologyInput, drift: Drift[]): TopoNamespace[] {
  const dp = input.model.dataPath;
  if (!dp) return [];
  const view = input.dataPath;
  if (!view) {
    drift.push({ kind: 'missing', detail: `the data path's namespace ${dp.netns} cannot be read: VXLAN has no socket on this node` });
    return [];
  }
  if (!view.interfaces.some((i) => i.addresses.some((a) => a.split('/')[0] === dp.addr))) drift.push({ kind: 'missing', detail: `the data path's namespace has no link with ${dp.addr}, the address VXLAN leaves from` });
  return [{ kind: 'data-path', name: 'data path', path: dp.netns, interfaces: view.interfaces, routes: view.routes }];
}

/** Only what touches one network or one container (and the host links that carry it). */
function narrow(t: Topology, f: TopologyFilter): Topology {
  if (!f.network && !f.container) return t;
  const keepContainer = (c: TopoNamespace): boolean =>
    (f.container === undefined || c.name === f.container || (c.containerId?.startsWith(f.container) ?? false)) && (f.network === undefined || c.interfaces.some((i) => i.network === f.network));
  const containers = t.namespaces.filter((n) => n.kind === 'container' && keepContainer(n));
  const names = new Set(containers.map((c) => c.name));
  const hostLinks = new Set(containers.flatMap((c) => c.interfaces.flatMap((i) => (i.peerName?.startsWith('host:') ? [i.peerName.slice(5)] : []))));
  const networks = t.networks.filter((n) => (f.network === undefined || n.name === f.network) && (f.container === undefined || n.containers.some((c) => names.has(c))));
  for (const n of networks) for (const l of n.links) hostLinks.add(l);
  const host = t.namespaces.find((n) => n.kind === 'host')!;
  // The data path carries every swarm network's VXLAN.
  const dataPath = networks.some((n) => n.scope === 'swarm') ? t.namespaces.filter((n) => n.kind === 'data-path') : [];
  return {
    namespaces: [{ ...host, interfaces: host.interfaces.filter((i) => hostLinks.has(i.name)) }, ...dataPath, ...containers],
    networks,
    ports: t.ports.filter((p) => names.has(p.container)),
    tunnels: t.tunnels.filter((x) => hostLinks.has(x.link)),
    drift: t.drift,
  };
}
