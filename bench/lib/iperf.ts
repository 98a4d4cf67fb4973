/**
 * iperf3 between network namespaces, for the data-plane benchmarks: a server per
 * namespace (ended by PID), one-stream TCP runs whose throughput, retransmits and CPU
 * are kept as samples per path, and the table of medians and ratios.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sh } from '../../test/lib/world.js';
import { sleep } from '../../test/lib/async.js';
import { num, Samples } from './stats.js';

export const IPERF_PORT = 5201;

/** A path measured: where the client runs (a netns file) and where it connects. */
export interface Path {
  key: string;
  label: string;
  clientNet: string;
  host: string;
  port: number;
  bps: Samples;
  /** Gbit/s per round, NaN where the run failed: paired ratios compare runs of one round. */
  perRound: number[];
  retransmits: Samples;
  /** iperf3's own CPU use, % of one CPU: sender (host_total), receiver (remote_total). */
  cpuSender: Samples;
  cpuReceiver: Samples;
  /**
   * CPU time of sender and receiver together per GB carried, ms. The kernel's work on a
   * packet (softirq included, on this kernel without IRQ time accounting) is charged to
   * the process it interrupts, mostly these two: this is the path's cost, which the load
   * of other processes sways far less than the throughput.
   */
  cpuPerGb: Samples;
}

export function newPath(key: string, label: string, clientNet: string, host: string, port = IPERF_PORT): Path {
  return { key, label, clientNet, host, port, bps: new Samples(), perRound: [], retransmits: new Samples(), cpuSender: new Samples(), cpuReceiver: new Samples(), cpuPerGb: new Samples() };
}

interface IperfJson {
  error?: string;
  end?: {
    sum_received?: { bits_per_second?: number; bytes?: number; seconds?: number };
    sum_sent?: { retransmits?: number };
    cpu_utilization_percent?: { host_total?: number; remote_total?: number };
  };
}

/** A long-running iperf3 server in a namespace (a netns file); the caller ends it by PID. */
export function startServer(net: string, port = IPERF_PORT): ChildProcess {
  // nsenter with only --net does not fork: the child's PID is iperf3's.
  return spawn('nsenter', [`--net=${net}`, '--', 'iperf3', '-s', '-p', String(port)], { stdio: 'ignore' });
}

/** Wait until something listens on `port` in that namespace. */
export async function waitListening(net: string, server: ChildProcess, port = IPERF_PORT): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`iperf3 server in ${net} exited ${server.exitCode}`);
    const r = await sh('nsenter', [`--net=${net}`, '--', 'ss', '-Hltn', `sport = :${port}`]);
    if (r.stdout.trim() !== '') return;
    await sleep(100);
  }
  throw new Error(`iperf3 server in ${net} is not listening after 10 s`);
}

/** Servers started with startServer, ended by PID (SIGKILL), waiting for each to exit. */
export async function stopServers(servers: readonly ChildProcess[]): Promise<void> {
  for (const s of servers) {
    if (s.exitCode !== null || s.signalCode !== null) continue;
    const exited = new Promise<void>((res) => s.once('exit', () => res()));
    s.kill('SIGKILL');
    await exited;
  }
}

/** One iperf3 run of `seconds` on `p`; its figures are added to p's samples (a failure throws). */
export async function runClient(p: Path, seconds: number): Promise<void> {
  const args = [`--net=${p.clientNet}`, '--', 'iperf3', '-c', p.host, '-p', String(p.port), '-t', String(seconds), '-J'];
  const r = await sh('nsenter', args, { timeoutMs: (seconds + 30) * 1000 });
  let j: IperfJson;
  try {
    j = JSON.parse(r.stdout) as IperfJson;
  } catch {
    throw new Error(`iperf3 ${args.join(' ')}: exit ${r.code}: ${r.stderr.trim() || r.stdout.trim().slice(0, 300)}`);
  }
  if (j.error) throw new Error(`iperf3 -c ${p.host}:${p.port} from ${p.clientNet}: ${j.error}`);
  const bps = j.end?.sum_received?.bits_per_second;
  if (bps === undefined) throw new Error(`iperf3 -c ${p.host}:${p.port}: no sum_received in its output`);
  p.bps.add(bps / 1e9);
  p.perRound.push(bps / 1e9);
  p.retransmits.add(j.end?.sum_sent?.retransmits ?? NaN);
  p.cpuSender.add(j.end?.cpu_utilization_percent?.host_total ?? NaN);
  p.cpuReceiver.add(j.end?.cpu_utilization_percent?.remote_total ?? NaN);
  const cpu = j.end?.cpu_utilization_percent;
  const got = j.end?.sum_received;
  if (cpu?.host_total !== undefined && cpu.remote_total !== undefined && got?.bytes && got.seconds) {
    p.cpuPerGb.add((((cpu.host_total + cpu.remote_total) / 100) * got.seconds * 1000) / (got.bytes / 1e9));
  }
}

