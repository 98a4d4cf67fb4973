/**
 * Invariants of a berth daemon at rest, checked against a snapshot (observe.ts): the
 * Engine API, the store file and the kernel must tell the same story. Each check returns
 * the ways it is broken (empty when it holds). `checkConsistency` is pure; `probeTraffic`
 * (probes.ts) sends real packets (exec in containers, curl from the lan).
 *
 * The story: a network exists in the API iff it is in the store, and a bridge network
 * has its bridge (and its nft `bridges` element). A container exists iff it is in the
 * store, with its folder. A container is running iff it has its endpoints (one per
 * configured network), its namespace file (a mount), its rootfs overlay (a mount), its
 * conmon, its process in that namespace with the endpoint addresses, and its port
 * publications (store and nft) — and a container that is not running has none of them.
 * IPAM's `allocated` lists are exactly the endpoints' addresses; no address is used twice.
 */
import * as path from 'node:path';
import type { CtrView, NetView, Observed, StoredPublication } from './observe.js';


export interface Violation {
  check: string;
  detail: string;
}

const v = (check: string, detail: string): Violation => ({ check, detail });

/** All pure checks. */
export function checkConsistency(o: Observed): Violation[] {
  return [
    ...checkAddresses(o),
    ...checkIpam(o),
    ...checkApiMatchesStore(o),
    ...checkAttachments(o),
    ...checkLifecycle(o),
    ...checkLinks(o),
    ...checkSandboxes(o),
    ...checkMounts(o),
    ...checkConmons(o),
    ...checkSocketHelpers(o),
    ...checkRuntimeState(o),
    ...checkPublications(o),
    ...checkContainerDirs(o),
  ];
}

const short = (id: string): string => id.slice(0, 12);
const running = (o: Observed): CtrView[] => o.containers.filter((c) => c.running);
/** Containers with a namespace of their own (not host, not container:<x>): all of the chaos workload's. */
const ownsNetns = (c: CtrView): boolean => c.networks.length > 0;

function dupes(items: readonly string[]): string[] {
  const seen = new Set<string>();
  const out = new Set<string>();
  for (const i of items) (seen.has(i) ? out : seen).add(i);
  return [...out];
}

function setDiff<T>(a: Iterable<T>, b: ReadonlySet<T>): T[] {
  return [...a].filter((x) => !b.has(x));
}

/** No two endpoints share an address (network inspects, container inspects, store endpoints). */
export function checkAddresses(o: Observed): Violation[] {
  const out: Violation[] = [];
  const fromNets = o.networks.flatMap((n) => n.containers.filter((c) => c.ipv4).map((c) => `${c.ipv4}`));
  for (const d of dupes(fromNets)) out.push(v('unique-address', `${d} is listed twice in network inspects: ${holders(o, d)}`));
  const fromCtrs = o.containers.flatMap((c) => c.networks.filter((n) => n.ip).map((n) => n.ip));
  for (const d of dupes(fromCtrs)) out.push(v('unique-address', `${d} is held by two containers (inspect): ${holders(o, d)}`));
  const fromStore = [...o.store.endpoints.values()].filter((e) => e.ipv4).map((e) => e.ipv4);
  for (const d of dupes(fromStore)) out.push(v('unique-address', `${d} is in two endpoint records of the store`));
  return out;
}

function holders(o: Observed, ip: string): string {
  return o.containers
    .flatMap((c) => c.networks.filter((n) => n.ip === ip).map((n) => `${c.name}@${n.name}`))
    .join(', ');
}

/** Every allocated address has an endpoint and every endpoint address is allocated (store). */
export function checkIpam(o: Observed): Violation[] {
  const out: Violation[] = [];
  for (const [id, net] of o.store.networks) {
    const allocated = net.pools.flatMap((p) => p.allocated);
    for (const d of dupes(allocated)) out.push(v('ipam', `network ${net.name}: ${d} is allocated twice`));
    const eps = [...o.store.endpoints.values()].filter((e) => e.networkId === id);
    const used = new Set(eps.flatMap((e) => [e.ipv4, e.ipv6].filter((a) => a !== '')));
    const alloc = new Set(allocated);
    for (const a of setDiff(alloc, used)) out.push(v('ipam', `network ${net.name}: ${a} is allocated but no endpoint has it (leaked address)`));
    for (const a of setDiff(used, alloc)) out.push(v('ipam', `network ${net.name}: endpoint address ${a} is not allocated (could be handed out twice)`));
  }
  for (const [id, e] of o.store.endpoints) {
    if (!o.store.networks.has(e.networkId)) out.push(v('ipam', `endpoint ${short(id)} of ${short(e.containerId)} is on network ${short(e.networkId)}, which is not in the store`));
  }
  return out;
}

