/**
 * A swarm's control plane on real hosts: how soon the other hosts know of a new container
 * on an overlay, and how soon they forget a host that died. Figures, not tests.
 *
 *   node dist/bench/cluster.js [--quick] [--runs N] [--failures N]
 *
 * Three hosts on one underlay, a swarm (host1 manager, host2 and host3 workers), an
 * attachable overlay with an observer container on host2 and on host3.
 *
 * 1. Convergence: `docker run -d --network <overlay>` on host1; from the moment the CLI
 *    returns, how long until the new container's name resolves in each observer (the
 *    embedded DNS, asked every 5 ms) and then its address answers there (a TCP SYN to a
 *    closed port gets its RST: ARP through the VXLAN proxy, the FDB and the tunnel, the
 *    same round trip as a ping). Negative: it was already so before the CLI returned.
 *    Each run's container stays until the end, so no address is used twice.
 * 2. Node failure: SIGKILL of host3's berthd (its containers keep running); how long
 *    until host1 and host2 have dropped its endpoints from their VXLAN FDB and their DNS,
 *    and until `docker node ls` on host1 shows host3 Down. Then berthd starts again on
 *    host3 and its endpoints come back before the next run.
 *
 * Needs root, iproute2, nftables, runc, conmon, etcd-server and the docker CLI. Everything
 * lives in namespaces made here and is removed at the end (also after a failure or Ctrl-C).
 */
import * as os from 'node:os';
import { sleep } from '../test/lib/async.js';
import { epochMs, NameProbe } from '../test/lib/name-probe.js';
import { sh, type World } from '../test/lib/world.js';
import { closingNote, exitStatus, Interrupts, parseIntFlags, progress, runMain } from './lib/cli.js';
import { Samples, table } from './lib/stats.js';
import { BenchSwarm } from './lib/swarm.js';

/** A Ctrl-C stops the benchmark after its current step, cleaning up. */
const interrupts = new Interrupts('step');

const USAGE = `usage: node dist/bench/cluster.js [--quick] [--runs N] [--failures N]
  --quick        20 convergence runs, 1 node failure (about 1.5 min)
  --runs N       convergence runs (default 50), after 3 unrecorded warm-ups
  --failures N   node failures (default 3; each takes about 15 s)`;

const NET = 'bench-conv';
const now = epochMs;

/** Nearest-rank percentile (p in 0..100) of the samples. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

function ms(x: number): string {
  if (!Number.isFinite(x)) return '–';
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function row(label: string, s: Samples): string[] {
  const v = s.values;
  const fail = s.failed > 0 ? ` (+${s.failed} failed)` : '';
  return [label, ms(percentile(v, 50)), ms(percentile(v, 90)), ms(percentile(v, 99)), ms(Math.min(...v)), ms(Math.max(...v)), `${v.length}${fail}`];
}

interface Convergence {
  cli: Samples;
  dns: Map<string, Samples>;
  answer: Map<string, Samples>;
  /** Per run, the later of both observers' answers: when the whole cluster knew. */
  all: Samples;
  /** The same, counted from when `docker run` was invoked. */
  allFromStart: Samples;
}

async function convergence(swarm: BenchSwarm, probes: NameProbe[], runs: number, warmups: number): Promise<Convergence> {
  const h1 = swarm.hosts[0]!;
  const out: Convergence = { cli: new Samples(), dns: new Map(), answer: new Map(), all: new Samples(), allFromStart: new Samples() };
  for (const p of probes) {
    out.dns.set(p.label, new Samples());
    out.answer.set(p.label, new Samples());
  }
  for (let i = 0; i < warmups + runs; i++) {
    interrupts.check();
    const record = i >= warmups;
    const name = `conv-${i}`;
    const seen = probes.map(async (p) => ({ p, r: await p.appeared(name) }));
    const t = now();
    const r = await h1.docker('run', '-d', '--name', name, '--network', NET, 'busybox', 'sleep', '1000000');
    const t0 = now();
    if (r.code !== 0) throw new Error(`docker run ${name}: ${r.stderr}`);
    let last = -Infinity;
    for (const s of await Promise.allSettled(seen)) {
      if (s.status === 'rejected') {
        progress(`  ${name}: ${String(s.reason)}`);
        if (record) out.all.fail(String(s.reason));
        continue;
      }
      const { p, r: seenAt } = s.value;
      if (!record) continue;
      out.dns.get(p.label)!.add(seenAt.dnsAt - t0);
      out.answer.get(p.label)!.add(seenAt.answerAt - t0);
      last = Math.max(last, seenAt.answerAt - t0);
    }
    if (record) {
      out.cli.add(t0 - t);
      if (last > -Infinity) {
        out.all.add(last);
        out.allFromStart.add(last + (t0 - t));
      }
    }
    progress(`${record ? `run ${i - warmups + 1}/${runs}` : `warm-up ${i + 1}/${warmups}`}: ${name} answers everywhere ${ms(last)} ms after run returned (run: ${ms(t0 - t)} ms)`);
  }
  return out;
}

