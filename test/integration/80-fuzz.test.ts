/**
 * Bad input and concurrency: a seeded fuzz of every API route (bench/fuzz.ts), and 50
 * clients at once creating, starting, connecting, publishing and removing on the same
 * networks. The daemon must answer everything (4xx with a JSON message, never 5xx, never
 * a hang), survive, keep its store consistent, give no address or host port twice, and
 * end with nothing left behind and its memory back near where it started.
 *
 * BERTH_FUZZ_SEED and BERTH_FUZZ_REQUESTS change the fuzz run (defaults: 80, 200).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../lib/world.js';
import { formatReport, runFuzz, type FuzzReport } from '../../bench/fuzz.js';
import { apiCall, type JsonAnswer } from '../../bench/fuzz/client.js';
import { daemonPid, duplicatePorts, invariants, listContainers, rssKb, settledDiff, snapshot, type Snapshot } from '../../bench/fuzz/state.js';

const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 80);
const REQUESTS = Number(process.env.BERTH_FUZZ_REQUESTS ?? 200);

describe('fuzzing the Engine API', () => {
  let w: World;
  let report: FuzzReport;
  before(async () => {
    w = await World.create();
    report = await runFuzz(w, { seed: SEED, requests: REQUESTS, concurrency: 8 });
    console.log(formatReport(report));
  });
  after(async () => {
    await w.dispose();
  });

  const found = (...kinds: string[]): string[] =>
    report.violations.filter((v) => kinds.includes(v.kind)).map((v) => `${v.kind} ${v.status} ${v.detail.slice(0, 200)}${v.index >= 0 ? ` <- case ${v.index}: ${v.request.slice(0, 300)}` : ''}`);

  it('sent the requests and got answers of every class', () => {
    assert.ok(report.sent >= REQUESTS, `sent ${report.sent}`);
    assert.ok((report.byStatus['400'] ?? 0) > REQUESTS / 10, JSON.stringify(report.byStatus));
    assert.ok((report.byStatus['201'] ?? 0) > 0, JSON.stringify(report.byStatus));
  });

  it('answers every request before the deadline, on the same connection', () => {
    assert.deepEqual(found('hang', 'no answer', 'malformed answer', 'error body cut short'), []);
  });

  it('never answers bad input with a 5xx', () => {
    assert.deepEqual(found('5xx'), []);
  });

  it('gives every 4xx a JSON body with a message', () => {
    assert.deepEqual(found('4xx without a JSON message', 'success with bad JSON'), []);
  });

  it('never crashes', () => {
    assert.deepEqual(found('crash'), []);
  });

  it('keeps a consistent store that lists, restarts and still runs containers', () => {
    assert.deepEqual(found('inconsistent store', 'inconsistent store after restart', 'CLI listing failed', 'restart failed', 'state changed across a restart', 'daemon not usable', 'run-level check failed'), []);
  });

  it('leaves nothing behind and lets no path escape', () => {
    assert.deepEqual(found('leak', 'removal failed', 'escape'), []);
  });

  it('keeps serving while slow and silent clients hold connections', () => {
    assert.deepEqual(found('slow client'), []);
  });
});

// ---- 50 clients at once ----

const CLIENTS = 50;
const DEADLINE = 120_000;
/** Slower than this, a request waited for a timeout rather than for its turn. */
const STALL_MS = 45_000;
const NETS = ['cc-a', 'cc-b', 'cc-c'];
/** Fixed host ports asked for by 10 clients each: exactly one of them may win each. */
const FIXED = [18500, 18501];

interface Outcome {
  what: string;
  answer: JsonAnswer;
}

/** How long the daemon is left idle before its memory is read. */
const SETTLE_MS = 16_000;

