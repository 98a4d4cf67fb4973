/**
 * A seeded fuzzer of berthd's Engine API. It sends malformed and hostile requests to
 * every route (broken JSON, wrong types, huge bodies, bad CIDRs/IPs/ports/MACs, hostile
 * names, path traversal, hostile tar archives, unknown routes and methods, malformed
 * HTTP, slow and silent clients) and holds the daemon to its contract:
 *
 *   - every answer is a success or a 4xx carrying a non-empty JSON {"message"};
 *     never a 5xx, never no answer, never a hang (each request has a deadline);
 *   - the daemon answers /_ping after every batch (a crash is found, the culprit
 *     replayed alone, the daemon restarted, and the run goes on);
 *   - afterwards the store is consistent (names, addresses, ports), the docker CLI lists
 *     it, the daemon restarts cleanly onto the same state, and once everything the run
 *     made is removed, nothing is left in the store or the kernel; no traversal escaped.
 *
 *   node dist/bench/fuzz.js --seed N --requests K [--concurrency C] [--only I,J] [--no-slow] [--no-corpus]
 *                                [--deadline MS] [--slow-ms MS]
 *
 * Case I of seed N is the same request on every run: `--only I` replays it. A fixed
 * corpus of once-failing requests (cases 1000000…) goes first in every run. Needs root,
 * iproute2, nftables, runc, conmon and the docker CLI; berthd runs in a throwaway
 * namespace (test/lib/world.ts), never in the machine's root namespace.
 */
import { fileURLToPath } from 'node:url';
import { World } from '../test/lib/world.js';
import { apiCall, sendRaw, type RawAnswer, type RawRequest } from './fuzz/client.js';
import { CORPUS_BASE, CORPUS_SIZE, describe, makeCase, type FuzzCase } from './fuzz/cases.js';
import { startSlowClients, type SlowClients } from './fuzz/slow.js';
import {
  alive, cliListings, daemonPid, escapes, invariants, listContainers, listNetworks, removeCreated, settledDiff,
  snapshot, type FuzzTarget, type Snapshot,
} from './fuzz/state.js';

export type { FuzzTarget } from './fuzz/state.js';

export interface FuzzOptions {
  seed: number;
  requests: number;
  /** Requests in flight at once (one batch). */
  concurrency?: number;
  /** Time allowed for each status line: past it, a request hangs (a violation). */
  deadlineMs?: number;
  /** A status line later than this is reported as slow (not a violation). */
  slowMs?: number;
  /** Replay only these case numbers. */
  only?: readonly number[];
  /** Send the fixed regression corpus first (default true; not with `only`). */
  corpus?: boolean;
  /** Run the slow/silent clients beside the fuzz (default true). */
  slow?: boolean;
  /** Stops sending new batches (the checks and the removal still run). */
  signal?: AbortSignal;
  log?: (msg: string) => void;
}

export interface Violation {
  kind: string;
  /** Case number (replay with --only), or -1 for run-level findings. */
  index: number;
  caseKind: string;
  request: string;
  status: string;
  detail: string;
}

export interface FuzzReport {
  seed: number;
  sent: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  violations: Violation[];
  /** 501 answers: reported, not counted as violations (a feature berth lacks, said so). */
  notImplemented: Violation[];
  notes: string[];
  /** Answers later than slowMs (but within the deadline). */
  slow: Violation[];
  slowestMs: number;
  crashes: number;
  durationMs: number;
}

interface Fixtures {
  execId: string;
}

const FIXTURE_NET = { Name: 'fz-net', IPAM: { Config: [{ Subnet: '10.213.0.0/24' }] } };

