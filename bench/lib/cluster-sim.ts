/**
 * The control plane of a large swarm, simulated in one process against a real etcd
 * (bench/cluster-scale.ts starts it and runs this inside its namespace):
 *
 *   node --expose-gc dist/bench/lib/cluster-sim.js DIR ADDRESS NODES ENDPOINTS FULL
 *
 * Every simulated node holds a lease (TTL 10 s, kept alive, as a node's is). FULL of them
 * are whole berthd network sides: the real NetworkController on the fake kernel
 * (test/lib/fake-host.ts; its FDB and neighbour tables not kept, as they are the kernel's)
 * attached to the real ClusterNetworks on etcd, a container of
 * theirs on the overlay (so the real overlay driver programs every remote endpoint into
 * the fake kernel's FDB and neighbour tables) and the real DNS directory following the
 * remote names. The others are etcd watchers of the endpoints, as every node has one,
 * which count what they see. ENDPOINTS endpoints are written as a container start writes
 * them: its address taken in a transaction, then the endpoint put under its node's lease.
 *
 * Prints progress on stderr and one JSON object of figures on stdout.
 */
import * as fs from 'node:fs';
import { ClusterNetworks } from '../../src/cluster/networks.js';
import { tlsFiles } from '../../src/cluster/etcd-member.js';
import { DnsDirectory } from '../../src/network/dns/directory.js';
import { followRemoteNames } from '../../src/network/dns/remote.js';
import type { NetworkRecord } from '../../src/network/model.js';
import type { RemoteChange } from '../../src/network/shared.js';
import { EtcdStore } from '../../src/store/etcd.js';
import { forEachLimit, sleep } from '../../test/lib/async.js';
import { FakeHost, joinRequest } from '../../test/lib/fake-host.js';
import { FakeKernel } from '../../test/lib/fake-kernel.js';
import { FakeTables } from '../../test/lib/fake-tables.js';

const [dir, address, nodesArg, endpointsArg, fullArg] = process.argv.slice(2) as [string, string, string, string, string];
const NODES = Number(nodesArg);
const ENDPOINTS = Number(endpointsArg);
const FULL = Math.min(Number(fullArg), NODES);
/** gRPC connections to etcd, shared by the simulated nodes (a real node has its own). */
const CONNECTIONS = Math.min(NODES, 16);
const WRITERS = 64;
const CHANGES = 20;
const BURST = Math.max(100, Math.min(1000, Math.floor(200_000 / NODES)));

const t0 = performance.now();
const now = (): number => performance.now();
const progress = (m: string): void => void process.stderr.write(`[${((now() - t0) / 1000).toFixed(1).padStart(6)} s] sim ${NODES}: ${m}\n`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const heapMiB = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const tls = tlsFiles(dir);
const stores = Array.from({ length: CONNECTIONS }, () => new EtcdStore({
  endpoints: [`https://${address}:2379`],
  tls: { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) },
  prefix: '/berth/sim/',
}));
const storeOf = (i: number): EtcdStore => stores[i % CONNECTIONS]!;
const vtep = (i: number): string => `10.${100 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`;

