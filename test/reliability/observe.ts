/**
 * A snapshot of everything the chaos checks compare, taken while the daemon is idle:
 * what the Engine API says (networks, container inspects), what the store file on disk
 * holds (read independently of the daemon), and what the kernel and the host have
 * (links in the world's namespace, namespace files, mounts, conmon processes, nftables
 * publication elements, addresses inside each container's namespace).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sh } from '../lib/world.js';
import { arr, num, obj, str } from './json.js';
import { byPrefix, readStoreFile } from './store-file.js';
import { mountsUnder, processesMentioning, type MountEntry } from '../lib/leftovers.js';
import { procStat } from '../lib/proc.js';
import { settled } from '../lib/async.js';
import type { ChaosWorld } from './world.js';

// ---- the API's view ---------------------------------------------------------------------

export interface NetAttachment {
  containerId: string;
  name: string;
  endpointId: string;
  /** IPv4 address without the prefix length; '' when none. */
  ipv4: string;
}

export interface NetView {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  subnets: string[];
  /** The kernel bridge of a bridge network. */
  bridge: string | undefined;
  containers: NetAttachment[];
}

export interface CtrNet {
  /** The key of NetworkSettings.Networks (the network's name). */
  name: string;
  networkId: string;
  endpointId: string;
  ip: string;
  /** IPAMConfig.IPv4Address: a static --ip. */
  staticIp: string;
}

export interface CtrView {
  id: string;
  name: string;
  status: string;
  running: boolean;
  pid: number;
  cmd: string[];
  /** HostConfig.NetworkMode: the network it was created on (decides whether it uses the embedded DNS). */
  networkMode: string;
  /** NetworkSettings.SandboxKey: the namespace file (meaningful while it runs). */
  sandboxKey: string;
  networks: CtrNet[];
  /** NetworkSettings.Ports bindings: "80/tcp" -> host ports. */
  ports: { key: string; hostIp: string; hostPort: string }[];
  /** HostConfig.PortBindings as created. */
  portBindings: { key: string; hostIp: string; hostPort: string }[];
}

// ---- the store's view -------------------------------------------------------------------

export interface StoredNetwork {
  name: string;
  driver: string;
  pools: { subnet: string; allocated: string[] }[];
}

export interface StoredEndpoint {
  networkId: string;
  containerId: string;
  hostIfName: string;
  ifName: string;
  ipv4: string;
  ipv6: string;
}

export interface StoredPublication {
  networkId: string;
  ipv4: string;
  mappings: { proto: string; hostIp: string; hostPorts: { start: number; end: number }; containerPorts: { start: number; end: number } }[];
}

export interface StoreView {
  networks: Map<string, StoredNetwork>;
  endpoints: Map<string, StoredEndpoint>;
  containers: Map<string, { name: string; status: string; pid: number }>;
  ports: Map<string, StoredPublication>;
  tornBytes: number;
}

// ---- the kernel's view ------------------------------------------------------------------

export interface LinkView {
  name: string;
  kind: string;
  alias: string;
  master: string;
  up: boolean;
}

export interface KernelView {
  links: LinkView[];
  /** <exec-root>/netns */
  netnsDir: string;
  /** Names of the files under <exec-root>/netns. */
  netnsFiles: string[];
  /** nsfs inode of each namespace file that is a mount. */
  netnsInodes: Map<string, number>;
  mounts: MountEntry[];
  conmons: { pid: number; containerId: string }[];
  /** The daemon's socket helpers (kernel/nssocket.ts) and their parents. */
  socketHelpers: { pid: number; ppid: number }[];
  /** The daemon that was observed. */
  daemonPid: number;
  /** Normalised elements of the publication maps, `pub4_keep: 0.0.0.0/0 tcp 20001 => 10.0.0.2`; undefined when the table could not be read. */
  nftPublications: string[] | undefined;
  nftBridges: string[] | undefined;
  nftError: string;
  /** Folders under <data-root>/containers. */
  containerDirs: string[];
  /** OCI bundles under <exec-root>/runtime, runc state under <exec-root>/runc (container IDs). */
  runtimeBundles: string[];
  /** conmon's exit files under <exec-root>/runtime/exits (container IDs). */
  exitFiles: string[];
  runcStates: string[];
  /** Container cgroups under the daemon's parent (pids controller); undefined when the daemon ID is unknown. */
  cgroups: string[] | undefined;
  /** Per running container (full ID): nsfs inode of /proc/<pid>/ns/net, or undefined when the process is gone. */
  processNetns: Map<string, number | undefined>;
  /** Per namespace file: interface -> IPv4 addresses inside it; an error text when unreadable. */
  sandboxAddrs: Map<string, Map<string, string[]> | string>;
}

