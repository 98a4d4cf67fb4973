/**
 * A seeded, reproducible kill -9 chaos run (issue 7, crash safety). berthd runs in a
 * throwaway namespace; a client drives random Engine API operations at it (networks,
 * containers, connect/disconnect, stop, rm -f; sometimes several at once), and at a
 * seeded moment of each kill point berthd gets SIGKILL (sometimes again while it starts
 * up), is started again, and the daemon is checked against the kernel, the store file and
 * the client's ledger of acknowledged calls (test/reliability/).
 *
 *   bench/chaos [--seed N] [--kills K] [--ops-per-kill M] [--max-containers N]
 *               [--max-networks N] [--probes N] [--startup-kills P] [--log FILE] [-v]
 *
 * Progress goes to stderr; the report to stdout, ending with exactly
 * `kill points: N, violations: M`. Exits 1 when M > 0. Needs root, iproute2, nftables,
 * runc, conmon, curl. Never touches the machine's root network namespace; everything it
 * makes is removed at the end, also after a failure or Ctrl-C.
 *
 * Reproducing: each kill point k draws from its own stream (seed, k), so
 * `--seed S --kills k` replays the run up to kill point k. Timing is not replayed: the
 * kill lands a seeded number of ms after a seeded op, and what is in flight then varies.
 */
import { pathToFileURL } from 'node:url';
import { messageOf } from '../test/reliability/client.js';
import { checkConsistency, type Violation } from '../test/reliability/invariants.js';
import { probeTraffic, type ProbeLimits } from '../test/reliability/probes.js';
import { Ledger } from '../test/reliability/ledger.js';
import { observe, settle, type Observed } from '../test/reliability/observe.js';
import { mixSeed, Rng } from '../test/lib/prng.js';
import { Workload, type Op, type OpRecord } from '../test/reliability/workload.js';
import { settled, sleep } from '../test/lib/async.js';
import { ChaosWorld } from '../test/reliability/world.js';

export interface ChaosOptions {
  seed: number;
  kills: number;
  opsPerKill: number;
  maxNetworks: number;
  maxContainers: number;
  probes: ProbeLimits;
  /** Chance that a restart is itself killed during start-up (reconcile). */
  startupKillChance: number;
  /** The kill lands 0..this many ms after its op was issued. */
  maxKillDelayMs: number;
  /** Write berthd's whole log there (with the ops and kill points marked). */
  logPath?: string;
  /** Print every op and its outcome on the progress stream. */
  verbose?: boolean;
  progress?: (msg: string) => void;
  /** Stop at the next kill point (Ctrl-C). */
  signal?: AbortSignal;
}

export const DEFAULTS: Omit<ChaosOptions, 'seed'> = {
  kills: 20,
  opsPerKill: 8,
  maxNetworks: 5,
  maxContainers: 12,
  probes: { reach: 3, dns: 3, published: 6 },
  startupKillChance: 0.15,
  maxKillDelayMs: 300,
};

export interface ChaosViolation extends Violation {
  seed: number;
  /** 0: before the first kill; kills+1: at the final clean-up. */
  kill: number;
  /** What was going on at that kill point. */
  context: string;
  /** Later kill points where the same violation was seen again. */
  seenAgain: number[];
}

export interface OpCounts {
  issued: number;
  done: number;
  refused: number;
  unknown: number;
  unsent: number;
}

export interface ChaosResult {
  seed: number;
  killPoints: number;
  violations: ChaosViolation[];
  ops: OpCounts;
  startupKills: number;
  /** Refusals by status and message, with counts (expected ones such as "has active endpoints" too). */
  refusals: Map<string, number>;
  daemonLog: { warn: number; error: number; examples: string[] };
  seconds: number;
  aborted: string;
}

/** Run the chaos loop in a world of its own and remove everything afterwards. */
export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const t0 = performance.now();
  const progress = opts.progress ?? (() => undefined);
  progress(`seed ${opts.seed}: ${opts.kills} kill points, ${opts.opsPerKill} ops each`);
  const w = await ChaosWorld.create({ ...(opts.logPath ? { logPath: opts.logPath } : {}) });
  progress(`berthd ${w.pid} in ${w.ns}, state in ${w.dir}`);
  const run = new ChaosRun(w, opts, progress);
  try {
    await run.loop();
    await run.finalCheck();
  } finally {
    const leaks = await w.dispose();
    run.report(opts.kills + 1, 'dispose of the world', leaks.map((l) => ({ check: 'teardown-leak', detail: l })));
    run.result.daemonLog = { warn: w.problems.warn, error: w.problems.error, examples: w.problems.examples };
  }
  run.result.seconds = (performance.now() - t0) / 1000;
  return run.result;
}

