/**
 * The embedded resolver's records: per network, which names lead to which endpoints,
 * and per container, the networks it is on. Pure and synchronous; the server asks it
 * `resolve(asker, name, type)` for every query.
 *
 * Names of an endpoint on a network (as Docker gives them on user-defined networks):
 * the container's name, the first 12 hex digits of its ID, its hostname, and its
 * network-scoped aliases. `--link target:alias` adds `alias` for the linking container
 * only, on that network. Lookups are case-insensitive.
 *
 * Scope (Docker's): an asker sees only the networks it has an endpoint on, tried in the
 * order it joined them; the first network where the name has an address of the asked
 * family wins. `name.network` restricts a name to the network of that name. A name we do
 * not know is the caller's to forward, so a container on another network is never
 * revealed: the answer then comes from upstream, not from here.
 */
import { formatIp, tryParseIp, type IP } from '../ipam/index.js';
import { TYPE, type Answer } from './message.js';

/** One container's endpoint on one network, as DNS sees it. */
export interface DnsEndpoint {
  containerId: string;
  networkId: string;
  networkName: string;
  /** The container's name, without a leading "/". */
  name: string;
  /** --hostname; a name on the network when it differs from the container's name. */
  hostname?: string;
  /** --network-alias names on this network. */
  aliases: readonly string[];
  /** --link target:alias given by this container, resolvable by this container only. */
  links: readonly DnsLink[];
  ipv4?: string;
  ipv6?: string;
}

export interface DnsLink {
  /** The linked container's name. */
  target: string;
  alias: string;
}

export type Resolution =
  /** Records to answer with (already shuffled for round robin). */
  | { kind: 'answer'; answers: Answer[] }
  /** The name is ours but has no record of that type: NOERROR with no answers. */
  | { kind: 'nodata' }
  /** Not a name of ours (for this asker): forward it, or fail when not forwarding. */
  | { kind: 'unknown' };

interface Entry {
  ep: DnsEndpoint;
  v4: Uint8Array | undefined;
  v6: Uint8Array | undefined;
  /** Lowercased names this entry is registered under in its network. */
  names: string[];
  links: Map<string, string>;
}

interface NetworkIndex {
  name: string;
  byName: Map<string, Set<Entry>>;
  /** Canonical address text -> entry, for PTR. */
  byAddress: Map<string, Entry>;
}

const UNKNOWN: Resolution = { kind: 'unknown' };
const NODATA: Resolution = { kind: 'nodata' };

/** A swarm service's names on one network: `<name>` and its aliases, and `tasks.<name>`. */
export interface DnsService {
  name: string;
  aliases: readonly string[];
  /** vip mode: what `<name>` answers; dnsrr (none): the tasks' addresses. */
  vip: string | undefined;
  /** The running tasks' addresses: what `tasks.<name>` answers. */
  tasks: readonly string[];
}

export class DnsDirectory {
  private readonly networks = new Map<string, NetworkIndex>();
  /** networkId -> a service name -> its addresses there (swarm services: kept whole per network, not per endpoint). */
  private readonly serviceNames = new Map<string, Map<string, Set<Entry>>>();
  /** containerId -> networkId -> entry, in join order. */
  private readonly containers = new Map<string, Map<string, Entry>>();

  /** @param random in [0, 1), for round-robin shuffles (injectable for tests). */
  constructor(private readonly random: () => number = Math.random) {}