export interface Observed {
  networks: NetView[];
  containers: CtrView[];
  store: StoreView;
  kernel: KernelView;
}

/**
 * Wait (up to `timeoutMs`) until the daemon's background work has settled: berthd refills
 * its spare namespaces in the background (a spare is a file first and a mount a moment
 * later), and the kernel deletes the bridges of removed networks after their rm answered
 * (`berthrm-*` links meanwhile). Returns whether it settled; the checks report what did not.
 */
export async function settle(w: ChaosWorld, timeoutMs = 5000): Promise<boolean> {
  const netnsDir = path.join(w.execRoot, 'netns');
  const quiet = async (): Promise<boolean> => {
    const mounted = new Set(mountsUnder(netnsDir).map((m) => path.basename(m.target)));
    const retiring = (await readLinks(w)).some((l) => l.name.startsWith('berthrm-'));
    return !retiring && listDir(netnsDir).every((f) => mounted.has(f));
  };
  return settled(quiet, (q) => q, timeoutMs, 100);
}

/** Take the snapshot. Throws only when the API itself cannot be read. */
export async function observe(w: ChaosWorld): Promise<Observed> {
  const networks = await observeNetworks(w);
  const containers = await observeContainers(w);
  const store = observeStore(w);
  const kernel = await observeKernel(w, containers);
  return { networks, containers, store, kernel };
}

async function observeNetworks(w: ChaosWorld): Promise<NetView[]> {
  const list = await w.client.ok('GET', '/networks');
  return arr(list.body).map((raw) => {
    const n = obj(raw);
    const id = str(n.Id);
    const name = str(n.Name);
    const driver = str(n.Driver);
    const optBridge = str(obj(n.Options)['com.docker.network.bridge.name']);
    const bridge = driver !== 'bridge' ? undefined : optBridge || (name === 'bridge' ? 'berth0' : `br-${id.slice(0, 12)}`);
    const containers = Object.entries(obj(n.Containers)).map(([cid, v]) => {
      const c = obj(v);
      return { containerId: cid, name: str(c.Name), endpointId: str(c.EndpointID), ipv4: str(c.IPv4Address).split('/')[0] ?? '' };
    });
    const subnets = arr(obj(n.IPAM).Config).map((c) => str(obj(c).Subnet));
    return { id, name, driver, internal: n.Internal === true, subnets, bridge, containers };
  });
}

async function observeContainers(w: ChaosWorld): Promise<CtrView[]> {
  const list = await w.client.ok('GET', '/containers/json?all=1');
  const out: CtrView[] = [];
  for (const raw of arr(list.body)) {
    const id = str(obj(raw).Id);
    const r = await w.client.api('GET', `/containers/${id}/json`);
    if (r.status === 404) continue; // listed, then gone: nothing runs concurrently, so this is reported by the list/store check
    if (r.status >= 400) throw new Error(`inspect ${id}: ${r.status}`);
    out.push(containerView(r.body));
  }
  return out;
}