/** One run's state: the world, the workload and its ledger, and what was found so far. */
class ChaosRun {
  readonly result: ChaosResult;
  private readonly seen = new Map<string, ChaosViolation>();
  private readonly workload: Workload;

  constructor(
    private readonly w: ChaosWorld,
    private readonly opts: ChaosOptions,
    private readonly progress: (msg: string) => void,
  ) {
    this.result = {
      seed: opts.seed,
      killPoints: 0,
      violations: [],
      ops: { issued: 0, done: 0, refused: 0, unknown: 0, unsent: 0 },
      startupKills: 0,
      refusals: new Map(),
      daemonLog: { warn: 0, error: 0, examples: [] },
      seconds: 0,
      aborted: '',
    };
    this.workload = new Workload(w.client, new Ledger(), { maxNetworks: opts.maxNetworks, maxContainers: opts.maxContainers });
  }

  /** Record violations; one already seen is only noted as seen again. Returns the new ones. */
  report(kill: number, context: string, found: readonly Violation[]): Violation[] {
    const fresh: Violation[] = [];
    for (const f of found) {
      const prior = this.seen.get(`${f.check}: ${f.detail}`);
      if (prior) {
        if (prior.kill !== kill && !prior.seenAgain.includes(kill)) prior.seenAgain.push(kill);
        continue;
      }
      const cv: ChaosViolation = { ...f, seed: this.opts.seed, kill, context, seenAgain: [] };
      this.seen.set(`${f.check}: ${f.detail}`, cv);
      this.result.violations.push(cv);
      fresh.push(f);
    }
    return fresh;
  }

  async loop(): Promise<void> {
    await this.w.client.ok('POST', '/images/create?fromImage=busybox&tag=latest');
    await settle(this.w);
    this.report(0, 'before the first kill', checkConsistency(await observe(this.w)));
    let failures = 0;
    for (let k = 1; k <= this.opts.kills; k++) {
      if (this.opts.signal?.aborted) {
        this.result.aborted = 'interrupted';
        return;
      }
      const outcome = await this.killPoint(k);
      if (outcome === 'daemon-gone') return;
      failures = outcome === 'unobservable' ? failures + 1 : 0;
      if (failures >= 3) {
        this.result.aborted = 'the daemon could not be inspected three times in a row';
        return;
      }
    }
  }

  /** Ops, the kill, the restart, and the checks of kill point k. */
  private async killPoint(k: number): Promise<'checked' | 'unobservable' | 'daemon-gone'> {
    const { w, opts } = this;
    const rng = new Rng(mixSeed(opts.seed, k));
    const tk = performance.now();
    w.mark(`kill point ${k}`);
    const seg = await runSegment(w, this.workload, rng, opts);
    this.count(seg.records);
    let context = seg.context;
    const restarted = await restart(w, rng, opts);
    if (restarted.startupKill) {
      this.result.startupKills += 1;
      context += `; ${restarted.startupKill}`;
    }
    this.result.killPoints = k;
    if (restarted.error) {
      this.report(k, context, [{ check: 'restart', detail: restarted.error }]);
      this.result.aborted = `berthd does not start again after kill point ${k}`;
      return 'daemon-gone';
    }
    let found: Violation[];
    let o: Observed | undefined;
    let probes = '';
    try {
      await settle(w);
      o = await observe(w);
      const traffic = await probeTraffic(w, o, new Rng(mixSeed(opts.seed, k, 7)), opts.probes);
      probes = `probes: ${traffic.sent.reach} http, ${traffic.sent.dns} dns, ${traffic.sent.published} published; `;
      found = [...checkConsistency(o), ...this.workload.ledger.check(o), ...traffic.violations];
    } catch (e: unknown) {
      found = [{ check: 'observe', detail: `the daemon could not be inspected: ${messageOf(e)}` }];
    }
    const fresh = this.report(k, context, found);
    if (o) this.workload.adopt(Ledger.fromObserved(o));
    const running = o?.containers.filter((c) => c.running).length ?? 0;
    this.progress(
      `kill ${k}/${opts.kills}: ${seg.records.length} ops, ${context}; ${o?.containers.length ?? '?'} containers (${running} running), ` +
        `${(o?.networks.length ?? 3) - 3} networks; ${probes}${found.length} violations (${fresh.length} new) [${((performance.now() - tk) / 1000).toFixed(1)} s]`,
    );
    for (const f of fresh) this.progress(`    new: ${f.check}: ${f.detail}`);
    return o ? 'checked' : 'unobservable';
  }