async function ensureFixtures(t: FuzzTarget): Promise<Fixtures> {
  const call = (m: string, p: string, b?: unknown) => apiCall(t.sock, m, p, b, 120_000);
  if ((await call('GET', '/images/busybox/json')).status !== 200) await call('POST', '/images/create?fromImage=busybox&tag=latest');
  if ((await call('GET', '/networks/fz-net')).status !== 200) await call('POST', '/networks/create', FIXTURE_NET);
  if ((await call('GET', '/volumes/fz-vol')).status !== 200) await call('POST', '/volumes/create', { Name: 'fz-vol' });
  if ((await call('GET', '/containers/fz-c/json')).status !== 200) {
    await call('POST', '/containers/create?name=fz-c', { Image: 'busybox', Cmd: ['sleep', '1000'], HostConfig: { NetworkMode: 'fz-net' } });
  }
  const run = await call('GET', '/containers/fz-run/json');
  if (run.status !== 200) await call('POST', '/containers/create?name=fz-run', { Image: 'busybox', Cmd: ['sleep', '100000'], HostConfig: { NetworkMode: 'fz-net' } });
  if (run.status !== 200 || (run.json as { State?: { Running?: boolean } }).State?.Running !== true) await call('POST', '/containers/fz-run/start');
  const exec = await call('POST', '/containers/fz-run/exec', { Cmd: ['true'], AttachStdout: true });
  return { execId: (exec.json as { Id?: string } | undefined)?.Id ?? 'no-exec' };
}

function withFixtures(req: RawRequest, f: Fixtures): RawRequest {
  return req.path.includes('{exec}') ? { ...req, path: req.path.replace('{exec}', f.execId) } : req;
}

/** Is the answer within the contract? A violation kind, or undefined. */
function judge(c: FuzzCase, a: RawAnswer): { kind: string; detail: string } | undefined {
  const text = a.body.toString('utf8').trim();
  if (a.outcome === 'timeout') return { kind: 'hang', detail: `no status line within the deadline` };
  if (a.outcome !== 'answered') return { kind: 'no answer', detail: `connection ${a.outcome}${a.error ? ` (${a.error})` : ''} before any status line` };
  if (a.status === 0) return { kind: 'malformed answer', detail: text.slice(0, 200) };
  if (a.status >= 500) return { kind: a.status === 501 ? 'not implemented' : '5xx', detail: text.slice(0, 300) };
  const method = c.req.raw ? c.req.raw.toString('latin1').split(' ')[0] : c.req.method;
  if (a.status >= 400 && method !== 'HEAD') {
    if (!a.complete) return { kind: 'error body cut short', detail: text.slice(0, 200) };
    try {
      const body = JSON.parse(text) as { message?: unknown };
      if (typeof body.message !== 'string' || body.message.trim() === '') return { kind: '4xx without a JSON message', detail: text.slice(0, 200) };
    } catch {
      return { kind: '4xx without a JSON message', detail: text === '' ? '(empty body)' : text.slice(0, 200) };
    }
  }
  if (a.status >= 200 && a.status < 300 && a.complete && (a.headers['content-type'] ?? '').includes('application/json') && text.trim() !== '') {
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      try {
        JSON.parse(line);
      } catch {
        return { kind: 'success with bad JSON', detail: text.slice(0, 200) };
      }
    }
  }
  return undefined;
}

async function ping(t: FuzzTarget): Promise<boolean> {
  const a = await sendRaw(t.sock, { method: 'GET', path: '/_ping' }, { deadlineMs: 5_000 });
  return a.status === 200;
}

export async function runFuzz(t: FuzzTarget, opts: FuzzOptions): Promise<FuzzReport> {
  const run = new FuzzRun(t, opts);
  await run.run();
  return run.report;
}

/** One run: batches of cases, a ping after each, crash bisection, then the run-level checks. */
class FuzzRun {
  readonly report: FuzzReport;
  private readonly t0 = Date.now();
  private readonly log: (msg: string) => void;
  private fixtures: Fixtures = { execId: 'no-exec' };
  private slow: SlowClients | undefined;
  private slowSince = Date.now();
  /** Violations of the current batch: a crash makes its lost answers collateral, not findings. */
  private pending: Violation[] = [];

  constructor(
    private readonly t: FuzzTarget,
    private readonly opts: FuzzOptions,
  ) {
    this.log = opts.log ?? (() => undefined);
    this.report = { seed: opts.seed, sent: 0, byStatus: {}, byKind: {}, violations: [], notImplemented: [], notes: [], slow: [], slowestMs: 0, crashes: 0, durationMs: 0 };
  }