/** The API lists what the store holds: networks, containers, endpoints. */
export function checkApiMatchesStore(o: Observed): Violation[] {
  const out: Violation[] = [];
  const apiNets = new Set(o.networks.map((n) => n.id));
  const storeNets = new Set(o.store.networks.keys());
  for (const id of setDiff(apiNets, storeNets)) out.push(v('api-store', `network ${name(o, id)} is in the API but not in the store`));
  for (const id of setDiff(storeNets, apiNets)) out.push(v('api-store', `network ${o.store.networks.get(id)?.name} (${short(id)}) is in the store but not in the API`));
  const apiCtrs = new Set(o.containers.map((c) => c.id));
  const storeCtrs = new Set(o.store.containers.keys());
  for (const id of setDiff(apiCtrs, storeCtrs)) out.push(v('api-store', `container ${cname(o, id)} is in the API but not in the store`));
  for (const id of setDiff(storeCtrs, apiCtrs)) out.push(v('api-store', `container ${o.store.containers.get(id)?.name} (${short(id)}) is in the store but not in the API`));
  const apiEps = new Map(o.networks.flatMap((n) => n.containers.map((c) => [c.endpointId, { ...c, networkId: n.id }] as const)));
  for (const [id, e] of o.store.endpoints) {
    const a = apiEps.get(id);
    if (!a) out.push(v('api-store', `endpoint ${short(id)} (${cname(o, e.containerId)} on ${name(o, e.networkId)}) is in the store but not in network inspect`));
    else if (a.networkId !== e.networkId || a.containerId !== e.containerId || a.ipv4 !== e.ipv4) {
      out.push(v('api-store', `endpoint ${short(id)} differs: API ${a.containerId.slice(0, 12)}@${name(o, a.networkId)} ${a.ipv4}, store ${short(e.containerId)}@${name(o, e.networkId)} ${e.ipv4}`));
    }
  }
  for (const id of setDiff(apiEps.keys(), new Set(o.store.endpoints.keys()))) {
    out.push(v('api-store', `endpoint ${short(id)} is in network inspect but not in the store`));
  }
  return out;
}

/** Network inspect's Containers and container inspect's Networks agree (connect/disconnect are all-or-nothing). */
export function checkAttachments(o: Observed): Violation[] {
  const out: Violation[] = [];
  const byNet = new Map(o.networks.map((n) => [n.id, n]));
  for (const c of o.containers) {
    for (const cn of c.networks) {
      if (cn.endpointId === '') continue;
      const n = byNet.get(cn.networkId);
      const listed = n?.containers.find((x) => x.containerId === c.id);
      if (!n) out.push(v('attachment', `${c.name}: inspect shows endpoint ${short(cn.endpointId)} on network ${cn.name} (${short(cn.networkId)}), which does not exist`));
      else if (!listed) out.push(v('attachment', `${c.name}: inspect shows an endpoint on ${n.name}, but network inspect does not list the container`));
      else if (listed.endpointId !== cn.endpointId || listed.ipv4 !== cn.ip) {
        out.push(v('attachment', `${c.name}@${n.name}: container inspect says ${short(cn.endpointId)} ${cn.ip}, network inspect ${short(listed.endpointId)} ${listed.ipv4}`));
      }
    }
  }
  const byId = new Map(o.containers.map((c) => [c.id, c]));
  for (const n of o.networks) {
    for (const a of n.containers) {
      const c = byId.get(a.containerId);
      if (!c) {
        out.push(v('attachment', `network ${n.name} lists endpoint ${short(a.endpointId)} of container ${short(a.containerId)} (${a.name}), which does not exist`));
        continue;
      }
      if (!c.networks.some((cn) => cn.networkId === n.id && cn.endpointId === a.endpointId)) {
        out.push(v('attachment', `network ${n.name} lists ${c.name} (${a.ipv4}), but the container's inspect does not show that endpoint (configured: ${c.networks.map((x) => x.name).join(', ') || 'none'})`));
      }
    }
  }
  return out;
}