  /**
   * Publish an endpoint's names (as its container starts or connects). Idempotent:
   * an endpoint already known for (containerId, networkId) is replaced.
   */
  addEndpoint(ep: DnsEndpoint): void {
    this.removeEndpoint(ep.containerId, ep.networkId);
    const entry: Entry = {
      ep,
      v4: addressBytes(ep.ipv4, 4),
      v6: addressBytes(ep.ipv6, 6),
      names: endpointNames(ep),
      links: new Map(ep.links.map((l) => [normalize(l.alias), normalize(l.target)])),
    };
    let net = this.networks.get(ep.networkId);
    if (net === undefined) {
      net = { name: normalize(ep.networkName), byName: new Map(), byAddress: new Map() };
      this.networks.set(ep.networkId, net);
    }
    for (const n of entry.names) {
      let set = net.byName.get(n);
      if (set === undefined) net.byName.set(n, (set = new Set()));
      set.add(entry);
    }
    for (const a of [ep.ipv4, ep.ipv6]) {
      const key = canonical(a);
      if (key !== undefined) net.byAddress.set(key, entry);
    }
    let mine = this.containers.get(ep.containerId);
    if (mine === undefined) this.containers.set(ep.containerId, (mine = new Map()));
    mine.set(ep.networkId, entry);
  }

  /** Withdraw an endpoint (container stops or disconnects). Idempotent. */
  removeEndpoint(containerId: string, networkId: string): void {
    const mine = this.containers.get(containerId);
    const entry = mine?.get(networkId);
    if (mine === undefined || entry === undefined) return;
    mine.delete(networkId);
    if (mine.size === 0) this.containers.delete(containerId);
    const net = this.networks.get(networkId);
    if (net === undefined) return;
    for (const n of entry.names) {
      const set = net.byName.get(n);
      set?.delete(entry);
      if (set?.size === 0) net.byName.delete(n);
    }
    for (const a of [entry.ep.ipv4, entry.ep.ipv6]) {
      const key = canonical(a);
      if (key !== undefined && net.byAddress.get(key) === entry) net.byAddress.delete(key);
    }
    if (net.byName.size === 0 && net.byAddress.size === 0) this.networks.delete(networkId);
  }

  /** Withdraw all endpoints of a container. Idempotent. */
  removeContainer(containerId: string): void {
    for (const networkId of [...(this.containers.get(containerId)?.keys() ?? [])]) {
      this.removeEndpoint(containerId, networkId);
    }
  }

  /**
   * The swarm services on a network, replacing what it had: `<name>` and each alias answer
   * the VIP (or the tasks in dnsrr mode), `tasks.<name>` the tasks. Idempotent.
   */
  setServices(networkId: string, networkName: string, services: readonly DnsService[]): void {
    const names = new Map<string, Set<Entry>>();
    const entries = (addresses: readonly string[], name: string): Set<Entry> =>
      new Set(addresses.map((a) => ({ ep: { containerId: '', networkId, networkName, name, aliases: [], links: [], ipv4: a }, v4: addressBytes(a, 4), v6: undefined, names: [], links: new Map() })));
    for (const s of services) {
      const main = entries(s.vip !== undefined ? [s.vip] : s.tasks, s.name);
      for (const n of [s.name, ...s.aliases].map(normalize)) if (!names.has(n)) names.set(n, main);
      names.set(`tasks.${normalize(s.name)}`, entries(s.tasks, s.name));
    }
    if (names.size === 0) this.serviceNames.delete(networkId);
    else this.serviceNames.set(networkId, names);
  }

  /** The networks that have service names (to clear those a change left with none). */
  serviceNetworks(): string[] {
    return [...this.serviceNames.keys()];
  }

  /** The endpoints of a container, in join order (for inspection and tests). */
  endpointsOf(containerId: string): DnsEndpoint[] {
    return [...(this.containers.get(containerId)?.values() ?? [])].map((e) => e.ep);
  }

  /**
   * Answer `qname` (any case, trailing dot or not) of type `qtype` for the container
   * `askerId`, within the networks the asker is on.
   */
  resolve(askerId: string, qname: string, qtype: number): Resolution {
    const mine = this.containers.get(askerId);
    if (mine === undefined) return UNKNOWN;
    const lower = qname.toLowerCase();
    const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
    if (qtype === TYPE.PTR) {
      const ptr = this.resolvePtr(mine, name);
      if (ptr !== undefined) return ptr;
    }
    let known = false;
    for (const [host, netName] of candidates(name)) {
      const entries = this.lookup(mine, host, netName);
      for (const set of entries) {
        known = true;
        const answers = addressAnswers(set, qtype);
        if (answers.length > 0) return { kind: 'answer', answers: shuffle(answers, this.random) };
      }
    }
    return known ? NODATA : UNKNOWN;
  }