  async run(): Promise<void> {
    const { t, opts } = this;
    const width = opts.concurrency ?? 8;
    const ctx = { dir: t.dir, seed: opts.seed };
    const baseline = await snapshot(t);
    this.fixtures = await ensureFixtures(t);
    this.startSlow();
    const corpus = opts.only || opts.corpus === false ? [] : Array.from({ length: CORPUS_SIZE() }, (_, i) => CORPUS_BASE + i);
    const indices = opts.only ? [...opts.only] : [...corpus, ...Array.from({ length: opts.requests }, (_, i) => i)];
    for (let b = 0; b < indices.length && !opts.signal?.aborted; b += width) {
      const batch = indices.slice(b, b + width).map((i) => makeCase(opts.seed, i, ctx));
      await Promise.all(batch.map((c) => this.sendWithFollowUp(c)));
      if (await ping(t)) this.commit(false);
      else await this.bisectCrash(batch);
      if ((b / width) % 5 === 4) this.fixtures = await ensureFixtures(t);
      if ((b / width) % 10 === 9) this.log(`${Math.min(b + width, indices.length)}/${indices.length} cases, ${this.report.sent} requests, ${this.report.violations.length} violations`);
    }
    if (this.slow) {
      const r = await this.slow.finish(this.slowSince + 75_000);
      for (const v of r.violations) this.runLevel('slow client', v);
      this.report.notes.push(...r.notes);
    }
    await afterRun(t, baseline, opts.seed, this.report, this.log).catch((e: unknown) => {
      this.runLevel('run-level check failed', e instanceof Error ? e.message.slice(0, 2000) : String(e));
    });
    this.report.durationMs = Date.now() - this.t0;
  }

  private runLevel(kind: string, detail: string): void {
    this.report.violations.push({ kind, index: -1, caseKind: 'run', request: '', status: '', detail });
  }

  private startSlow(): void {
    if (this.opts.slow === false) return;
    this.slow = startSlowClients(this.t.sock, `fz${this.opts.seed}-${this.report.crashes}`);
    this.slowSince = Date.now();
  }

  private commit(dropCollateral: boolean): void {
    for (const v of this.pending) {
      if (dropCollateral && (v.kind === 'no answer' || v.kind === 'hang')) continue;
      (v.kind === 'not implemented' ? this.report.notImplemented : this.report.violations).push(v);
    }
    this.pending = [];
  }

  private async send(c: FuzzCase): Promise<RawAnswer> {
    const r = this.report;
    const req = withFixtures(c.req, this.fixtures);
    const a = await sendRaw(this.t.sock, req, { deadlineMs: this.opts.deadlineMs ?? 60_000, bodyGraceMs: c.stream ? 1_000 : 5_000 });
    const status = a.outcome === 'answered' ? String(a.status) : a.outcome;
    r.sent++;
    r.byStatus[status] = (r.byStatus[status] ?? 0) + 1;
    r.byKind[c.kind] = (r.byKind[c.kind] ?? 0) + 1;
    r.slowestMs = Math.max(r.slowestMs, a.ms);
    if (a.outcome === 'answered' && a.ms > (this.opts.slowMs ?? 15_000)) {
      r.slow.push({ kind: 'slow', index: c.index, caseKind: c.kind, request: describe(req), status, detail: `status line after ${(a.ms / 1000).toFixed(1)} s` });
    }
    const bad = judge(c, a);
    if (bad) this.pending.push({ ...bad, index: c.index, caseKind: c.kind, request: describe(req), status });
    return a;
  }

  /** A case, and for a created container that asks for it, its start. */
  private async sendWithFollowUp(c: FuzzCase): Promise<void> {
    const a = await this.send(c);
    if (!c.startAfter || a.status !== 201) return;
    let id = '';
    try {
      id = (JSON.parse(a.body.toString()) as { Id?: string }).Id ?? '';
    } catch {
      return;
    }
    await this.send({ index: c.index, kind: `${c.kind}+start`, req: { method: 'POST', path: `/containers/${id}/start` } });
  }

