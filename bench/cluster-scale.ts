/**
 * The swarm's control plane at scale, by simulation: 100 and 1000 simulated nodes and
 * 10,000 endpoints on one overlay against one real etcd (bench/lib/cluster-sim.ts says
 * what a simulated node is). Figures, not tests.
 *
 *   node dist/bench/cluster-scale.js [--quick] [--endpoints N] [--full N] [--nodes N]
 *
 * For each size: a fresh etcd (Debian's etcd-server, TLS with a CA made here, as berthd
 * starts its member) in a namespace made here, the simulation run inside that namespace,
 * then etcd stopped and everything removed. Reported: the rate of etcd writes as container
 * starts make them, how long until every node has seen one change and a burst of them,
 * how long until all have seen a dead node's endpoints go, what a node's relist costs,
 * and berthd's memory per 1000 remote endpoints (heap of the full nodes, which program
 * every remote endpoint into the fake kernel and their DNS). etcd's CPU and memory too.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRootCa, nodeRequest, signNode } from '../src/cluster/ca.js';
import { EtcdMember, peerUrl, writeTls } from '../src/cluster/etcd-member.js';
import { procStat } from '../test/lib/proc.js';
import { must, sh } from '../test/lib/world.js';
import { closingNote, exitStatus, Interrupts, parseIntFlags, progress, runMain } from './lib/cli.js';
import { num, table } from './lib/stats.js';

/** A Ctrl-C stops the benchmark after its current step, cleaning up. */
const interrupts = new Interrupts('step');

const USAGE = `usage: node dist/bench/cluster-scale.js [--quick] [--endpoints N] [--full N] [--nodes N]
  --quick        2,000 endpoints, 3 full nodes (about 2 min)
  --endpoints N  endpoints on the overlay (default 10000)
  --full N       simulated nodes that are whole network sides (default 5)
  --nodes N      one size only (default: 100, then 1000)`;

const SIM = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib/cluster-sim.js');
const ADDRESS = '10.98.0.1';

/** What cluster-sim.js prints (see there). */
interface SimResult {
  nodes: number;
  endpoints: number;
  full: number;
  connections: number;
  load: { writes: number; ms: number; writesPerS: number; startMedianMs: number; startP99Ms: number };
  fullCatchUpMs: number;
  memory: { heapBeforeMiB: number; heapAfterMiB: number; perNodePer1000KiB: number; rssMiB: number };
  relist: { ms?: number; endpoints?: number; error?: string };
  claimMedianMs: number;
  single: { medianMs: number; p99Ms: number; maxMs: number };
  burst: { writes: number; writtenMs: number; writesPerS: number; allSeenMs: number; deliveries: number };
  death: { endpoints: number; allSeenMs: number };
}

/** A size's figures: the simulation's and etcd's. */
interface Figures extends SimResult {
  etcdCpuS: number;
  etcdRssMiB: number;
  wallS: number;
}