  /** Count the ops' outcomes and refusals, and write them into the daemon log file. */
  private count(records: readonly OpRecord[]): void {
    const r = this.result;
    for (const rec of records) {
      r.ops.issued += 1;
      r.ops[rec.outcome === 'pending' ? 'unknown' : rec.outcome] += 1;
      if (rec.outcome === 'refused') {
        const key = `${rec.label.split(' ')[0]} ${rec.detail}`.replace(/\b[0-9a-f]{12,64}\b/g, '<id>').replace(/\bc\d+\b/g, 'cN').replace(/\bn\d+\b/g, 'nN');
        r.refusals.set(key, (r.refusals.get(key) ?? 0) + 1);
      }
      const line = `op ${rec.outcome.padEnd(8)} ${rec.label}${rec.detail ? ` -> ${rec.detail}` : ''}${rec.outcome === 'unknown' ? ` [${rec.call}]` : ''}`;
      this.w.mark(line);
      if (this.opts.verbose) this.progress(`    ${line.slice(0, 200)}`);
    }
  }

  /** Remove every container and network through the API; then nothing of berth may be left. */
  async finalCheck(): Promise<void> {
    if (!this.w.alive()) return;
    this.progress('removing everything through the API');
    const kill = this.opts.kills + 1;
    try {
      await this.w.removeAll();
      await settle(this.w);
      // The firewall's deletions finish after the API answered: look again for a while.
      const found = await settled(async () => checkConsistency(await observe(this.w)), (f) => f.length === 0, 5000, 250);
      this.report(kill, 'after removing every container and network', found);
    } catch (e: unknown) {
      this.report(kill, 'final clean-up', [{ check: 'cleanup', detail: messageOf(e) }]);
    }
  }
}

interface Segment {
  records: OpRecord[];
  /** The kill moment, for the report: which op, how long after, what was in flight. */
  context: string;
}

/**
 * One kill point's operations: up to `opsPerKill` steps of one op or a batch of 2–3 ops on
 * disjoint objects; the kill lands a seeded delay after a seeded step was issued, and no
 * step starts after it.
 */
async function runSegment(w: ChaosWorld, workload: Workload, rng: Rng, opts: ChaosOptions): Promise<Segment> {
  const records: OpRecord[] = [];
  const inflight = new Set<OpRecord>();
  const launched: Promise<void>[] = [];
  // The kill lands in the second half, so most of a kill point's ops are issued and the world grows.
  const killStep = rng.between(Math.floor(opts.opsPerKill / 2), opts.opsPerKill - 1);
  const killDelay = rng.between(0, opts.maxKillDelayMs);
  let killed = false;
  let context = '';
  let kill: Promise<void> | undefined;
  const fire = async (after: string): Promise<void> => {
    await sleep(killDelay);
    killed = true;
    const now = performance.now();
    const flying = [...inflight].map((r) => `${r.label} [${r.call}, +${Math.round(now - r.startedMs)} ms]`);
    context = `SIGKILL ${killDelay} ms after ${after}; in flight: ${flying.length > 0 ? flying.join('; ') : 'nothing'}`;
    await w.kill();
    w.mark(context);
  };
  const launch = (op: Op): Promise<void> => {
    const rec: OpRecord = { label: op.label, outcome: 'pending', call: '', detail: '', startedMs: performance.now() };
    records.push(rec);
    inflight.add(rec);
    const p = op.run(rec).finally(() => inflight.delete(rec));
    launched.push(p);
    return p;
  };
  for (let i = 0; i < opts.opsPerKill && !killed; i++) {
    const size = rng.chance(0.3) ? rng.between(2, 3) : 1;
    const busy = new Set<string>();
    const batch: Op[] = [];
    for (let j = 0; j < size; j++) {
      const op = workload.next(rng, busy);
      if (!op) continue;
      for (const t of op.touches) busy.add(t);
      batch.push(op);
    }
    const running = batch.map(launch);
    if (i === killStep) kill = fire(batch.length > 0 ? batch.map((b) => `"${b.label}"`).join(' + ') : 'an idle moment');
    await Promise.all(running);
  }
  kill ??= fire('the last op');
  await kill;
  await Promise.all(launched);
  return { records, context };
}

/** Start berthd again; sometimes kill it during start-up first. */
async function restart(w: ChaosWorld, rng: Rng, opts: ChaosOptions): Promise<{ startupKill: string; error: string }> {
  let startupKill = '';
  if (rng.chance(opts.startupKillChance)) {
    const delay = rng.between(30, 1200);
    w.spawnDaemon();
    await sleep(delay);
    const ready = await w.client.ping();
    if (!w.alive()) return { startupKill: '', error: `berthd exited during start-up:\n${w.logLines(20)}` };
    await w.kill();
    startupKill = `killed again ${delay} ms into start-up (${ready ? 'already serving' : 'before serving'})`;
  }
  try {
    await w.start();
    return { startupKill, error: '' };
  } catch (e: unknown) {
    return { startupKill, error: messageOf(e) };
  }
}