  /**
   * The sets of entries `host` names on the asker's networks (restricted to `netName`
   * when given): link aliases first, on every network, then names, each in join order.
   */
  private *lookup(mine: Map<string, Entry>, host: string, netName: string | undefined): Generator<Set<Entry>> {
    for (const pass of ['link', 'name'] as const) {
      for (const [networkId, own] of mine) {
        const net = this.networks.get(networkId);
        if (net === undefined || (netName !== undefined && net.name !== netName)) continue;
        const target = pass === 'link' ? own.links.get(host) : host;
        if (target === undefined) continue;
        if (pass === 'name' && own.links.has(host)) continue;
        const set = net.byName.get(target);
        if (set !== undefined && set.size > 0) yield set;
        const service = pass === 'name' ? this.serviceNames.get(networkId)?.get(target) : undefined;
        if (service !== undefined) yield service;
      }
    }
  }

  private resolvePtr(mine: Map<string, Entry>, name: string): Resolution | undefined {
    const address = reverseNameToAddress(name);
    if (address === undefined) return undefined;
    for (const networkId of mine.keys()) {
      const net = this.networks.get(networkId);
      const entry = net?.byAddress.get(address);
      if (net !== undefined && entry !== undefined) {
        // Docker's PTR answer: the container's name qualified by the network's name.
        return { kind: 'answer', answers: [{ type: TYPE.PTR, target: `${entry.ep.name}.${entry.ep.networkName}` }] };
      }
    }
    return UNKNOWN;
  }
}

/** Lowercase (ASCII, as DNS compares) and drop a trailing dot. */
function normalize(name: string): string {
  const lower = name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

function endpointNames(ep: DnsEndpoint): string[] {
  const names = [ep.name, ep.containerId.slice(0, 12), ep.hostname ?? '', ...ep.aliases].map(normalize);
  return [...new Set(names.filter((n) => n !== ''))];
}

/**
 * The (host, network) pairs a name may mean, Docker's way: "a.b.c" is "a.b.c" on any
 * network, then "a.b" on network "c", then "a" on network "b.c".
 */
function candidates(name: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [[name, undefined]];
  for (let i = name.lastIndexOf('.'); i > 0; i = name.lastIndexOf('.', i - 1)) {
    out.push([name.slice(0, i), name.slice(i + 1)]);
  }
  return out;
}

function addressAnswers(set: Set<Entry>, qtype: number): Answer[] {
  const out: Answer[] = [];
  if (qtype !== TYPE.A && qtype !== TYPE.AAAA) return out;
  for (const e of set) {
    const address = qtype === TYPE.A ? e.v4 : e.v6;
    if (address !== undefined) out.push({ type: qtype, address });
  }
  return out;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

function addressBytes(text: string | undefined, family: 4 | 6): Uint8Array | undefined {
  const ip = text === undefined ? undefined : tryParseIp(text);
  if (ip === undefined || ip.family !== family) return undefined;
  return ipBytes(ip);
}

function ipBytes(ip: IP): Uint8Array {
  const n = ip.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = ip.value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function canonical(text: string | undefined): string | undefined {
  const ip = text === undefined ? undefined : tryParseIp(text);
  return ip === undefined ? undefined : formatIp(ip);
}

/** "4.3.2.1.in-addr.arpa" -> "1.2.3.4"; nibble form of ip6.arpa -> canonical IPv6. */
export function reverseNameToAddress(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    return canonical(parts.reverse().join('.'));
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || !nibbles.every((n) => /^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups = hex.match(/.{4}/g) ?? [];
    return canonical(groups.join(':'));
  }
  return undefined;
}