/** Endpoint k: its address in 10.128.0.0/16 (from .1.0 up: the full nodes' containers take the first), the MAC Docker derives from it, its node. */
function endpoint(net: NetworkRecord, k: number): { key: string; ipKey: string; owner: number; value: Record<string, unknown> } {
  const n = k + 256;
  const ip = `10.128.${n >> 8}.${n & 255}`;
  const owner = FULL + (k % (NODES - FULL || 1));
  const id = `sim${k.toString(16).padStart(8, '0')}`.padEnd(64, '0');
  // The shape ClusterNetworks.publish writes.
  const value = {
    networkId: net.id,
    endpointId: id,
    containerId: id,
    name: `c${k}`,
    aliases: [],
    ipv4: ip,
    mac: `02:42:0a:80:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
    node: vtep(owner),
    nodeId: `node-${owner}`,
  };
  return { key: `endpoints/${net.id}/${id}`, ipKey: `ipam/${net.id}/${ip}`, owner, value };
}

/** Arrivals of marked keys: per key, how many nodes saw it and when the last did. */
class Arrivals {
  private readonly marks = new Map<string, { count: number; last: number; first: number }>();
  mark(key: string): void {
    this.marks.set(key, { count: 0, last: 0, first: Infinity });
  }
  seen(key: string): void {
    const m = this.marks.get(key);
    if (!m) return;
    const t = now();
    m.count += 1;
    m.last = t;
    m.first = Math.min(m.first, t);
  }
  /** Resolves when every one of `keys` was seen `times` times; the time the last one was. */
  async all(keys: readonly string[], times: number, timeoutMs: number): Promise<number> {
    const deadline = now() + timeoutMs;
    for (;;) {
      const ms = keys.map((k) => this.marks.get(k)!);
      if (ms.every((m) => m.count >= times)) return Math.max(...ms.map((m) => m.last));
      if (now() > deadline) throw new Error(`not all seen within ${timeoutMs / 1000} s: ${ms.filter((m) => m.count < times).length} keys short`);
      await sleep(5);
    }
  }
  /** Stop counting these keys. */
  forget(keys: readonly string[]): void {
    for (const k of keys) this.marks.delete(k);
  }
}

/**
 * FDB and neighbour commands taken and not kept: those tables are the kernel's memory and
 * work, not berthd's (the unit tests' model of them scans a list per command).
 */
class UnkeptTables extends FakeTables {
  override bridge(): void {}
  override ip(t: readonly string[]): boolean {
    return t[0] === 'neigh';
  }
}

class SimKernel extends FakeKernel {
  override readonly peerTables = new UnkeptTables();
}

interface FullNode {
  host: FakeHost;
  shared: ClusterNetworks;
  dns: DnsDirectory;
  stop: () => void;
}

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { nodes: NODES, endpoints: ENDPOINTS, full: FULL, connections: CONNECTIONS };
  for (let i = 0; ; i++) {
    try {
      await stores[0]!.revision();
      break;
    } catch (e: unknown) {
      if (i > 150) throw e;
      await sleep(100);
    }
  }
  progress(`${NODES} leases (TTL 10 s, kept alive)`);
  const leases = Array.from({ length: NODES }, (_, i) => storeOf(i).lease(10));
  await forEachLimit(leases, 64, async (l) => void (await l.grant()));
  const manager = await ClusterNetworks.open({
    store: stores[0]!,
    nodeId: 'manager',
    manager: true,
    local: { addr: '10.99.255.1', dataPathPort: 4789, underlayMtu: 1500 },
    pools: { bases: ['10.0.0.0/8'], size: 24 },
    putLeased: async () => undefined,
    log: (m) => progress(m),
  });
  const net = await manager.create({ name: 'sim', driver: 'overlay', internal: false, attachable: true, ingress: false, enableIPv6: false, ipamDriver: 'default', ipamOptions: null, subnets: [{ subnet: '10.128.0.0/16', auxAddresses: {} }], options: {}, labels: {} }, () => undefined);
  await manager.close();

  progress(`${FULL} full nodes: network controller on the fake kernel, ClusterNetworks, DNS, a container on the overlay`);
  const arrivals = new Arrivals();
  const full: FullNode[] = [];
  for (let i = 0; i < FULL; i++) {
    const host = await FakeHost.start(new SimKernel());
    const shared = await ClusterNetworks.open({
      store: storeOf(i),
      nodeId: `node-${i}`,
      manager: false,
      local: { addr: vtep(i), dataPathPort: 4789, underlayMtu: 1500 },
      pools: { bases: ['10.0.0.0/8'], size: 24 },
      putLeased: async (key, value) => void (await leases[i]!.put(key).value(JSON.stringify(value))),
      log: (m) => progress(`node-${i}: ${m}`),
    });
    const dns = new DnsDirectory();
    const view = host.networks.reachableRemotes(shared);
    const stopNames = followRemoteNames(dns, view);
    const stopArrivals = view.watch({ networksChanged: () => undefined, remoteChanged: (c: RemoteChange) => arrivals.seen(`endpoints/${c.endpoint.networkId}/${c.endpoint.endpointId}`) });
    await host.networks.attachShared(shared);
    await host.networks.join('sim', joinRequest(`full${i}`.padEnd(64, '0')));
    full.push({ host, shared, dns, stop: () => (stopNames(), stopArrivals()) });
  }
  const clearFakeLogs = (): void => full.forEach((f) => (f.host.kernel.fdb.clear(), (f.host.faults.log.length = 0)));
  clearFakeLogs();
  const heapBefore = heapMiB();

  progress(`writing ${ENDPOINTS} endpoints (address in a transaction, then the endpoint under its node's lease), ${WRITERS} at a time`);
  const eps = Array.from({ length: ENDPOINTS }, (_, k) => endpoint(net, k));
  const latencies: number[] = [];
  const loadStart = now();
  await forEachLimit(eps, WRITERS, async (e) => {
    const s = now();
    await storeOf(e.owner).commitIf([e.ipKey], [{ put: e.ipKey, value: { node: e.value.nodeId as string, container: e.value.containerId as string } }]);
    await leases[e.owner]!.put(e.key).value(JSON.stringify(e.value));
    latencies.push(now() - s);
  });
  const loadMs = now() - loadStart;
  out.load = { writes: ENDPOINTS * 2, ms: loadMs, writesPerS: (ENDPOINTS * 2) / (loadMs / 1000), startMedianMs: quantile(latencies, 0.5), startP99Ms: quantile(latencies, 0.99) };
  progress(`  ${ENDPOINTS} endpoints in ${(loadMs / 1000).toFixed(1)} s; the full nodes catch up`);
  const caughtUp = now();
  for (;;) {
    if (full.every((f) => f.shared.remoteEndpoints().length >= ENDPOINTS)) break;
    if (now() - caughtUp > 300_000) throw new Error('the full nodes did not catch up within 300 s');
    await sleep(20);
  }
  await sleep(200);
  out.fullCatchUpMs = now() - caughtUp;
  clearFakeLogs();
  const heapAfter = heapMiB();
  out.memory = { heapBeforeMiB: heapBefore, heapAfterMiB: heapAfter, perNodePer1000KiB: ((heapAfter - heapBefore) * 1024) / Math.max(FULL, 1) / (ENDPOINTS / 1000), rssMiB: process.memoryUsage().rss / 2 ** 20 };

  progress('a node (re)joining: ClusterNetworks.open lists every endpoint');
  const joinStart = now();
  try {
    const late = await ClusterNetworks.open({ store: stores[0]!, nodeId: 'late', manager: false, local: { addr: '10.99.255.2', dataPathPort: 4789, underlayMtu: 1500 }, pools: { bases: ['10.0.0.0/8'], size: 24 }, putLeased: async () => undefined, log: (m) => progress(`late: ${m}`) });
    out.relist = { ms: now() - joinStart, endpoints: late.remoteEndpoints().length };
    await late.close();
  } catch (e: unknown) {
    out.relist = { error: e instanceof Error ? e.message : String(e) };
    progress(`  relist failed: ${String(e)}`);
  }

  progress('an address claimed cluster-wide with every endpoint present (ClusterNetworks.claimAddress)');
  const claims: number[] = [];
  for (let i = 0; i < 5; i++) {
    const s = now();
    const a = await full[0]!.shared.claimAddress(net, undefined, `claim${i}`.padEnd(64, '0'));
    claims.push(now() - s);
    await full[0]!.shared.releaseAddress(net, a.address);
  }
  out.claimMedianMs = quantile(claims, 0.5);

  progress(`${NODES - FULL} watchers (the other nodes), from the current revision`);
  const rev = await stores[0]!.revision();
  const stops: (() => Promise<void>)[] = [];
  let events = 0;
  for (let i = FULL; i < NODES; i++) {
    stops.push(await storeOf(i).watch('endpoints/', rev, (e) => {
      events += 1;
      arrivals.seen(e.key);
    }, (e) => progress(`watcher ${i}: ${String(e)}`)));
  }
  const watchers = NODES - FULL + FULL;

  progress(`${CHANGES} single changes: a new endpoint, until every node has seen it`);
  const single: { all: number[] } = { all: [] };
  for (let c = 0; c < CHANGES; c++) {
    const e = endpoint(net, ENDPOINTS + c);
    arrivals.mark(e.key);
    const s = now();
    await leases[e.owner]!.put(e.key).value(JSON.stringify(e.value));
    single.all.push((await arrivals.all([e.key], watchers, 60_000)) - s);
    arrivals.forget([e.key]);
    await sleep(50);
  }
  out.single = { medianMs: quantile(single.all, 0.5), p99Ms: quantile(single.all, 0.99), maxMs: Math.max(...single.all) };

  progress(`a burst of ${BURST} new endpoints, ${WRITERS} writers, until every node has seen all`);
  const burst = Array.from({ length: BURST }, (_, k) => endpoint(net, ENDPOINTS + CHANGES + k));
  for (const e of burst) arrivals.mark(e.key);
  const eventsBefore = events;
  const bs = now();
  await forEachLimit(burst, WRITERS, async (e) => void (await leases[e.owner]!.put(e.key).value(JSON.stringify(e.value))));
  const written = now() - bs;
  const allSeen = (await arrivals.all(burst.map((e) => e.key), watchers, 600_000)) - bs;
  arrivals.forget(burst.map((e) => e.key));
  out.burst = { writes: BURST, writtenMs: written, writesPerS: BURST / (written / 1000), allSeenMs: allSeen, deliveries: events - eventsBefore };

  const victim = FULL;
  const victimKeys = [...eps, ...burst].filter((e) => e.owner === victim).map((e) => e.key);
  progress(`node death: node-${victim}'s lease revoked (${victimKeys.length} endpoints), until every other node has seen them go`);
  for (const k of victimKeys) arrivals.mark(k);
  const ds = now();
  await leases[victim]!.revoke();
  const gone = (await arrivals.all(victimKeys, watchers - 1, 120_000)) - ds;
  out.death = { endpoints: victimKeys.length, allSeenMs: gone, fullNodesKnow: full.map((f) => f.shared.remoteEndpoints().length) };

  progress('clean-up');
  for (const s of stops) await s();
  for (const f of full) {
    f.stop();
    await f.shared.close();
  }
  await forEachLimit(leases, 64, async (l) => l.revoke().catch(() => undefined));
  for (const s of stores) await s.close();
  return out;
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

main().then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`sim failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