/** The report: counts, refusals, daemon log problems, violations, and the final line. */
export function formatReport(r: ChaosResult): string {
  const lines: string[] = [];
  const o = r.ops;
  lines.push(
    `chaos: seed ${r.seed}, ${r.killPoints} kill points (${r.startupKills} also during start-up), ${o.issued} ops: ` +
      `${o.done} done, ${o.refused} refused, ${o.unknown} unknown (in flight at a kill), ${o.unsent} unsent; ${r.seconds.toFixed(0)} s`,
  );
  if (r.aborted) lines.push(`stopped early: ${r.aborted}`);
  const refusals = [...r.refusals].sort((a, b) => b[1] - a[1]);
  if (refusals.length > 0) {
    lines.push('refused calls (not violations by themselves):');
    for (const [k, n] of refusals.slice(0, 12)) lines.push(`  ${String(n).padStart(4)}× ${k.slice(0, 160)}`);
  }
  lines.push(`daemon log: ${r.daemonLog.warn} WARN, ${r.daemonLog.error} ERROR lines`);
  for (const e of r.daemonLog.examples.slice(0, 6)) lines.push(`  ${e.slice(0, 200)}`);
  if (r.violations.length > 0) {
    lines.push('violations:');
    r.violations.forEach((v, i) => {
      lines.push(`  ${i + 1}. [seed ${v.seed}, kill ${v.kill}] ${v.check}: ${v.detail}`);
      lines.push(`     at that kill point: ${v.context}`);
      if (v.seenAgain.length > 0) lines.push(`     seen again at kill points ${v.seenAgain.join(', ')}`);
    });
  }
  if (r.violations.length > 0) {
    const byCheck = new Map<string, number>();
    for (const v of r.violations) byCheck.set(v.check, (byCheck.get(v.check) ?? 0) + 1);
    lines.push(`by check: ${[...byCheck].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}`);
  }
  lines.push(`kill points: ${r.killPoints}, violations: ${r.violations.length}`);
  return lines.join('\n');
}

const USAGE = `usage: bench/chaos [--seed N] [--kills K] [--ops-per-kill M] [--max-containers N] [--max-networks N]
                   [--probes N] [--startup-kills P] [--log FILE] [-v]
  --seed N            PRNG seed (default: random, printed)
  --kills K           kill points (default ${DEFAULTS.kills})
  --ops-per-kill M    operations before each kill (default ${DEFAULTS.opsPerKill})
  --max-containers N  containers at most (default ${DEFAULTS.maxContainers}); --max-networks N (default ${DEFAULTS.maxNetworks})
  --probes N          container-to-container HTTP and DNS probes per kill point (default ${DEFAULTS.probes.reach})
  --startup-kills P   chance of a second kill during start-up (default ${DEFAULTS.startupKillChance})
  --log FILE          write berthd's log there (ops and kill points are marked)
  -v, --verbose       print every op and its outcome`;

export function parseArgs(argv: readonly string[]): ChaosOptions {
  const opts: ChaosOptions = { ...DEFAULTS, probes: { ...DEFAULTS.probes }, seed: Math.floor(Math.random() * 1e6) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (min: number): number => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) throw new Error(`${a} needs an integer >= ${min}\n${USAGE}`);
      return v;
    };
    if (a === '--seed') opts.seed = int(0);
    else if (a === '--kills') opts.kills = int(1);
    else if (a === '--ops-per-kill') opts.opsPerKill = int(1);
    else if (a === '--max-containers') opts.maxContainers = int(1);
    else if (a === '--max-networks') opts.maxNetworks = int(1);
    else if (a === '--probes') {
      const n = int(0);
      opts.probes = { ...opts.probes, reach: n, dns: n };
    }
    else if (a === '--startup-kills') {
      opts.startupKillChance = Number(value());
      if (!(opts.startupKillChance >= 0 && opts.startupKillChance <= 1)) throw new Error(`--startup-kills needs a number in [0, 1]\n${USAGE}`);
    } else if (a === '--log') opts.logPath = value();
    else if (a === '-v' || a === '--verbose') opts.verbose = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: ChaosOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e: unknown) {
    process.stderr.write(`${messageOf(e instanceof Error ? e.message : e)}\n`);
    process.exit(2);
  }
  const t0 = performance.now();
  const progress = (msg: string): void => void process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${msg}\n`);
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      progress(`${sig}: stopping after this kill point, then removing everything (twice more to give up)`);
      abort.abort();
    } else if (interrupts >= 3) {
      process.stderr.write('giving up: namespaces berth-chaos-*, conmon processes and mounts under $TMPDIR/berth-chaos-* may be left\n');
      process.exit(130);
    }
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  const result = await runChaos({ ...opts, progress, signal: abort.signal });
  process.stdout.write(formatReport(result) + '\n');
  process.exit(result.violations.length > 0 ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`chaos: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  });
}