  /** After a failed ping: find which case of the batch kills the daemon, restarting it each time. */
  private async bisectCrash(batch: readonly FuzzCase[]): Promise<void> {
    const { t } = this;
    this.report.crashes++;
    let pid = 0;
    try {
      pid = daemonPid(t);
    } catch {
      pid = 0;
    }
    const how = pid > 0 && alive(pid) ? 'stopped answering /_ping (alive)' : 'died';
    this.log(`daemon ${how} after a batch of ${batch.length}; restarting and replaying the batch one by one`);
    this.commit(true);
    await this.slow?.finish(0);
    await t.restart('SIGKILL');
    this.fixtures = await ensureFixtures(t);
    let culprit = false;
    for (const c of batch) {
      await this.sendWithFollowUp(c);
      const ok = await ping(t);
      this.commit(!ok);
      if (ok) continue;
      culprit = true;
      this.report.violations.push({ kind: 'crash', index: c.index, caseKind: c.kind, request: describe(withFixtures(c.req, this.fixtures)), status: '', detail: `the daemon ${how} after this request` });
      await t.restart('SIGKILL');
      this.fixtures = await ensureFixtures(t);
    }
    if (!culprit) this.runLevel('crash', `the daemon ${how} after the batch ${batch.map((c) => c.index).join(',')}, but no single case of it repeats that alone`);
    // The crashes cut the slow clients' connections: start them again on the new daemon.
    if (this.slow) {
      this.report.notes.push('slow clients restarted after a crash');
      this.startSlow();
    }
  }
}

/** The run-level checks: invariants, CLI, restart, removal, leaks, escapes, and a container still works. */
async function afterRun(t: FuzzTarget, baseline: Snapshot, seed: number, report: FuzzReport, log: (m: string) => void): Promise<void> {
  const runLevel = (kind: string, detail: string): void => void report.violations.push({ kind, index: -1, caseKind: 'run', request: '', status: '', detail });
  log('checking the store, restarting, removing what the run made');
  for (const p of await invariants(t)) runLevel('inconsistent store', p);
  for (const p of await cliListings(t)) runLevel('CLI listing failed', p);
  const beforeRestart = { nets: (await listNetworks(t)).map((n) => n.Id).sort(), ctrs: (await listContainers(t)).map((c) => c.Id).sort() };
  const restarted = await t.restart('SIGTERM').then(() => true, (e: unknown) => {
    runLevel('restart failed', e instanceof Error ? e.message.slice(0, 2000) : String(e));
    return false;
  });
  if (!restarted) return;
  const afterRestart = { nets: (await listNetworks(t)).map((n) => n.Id).sort(), ctrs: (await listContainers(t)).map((c) => c.Id).sort() };
  if (JSON.stringify(beforeRestart) !== JSON.stringify(afterRestart)) {
    runLevel('state changed across a restart', `networks ${beforeRestart.nets.length} -> ${afterRestart.nets.length}, containers ${beforeRestart.ctrs.length} -> ${afterRestart.ctrs.length}`);
  }
  for (const p of await invariants(t)) runLevel('inconsistent store after restart', p);
  report.notes.push(`at the end: ${afterRestart.nets.length} networks, ${afterRestart.ctrs.length} containers (before removal)`);
  for (const f of await removeCreated(t, baseline)) runLevel('removal failed', f);
  // The default bridge and a fresh user network still carry traffic.
  const net = await apiCall(t.sock, 'POST', '/networks/create', { Name: `fz-final-${seed}` });
  const check = await apiCall(t.sock, 'POST', '/images/create?fromImage=busybox&tag=latest', undefined, 120_000);
  if (net.status !== 201 || check.status !== 200) runLevel('daemon not usable', `network create ${net.status}, busybox ${check.status}`);
  for (const mode of ['bridge', `fz-final-${seed}`]) {
    const r = await runToEnd(t, mode);
    if (r !== 0) runLevel('daemon not usable', `a container on ${mode} pinging its gateway exited ${r}`);
  }
  await apiCall(t.sock, 'DELETE', `/networks/fz-final-${seed}`);
  for (const f of await removeCreated(t, baseline)) runLevel('removal failed', f);
  for (const d of await settledDiff(t, baseline)) runLevel('leak', d);
  for (const f of await escapes(t, seed)) runLevel('escape', f);
}

