/**
 * A fake of the Kernel port (src/kernel/port.ts) for unit tests of the controller, the
 * drivers, Traffic and the engine. It keeps a small model of what the real kernel would
 * hold — the daemon namespace's links and addresses, each sandbox's links and routes,
 * sysctls, nft tables, held host ports — by reading the iproute2 commands berth sends,
 * records every change as a step ("host: link add …", "nft", "sysctl …"), and through
 * `Faults` (shared with a faulty store) can fail, or freeze as a crash would, at step N.
 */
import { KernelCommandError } from '../../src/kernel/exec.js';
import type { KernelFeatures } from '../../src/kernel/features.js';
import { HostPortError, type HeldSockets, type HostSocketSpec } from '../../src/kernel/hostports.js';
import type { LinkInfo } from '../../src/kernel/links.js';
import type { Kernel, KernelLinks, KernelConntrack, KernelTc, KernelNft, KernelSandboxes, KernelSysctls, KernelXfrm, NftFamily, NftObject, TraceCapture } from '../../src/kernel/port.js';
import type { GatewayRoute, RouteInfo } from '../../src/kernel/routes.js';
import type { NamespaceView } from '../../src/kernel/namespace-view.js';
import type { SysctlSetting } from '../../src/kernel/sysctl.js';
import type { PlanStep } from '../../src/kernel/wiring.js';
import { FakeTables } from './fake-tables.js';
import { FakeTc } from './fake-tc.js';

/**
 * Counts the changes of a run (kernel steps and store commits alike) and decides the
 * fate of each: go on, fail (an error, as the kernel would answer), or crash (the call
 * never returns, and neither does any later one: the daemon is gone).
 */
export class Faults {
  count = 0;
  /** The step that fails (1-based), if any. */
  failAt: number | undefined;
  /** The step at which the daemon "dies": it and every later call hang forever. */
  crashAt: number | undefined;
  crashed = false;
  /** Every step so far, in order. */
  readonly log: string[] = [];
  /** Steps that match wait for `until` before they happen (to hold one operation half way). */
  hold: { match: (what: string) => boolean; until: Promise<void> } | undefined;

  /**
   * Called before each change; throws on a failure, never resolves after a crash.
   * `continuing`: the change belongs to a batch one process already runs (ip -batch):
   * the daemon dying cannot stop it, so a crash falls on the next change instead.
   */
  async step(what: string, continuing = false): Promise<void> {
    if (this.crashed) return never();
    this.count++;
    if (this.crashAt !== undefined && this.count >= this.crashAt && !continuing) {
      this.crashed = true;
      return never();
    }
    this.log.push(what);
    if (this.hold?.match(what)) await this.hold.until;
    if (this.failAt === this.count) throw new KernelCommandError(['fake', what], 'RTNETLINK answers: Operation not permitted (injected fault)', 2);
  }

  /** A fresh count for the next run over the same state (a restarted daemon). */
  reset(): void {
    this.count = 0;
    this.failAt = undefined;
    this.crashAt = undefined;
    this.crashed = false;
    this.log.length = 0;
  }
}

const never = async (): Promise<never> => new Promise<never>(() => undefined);

export interface FakeLink {
  name: string;
  kind: string;
  mtu: number;
  up: boolean;
  alias: string | undefined;
  master: string | undefined;
  addresses: string[];
  /** The other end of a veth: its namespace ('host' or a sandbox path) and name. */
  peer?: { ns: string; name: string };
}

const HOST = 'host';
const DEFAULT_FEATURES: KernelFeatures = { macvlan: true, ipvlan: true, vlan: true, dummy: true, ifb: true, vxlan: true, esp: true };

const missing = (what: string): KernelCommandError => new KernelCommandError(['ip'], `Cannot find device "${what}"`, 1);
const exists = (): KernelCommandError => new KernelCommandError(['ip'], 'RTNETLINK answers: File exists', 2);

