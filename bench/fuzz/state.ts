/**
 * What the daemon and the kernel hold, read through the API and iproute2/nft in the
 * daemon's namespace: snapshots to compare before and after, invariants that must hold
 * whatever the requests were, and removal of everything a run created.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { settled } from '../../test/lib/async.js';
import { sh } from '../../test/lib/world.js';
import { apiCall } from './client.js';

/** The daemon a run talks to: a test World fits this shape. */
export interface FuzzTarget {
  readonly sock: string;
  /** The network namespace berthd runs in. */
  readonly ns: string;
  readonly dir: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  restart(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface Snapshot {
  containers: string[];
  networks: string[];
  volumes: string[];
  images: string[];
  tags: string[];
  links: string[];
  routes: string;
  nft: { rules: number; elements: number };
  netnsFiles: string[];
  mounts: number;
}

interface NetworkJson {
  Id: string;
  Name: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] };
  Containers?: Record<string, { Name?: string; IPv4Address?: string; IPv6Address?: string }>;
}

interface ContainerJson {
  Id: string;
  Names?: string[];
  State?: string;
  Ports?: { IP?: string; PublicPort?: number; Type?: string }[];
}

interface ImageJson {
  Id: string;
  RepoTags?: string[] | null;
}

async function getJson<T>(t: FuzzTarget, p: string, shape: 'array' | 'object'): Promise<T> {
  const a = await apiCall(t.sock, 'GET', p, undefined, 30_000);
  const ok = shape === 'array' ? Array.isArray(a.json) : typeof a.json === 'object' && a.json !== null;
  if (a.status !== 200 || !ok) throw new Error(`GET ${p}: ${a.outcome} ${a.status} ${a.text.slice(0, 300)}`);
  return a.json as T;
}

export function listNetworks(t: FuzzTarget): Promise<NetworkJson[]> {
  return getJson<NetworkJson[]>(t, '/networks', 'array');
}

export function listContainers(t: FuzzTarget): Promise<ContainerJson[]> {
  return getJson<ContainerJson[]>(t, '/containers/json?all=1', 'array');
}

async function nftCounts(ns: string): Promise<{ rules: number; elements: number }> {
  let rules = 0;
  let elements = 0;
  for (const family of ['inet', 'ip', 'ip6', 'bridge']) {
    const out = await sh('nsenter', [`--net=/run/netns/${ns}`, '--', 'nft', '-j', 'list', 'table', family, 'berth']);
    if (out.code !== 0) continue;
    const doc = JSON.parse(out.stdout) as { nftables: { rule?: unknown; map?: { elem?: unknown[] }; set?: { elem?: unknown[] } }[] };
    for (const o of doc.nftables) {
      if (o.rule) rules++;
      elements += (o.map?.elem ?? o.set?.elem ?? []).length;
    }
  }
  return { rules, elements };
}

export async function snapshot(t: FuzzTarget): Promise<Snapshot> {
  const images = await getJson<ImageJson[]>(t, '/images/json', 'array');
  const links = JSON.parse((await sh('ip', ['-n', t.ns, '-j', 'link', 'show'])).stdout) as { ifname: string }[];
  const routes = (await sh('ip', ['-n', t.ns, 'route', 'show', 'table', 'all'])).stdout;
  const netnsDir = path.join(t.execRoot, 'netns');
  return {
    containers: (await listContainers(t)).map((c) => c.Id).sort(),
    networks: (await listNetworks(t)).map((n) => n.Id).sort(),
    volumes: (await getJson<{ Volumes: { Name: string }[] | null }>(t, '/volumes', 'object')).Volumes?.map((v) => v.Name).sort() ?? [],
    images: images.map((i) => i.Id).sort(),
    tags: images.flatMap((i) => i.RepoTags ?? []).sort(),
    links: links.map((l) => l.ifname).sort(),
    // A bridge that carried ports gains an IPv6 link-local address: the kernel's, not a leak.
    routes: routes.split('\n').filter((l) => l !== '' && !/fe80::/.test(l)).map((l) => l.replace(' linkdown', '')).sort().join('\n'),
    nft: await nftCounts(t.ns),
    // Spare namespaces (kept ready for starts) are replaced as they are used: compare their number.
    netnsFiles: fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir).map((f) => f.replace(/^spare-.*/, 'spare-*')).sort() : [],
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(t.dir)).length,
  };
}

/**
 * What still differs from `before` once berthd's background work has settled (it
 * refills its spare namespaces a moment after a start took one): the snapshot is taken
 * again for up to `ms` until nothing differs.
 */
export function settledDiff(t: FuzzTarget, before: Snapshot, ms = 5000): Promise<string[]> {
  return settled(async () => diffSnapshots(before, await snapshot(t)), (diff) => diff.length === 0, ms, 250);
}