/** Running containers have an endpoint on each configured network; others have none. */
export function checkLifecycle(o: Observed): Violation[] {
  const out: Violation[] = [];
  const storeEpsOf = (cid: string) => [...o.store.endpoints.values()].filter((e) => e.containerId === cid);
  for (const c of o.containers) {
    const stored = o.store.containers.get(c.id);
    if (stored && stored.status !== c.status) out.push(v('lifecycle', `${c.name}: API status ${c.status}, store ${stored.status}`));
    if (c.running) {
      for (const cn of c.networks) {
        if (cn.endpointId === '') out.push(v('lifecycle', `${c.name} runs, but has no endpoint on its network ${cn.name} (connect/start half done)`));
      }
      if (c.pid <= 0) out.push(v('lifecycle', `${c.name} runs with no PID`));
    } else {
      for (const cn of c.networks) if (cn.endpointId !== '') out.push(v('lifecycle', `${c.name} is ${c.status}, but has an endpoint on ${cn.name}`));
      const eps = storeEpsOf(c.id);
      if (eps.length > 0) out.push(v('lifecycle', `${c.name} is ${c.status}, but the store holds ${eps.length} endpoint(s) of it`));
    }
  }
  const alive = new Set(running(o).map((c) => c.id));
  for (const [id, e] of o.store.endpoints) {
    if (!alive.has(e.containerId) && !o.store.containers.has(e.containerId)) {
      out.push(v('lifecycle', `endpoint ${short(id)} belongs to container ${short(e.containerId)}, which does not exist`));
    }
  }
  return out;
}

/** Every link in the world namespace is a network's bridge or an endpoint's veth, and vice versa. */
export function checkLinks(o: Observed): Violation[] {
  const out: Violation[] = [];
  const links = new Map(o.kernel.links.map((l) => [l.name, l]));
  const berth = o.kernel.links.filter((l) => l.alias === 'berth');
  const HARNESS_LINKS = new Set(['lo', 'lan0']);
  const bridges = new Map(o.networks.filter((n) => n.bridge).map((n) => [n.bridge!, n]));
  const netById = new Map(o.networks.map((n) => [n.id, n]));
  const veths = new Map([...o.store.endpoints].filter(([, e]) => e.hostIfName).map(([id, e]) => [e.hostIfName, { id, ...e }]));
  // The world namespace holds only berth's links (and the harness's lo and lan0), so every
  // other link must be a network's bridge or an endpoint's veth, whether berth marked it
  // (ifalias "berth") or not yet.
  for (const l of o.kernel.links) {
    if (HARNESS_LINKS.has(l.name) || bridges.has(l.name) || veths.has(l.name)) continue;
    const mark = l.alias === 'berth' ? 'berth link' : 'unmarked link (no ifalias "berth", so reconcile cannot see it)';
    out.push(v('links', `${mark} ${l.name} (${l.kind}${l.master ? `, on ${l.master}` : ''}${l.up ? '' : ', down'}) belongs to no network or endpoint (leaked)`));
  }
  for (const l of berth) if (HARNESS_LINKS.has(l.name)) out.push(v('links', `berth marked the harness's link ${l.name}`));
  for (const [br, n] of bridges) {
    const l = links.get(br);
    if (!l) out.push(v('links', `bridge ${br} of network ${n.name} is missing`));
    else if (!l.up) out.push(v('links', `bridge ${br} of network ${n.name} is down`));
  }
  for (const [name, e] of veths) {
    const l = links.get(name);
    const want = netById.get(e.networkId)?.bridge;
    if (!l) out.push(v('links', `veth ${name} of ${cname(o, e.containerId)} on ${nameOf(netById, e.networkId)} is missing`));
    else if (want && l.master !== want) out.push(v('links', `veth ${name} of ${cname(o, e.containerId)} is on ${l.master || 'no bridge'}, not on ${want}`));
    else if (!l.up) out.push(v('links', `veth ${name} of ${cname(o, e.containerId)} is down`));
  }
  return out;
}

/**
 * berthd keeps a few spare namespaces ready (`spare-*`, --spare-sandboxes, 4 by default);
 * they belong to no container. More than that at rest means spares leak.
 */