export class FakeKernel implements Kernel {
  /** Namespace ('host' or a sandbox's path) -> its links by name. */
  readonly namespaces = new Map<string, Map<string, FakeLink>>([[HOST, new Map()]]);
  /** Namespace -> its routes, as iproute2 writes them ("default via 10.0.0.1 dev eth0"). */
  readonly routeTable = new Map<string, Set<string>>([[HOST, new Set()]]);
  readonly sysctlValues = new Map<string, string>();
  readonly nftScripts: string[] = [];
  readonly tables = new Set<string>();
  readonly held = new Set<string>();
  /** FDB commands seen (bridge fdb …), as sent. */
  readonly fdb = new Set<string>();
  /** FDB, neighbour and XFRM tables, as those commands left them. */
  readonly peerTables = new FakeTables();
  /** Host ports a host process has: holding them fails with EADDRINUSE. */
  readonly busyPorts = new Set<string>();
  /** clsact qdiscs and u32 filters, as tc commands left them. */
  readonly tcState = new FakeTc();
  /** The host's routes (kernel.routes()). */
  hostRoutes: RouteInfo[] = [];
  featureSet: KernelFeatures = DEFAULT_FEATURES;
  private readonly retiring = new Set<Promise<void>>();
  private retired = 0;

  constructor(readonly faults = new Faults()) {}

  /** The daemon process is gone: its sockets closed, its background deletions never finish. */
  daemonDied(): void {
    this.held.clear();
    this.retiring.clear();
  }

  /** The daemon namespace's links. */
  get host(): Map<string, FakeLink> {
    return this.namespaces.get(HOST)!;
  }