/** One size: etcd in a fresh namespace, the simulation inside it, everything removed. */
async function runSize(nodes: number, endpoints: number, full: number): Promise<Figures> {
  const tag = `berth-scale-${process.pid}-${nodes}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${tag}-`));
  let member: EtcdMember | undefined;
  let made = false;
  try {
    await must('ip', ['netns', 'add', tag]);
    made = true;
    await must('ip', ['-n', tag, 'link', 'set', 'lo', 'up']);
    // An address to listen on (this kernel has no dummy links: a veth pair inside the namespace).
    await must('ip', ['-n', tag, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    await must('ip', ['-n', tag, 'addr', 'add', `${ADDRESS}/24`, 'dev', 'eth0']);
    for (const l of ['eth0', 'eth1']) await must('ip', ['-n', tag, 'link', 'set', l, 'up']);
    const root = await createRootCa('sim');
    const { key, csr } = await nodeRequest('etcd');
    writeTls(dir, { ca: root.cert, key, cert: await signNode(root, csr, { nodeId: 'etcd', role: 'manager', clusterId: 'sim' }, [ADDRESS]) });
    member = EtcdMember.start({ name: 'etcd', dir, address: ADDRESS, state: 'new', initialCluster: `etcd=${peerUrl(ADDRESS)}`, clusterId: 'sim', log: (l) => /"level":"(error|fatal|panic)"/.test(l) && progress(l), netns: `/run/netns/${tag}` });
    const etcdPid = member.pid ?? 0;
    const cpu0 = procStat(etcdPid)?.ownMs ?? NaN;
    const start = performance.now();
    const r = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      const child = spawn('nsenter', [`--net=/run/netns/${tag}`, '--', process.execPath, '--no-deprecation', '--expose-gc', '--max-old-space-size=8192', SIM, dir, ADDRESS, String(nodes), String(endpoints), String(full)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
    });
    const wallS = (performance.now() - start) / 1000;
    const cpu1 = procStat(etcdPid)?.ownMs ?? NaN;
    const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${etcdPid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
    if (r.code !== 0) throw new Error(`the simulation of ${nodes} nodes failed (exit ${r.code})`);
    return { ...(JSON.parse(r.stdout) as SimResult), etcdCpuS: (cpu1 - cpu0) / 1000, etcdRssMiB: rss, wallS };
  } finally {
    await member?.stop();
    if (made) await sh('ip', ['netns', 'del', tag]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function render(results: Figures[], header: string[], notes: string[]): string {
  const s = (x: unknown): string => (typeof x === 'number' ? num(x) : '–');
  const col = (f: (r: Figures) => string): string[] => results.map(f);
  const rows: string[][] = [
    ['endpoints written (address transaction + leased put), writes/s', ...col((r) => s(r.load.writesPerS))],
    ["  a container start's two writes, median / p99 ms", ...col((r) => `${s(r.load.startMedianMs)} / ${s(r.load.startP99Ms)}`)],
    ['one new endpoint: seen by every node, median / p99 ms', ...col((r) => `${s(r.single.medianMs)} / ${s(r.single.p99Ms)}`)],
    ['a burst of new endpoints (n): written, writes/s', ...col((r) => `(${r.burst.writes}) ${s(r.burst.writesPerS)}`)],
    ['  seen by every node, ms', ...col((r) => s(r.burst.allSeenMs))],
    ['  events delivered to the watchers per s', ...col((r) => s(r.burst.deliveries / (r.burst.allSeenMs / 1000)))],
    ["a node's lease revoked (its endpoints): all others saw them go, ms", ...col((r) => `(${r.death.endpoints}) ${s(r.death.allSeenMs)}`)],
    ['a node joining lists every endpoint (ClusterNetworks.open), ms', ...col((r) => (r.relist.error ? `FAILED: ${r.relist.error.slice(0, 60)}` : s(r.relist.ms)))],
    ['an address claimed with every endpoint present, median ms', ...col((r) => s(r.claimMedianMs))],
    ['full nodes catching up with the written endpoints, ms', ...col((r) => s(r.fullCatchUpMs))],
    ['berthd heap per 1000 remote endpoints (full nodes), KiB', ...col((r) => s(r.memory.perNodePer1000KiB))],
    ['etcd CPU over the run, s', ...col((r) => s(r.etcdCpuS))],
    ['etcd RSS at the end, MiB', ...col((r) => s(r.etcdRssMiB))],
    ['run time, s', ...col((r) => s(r.wallS))],
  ];
  return [...header, '', table(['', ...results.map((r) => `${r.nodes} nodes, ${r.endpoints} endpoints`)], rows), '', ...notes].join('\n');
}

async function main(): Promise<number> {
  const { quick, values } = parseIntFlags(process.argv.slice(2), USAGE, { '--endpoints': 'endpoints', '--full': 'full', '--nodes': 'nodes' });
  const endpoints = values.endpoints ?? (quick ? 2000 : 10_000);
  const full = values.full ?? (quick ? 3 : 5);
  const sizes = values.nodes ? [values.nodes] : [100, 1000];
  const cpus = os.cpus();
  const header = [
    `berth control plane at scale (simulated nodes, one real etcd) — ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, etcd ${(await sh('etcd', ['--version'])).stdout.split('\n')[0]?.split(' ').pop() ?? '?'}, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `settings: ${endpoints} endpoints on one overlay, ${full} full nodes per size; all simulated nodes share one process (their event handling is serial: the "seen by every node" times are upper bounds)`,
  ];
  const results: Figures[] = [];
  let failure: unknown;
  for (const n of sizes) {
    if (interrupts.count > 0) break;
    progress(`${n} simulated nodes, ${endpoints} endpoints`);
    try {
      results.push(await runSize(n, endpoints, full));
    } catch (e: unknown) {
      failure = e;
      break;
    }
  }
  const notes = [closingNote()];
  process.stdout.write((results.length > 0 ? render(results, header, notes) : [...header, '', ...notes].join('\n')) + '\n');
  return exitStatus(failure, interrupts.count);
}

runMain(main);