export const MAX_SPARE_SANDBOXES = 4;
const SPARE = /^spare-/;

/** Namespace files of running containers, by file name (from inspect's SandboxKey). */
function sandboxFiles(o: Observed): Map<string, CtrView[]> {
  const out = new Map<string, CtrView[]>();
  for (const c of running(o).filter(ownsNetns)) {
    const f = path.basename(c.sandboxKey);
    out.set(f, [...(out.get(f) ?? []), c]);
  }
  return out;
}

/** Namespace files are the running containers' (plus a few spares); each container's process lives in its own, with its addresses. */
export function checkSandboxes(o: Observed): Violation[] {
  const out: Violation[] = [];
  const want = sandboxFiles(o);
  const files = new Set(o.kernel.netnsFiles);
  const spares = [...files].filter((f) => !want.has(f) && SPARE.test(f));
  for (const f of files) if (!want.has(f) && !SPARE.test(f)) out.push(v('netns', `namespace file ${f} belongs to no running container (leaked)`));
  if (spares.length > MAX_SPARE_SANDBOXES) out.push(v('netns', `${spares.length} spare namespaces (at most ${MAX_SPARE_SANDBOXES}): ${spares.join(' ')} (leaked spares)`));
  for (const f of spares) if (!o.kernel.netnsInodes.has(f)) out.push(v('netns', `spare namespace file ${f} is not a mount (namespace gone)`));
  for (const [f, cs] of want) {
    const c = cs[0]!;
    if (cs.length > 1) out.push(v('netns', `${cs.map((x) => x.name).join(' and ')} share the namespace file ${f}`));
    if (path.dirname(c.sandboxKey) !== o.kernel.netnsDir) out.push(v('netns', `${c.name}: SandboxKey ${c.sandboxKey} is not under ${o.kernel.netnsDir}`));
    if (!files.has(f)) {
      out.push(v('netns', `running container ${c.name} has no namespace file ${f}`));
      continue;
    }
    const ino = o.kernel.netnsInodes.get(f);
    if (ino === undefined) out.push(v('netns', `namespace file ${f} of ${c.name} is not a mount (namespace gone)`));
    const procIno = o.kernel.processNetns.get(c.id);
    if (procIno === undefined) out.push(v('netns', `running container ${c.name}: its process ${c.pid} does not exist`));
    else if (ino !== undefined && procIno !== ino) out.push(v('netns', `running container ${c.name}: process ${c.pid} is not in namespace ${f}`));
    const addrs = o.kernel.sandboxAddrs.get(f);
    if (typeof addrs === 'string') {
      out.push(v('netns', `${c.name}: ${addrs}`));
      continue;
    }
    const inside = new Set([...(addrs?.values() ?? [])].flat());
    for (const cn of c.networks) {
      if (cn.ip && !inside.has(cn.ip)) out.push(v('netns', `${c.name}: address ${cn.ip} (${cn.name}) is not configured in its namespace (has ${[...inside].join(' ') || 'none'})`));
    }
    const expected = new Set(c.networks.map((cn) => cn.ip).filter((ip) => ip !== ''));
    for (const ip of inside) if (ip !== '127.0.0.1' && !expected.has(ip)) out.push(v('netns', `${c.name}: stray address ${ip} in its namespace`));
  }
  return out;
}

/** Mounts under the world dir: one namespace file and one rootfs overlay per running container, the spares' namespaces, nothing else. */
export function checkMounts(o: Observed): Violation[] {
  const out: Violation[] = [];
  const wantNs = sandboxFiles(o);
  const wantRoot = new Set(running(o).map((c) => c.id));
  const seen = new Map<string, number>();
  for (const m of o.kernel.mounts) {
    seen.set(m.target, (seen.get(m.target) ?? 0) + 1);
    const parts = m.target.split(path.sep);
    const base = parts[parts.length - 1] ?? '';
    const parent = parts[parts.length - 2] ?? '';
    if (path.dirname(m.target) === o.kernel.netnsDir && m.fstype === 'nsfs') {
      if (!wantNs.has(base) && !SPARE.test(base)) out.push(v('mounts', `namespace mount ${m.target} belongs to no running container (leaked)`));
    } else if (base === 'merged' && m.fstype === 'overlay') {
      if (!wantRoot.has(parent)) out.push(v('mounts', `rootfs overlay of ${cname(o, parent)} is mounted, but it is ${o.containers.find((c) => c.id === parent)?.status ?? 'gone'} (leaked)`));
    } else {
      out.push(v('mounts', `unexpected ${m.fstype} mount ${m.target}`));
    }
  }
  for (const [target, n] of seen) if (n > 1) out.push(v('mounts', `${target} is mounted ${n} times (stacked mounts leak)`));
  for (const c of running(o)) {
    const overlay = o.kernel.mounts.some((m) => m.fstype === 'overlay' && m.target.endsWith(`/containers/${c.id}/merged`));
    if (!overlay) out.push(v('mounts', `running container ${c.name} has no rootfs overlay mounted`));
  }
  return out;
}