/** Create, start and wait for a container that pings its default gateway; its exit code. */
async function runToEnd(t: FuzzTarget, network: string): Promise<number> {
  const c = await apiCall(t.sock, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', 'ping -c1 -W2 $(ip route | awk "/default/ {print \\$3}")'], HostConfig: { NetworkMode: network } });
  const id = (c.json as { Id?: string } | undefined)?.Id;
  if (!id) return -1;
  try {
    const wait = apiCall(t.sock, 'POST', `/containers/${id}/wait`, undefined, 30_000);
    await apiCall(t.sock, 'POST', `/containers/${id}/start`);
    return (((await wait).json as { StatusCode?: number } | undefined)?.StatusCode) ?? -1;
  } finally {
    await apiCall(t.sock, 'DELETE', `/containers/${id}?force=1`);
  }
}

/** The summary: requests by status, by kind, then violations grouped (kind, status, message) with examples. */
export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  const table = (m: Record<string, number>): string => Object.entries(m).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ');
  lines.push(`fuzz seed ${r.seed}: ${r.sent} requests in ${(r.durationMs / 1000).toFixed(1)} s, slowest status line ${Math.round(r.slowestMs)} ms, ${r.crashes} crash(es)`);
  lines.push(`  by status: ${table(r.byStatus)}`);
  lines.push(`  by kind:   ${table(r.byKind)}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  const group = (vs: readonly Violation[], title: string): void => {
    if (vs.length === 0) return;
    const groups = new Map<string, Violation[]>();
    for (const v of vs) {
      const key = `${v.kind} | ${v.status} | ${v.detail.replace(/[0-9a-f]{12,}/g, '<id>').replace(/fz-[0-9a-f]{4,6}/g, 'fz-<x>').slice(0, 160)}`;
      groups.set(key, [...(groups.get(key) ?? []), v]);
    }
    lines.push(`  ${title}: ${vs.length} in ${groups.size} group(s)`);
    for (const [key, list] of groups) {
      lines.push(`    [${list.length}×] ${key}`);
      for (const v of list.slice(0, list[0]?.kind === 'crash' ? list.length : 3)) {
        if (v.index >= 0) lines.push(`        case ${v.index} (${v.caseKind}): ${v.request}`);
        else if (v.detail.length > 160) lines.push(`        ${v.detail.replace(/\n/g, '\n        ')}`);
      }
    }
  };
  group(r.violations, 'VIOLATIONS');
  group(r.notImplemented, '501 Not Implemented (reported, allowed)');
  for (const v of r.slow) lines.push(`  slow (allowed): case ${v.index} (${v.caseKind}) ${v.status} ${v.detail}: ${v.request.slice(0, 200)}`);
  if (r.violations.length === 0) lines.push('  no violations');
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]): FuzzOptions {
  const opts: FuzzOptions = { seed: 1, requests: 300 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => argv[++i] ?? '';
    if (a === '--seed') opts.seed = Number(next());
    else if (a === '--requests') opts.requests = Number(next());
    else if (a === '--concurrency') opts.concurrency = Number(next());
    else if (a === '--deadline') opts.deadlineMs = Number(next());
    else if (a === '--slow-ms') opts.slowMs = Number(next());
    else if (a === '--only') opts.only = next().split(',').map(Number);
    else if (a === '--no-slow') opts.slow = false;
    else if (a === '--no-corpus') opts.corpus = false;
    else throw new Error(`unknown argument ${a}\nusage: node dist/bench/fuzz.js --seed N --requests K [--concurrency C] [--only I,J] [--no-slow] [--no-corpus] [--deadline MS] [--slow-ms MS]`);
  }
  if (!Number.isInteger(opts.seed) || !Number.isInteger(opts.requests) || opts.requests < 1) throw new Error('--seed and --requests take integers');
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = (m: string): void => void process.stderr.write(`[fuzz ${((performance.now()) / 1000).toFixed(1)} s] ${m}\n`);
  const w = await World.create();
  let failed = false;
  const ac = new AbortController();
  const stop = (): void => {
    log('interrupted: no more requests; checking and cleaning up');
    ac.abort();
  };
  process.once('SIGINT', stop);
  try {
    log(`berthd in netns ${w.ns}, state in ${w.dir}`);
    const report = await runFuzz(w, { ...opts, log, signal: ac.signal });
    process.stdout.write(formatReport(report) + '\n');
    failed = report.violations.length > 0;
  } finally {
    await w.dispose().catch((e: unknown) => {
      failed = true;
      process.stdout.write(`dispose: ${e instanceof Error ? e.message : String(e)}\n`);
    });
    process.off('SIGINT', stop);
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