/** What differs between two snapshots, one line per difference. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  const lists: (keyof Snapshot)[] = ['containers', 'networks', 'volumes', 'images', 'tags', 'links', 'netnsFiles'];
  const minus = (x: readonly string[], y: readonly string[]): string[] => {
    const rest = [...y];
    return x.filter((v) => {
      const i = rest.indexOf(v);
      if (i < 0) return true;
      rest.splice(i, 1);
      return false;
    });
  };
  for (const k of lists) {
    const added = minus(after[k] as string[], before[k] as string[]);
    const removed = minus(before[k] as string[], after[k] as string[]);
    if (added.length > 0) out.push(`${k} left behind: ${added.slice(0, 10).map((x) => JSON.stringify(x.slice(0, 80))).join(', ')}${added.length > 10 ? ` (+${added.length - 10})` : ''}`);
    if (removed.length > 0) out.push(`${k} gone: ${removed.slice(0, 10).join(', ')}`);
  }
  if (before.routes !== after.routes) out.push(`routes differ:\n--- before\n${before.routes}\n--- after\n${after.routes}`);
  if (before.nft.rules !== after.nft.rules || before.nft.elements !== after.nft.elements) {
    out.push(`nft rules/elements ${before.nft.rules}/${before.nft.elements} -> ${after.nft.rules}/${after.nft.elements}`);
  }
  if (before.mounts !== after.mounts) out.push(`mounts under the world dir ${before.mounts} -> ${after.mounts}`);
  return out;
}

/** Invariants of the model, whatever was asked before: names, addresses, ports. */
export async function invariants(t: FuzzTarget): Promise<string[]> {
  const problems: string[] = [];
  const nets = await listNetworks(t);
  const names = new Map<string, number>();
  for (const n of nets) {
    if (typeof n.Name !== 'string' || n.Name.trim() === '') problems.push(`network ${n.Id} has an empty name`);
    names.set(n.Name, (names.get(n.Name) ?? 0) + 1);
  }
  for (const [name, count] of names) if (count > 1) problems.push(`network name ${JSON.stringify(name.slice(0, 80))} used ${count} times`);
  for (const n of nets) {
    if (n.Name === 'host' || n.Name === 'none') continue;
    const a = await apiCall(t.sock, 'GET', `/networks/${n.Id}`, undefined, 30_000);
    if (a.status !== 200) {
      problems.push(`GET /networks/${n.Id} answered ${a.outcome} ${a.status}`);
      continue;
    }
    const full = a.json as NetworkJson;
    const gateways = new Set((full.IPAM?.Config ?? []).map((c) => c.Gateway).filter((g): g is string => !!g));
    const seen = new Map<string, string>();
    for (const [cid, ep] of Object.entries(full.Containers ?? {})) {
      for (const addr of [ep.IPv4Address, ep.IPv6Address]) {
        if (!addr) continue;
        const ip = addr.split('/')[0]!;
        if (gateways.has(ip)) problems.push(`network ${n.Name}: container ${cid.slice(0, 12)} has the gateway address ${ip}`);
        const other = seen.get(ip);
        if (other) problems.push(`network ${n.Name}: ${ip} given to both ${other.slice(0, 12)} and ${cid.slice(0, 12)}`);
        seen.set(ip, cid);
      }
    }
  }
  const containers = await listContainers(t);
  const cnames = new Map<string, number>();
  for (const c of containers) for (const nm of c.Names ?? []) cnames.set(nm, (cnames.get(nm) ?? 0) + 1);
  for (const [nm, count] of cnames) if (count > 1) problems.push(`container name ${JSON.stringify(nm.slice(0, 80))} used ${count} times`);
  problems.push(...duplicatePorts(containers));
  return problems;
}

/** A host port published twice on overlapping addresses (0.0.0.0 overlaps every IPv4 address). */
export function duplicatePorts(containers: readonly ContainerJson[]): string[] {
  const bound: { ip: string; port: number; proto: string; owner: string }[] = [];
  const problems: string[] = [];
  for (const c of containers) {
    if (c.State !== 'running') continue;
    const mine = new Set<string>();
    for (const p of c.Ports ?? []) {
      if (!p.PublicPort) continue;
      const ip = p.IP ?? '0.0.0.0';
      const proto = p.Type ?? 'tcp';
      const key = `${ip}:${p.PublicPort}/${proto}`;
      if (mine.has(key)) continue;
      mine.add(key);
      const wild = (x: string): boolean => x === '0.0.0.0' || x === '::' || x === '';
      const clash = bound.find((b) => b.port === p.PublicPort && b.proto === proto && b.owner !== c.Id && (b.ip === ip || wild(b.ip) || wild(ip)) && ip.includes(':') === b.ip.includes(':'));
      if (clash) problems.push(`host port ${key} published by both ${clash.owner.slice(0, 12)} and ${c.Id.slice(0, 12)}`);
      bound.push({ ip, port: p.PublicPort, proto, owner: c.Id });
    }
  }
  return problems;
}