/**
 * Socket helpers are children of the daemon that uses them. One that outlived its daemon
 * holds the sockets it opened (127.0.0.11:53 in a container), and the next daemon
 * cannot open them again.
 */
export function checkSocketHelpers(o: Observed): Violation[] {
  return o.kernel.socketHelpers
    .filter((h) => h.ppid !== 0 && h.ppid !== o.kernel.daemonPid) // 0: it exited as we looked
    .map((h) => v('helpers', `socket helper ${h.pid} outlived its daemon (parent ${h.ppid}, daemon ${o.kernel.daemonPid}): it keeps its sockets bound`));
}

/** One conmon per running container, none for others. */
export function checkConmons(o: Observed): Violation[] {
  const out: Violation[] = [];
  const counts = new Map<string, number[]>();
  for (const c of o.kernel.conmons) counts.set(c.containerId, [...(counts.get(c.containerId) ?? []), c.pid]);
  const alive = new Set(running(o).map((c) => c.id));
  for (const [id, pids] of counts) {
    if (!alive.has(id)) {
      const c = o.containers.find((x) => x.id === id);
      const what = c ? `${c.name}, which is ${c.status}` : `${short(id)}, which does not exist`;
      out.push(v('conmon', `conmon ${pids.join(' ')} supervises ${what} (leaked process and container)`));
    } else if (pids.length > 1) out.push(v('conmon', `${cname(o, id)} has ${pids.length} conmons: ${pids.join(' ')}`));
  }
  for (const c of running(o)) if (!counts.has(c.id)) out.push(v('conmon', `running container ${c.name} has no conmon`));
  return out;
}

/** The OCI bundle, runc's state and the cgroup of a container exist exactly while it runs. */
export function checkRuntimeState(o: Observed): Violation[] {
  const out: Violation[] = [];
  const alive = new Set(running(o).map((c) => c.id));
  const what = (id: string): string => {
    const c = o.containers.find((x) => x.id === id);
    return c ? `${c.name}, which is ${c.status}` : `${short(id)}, which does not exist`;
  };
  const sets: [string, string[] | undefined, string][] = [
    ['OCI bundle', o.kernel.runtimeBundles, 'exec/runtime'],
    ['runc state', o.kernel.runcStates, 'exec/runc'],
    ['cgroup', o.kernel.cgroups, 'the pids cgroup parent'],
  ];
  for (const [kind, ids, where] of sets) {
    if (ids === undefined) continue;
    const have = new Set(ids);
    for (const id of have) if (!alive.has(id)) out.push(v('runtime', `${kind} of ${what(id)} is left in ${where} (leaked${kind === 'OCI bundle' ? '; its next start fails "already exists in the runtime"' : ''})`));
    for (const id of alive) if (!have.has(id)) out.push(v('runtime', `running container ${cname(o, id)} has no ${kind} in ${where}`));
  }
  // conmon writes it when the process ends; the daemon removes it with the bundle.
  for (const id of o.kernel.exitFiles) out.push(v('runtime', `exit file of ${what(id)} is left in exec/runtime/exits (${alive.has(id) ? 'the next daemon start takes it for stopped and kills it' : 'leaked'})`));
  return out;
}