  /** A copy of everything the kernel holds, for comparing before and after. */
  snapshot(): unknown {
    const links = [...this.namespaces].map(([ns, m]) => [ns, [...m.values()].map((l) => ({ ...l, addresses: [...l.addresses].sort() })).sort((a, b) => a.name.localeCompare(b.name))]);
    return {
      links: links.sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      routes: [...this.routeTable].map(([ns, r]) => [ns, [...r].sort()]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      held: [...this.held].sort(),
      tables: [...this.tables].sort(),
      tc: [...this.tcState.qdiscs, ...[...this.tcState.filters].flatMap(([side, l]) => l.map((f) => `${side} ${JSON.stringify(f)}`))].sort(),
    };
  }

  readonly links: KernelLinks = {
    list: async () => [...this.host.values()].map(info),
    get: async (name) => {
      const l = this.host.get(name);
      return l && info(l);
    },
    batch: async (commands) => {
      for (const [i, c] of commands.entries()) await this.ip(HOST, c, i > 0);
    },
    bridgeBatch: async (commands) => {
      for (const [i, c] of commands.entries()) {
        await this.faults.step(`host: bridge ${c}`, i > 0);
        if (!this.host.has(after(c.split(/\s+/), 'dev') ?? '')) throw missing(after(c.split(/\s+/), 'dev') ?? '');
        this.peerTables.bridge(c);
        this.fdb.add(c);
      }
    },
    fdb: async (name) => [...(this.peerTables.fdb.get(name) ?? [])],
    neighbours: async (name) => [...(this.peerTables.neigh.get(name) ?? [])],
    delete: async (name) => {
      try {
        await this.ip(HOST, `link del dev ${name}`);
      } catch (e: unknown) {
        if (!(e instanceof KernelCommandError && /Cannot find/.test(e.stderr))) throw e;
      }
    },
    retire: async (name, onError) => {
      if (!this.host.has(name)) return;
      const doomed = `berthrm-${++this.retired}`;
      await this.links.batch([`link set dev ${name} down`, `addr flush dev ${name}`, `link set dev ${name} name ${doomed} alias berth`]);
      const deletion = (async () => this.links.delete(doomed))().catch(onError);
      this.retiring.add(deletion);
      void deletion.finally(() => this.retiring.delete(deletion));
    },
    retiredGone: async () => void (await Promise.all([...this.retiring])),
    removeAddresses: async (name, addresses) => {
      for (const a of addresses) {
        try {
          await this.ip(HOST, `addr del ${a} dev ${name}`);
        } catch (e: unknown) {
          if (!(e instanceof KernelCommandError && /Cannot (find|assign)/.test(e.stderr))) throw e;
        }
      }
    },
  };

  readonly sandboxes: KernelSandboxes = {
    apply: async (steps: readonly PlanStep[], sandbox: string) => {
      for (const step of steps) {
        if (step.in === 'host') {
          await this.links.batch(step.commands);
          continue;
        }
        if (step.in === 'host-fdb') {
          await this.links.bridgeBatch(step.commands);
          continue;
        }
        const fresh = !this.namespaces.has(sandbox);
        if (fresh) await this.addNetns(sandbox);
        try {
          // One process: unshare (a fresh sandbox) then ip -batch.
          for (const [i, c] of step.commands.entries()) await this.ip(sandbox, c, fresh || i > 0);
        } catch (e: unknown) {
          if (fresh) this.dropNetns(sandbox); // createNetns removes the namespace its batch failed in
          throw e;
        }
      }
    },
    amend: async (sandbox: string, commands: readonly string[]) => {
      if (!this.namespaces.has(sandbox)) return;
      let failure: unknown;
      for (const c of commands) await this.ip(sandbox, c).catch((e: unknown) => void (failure ??= e));
      if (failure !== undefined) throw failure;
    },
    undo: async (steps, sandbox) => {
      const failures: string[] = [];
      for (const step of steps) {
        const ns = step.in === 'sandbox' ? sandbox : HOST;
        if (!this.namespaces.has(ns)) continue;
        for (const c of step.commands) {
          try {
            if (step.in === 'host-fdb') await this.links.bridgeBatch([c]);
            else await this.ip(ns, c);
          } catch (e: unknown) {
            if (!(e instanceof KernelCommandError && /Cannot find|Cannot assign|No such/.test(e.stderr))) failures.push(String(e));
          }
        }
      }
      return failures;
    },
    ensure: async (sandbox) => {
      if (!this.namespaces.has(sandbox)) await this.addNetns(sandbox);
    },
    delete: async (sandbox) => {
      if (!this.namespaces.has(sandbox)) return;
      await this.faults.step(`netns del ${sandbox}`);
      this.dropNetns(sandbox);
    },
    list: (dir) => [...this.namespaces.keys()].filter((ns) => ns.startsWith(dir + '/')),
  };

  readonly sysctls: KernelSysctls = {
    read: async (key) => this.sysctlValues.get(key.join('.')) ?? '0',
    ensure: async (settings: readonly SysctlSetting[]) => {
      const changed: SysctlSetting[] = [];
      for (const s of settings) {
        if ((this.sysctlValues.get(s.key.join('.')) ?? '0') === s.value) continue;
        await this.faults.step(`sysctl ${s.key.join('.')}=${s.value}`);
        this.sysctlValues.set(s.key.join('.'), s.value);
        changed.push(s);
      }
      return changed;
    },
  };

  readonly nft: KernelNft = {
    apply: async (script) => {
      if (script.trim() === '') return;
      await this.faults.step('nft');
      this.nftScripts.push(script);
      for (const m of script.matchAll(/^(add|delete) table (\w+) (\w+)/gm)) {
        if (m[1] === 'add') this.tables.add(`${m[2]} ${m[3]}`);
        else this.tables.delete(`${m[2]} ${m[3]}`);
      }
      for (const m of script.matchAll(/^table (\w+) (\w+) \{/gm)) this.tables.add(`${m[1]} ${m[2]}`);
    },
    listTable: async (family: NftFamily, name: string): Promise<NftObject[] | undefined> => (this.tables.has(`${family} ${name}`) ? [] : undefined),
    listTables: async () => [...this.tables].map((t) => ({ family: t.split(' ')[0]!, name: t.split(' ')[1]! })),
    deleteTable: async (family, name) => this.nft.apply(`add table ${family} ${name}\ndelete table ${family} ${name}\n`),
    applyIn: async (netns, script) => {
      if (script.trim() === '') return;
      await this.faults.step(`nft in ${netns}`);
      this.nsNftScripts.push({ netns, script });
    },
    listTableIn: async (netns: string, family: NftFamily, name: string): Promise<NftObject[] | undefined> =>
      this.nsNftScripts.some((s) => s.netns === netns && s.script.includes(`table ${family} ${name} {`)) ? [] : undefined,
  };

  /** Scripts committed inside namespaces (a container's VIP table), in order. */
  readonly nsNftScripts: { netns: string; script: string }[] = [];
  /** Flows forgotten (conntrack), in order. */
  readonly forgottenFlows: { netns: string | undefined; proto: 'tcp' | 'udp'; replySources: string[] }[] = [];

  readonly conntrack: KernelConntrack = {
    forget: async (netns, proto, replySources) => {
      await this.faults.step(`conntrack forget in ${netns ?? 'host'}`);
      this.forgottenFlows.push({ netns, proto, replySources: [...replySources] });
      return 0;
    },
  };

  readonly tc: KernelTc = {
    batch: async (commands, force = false) => {
      let failure: unknown;
      for (const [i, c] of commands.entries()) {
        await this.faults.step(`host: tc ${c}`, i > 0);
        try {
          this.tcState.command(c, (name) => this.host.has(name));
        } catch (e: unknown) {
          if (!force) throw e;
          failure ??= e;
        }
      }
      if (failure !== undefined) throw failure;
    },
    filters: async (dev, side) => this.tcState.list(dev, side),
  };

  readonly xfrm: KernelXfrm = {
    add: async (states, policies) => {
      await this.faults.step(`xfrm add ${states.length} ${policies.length}`);
      this.peerTables.addXfrm(states, policies);
    },
    delete: async (states, policies) => {
      await this.faults.step(`xfrm delete ${states.length} ${policies.length}`);
      this.peerTables.deleteXfrm(states, policies);
    },
  };

  async routes(): Promise<RouteInfo[]> {
    return this.hostRoutes;
  }

  /** The model's links of a namespace as `ip -j -d addr` would show them (ifindexes by position; veth peers by the other end's position). */
  async readNamespace(nsPath?: string): Promise<NamespaceView> {
    const ns = nsPath ?? HOST;
    const index = (n: string, name: string): number => [...(this.namespaces.get(n)?.keys() ?? [])].indexOf(name) + 1;
    const links = [...(this.namespaces.get(ns)?.values() ?? [])];
    return {
      interfaces: links.map((l) => ({
        ifindex: index(ns, l.name),
        name: l.name,
        kind: l.kind === 'loopback' ? undefined : l.kind,
        mac: '',
        mtu: l.mtu,
        up: l.up,
        master: l.master,
        peer: l.peer ? { ifindex: index(l.peer.ns, l.peer.name), otherNamespace: l.peer.ns !== ns } : undefined,
        parent: undefined,
        alias: l.alias,
        addresses: [...l.addresses],
        vxlan: undefined,
      })),
      routes: [...(this.routeTable.get(ns) ?? [])].map((r) => ({ dst: r.split(' ')[0]!, via: after(r.split(' '), 'via'), dev: after(r.split(' '), 'dev') })),
    };
  }

  /** What traceFlow returns: a test sets the capture it wants judged. */
  traceCapture: TraceCapture = { lines: [], probe: 'timeout', marked: 0 };

  async traceFlow(): Promise<TraceCapture> {
    return this.traceCapture;
  }

  /** The host's gateway routes (`route add DST via GW dev DEV`), as a test gave them. */
  async gatewayRoutes(dev: string): Promise<GatewayRoute[]> {
    return [...this.routeTable.get(HOST)!].map((r) => r.split(' ')).filter((t) => after(t, 'dev') === dev && after(t, 'via') !== undefined).map((t) => ({ dst: t[0]!, via: after(t, 'via') }));
  }

  async features(): Promise<KernelFeatures> {
    return this.featureSet;
  }

  async holdHostPorts(specs: readonly HostSocketSpec[]): Promise<HeldSockets> {
    const keys = specs.map((s) => `${s.proto} ${s.address}:${s.port}`);
    await this.faults.step(`hold ${keys.join(' ')}`);
    const busy = specs.find((s, i) => this.busyPorts.has(keys[i]!) || this.held.has(keys[i]!));
    if (busy) throw new HostPortError(busy, 'EADDRINUSE');
    for (const k of keys) this.held.add(k);
    return { count: keys.length, close: async () => void keys.forEach((k) => this.held.delete(k)) };
  }

  private async addNetns(path: string): Promise<void> {
    await this.faults.step(`netns add ${path}`);
    this.namespaces.set(path, new Map([['lo', link('lo', 'loopback')]]));
    this.routeTable.set(path, new Set());
  }

  /** A namespace goes: its veths' other ends go with them, as in the kernel. */
  private dropNetns(path: string): void {
    for (const l of this.namespaces.get(path)?.values() ?? []) if (l.peer) this.namespaces.get(l.peer.ns)?.delete(l.peer.name);
    this.namespaces.delete(path);
    this.routeTable.delete(path);
  }

  /** One iproute2 command in a namespace, as far as berth's plans need it. */
  private async ip(ns: string, command: string, continuing = false): Promise<void> {
    await this.faults.step(`${ns === HOST ? 'host' : `sandbox ${ns}`}: ${command}`, continuing);
    const t = command.trim().split(/\s+/);
    const links = this.namespaces.get(ns);
    if (!links) throw new KernelCommandError(['ip'], `Cannot open network namespace "${ns}": No such file or directory`, 1);
    const [object, verb] = t;
    if (object === 'link' && verb === 'add') return this.linkAdd(ns, t.slice(2));
    if (object === 'link' && verb === 'set') return this.linkSet(ns, t.slice(2));
    if (object === 'link' && verb === 'del') return this.linkDel(ns, after(t, 'dev') ?? t[2]!);
    if (object === 'addr') return this.addr(links, verb!, t.slice(2));
    if (object === 'route') return this.route(ns, verb!, t.slice(2));
    if (ns === HOST && this.peerTables.ip(t)) return;
  }

  /** `link add [link BASE] [name] NAME … type KIND … [peer name PEER … [netns X]] [netns X]`. */
  private linkAdd(ns: string, args: string[]): void {
    const links = this.namespaces.get(ns)!;
    const peerAt = args.indexOf('peer');
    const own = peerAt >= 0 ? args.slice(0, peerAt) : args;
    const base = own[0] === 'link' ? own[1] : undefined;
    const rest = base !== undefined ? own.slice(2) : own;
    const name = rest[0] === 'name' ? rest[1]! : rest[0]!;
    const kind = after(own, 'type') ?? 'unknown';
    if (base !== undefined && !links.has(base)) throw missing(base);
    const target = this.namespaceOf(after(own, 'netns'), ns);
    if (this.namespaces.get(target)!.has(name)) throw exists();
    const made = link(name, kind, Number(after(own, 'mtu') ?? 1500));
    if (peerAt >= 0) {
      const peerArgs = args.slice(peerAt + 1);
      const peerName = after(peerArgs, 'name')!;
      const peerNs = this.namespaceOf(after(peerArgs, 'netns'), ns);
      if (this.namespaces.get(peerNs)!.has(peerName)) throw exists();
      made.peer = { ns: peerNs, name: peerName };
      this.namespaces.get(peerNs)!.set(peerName, { ...link(peerName, kind, Number(after(peerArgs, 'mtu') ?? 1500)), peer: { ns: target, name } });
    }
    this.namespaces.get(target)!.set(name, made);
  }

  private linkSet(ns: string, args: string[]): void {
    const links = this.namespaces.get(ns)!;
    const name = args[0] === 'dev' ? args[1]! : args[0]!;
    const l = links.get(name);
    if (!l) throw missing(name);
    for (let i = 0; i < args.length; i++) {
      const v = args[i + 1];
      switch (args[i]) {
        case 'up':
          l.up = true;
          break;
        case 'down':
          l.up = false;
          break;
        case 'master':
          if (!links.has(v!)) throw missing(v!);
          l.master = v;
          break;
        case 'nomaster':
          l.master = undefined;
          break;
        case 'alias':
          l.alias = v;
          break;
        case 'mtu':
          l.mtu = Number(v);
          break;
        case 'name':
          links.delete(l.name);
          this.repointPeer(ns, l, { ns, name: v! });
          l.name = v!;
          links.set(l.name, l);
          break;
        case 'netns': {
          const to = this.namespaceOf(v, ns);
          links.delete(l.name);
          this.repointPeer(ns, l, { ns: to, name: l.name });
          this.namespaces.get(to)!.set(l.name, l);
          break;
        }
      }
    }
  }

  private repointPeer(ns: string, l: FakeLink, to: { ns: string; name: string }): void {
    const peer = l.peer && this.namespaces.get(l.peer.ns)?.get(l.peer.name);
    if (peer?.peer && peer.peer.ns === ns && peer.peer.name === l.name) peer.peer = to;
  }

  private linkDel(ns: string, name: string): void {
    const links = this.namespaces.get(ns)!;
    const l = links.get(name);
    if (!l) throw missing(name);
    links.delete(name);
    if (ns === HOST) this.peerTables.linkGone(name);
    if (ns === HOST) this.tcState.linkGone(name);
    if (l.peer) this.namespaces.get(l.peer.ns)?.delete(l.peer.name);
    for (const other of links.values()) if (other.master === name) other.master = undefined;
  }

  private addr(links: Map<string, FakeLink>, verb: string, args: string[]): void {
    const dev = after(args, 'dev')!;
    const l = links.get(dev);
    if (!l) throw missing(dev);
    const cidr = args[0]!;
    if (verb === 'flush') l.addresses = [];
    else if (verb === 'add' || verb === 'replace') {
      if (verb === 'add' && l.addresses.includes(cidr)) throw exists();
      if (!l.addresses.includes(cidr)) l.addresses.push(cidr);
    } else if (verb === 'del') {
      if (!l.addresses.includes(cidr)) throw new KernelCommandError(['ip'], 'RTNETLINK answers: Cannot assign requested address', 2);
      l.addresses = l.addresses.filter((a) => a !== cidr);
    }
  }

  private route(ns: string, verb: string, args: string[]): void {
    const table = this.routeTable.get(ns)!;
    const route = args.join(' ');
    const dst = args[0];
    for (const r of [...table]) if (r.split(' ')[0] === dst && (verb === 'replace' || verb === 'del')) table.delete(r);
    if (verb === 'add' || verb === 'replace') table.add(route);
  }

  /** `netns X` of a command: a sandbox's path, else (a pid: the daemon's) the host. */
  private namespaceOf(netns: string | undefined, current: string): string {
    if (netns === undefined) return current;
    return this.namespaces.has(netns) ? netns : HOST;
  }
}

function link(name: string, kind: string, mtu = 1500): FakeLink {
  return { name, kind, mtu, up: kind === 'loopback', alias: undefined, master: undefined, addresses: [] };
}

function info(l: FakeLink): LinkInfo {
  return { name: l.name, kind: l.kind, mtu: l.mtu, up: l.up, ownedByBerth: l.alias === 'berth', addresses: [...l.addresses], master: l.master };
}

/** The word after `key` in an argv-like list. */
function after(args: readonly string[], key: string): string | undefined {
  const i = args.indexOf(key);
  return i >= 0 ? args[i + 1] : undefined;
}