/** "17.13 (15.11–17.97, n=5)" in Gbit/s. */
export function gbit(s: Samples): string {
  const x = s.summary();
  if (!x) return '–';
  if (x.n === 0) return `all ${x.failed} failed`;
  const failed = x.failed > 0 ? `, +${x.failed} failed` : '';
  return `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)}, n=${x.n}${failed})`;
}

export function medianOf(s: Samples): number {
  return s.summary()?.median ?? NaN;
}

/** median(p) / median(base), NaN when either is missing. */
export function ratio(p: Path, base: Path | undefined): number {
  const m = medianOf(p.bps);
  const b = base ? medianOf(base.bps) : NaN;
  return Number.isFinite(m) && Number.isFinite(b) && b > 0 ? m / b : NaN;
}

/**
 * The median over rounds of p's run / base's run in the same round: less swayed than the
 * ratio of medians by load that changes from one round to the next.
 */
export function pairedRatio(p: Path, base: Path | undefined): number {
  if (!base) return NaN;
  const s = new Samples();
  p.perRound.forEach((v, i) => {
    const b = base.perRound[i];
    if (Number.isFinite(v) && b !== undefined && Number.isFinite(b) && b > 0) s.add(v / b);
  });
  return s.summary()?.median ?? NaN;
}

export function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}

/** The retransmits and the iperf3 CPU columns of a path. */
export function tailColumns(p: Path): string[] {
  return [num(medianOf(p.retransmits)), `${num(medianOf(p.cpuSender))} / ${num(medianOf(p.cpuReceiver))}`];
}

/** median CPU ms per GB of p / that of base. */
export function costRatio(p: Path, base: Path | undefined): number {
  const m = medianOf(p.cpuPerGb);
  const b = base ? medianOf(base.cpuPerGb) : NaN;
  return Number.isFinite(m) && Number.isFinite(b) && b > 0 ? m / b : NaN;
}

/** Lines naming the paths that had failed runs, with their first errors. */
export function failureLines(paths: readonly Path[]): string[] {
  const failures = paths.filter((p) => p.bps.failed > 0).map((p) => `   (${p.key}) ${p.bps.failed} failed: ${p.bps.errors.join(' | ')}`);
  return failures.length > 0 ? ['', 'FAILURES', ...failures] : [];
}

/**
 * Rounds of one run per path, interleaved (a b c, a b c, …) so every path sees the same
 * background load. `check` runs before each run (throw to stop: interrupted, a daemon died).
 */
export async function interleave(paths: readonly Path[], runs: number, seconds: number, check: () => void, progress: (m: string) => void): Promise<void> {
  for (let round = 0; round < runs; round++) {
    for (const p of paths) {
      check();
      progress(`round ${round + 1}/${runs}: (${p.key}) ${p.label}`);
      try {
        await runClient(p, seconds);
        progress(`  ${p.bps.values[p.bps.values.length - 1]!.toFixed(2)} Gbit/s`);
      } catch (e: unknown) {
        const msg = e instanceof Error ? e.message : String(e);
        p.bps.fail(msg);
        p.perRound.push(NaN);
        progress(`  failed: ${msg}`);
      }
    }
  }
}