/** Whether `host`'s VXLAN FDB still has an entry toward `vtep`. */
async function fdbHas(host: World, vxlan: string, vtep: string): Promise<boolean> {
  const r = await sh('bridge', ['-n', host.ns, 'fdb', 'show', 'dev', vxlan]);
  return r.stdout.split('\n').some((l) => l.includes(`dst ${vtep} `));
}

async function nodeStatus(host: World, hostname: string): Promise<string> {
  const r = await host.docker('node', 'ls', '--format', '{{.Hostname}} {{.Status}}');
  return r.stdout.split('\n').find((l) => l.startsWith(`${hostname} `))?.split(' ')[1] ?? '';
}

/** Poll `f` every `everyMs` until it holds; the time (epoch ms) it first held. */
async function until(f: () => Promise<boolean>, everyMs: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await f()) return now();
    if (now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

interface Failure {
  fdb: Map<string, Samples>;
  dns: Map<string, Samples>;
  down: Samples;
  ready: Samples;
  back: Samples;
}

/**
 * `n` times: SIGKILL host3's berthd while `victim` (a container of host3's on the overlay)
 * runs; time until host1 and host2 dropped host3 from their FDB and the victim's name from
 * their DNS, and until node ls shows host3 Down. Then berthd starts again there: time until
 * node ls shows it Ready, and until its running containers are back in the others' FDB; the
 * next round's victim is a new container on host3.
 */
async function nodeFailures(swarm: BenchSwarm, watchers: NameProbe[], firstVictim: string, vxlan: string, n: number): Promise<Failure> {
  const [h1, h2, h3] = swarm.hosts as [World, World, World];
  const vtep = swarm.cluster.hostIp(2);
  const out: Failure = { fdb: new Map([['host1', new Samples()], ['host2', new Samples()]]), dns: new Map(), down: new Samples(), ready: new Samples(), back: new Samples() };
  for (const p of watchers) out.dns.set(p.label, new Samples());
  const known = async (): Promise<boolean> => (await fdbHas(h1, vxlan, vtep)) && (await fdbHas(h2, vxlan, vtep));
  let victim = firstVictim;
  for (let i = 0; i < n; i++) {
    interrupts.check();
    if (i > 0) {
      victim = `victim-${i}`;
      await swarm.run(h3, victim, NET);
      await until(known, 50, 30_000, `${victim} in host1's and host2's FDB`);
      for (const p of watchers) await p.appeared(victim, 30_000);
    }
    progress(`node failure ${i + 1}/${n}: SIGKILL host3's berthd (${victim} runs there)`);
    const fdbGone = [h1, h2].map(async (h, k) => ({ host: `host${k + 1}`, at: await until(async () => !(await fdbHas(h, vxlan, vtep)), 50, 60_000, `host${k + 1}'s FDB`) }));
    const dnsGone = watchers.map(async (p) => ({ host: p.label, at: await p.vanished(victim) }));
    const down = until(async () => (await nodeStatus(h1, 'host3')) === 'Down', 100, 60_000, 'node ls showing host3 Down');
    const t0 = now();
    await h3.stop('SIGKILL');
    for (const f of await Promise.all(fdbGone)) out.fdb.get(f.host)!.add((f.at - t0) / 1000);
    for (const d of await Promise.all(dnsGone)) out.dns.get(d.host)!.add((d.at - t0) / 1000);
    out.down.add(((await down) - t0) / 1000);
    progress('  gone from FDB, DNS and node ls; berthd starts again on host3');
    const t1 = now();
    await h3.start();
    out.ready.add(((await until(async () => (await nodeStatus(h1, 'host3')) === 'Ready', 100, 60_000, 'host3 Ready again')) - t1) / 1000);
    try {
      out.back.add(((await until(known, 50, 20_000, "host3's running containers back in the others' FDB")) - t1) / 1000);
    } catch (e: unknown) {
      out.back.fail(e instanceof Error ? e.message : String(e));
      progress(`  ${String(e)}`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  const { quick, values } = parseIntFlags(process.argv.slice(2), USAGE, { '--runs': 'runs', '--failures': 'failures' });
  const runs = values.runs ?? (quick ? 20 : 50);
  const failures = values.failures ?? (quick ? 1 : 3);
  const cpus = os.cpus();
  const out = [
    `berth cluster bench — ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `settings: 3 hosts (host1 manager, host2 and host3 workers), ${runs} convergence runs after 3 warm-ups, ${failures} node failures`,
  ];
  const probes: NameProbe[] = [];
  let swarm: BenchSwarm | undefined;
  let failure: unknown;
  try {
    swarm = await BenchSwarm.form(3, progress);
    const [h1, h2, h3] = swarm.hosts as [World, World, World];
    await swarm.pullEverywhere();
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', NET);
    const vni = Number(await h1.dockerOk('network', 'inspect', '-f', '{{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}', NET));
    const vxlan = `vx-${vni.toString(16).padStart(6, '0')}`;
    progress('observers on host1, host2 and host3');
    const obs1 = await swarm.run(h1, 'obs-1', NET);
    const obs2 = await swarm.run(h2, 'obs-2', NET);
    const obs3 = await swarm.run(h3, 'obs-3', NET);
    const [p1, p2, p3] = [NameProbe.start('host1', obs1.net), NameProbe.start('host2', obs2.net), NameProbe.start('host3', obs3.net)];
    probes.push(p1, p2, p3);
    const conv = await convergence(swarm, [p2, p3], runs, 3);
    const header = ['ms', 'median', 'p90', 'p99', 'min', 'max', 'n'];
    const rows = [row('docker run -d on host1 (the CLI, for scale)', conv.cli)];
    for (const [host, s] of conv.dns) rows.push(row(`name resolves on ${host}, after run returned`, s));
    for (const [host, s] of conv.answer) rows.push(row(`address answers on ${host}, after run returned`, s));
    rows.push(row('both hosts answer (the later of the two)', conv.all));
    rows.push(row('  the same, counted from when run was invoked', conv.allFromStart));
    out.push('', '1. Convergence: a container started on host1, seen from containers on host2 and host3 (ms; p99 is nearest-rank: with n ≤ 100, the largest)', table(header, rows));
    const p99 = percentile(conv.all.values, 99);
    out.push(`   p99 of both hosts answering: ${ms(p99)} ms (target < 100 ms: ${p99 < 100 ? 'met' : 'NOT met'}; Docker here: 90 ms in the common case, its tail the 30 s anti-entropy)`);
    const fail = await nodeFailures(swarm, [p1, p2], 'obs-3', vxlan, failures);
    const frows: string[][] = [];
    for (const [host, s] of fail.fdb) frows.push(row(`host3's entries gone from ${host}'s VXLAN FDB`, s));
    for (const [host, s] of fail.dns) frows.push(row(`host3's container gone from DNS on ${host}`, s));
    frows.push(row('node ls on host1 shows host3 Down', fail.down));
    frows.push(row('berthd restarted on host3: node ls shows it Ready', fail.ready));
    frows.push(row("  and its running containers are back in host1's and host2's FDB", fail.back));
    out.push('', `2. Node failure: SIGKILL of host3's berthd (s after the kill; the node's lease has a 10 s TTL; Docker here: 11–14 s)`, table(['s', 'median', 'p90', 'p99', 'min', 'max', 'n'], frows));
  } catch (e: unknown) {
    failure = e;
  }
  progress('clean-up: probes, containers, daemons, namespaces');
  for (const p of probes) await p.stop();
  const left = swarm ? await swarm.dispose() : [];
  out.push('', left.length === 0 ? '   nothing left behind (containers, daemons, etcd, namespaces)' : `   LEFT BEHIND (removed by force): ${left.join('; ')}`, closingNote());
  process.stdout.write(out.join('\n') + '\n');
  return exitStatus(failure, interrupts.count);
}

runMain(main);