/** Store publications, inspect's Ports and the nft publication maps agree; only running containers publish. */
export function checkPublications(o: Observed): Violation[] {
  const out: Violation[] = [];
  const byId = new Map(o.containers.map((c) => [c.id, c]));
  const expected: string[] = [];
  for (const [cid, p] of o.store.ports) {
    const c = byId.get(cid);
    if (!c || !c.running) {
      out.push(v('ports', `the store publishes ports of ${c ? `${c.name}, which is ${c.status}` : `${short(cid)}, which does not exist`}`));
      continue;
    }
    const ep = [...o.store.endpoints.values()].find((e) => e.containerId === cid && e.networkId === p.networkId);
    if (!ep) out.push(v('ports', `${c.name}: ports are published on network ${short(p.networkId)}, where it has no endpoint`));
    else if (ep.ipv4 !== p.ipv4) out.push(v('ports', `${c.name}: ports forward to ${p.ipv4}, but its address is ${ep.ipv4}`));
    const stored = p.mappings.map((m) => `${m.containerPorts.start}/${m.proto} ${m.hostPorts.start}`).sort();
    const shown = c.ports.map((b) => `${b.key} ${b.hostPort}`).sort();
    if (stored.join(',') !== shown.join(',')) out.push(v('ports', `${c.name}: inspect shows ports [${shown.join(', ')}], the store [${stored.join(', ')}]`));
    expected.push(...publicationElements(p));
  }
  for (const c of running(o)) {
    if (c.ports.length > 0 && !o.store.ports.has(c.id)) out.push(v('ports', `${c.name}: inspect shows published ports, the store has none`));
  }
  if (o.kernel.nftPublications === undefined) {
    out.push(v('nft', `berth's inet table cannot be read: ${o.kernel.nftError}`));
  } else {
    const have = new Set(o.kernel.nftPublications);
    const want = new Set(expected);
    for (const e of setDiff(want, have)) out.push(v('nft', `publication element missing: ${e}`));
    for (const e of setDiff(have, want)) out.push(v('nft', `stray publication element: ${e}`));
  }
  if (o.kernel.nftBridges !== undefined) {
    const have = new Set(o.kernel.nftBridges);
    const want = new Set(o.networks.filter((n) => n.bridge).map((n) => n.bridge!));
    for (const b of setDiff(want, have)) out.push(v('nft', `bridge ${b} is missing from the bridges set`));
    for (const b of setDiff(have, want)) out.push(v('nft', `stray bridge ${b} in the bridges set`));
  }
  return out;
}

/** The nft elements a stored publication should have (IPv4), in observe.ts's text form. */
export function publicationElements(p: StoredPublication): string[] {
  const out: string[] = [];
  if (!p.ipv4) return out;
  for (const m of p.mappings) {
    if (m.hostIp.includes(':')) continue;
    const host = m.hostIp === '' || m.hostIp === '0.0.0.0' ? '0.0.0.0/0' : m.hostIp;
    const { hostPorts: h, containerPorts: c } = m;
    if (h.start === c.start) {
      const range = h.start === h.end ? `${h.start}` : `${h.start}-${h.end}`;
      out.push(`pub4_keep: ${host} . ${m.proto} . ${range} => ${p.ipv4}`);
    } else {
      for (let i = 0; i <= h.end - h.start; i++) out.push(`pub4_port: ${host} . ${m.proto} . ${h.start + i} => ${p.ipv4} . ${c.start + i}`);
    }
  }
  return out;
}

/** Each container record has its folder under <data-root>/containers, and no folder is an orphan. */
export function checkContainerDirs(o: Observed): Violation[] {
  const out: Violation[] = [];
  const dirs = new Set(o.kernel.containerDirs);
  for (const [id, c] of o.store.containers) if (!dirs.has(id)) out.push(v('container-dir', `container ${c.name} (${short(id)}) has no folder under data/containers`));
  for (const d of dirs) if (!o.store.containers.has(d)) out.push(v('container-dir', `folder data/containers/${short(d)}… belongs to no container (leaked)`));
  return out;
}

function name(o: Observed, netId: string): string {
  return o.networks.find((n) => n.id === netId)?.name ?? o.store.networks.get(netId)?.name ?? short(netId);
}

function nameOf(nets: ReadonlyMap<string, NetView>, id: string): string {
  return nets.get(id)?.name ?? short(id);
}

function cname(o: Observed, id: string): string {
  return o.containers.find((c) => c.id === id)?.name ?? o.store.containers.get(id)?.name ?? short(id);
}