export function containerView(body: unknown): CtrView {
  const c = obj(body);
  const state = obj(c.State);
  const settings = obj(c.NetworkSettings);
  const networks = Object.entries(obj(settings.Networks)).map(([name, v]) => {
    const e = obj(v);
    return { name, networkId: str(e.NetworkID), endpointId: str(e.EndpointID), ip: str(e.IPAddress), staticIp: str(obj(e.IPAMConfig).IPv4Address) };
  });
  const bindings = (m: unknown): CtrView['ports'] =>
    Object.entries(obj(m)).flatMap(([key, list]) => arr(list).map((b) => ({ key, hostIp: str(obj(b).HostIp), hostPort: str(obj(b).HostPort) })));
  return {
    id: str(c.Id),
    name: str(c.Name).replace(/^\//, ''),
    status: str(state.Status),
    running: state.Running === true,
    pid: num(state.Pid),
    cmd: arr(obj(c.Config).Cmd).map(str),
    networkMode: str(obj(c.HostConfig).NetworkMode),
    sandboxKey: str(settings.SandboxKey),
    networks,
    ports: bindings(settings.Ports),
    portBindings: bindings(obj(c.HostConfig).PortBindings),
  };
}

function observeStore(w: ChaosWorld): StoreView {
  const file = readStoreFile(w.storeFile);
  const networks = new Map<string, StoredNetwork>();
  for (const [id, v] of byPrefix(file, 'network/')) {
    const n = obj(v);
    const pools = arr(obj(n.ipam).pools).map((p) => ({ subnet: str(obj(p).subnet), allocated: arr(obj(p).allocated).map(str) }));
    networks.set(id, { name: str(n.name), driver: str(n.driver), pools });
  }
  const endpoints = new Map<string, StoredEndpoint>();
  for (const [id, v] of byPrefix(file, 'endpoint/')) {
    const e = obj(v);
    endpoints.set(id, {
      networkId: str(e.networkId),
      containerId: str(e.containerId),
      hostIfName: str(e.hostIfName),
      ifName: str(e.ifName),
      ipv4: str(obj(e.ipv4).address),
      ipv6: str(obj(e.ipv6).address),
    });
  }
  const containers = new Map<string, { name: string; status: string; pid: number }>();
  for (const [id, v] of byPrefix(file, 'container/')) {
    const c = obj(v);
    containers.set(id, { name: str(obj(c.spec).name), status: str(obj(c.state).status), pid: num(obj(c.state).pid) });
  }
  const ports = new Map<string, StoredPublication>();
  for (const [cid, v] of byPrefix(file, 'ports/')) {
    const p = obj(v);
    const range = (r: unknown): { start: number; end: number } => ({ start: num(obj(r).start), end: num(obj(r).end) });
    const mappings = arr(p.mappings).map((m) => {
      const o = obj(m);
      return { proto: str(o.proto), hostIp: str(o.hostIp), hostPorts: range(o.hostPorts), containerPorts: range(o.containerPorts) };
    });
    ports.set(cid, { networkId: str(p.networkId), ipv4: str(p.ipv4), mappings });
  }
  return { networks, endpoints, containers, ports, tornBytes: file.tornBytes };
}

async function observeKernel(w: ChaosWorld, containers: readonly CtrView[]): Promise<KernelView> {
  const links = await readLinks(w);
  const netnsDir = path.join(w.execRoot, 'netns');
  const netnsFiles = listDir(netnsDir);
  const mounts = mountsUnder(w.dir);
  const mountTargets = new Set(mounts.map((m) => m.target));
  const netnsInodes = new Map<string, number>();
  for (const f of netnsFiles) {
    const p = path.join(netnsDir, f);
    if (!mountTargets.has(p)) continue;
    try {
      netnsInodes.set(f, fs.statSync(p).ino);
    } catch {
      /* reported as a missing namespace */
    }
  }
  const conmons = processesMentioning(w.dir)
    .filter((p) => path.basename(p.argv[0] ?? '') === 'conmon')
    .map((p) => ({ pid: p.pid, containerId: p.argv[p.argv.indexOf('-c') + 1] ?? '' }));
  const socketHelpers = processesMentioning(w.dir)
    .filter((p) => p.argv.some((a) => a.endsWith('nssocket-child.js')))
    .map((p) => ({ pid: p.pid, ppid: procStat(p.pid)?.ppid ?? 0 }));
  const nft = await readNft(w);
  const processNetns = new Map<string, number | undefined>();
  for (const c of containers) {
    if (!c.running) continue;
    try {
      processNetns.set(c.id, fs.statSync(`/proc/${c.pid}/ns/net`).ino);
    } catch {
      processNetns.set(c.id, undefined);
    }
  }
  const sandboxAddrs = new Map<string, Map<string, string[]> | string>();
  await Promise.all(
    netnsFiles.map(async (f) => {
      const r = await sh('nsenter', [`--net=${path.join(netnsDir, f)}`, '--', 'ip', '-j', 'addr', 'show'], { timeoutMs: 20_000 });
      if (r.code !== 0) {
        sandboxAddrs.set(f, `ip addr in ${f}: ${r.stderr.trim()}`);
        return;
      }
      const byIf = new Map<string, string[]>();
      for (const l of arr(JSON.parse(r.stdout))) {
        const o = obj(l);
        const v4 = arr(o.addr_info).map(obj).filter((a) => a.family === 'inet').map((a) => str(a.local));
        byIf.set(str(o.ifname), v4);
      }
      sandboxAddrs.set(f, byIf);
    }),
  );
  return {
    links,
    netnsDir,
    netnsFiles,
    netnsInodes,
    mounts,
    conmons,
    socketHelpers,
    daemonPid: w.pid,
    ...nft,
    containerDirs: listDir(path.join(w.dataRoot, 'containers')),
    runtimeBundles: listDir(path.join(w.execRoot, 'runtime')).filter((d) => d !== 'exits'),
    exitFiles: listDir(path.join(w.execRoot, 'runtime', 'exits')),
    runcStates: listDir(path.join(w.execRoot, 'runc')),
    cgroups: w.daemonId ? listSubdirs(path.join('/sys/fs/cgroup/pids', `berth-${w.daemonId.slice(0, 12)}`)) : undefined,
    processNetns,
    sandboxAddrs,
  };
}

async function readLinks(w: ChaosWorld): Promise<LinkView[]> {
  const r = await sh('ip', ['-n', w.ns, '-j', '-d', 'link', 'show'], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`ip link in ${w.ns}: ${r.stderr}`);
  return arr(JSON.parse(r.stdout)).map((raw) => {
    const l = obj(raw);
    return {
      name: str(l.ifname),
      kind: str(obj(l.linkinfo).info_kind),
      alias: str(l.ifalias),
      master: str(l.master),
      up: arr(l.flags).includes('UP'),
    };
  });
}

async function readNft(w: ChaosWorld): Promise<Pick<KernelView, 'nftPublications' | 'nftBridges' | 'nftError'>> {
  const r = await w.inNs(w.ns, ['nft', '-j', 'list', 'table', 'inet', 'berth']);
  if (r.code !== 0) return { nftPublications: undefined, nftBridges: undefined, nftError: r.stderr.trim() };
  const pubs: string[] = [];
  const bridges: string[] = [];
  for (const item of arr(obj(JSON.parse(r.stdout)).nftables)) {
    const o = obj(item);
    const m = obj(o.map);
    const s = obj(o.set);
    if (/^pub[46]_(keep|port)$/.test(str(m.name))) {
      for (const e of arr(m.elem)) pubs.push(`${str(m.name)}: ${nftMapElem(e)}`);
    }
    if (str(s.name) === 'bridges') for (const e of arr(s.elem)) bridges.push(nftValue(e));
  }
  return { nftPublications: pubs.sort(), nftBridges: bridges.sort(), nftError: '' };
}

/** One map element `[key, value]` as `key => value`, each part in nft's own text form. */
function nftMapElem(e: unknown): string {
  const pair = arr(e);
  return `${nftValue(pair[0])} => ${nftValue(pair[1])}`;
}

/** An nft JSON expression as text: "a . b" for concatenations, a/len for prefixes, a-b for ranges. */
export function nftValue(v: unknown): string {
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  const o = obj(v);
  if ('concat' in o) return arr(o.concat).map(nftValue).join(' . ');
  if ('prefix' in o) return `${nftValue(obj(o.prefix).addr)}/${num(obj(o.prefix).len)}`;
  if ('range' in o) return arr(o.range).map(nftValue).join('-');
  if ('elem' in o) return nftValue(obj(o.elem).val);
  if ('val' in o) return nftValue(o.val);
  return JSON.stringify(v);
}

function listSubdirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}