describe('50 clients at once', () => {
  let w: World;
  const outcomes: Outcome[] = [];
  const rss = { baseline: 0, peak: 0, after: 0, again: 0 };
  let base: Snapshot;
  const call = async (what: string, method: string, path: string, body?: unknown): Promise<JsonAnswer> => {
    const answer = await apiCall(w.sock, method, path, body, DEADLINE);
    outcomes.push({ what, answer });
    return answer;
  };
  const createBody = (i: number, net: string): unknown => {
    const kind = i % 5;
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    if (kind === 0 || kind === 1) bindings['80/tcp'] = [{ HostIp: '', HostPort: String(FIXED[kind]) }];
    if (kind === 2) bindings['80/tcp'] = [{ HostIp: '', HostPort: '' }];
    if (kind === 3) bindings['80/tcp'] = [{ HostIp: '', HostPort: '' }, { HostIp: '127.0.0.1', HostPort: '' }];
    return { Image: 'busybox', Cmd: ['sleep', '100000'], ExposedPorts: { '80/tcp': {} }, HostConfig: { NetworkMode: net, PortBindings: bindings } };
  };
  const sampleRss = (): void => {
    rss.peak = Math.max(rss.peak, rssKb(daemonPid(w)));
  };

  before(async () => {
    w = await World.create();
    await w.dockerOk('pull', 'busybox');
    base = await snapshot(w);
    for (const [i, n] of NETS.entries()) await w.dockerOk('network', 'create', '--subnet', `10.${120 + i}.0.0/24`, n);
    // Warm up (lazy initialisation is not a leak), then take the baseline.
    for (let i = 0; i < 3; i++) await w.dockerOk('run', '--rm', '--network', NETS[i]!, '-p', '80', 'busybox', 'true');
    rss.baseline = rssKb(daemonPid(w));
    rss.peak = rss.baseline;
  });
  after(async () => {
    await w.dispose();
  });

  it('creates and starts 50 containers at once: one winner per fixed port, no address or port given twice', async () => {
    const started = await Promise.all(
      Array.from({ length: CLIENTS }, async (_, i) => {
        const c = await call('create', 'POST', `/containers/create?name=cc-${i}`, createBody(i, NETS[i % 3]!));
        if (c.status !== 201) return { i, status: c.status, text: c.text };
        const s = await call('start', 'POST', `/containers/cc-${i}/start`);
        return { i, status: s.status, text: s.text };
      }),
    );
    sampleRss();
    for (const [k, port] of FIXED.entries()) {
      const wanting = started.filter((s) => s.i % 5 === k);
      const winners = wanting.filter((s) => s.status === 204);
      assert.equal(winners.length, 1, `port ${port}: ${winners.length} winners of ${wanting.length}`);
      for (const l of wanting.filter((s) => s.status !== 204)) assert.match(l.text, new RegExp(`${port}.*(already allocated|in use)`));
    }
    const others = started.filter((s) => s.i % 5 > 1 && s.status !== 204);
    assert.deepEqual(others, [], 'every container without a fixed port starts');
    assert.deepEqual(await invariants(w), []);
    const running = (await listContainers(w)).filter((c) => c.State === 'running');
    assert.equal(running.length, CLIENTS - 2 * (CLIENTS / 5) + 2);
    assert.deepEqual(duplicatePorts(running), []);
    console.log(`# start: ${running.length} running; statuses ${JSON.stringify(countStatuses(outcomes))}`);
  });

  it('connects and disconnects 50 containers at once across the same networks', async () => {
    const ids = (await listContainers(w)).filter((c) => c.State === 'running').map((c) => c.Names?.[0]?.slice(1) ?? c.Id);
    await Promise.all(ids.map(async (name) => {
      const i = Number(name.split('-')[1]);
      const other = NETS[(i + 1) % 3]!;
      const r = await call('connect', 'POST', `/networks/${other}/connect`, { Container: name });
      assert.equal(r.status, 200, `${name} connect ${other}: ${r.text}`);
    }));
    sampleRss();
    assert.deepEqual(await invariants(w), []);
    await Promise.all(ids.map(async (name) => {
      const i = Number(name.split('-')[1]);
      const r = await call('disconnect', 'POST', `/networks/${NETS[(i + 1) % 3]}/disconnect`, { Container: name });
      assert.equal(r.status, 200, `${name} disconnect: ${r.text}`);
    }));
    assert.deepEqual(await invariants(w), []);
  });

  it('removes and recreates under load, then removes everything', async () => {
    await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      await call('rm', 'DELETE', `/containers/cc-${i}?force=1`);
      const c = await call('recreate', 'POST', `/containers/create?name=cc-${i}`, createBody(2, NETS[(i + 2) % 3]!));
      assert.equal(c.status, 201, c.text);
      const s = await call('restart', 'POST', `/containers/cc-${i}/start`);
      assert.equal(s.status, 204, `cc-${i}: ${s.text}`);
    }));
    sampleRss();
    assert.deepEqual(await invariants(w), []);
    assert.deepEqual(duplicatePorts(await listContainers(w)), []);
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => call('rm', 'DELETE', `/containers/cc-${i}?force=1`)));
    assert.deepEqual(await listContainers(w), []);
  });

  /**
   * The lowest RSS seen over `ms`: what the daemon settles to once V8 has shrunk its heap
   * (its memory reducer acts a few seconds into idleness: read after 3 s, RSS was still
   * up to +29%; after 16 s, back to the baseline).
   */
  const settledRss = async (ms: number): Promise<number> => {
    let low = rssKb(daemonPid(w));
    for (let t = 0; t < ms; t += 500) {
      await new Promise((r) => setTimeout(r, 500));
      low = Math.min(low, rssKb(daemonPid(w)));
    }
    return low;
  };

  it('memory: back near the baseline, and a second round of 50 does not raise it again', async () => {
    rss.after = await settledRss(SETTLE_MS);
    await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      const c = await call('round2', 'POST', `/containers/create?name=cc2-${i}`, createBody(2, NETS[i % 3]!));
      if (c.status === 201) await call('round2', 'POST', `/containers/cc2-${i}/start`);
    }));
    sampleRss();
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => call('round2', 'DELETE', `/containers/cc2-${i}?force=1`)));
    rss.again = await settledRss(SETTLE_MS);
    const pct = (x: number): string => `${x >= rss.baseline ? '+' : ''}${(((x - rss.baseline) / rss.baseline) * 100).toFixed(0)}%`;
    console.log(`# berthd VmRSS: baseline ${rss.baseline} kB, peak ${rss.peak} kB, after round 1 ${rss.after} kB (${pct(rss.after)}), after round 2 ${rss.again} kB (${pct(rss.again)})`);
    // Measured here, settled: -3% to +9% after a round (without bin/berthd's memory settings, +47%).
    assert.ok(rss.after < rss.baseline * 1.3, `RSS ${rss.baseline} -> ${rss.after} kB`);
    assert.ok(rss.again < rss.baseline * 1.3 && rss.again < rss.after + 12 * 1024, `a second round grew RSS ${rss.after} -> ${rss.again} kB`);
  });

  it('answered every request, none stalled, none with a 5xx', () => {
    const unanswered = outcomes.filter((o) => o.answer.outcome !== 'answered').map((o) => `${o.what}: ${o.answer.outcome}`);
    console.log(`# ${outcomes.length} requests; statuses ${JSON.stringify(countStatuses(outcomes))}`);
    for (const [what, ms] of latencies(outcomes)) console.log(`#   ${what.padEnd(10)} ms p50 ${ms.p50} p90 ${ms.p90} max ${ms.max} (n ${ms.n})`);
    assert.deepEqual(unanswered, []);
    // One 500 is dockerd's own: libnetwork answers a host port another container holds with an internal error.
    const portTaken = (o: (typeof outcomes)[number]): boolean => o.answer.status === 500 && /driver failed programming external connectivity on endpoint .*: Bind for .* failed: port is already allocated/.test(o.answer.text);
    const fivexx = outcomes.filter((o) => o.answer.status >= 500 && !portTaken(o)).map((o) => `${o.what} ${o.answer.status} ${o.answer.text}`);
    assert.deepEqual(fivexx, []);
    // Queueing behind 49 others is fine; a request left waiting for a timeout is not.
    const stalled = outcomes.filter((o) => o.answer.ms > STALL_MS).map((o) => `${o.what} ${Math.round(o.answer.ms)} ms`);
    assert.deepEqual(stalled, []);
  });

  it('returns the kernel and the store to their baseline', async () => {
    for (const n of NETS) await w.dockerOk('network', 'rm', n);
    assert.deepEqual(await settledDiff(w, base), []);
  });
});

function latencies(outcomes: readonly Outcome[]): Map<string, { p50: number; p90: number; max: number; n: number }> {
  const by = new Map<string, number[]>();
  for (const o of outcomes) by.set(o.what, [...(by.get(o.what) ?? []), o.answer.ms]);
  const out = new Map<string, { p50: number; p90: number; max: number; n: number }>();
  for (const [what, list] of by) {
    const s = [...list].sort((a, b) => a - b);
    const at = (q: number): number => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
    out.set(what, { p50: at(0.5), p90: at(0.9), max: Math.round(s[s.length - 1]!), n: s.length });
  }
  return out;
}

function countStatuses(outcomes: readonly Outcome[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.answer.outcome === 'answered' ? `${o.what} ${o.answer.status}` : `${o.what} ${o.answer.outcome}`;
    m[k] = (m[k] ?? 0) + 1;
  }
  return m;
}