/** The docker CLI's listing commands must work on whatever the store holds. */
export async function cliListings(t: FuzzTarget): Promise<string[]> {
  const problems: string[] = [];
  const env = { ...process.env, DOCKER_HOST: `unix://${t.sock}` };
  for (const args of [['network', 'ls'], ['ps', '-a'], ['volume', 'ls'], ['images'], ['network', 'ls', '-q'], ['info']]) {
    const r = await sh('docker', args, { env, timeoutMs: 30_000 });
    if (r.code !== 0) problems.push(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  }
  const ids = (await sh('docker', ['network', 'ls', '-q'], { env })).stdout.split('\n').filter((x) => x !== '');
  if (ids.length > 0) {
    const r = await sh('docker', ['network', 'inspect', ...ids], { env, timeoutMs: 30_000 });
    if (r.code !== 0) problems.push(`docker network inspect (all) exited ${r.code}: ${r.stderr.slice(0, 300)}`);
  }
  return problems;
}

async function inParallel<T>(items: readonly T[], width: number, fn: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: width }, async () => {
    for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
  }));
}

/** Remove what is not in `baseline`: containers, networks, volumes, images. Returns failures. */
export async function removeCreated(t: FuzzTarget, baseline: Snapshot): Promise<string[]> {
  const failures: string[] = [];
  const del = async (p: string): Promise<void> => {
    const a = await apiCall(t.sock, 'DELETE', p, undefined, 60_000);
    if (a.status >= 300 && a.status !== 404) failures.push(`DELETE ${p.slice(0, 120)}: ${a.outcome} ${a.status} ${a.text.slice(0, 200)}`);
  };
  const keep = (list: string[]) => new Set(list);
  const containers = (await listContainers(t)).map((c) => c.Id).filter((id) => !keep(baseline.containers).has(id));
  await inParallel(containers, 8, (id) => del(`/containers/${id}?force=1&v=1`));
  const nets = (await listNetworks(t)).map((n) => n.Id).filter((id) => !keep(baseline.networks).has(id));
  await inParallel(nets, 4, (id) => del(`/networks/${id}`));
  const vols = (await getJson<{ Volumes: { Name: string }[] | null }>(t, '/volumes', 'object')).Volumes ?? [];
  await inParallel(vols.map((v) => v.Name).filter((n) => !keep(baseline.volumes).has(n)), 4, (n) => del(`/volumes/${encodeURIComponent(n)}?force=1`));
  const images = await getJson<ImageJson[]>(t, '/images/json', 'array');
  for (const img of images) {
    for (const tag of img.RepoTags ?? []) if (!keep(baseline.tags).has(tag)) await del(`/images/${encodeURIComponent(tag)}?force=1`);
  }
  for (const img of await getJson<ImageJson[]>(t, '/images/json', 'array')) {
    if (!keep(baseline.images).has(img.Id)) await del(`/images/${img.Id}?force=1`);
  }
  return failures;
}

/** Files a traversal or an injection would have made: canaries outside the daemon's roots, hard links to /etc/passwd. */
export async function escapes(t: FuzzTarget, seed: number): Promise<string[]> {
  const found: string[] = [];
  const canary = `fzcanary-${seed}`;
  for (const dir of [t.dir, path.dirname(t.dir), '/', '/tmp', '/etc']) {
    for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      if (name.startsWith(canary) || name.startsWith('fzpwned')) found.push(path.join(dir, name));
    }
  }
  // An absolute entry (/<dir>/<canary>-abs) extracted inside a layer is contained, so not an escape.
  const contained = `${t.dir}/${canary}-abs`.replace(/^\//, '/');
  const inside = await sh('find', [t.dir, '-xdev', '(', '-name', `${canary}*`, '-o', '-name', 'fzpwned*', ')']);
  for (const f of inside.stdout.split('\n')) {
    if (f === '' || found.includes(f)) continue;
    if (f.startsWith(`${t.dataRoot}/`) && f.endsWith(contained) && f !== contained) continue;
    found.push(f);
  }
  const links = await sh('find', [t.dataRoot, '-xdev', '-samefile', '/etc/passwd']);
  for (const f of links.stdout.split('\n')) if (f !== '') found.push(`hard link to /etc/passwd: ${f}`);
  return found;
}

/** The daemon's pid, from its pid file. */
export function daemonPid(t: FuzzTarget): number {
  return Number(fs.readFileSync(path.join(t.execRoot, 'berthd.pid'), 'utf8').trim());
}

/** Running (a zombie not yet reaped counts as dead). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** VmRSS of a process in kB. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}
