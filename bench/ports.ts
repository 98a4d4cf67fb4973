/**
 * What publishing ports costs berth: figures (medians, min–max), not timed tests.
 * berthd runs in a throwaway network namespace; everything goes through the raw Engine
 * API on the unix socket (no CLI cost). Prints tables on stdout, progress on stderr,
 * and removes everything it made (also after a failure or Ctrl-C).
 *
 *   node dist/bench/ports.js [--quick] [--runs N] [--flat N]
 *
 * 1. The added time of publishing: create + start of busybox `sleep` with one published
 *    port, and with a 1000-port range (1000 `PortBindings` keys 20000/tcp…20999/tcp, each
 *    bound to the same host port, as the docker CLI sends `-p 20000-20999:20000-20999`),
 *    minus the same without ports; and the `DELETE ?force=1` of each.
 * 2. 100 containers × 10 published ports (10 distinct host ports each), one after the
 *    other: total time and per-container median.
 * 3. Flatness: N containers (500; 100 with --quick) with one published port each; the
 *    create + start of #1–10 against #N-9…N, and the publish cost (one port − none,
 *    created and removed at once) with 0 and with N running.
 * 4. berth's nftables tables (`nft -j list table inet|bridge berth` in the namespace):
 *    rules and set/map elements before, during and after the 1000-port publish and at
 *    scale; the processes in the daemon's namespace (no userland proxies) and berthd's
 *    open descriptors (it holds one socket per published host port).
 *
 * Needs root, iproute2, nftables, runc, conmon. Never touches the machine's root
 * network namespace.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { sh } from '../test/lib/world.js';
import { cell, num, Samples, table, timed, type Summary } from './lib/stats.js';
import { forEachLimit } from '../test/lib/async.js';
import { BenchWorld, messageOf } from './lib/world.js';
import { closingNote, disposeNotes, exitStatus, parseIntFlags, progress, runMain } from './lib/cli.js';

const USAGE = `usage: node dist/bench/ports.js [--quick] [--runs N] [--flat N]
  --quick    10 runs per variant and 100 containers for the flatness (about 2-4 min)
  --runs N   create+start/delete samples per variant (default 20; 10 with --quick)
  --flat N   containers started for the flatness figure (default 500; 100 with --quick)`;

interface Options {
  quick: boolean;
  runs: number;
  warmup: number;
  flat: number;
  /** Containers × ports of section 2. */
  many: number;
  manyPorts: number;
}

function parseArgs(argv: readonly string[]): Options {
  const { quick, values } = parseIntFlags(argv, USAGE, { '--runs': 'runs', '--flat': 'flat' });
  const opts: Options = { quick, runs: values.runs ?? (quick ? 10 : 20), warmup: 2, flat: values.flat ?? (quick ? 100 : 500), many: 100, manyPorts: 10 };
  if (opts.flat < 20) throw new Error('--flat must be at least 20');
  if (opts.flat > 1000) throw new Error('--flat must be at most 1000 (one bridge takes at most 1023 ports)');
  return opts;
}


let interrupted = 0;
let current: BenchWorld | undefined;
function onSignal(sig: NodeJS.Signals): void {
  interrupted += 1;
  if (interrupted === 1) progress(`${sig}: stopping; cleaning up (Ctrl-C twice more to give up)`);
  else if (interrupted >= 3) {
    if (current) process.stderr.write(`left behind: berthd pid ${current.pid}, netns ${current.ns}, state ${current.dir}\n`);
    process.exit(130);
  }
}

// ---------------------------------------------------------------------------------------
// Engine API bodies

const IMAGE = 'busybox';
const CMD = ['sleep', '100000'];

type Bindings = Record<string, { HostIp: string; HostPort: string }[]>;

/** `-p h1:c1 -p h2:c2 …` as the docker CLI sends it: one key per container port. */
function bindings(pairs: readonly (readonly [host: number, container: number])[]): Bindings {
  const out: Bindings = {};
  for (const [h, c] of pairs) out[`${c}/tcp`] = [{ HostIp: '', HostPort: String(h) }];
  return out;
}

function createBody(ports: Bindings): unknown {
  const exposed: Record<string, Record<string, never>> = {};
  for (const k of Object.keys(ports)) exposed[k] = {};
  return {
    Image: IMAGE,
    Cmd: CMD,
    ExposedPorts: exposed,
    HostConfig: { NetworkMode: 'bridge', PortBindings: ports },
    NetworkingConfig: { EndpointsConfig: { bridge: {} } },
  };
}

const NO_PORTS: Bindings = {};
const ONE_PORT = bindings([[8080, 80]]);
const RANGE = bindings(Array.from({ length: 1000 }, (_, k) => [20000 + k, 20000 + k] as const));

interface Started {
  id: string;
  create: number;
  start: number;
}

class Bench {
  constructor(readonly w: BenchWorld) {}

  check(): void {
    if (interrupted > 0) throw new Error('interrupted');
    if (!this.w.alive()) throw new Error(`berthd died:\n${this.w.logLines(20)}`);
  }

  /** POST /containers/create + /start; a failed start removes the container and throws. */
  async createStart(name: string, ports: Bindings): Promise<Started> {
    const c = await this.w.apiOk('POST', `/containers/create?name=${name}`, createBody(ports));
    const id = (c.body as { Id: string }).Id;
    const s = await this.w.api('POST', `/containers/${id}/start`);
    if (s.status >= 400) {
      await this.w.api('DELETE', `/containers/${id}?force=1`);
      throw new Error(`start ${name}: ${s.status} ${messageOf(s.body)}`);
    }
    return { id, create: c.ms, start: s.ms };
  }

  async remove(id: string): Promise<number> {
    return (await this.w.apiOk('DELETE', `/containers/${id}?force=1`)).ms;
  }

  /** Remove every container, `parallel` at a time; returns seconds. */
  async removeAll(parallel: number): Promise<{ count: number; seconds: number }> {
    const ids = await this.w.containerIds();
    const t = performance.now();
    await forEachLimit(ids, parallel, async (id) => {
      await this.w.apiOk('DELETE', `/containers/${id}?force=1`);
    });
    return { count: ids.length, seconds: (performance.now() - t) / 1000 };
  }
}

// ---------------------------------------------------------------------------------------
// Kernel views: nftables counts, processes in the namespace

interface NftObject {
  rule?: unknown;
  set?: { name: string; elem?: unknown[] };
  map?: { name: string; elem?: unknown[] };
}

interface NftCounts {
  rules: number;
  elements: number;
  /** Elements per non-empty set/map, "inet pub4_keep": n. */
  perSet: Map<string, number>;
}

async function nftCounts(w: BenchWorld): Promise<NftCounts> {
  const out: NftCounts = { rules: 0, elements: 0, perSet: new Map() };
  for (const family of ['inet', 'bridge']) {
    const r = await sh('nsenter', [`--net=${w.nsPath}`, '--', 'nft', '-j', 'list', 'table', family, 'berth']);
    if (r.code !== 0) continue;
    for (const o of (JSON.parse(r.stdout) as { nftables: NftObject[] }).nftables) {
      if (o.rule) out.rules += 1;
      const s = o.set ?? o.map;
      if (s) {
        const n = (s.elem ?? []).length;
        out.elements += n;
        if (n > 0) out.perSet.set(`${family} ${s.name}`, n);
      }
    }
  }
  return out;
}

/** Processes whose network namespace is the world's, by command name. */
function processesInNs(w: BenchWorld): Map<string, number> {
  const ino = fs.statSync(w.nsPath).ino;
  const want = `net:[${ino}]`;
  const out = new Map<string, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/net`) !== want) continue;
      const comm = fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      out.set(comm, (out.get(comm) ?? 0) + 1);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

function procText(m: Map<string, number>): string {
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  const names = [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}×${v}`);
  return `${total} (${names.join(', ')})`;
}

function proxies(m: Map<string, number>): number {
  let n = 0;
  for (const [k, v] of m) if (/proxy/i.test(k)) n += v;
  return n;
}

interface KernelView {
  label: string;
  nft: NftCounts;
  procs: Map<string, number>;
  fds: number;
  rssKiB: number;
}

async function kernelView(w: BenchWorld, label: string): Promise<KernelView> {
  return { label, nft: await nftCounts(w), procs: processesInNs(w), fds: w.fdCount(), rssKiB: w.rssKiB() };
}

// ---------------------------------------------------------------------------------------
// Measurements

type Variant = 'none' | 'one' | 'range';
const VARIANTS: Record<Variant, { label: string; ports: Bindings }> = {
  none: { label: 'no ports', ports: NO_PORTS },
  one: { label: 'one port (-p 8080:80)', ports: ONE_PORT },
  range: { label: '1000-port range (-p 20000-20999:20000-20999)', ports: RANGE },
};

interface VariantSamples {
  createStart: Samples;
  start: Samples;
  remove: Samples;
}

interface Results {
  header: string[];
  variants: Record<Variant, VariantSamples>;
  kernel: KernelView[];
  many?: { containers: number; ports: number; perContainer: Samples; totalS: number; removeS: number; removeCount: number };
  flat?: {
    n: number;
    all: number[];
    first: Samples;
    last: Samples;
    /** Publish cost probes (one port, none) created and removed with 0 / n running. */
    atZero: { one: Samples; none: Samples };
    atTop: { one: Samples; none: Samples };
    fillS: number;
    removeS: number;
  };
  notes: string[];
}

function newVariantSamples(): VariantSamples {
  return { createStart: new Samples(), start: new Samples(), remove: new Samples() };
}

/** Section 1: the three variants, rotated so they see the same noise; each removed at once. */
async function publishCost(b: Bench, opts: Options, res: Results): Promise<void> {
  const order: Variant[] = ['none', 'one', 'range'];
  const total = opts.warmup + opts.runs;
  for (let i = 0; i < total; i++) {
    const rec = i >= opts.warmup;
    progress(`publish cost: round ${i + 1}/${total}${rec ? '' : ' (warm-up)'}`);
    for (let k = 0; k < order.length; k++) {
      b.check();
      const v = order[(i + k) % order.length]!;
      const s = res.variants[v];
      let id = '';
      await timed(s.createStart, rec, async () => {
        const r = await b.createStart(`pc-${v}-${i}`, VARIANTS[v].ports);
        id = r.id;
        if (rec) s.start.add(r.start);
        return r.create + r.start;
      });
      if (id) await timed(s.remove, rec, () => b.remove(id));
    }
  }
}

/** Section 4: berth's tables and the namespace's processes around the 1000-port publish. */
async function rangeKernel(b: Bench, res: Results): Promise<void> {
  progress('nftables and processes before / during / after the 1000-port publish');
  res.kernel.push(await kernelView(b.w, 'idle (no container)'));
  const one = await b.createStart('k-one', ONE_PORT);
  res.kernel.push(await kernelView(b.w, 'one container, -p 8080:80'));
  const range = await b.createStart('k-range', RANGE);
  res.kernel.push(await kernelView(b.w, '+ one container, 1000-port range'));
  const inspect = (await b.w.apiOk('GET', `/containers/${range.id}/json`)).body as { NetworkSettings?: { Ports?: Record<string, unknown[] | null> } };
  const shown = Object.values(inspect.NetworkSettings?.Ports ?? {}).filter((x) => Array.isArray(x) && x.length > 0).length;
  if (shown !== 1000) res.notes.push(`   NOTE: inspect of the 1000-port container shows ${shown} published ports, not 1000`);
  await b.remove(range.id);
  res.kernel.push(await kernelView(b.w, 'range container removed'));
  await b.remove(one.id);
  res.kernel.push(await kernelView(b.w, 'all removed'));
}

/** Section 2: 100 containers × 10 published ports, one after the other. */
async function manyPorts(b: Bench, opts: Options, res: Results): Promise<void> {
  const per = new Samples();
  progress(`${opts.many} containers × ${opts.manyPorts} published ports`);
  const t = performance.now();
  for (let i = 0; i < opts.many; i++) {
    b.check();
    const pairs = Array.from({ length: opts.manyPorts }, (_, k) => [30000 + opts.manyPorts * i + k, 8000 + k] as const);
    await timed(per, true, async () => {
      const r = await b.createStart(`many-${i}`, bindings(pairs));
      return r.create + r.start;
    });
    if ((i + 1) % 20 === 0) progress(`  ${i + 1}/${opts.many} started`);
  }
  const totalS = (performance.now() - t) / 1000;
  res.kernel.push(await kernelView(b.w, `${opts.many} × ${opts.manyPorts} ports running`));
  progress(`removing the ${opts.many} containers (4 at a time)`);
  const rm = await b.removeAll(4);
  res.many = { containers: opts.many, ports: opts.manyPorts, perContainer: per, totalS, removeS: rm.seconds, removeCount: rm.count };
}

/** One port − none, created and removed at once, alternating: the publish cost at this level. */
async function probe(b: Bench, tag: string, n: number, into: { one: Samples; none: Samples }): Promise<void> {
  for (let i = 0; i < n + 2; i++) {
    b.check();
    const rec = i >= 2;
    for (const v of (i % 2 === 0 ? ['one', 'none'] : ['none', 'one']) as ('one' | 'none')[]) {
      let id = '';
      await timed(into[v], rec, async () => {
        const r = await b.createStart(`probe-${tag}-${v}-${i}`, VARIANTS[v].ports);
        id = r.id;
        return r.create + r.start;
      });
      if (id) await b.remove(id);
    }
  }
}

/** Section 3: N containers with one published port each; #1–10 against the last 10. */
async function flatness(b: Bench, opts: Options, res: Results): Promise<void> {
  const n = opts.flat;
  const flat = {
    n,
    all: [] as number[],
    first: new Samples(),
    last: new Samples(),
    atZero: { one: new Samples(), none: new Samples() },
    atTop: { one: new Samples(), none: new Samples() },
    fillS: 0,
    removeS: 0,
  };
  res.flat = flat;
  progress('flatness: publish-cost probe with 0 running (10 × one port / none)');
  await probe(b, 'zero', 10, flat.atZero);
  progress(`flatness: starting ${n} containers with one published port each`);
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    b.check();
    const r = await b.createStart(`flat-${i}`, bindings([[40000 + i, 80]]));
    const ms = r.create + r.start;
    flat.all.push(ms);
    if (i < 10) flat.first.add(ms);
    if (i >= n - 10) flat.last.add(ms);
    if ((i + 1) % 50 === 0) progress(`  ${i + 1}/${n} started (last: ${ms.toFixed(0)} ms)`);
  }
  flat.fillS = (performance.now() - t) / 1000;
  res.kernel.push(await kernelView(b.w, `${n} × 1 port running`));
  progress(`flatness: publish-cost probe with ${n} running (10 × one port / none)`);
  await probe(b, 'top', 10, flat.atTop);
  progress(`removing the ${n} containers (4 at a time)`);
  flat.removeS = (await b.removeAll(4)).seconds;
}

// ---------------------------------------------------------------------------------------
// Report

const med = (s: Samples): number => s.summary()?.median ?? NaN;

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${(b / a).toFixed(2)}×` : '–';
}

function render(res: Results): string {
  const out: string[] = [...res.header, ''];
  const v = res.variants;
  out.push('1. Publishing cost, Engine API on the unix socket, default bridge (ms: median (min–max, n))');
  out.push(
    table(
      ['request', 'ms'],
      [
        ['create + start, no ports', cell(v.none.createStart.summary())],
        ['create + start, one port (-p 8080:80)', cell(v.one.createStart.summary())],
        ['create + start, 1000-port range (1000 PortBindings keys)', cell(v.range.createStart.summary())],
        ['  added by one published port (medians)', num(med(v.one.createStart) - med(v.none.createStart))],
        ['  added by the 1000-port range (medians)', num(med(v.range.createStart) - med(v.none.createStart))],
        ['  start alone, no ports', cell(v.none.start.summary())],
        ['  start alone, one port', cell(v.one.start.summary())],
        ['  start alone, 1000-port range', cell(v.range.start.summary())],
        ['DELETE ?force=1, no ports', cell(v.none.remove.summary())],
        ['DELETE ?force=1, one port', cell(v.one.remove.summary())],
        ['DELETE ?force=1, 1000-port range', cell(v.range.remove.summary())],
        ['  added by one published port (medians)', num(med(v.one.remove) - med(v.none.remove))],
        ['  added by the 1000-port range (medians)', num(med(v.range.remove) - med(v.none.remove))],
      ],
    ),
  );
  out.push('');
  if (res.many) {
    const m = res.many;
    const s: Summary | undefined = m.perContainer.summary();
    out.push(`2. ${m.containers} containers × ${m.ports} published ports (10 distinct host ports each, one container after the other)`);
    out.push(
      table(
        ['', 'value'],
        [
          [`total create + start of ${m.containers} containers`, `${m.totalS.toFixed(1)} s (${(m.containers / m.totalS).toFixed(1)}/s)`],
          ['per container create + start, ms', cell(s)],
          ['  minus no ports with 0 running (section 1), medians, ms', num(med(m.perContainer) - med(v.none.createStart))],
          ['    (containers accumulate here: this includes the cost of more running ones; see the probes of 3.)', ''],
          [`removal of ${m.removeCount} (DELETE ?force=1, 4 in parallel)`, `${m.removeS.toFixed(1)} s (${(m.removeCount / m.removeS).toFixed(1)}/s)`],
        ],
      ),
    );
    out.push('');
  }
  if (res.flat) {
    const f = res.flat;
    const costZero = med(f.atZero.one) - med(f.atZero.none);
    const costTop = med(f.atTop.one) - med(f.atTop.none);
    out.push(`3. Flatness: ${f.n} containers with one published port each (create + start, ms: median (min–max, n)); 1.00× = flat`);
    out.push(
      table(
        ['', 'ms', 'ratio'],
        [
          [`containers #1–10`, cell(f.first.summary()), ''],
          [`containers #${f.n - 9}–${f.n}`, cell(f.last.summary()), ratio(med(f.first), med(f.last))],
          ['probe with 0 running: one port', cell(f.atZero.one.summary()), ''],
          ['probe with 0 running: no ports', cell(f.atZero.none.summary()), ''],
          [`probe with ${f.n} running: one port`, cell(f.atTop.one.summary()), ratio(med(f.atZero.one), med(f.atTop.one))],
          [`probe with ${f.n} running: no ports`, cell(f.atTop.none.summary()), ratio(med(f.atZero.none), med(f.atTop.none))],
          ['publish cost (one port − none, medians) at 0 running', num(costZero), ''],
          [`publish cost (one port − none, medians) at ${f.n} running`, num(costTop), Number.isFinite(costZero) && costZero > 0.5 ? ratio(costZero, costTop) : '–'],
        ],
      ),
    );
    const blocks: string[] = [];
    const size = Math.max(1, Math.floor(f.n / 10));
    for (let i = 0; i < f.all.length; i += size) {
      const s = new Samples();
      for (const x of f.all.slice(i, i + size)) s.add(x);
      blocks.push(num(med(s)));
    }
    out.push(`   median per block of ${size} containers, in start order: ${blocks.join(' ')}`);
    out.push(`   filling: ${f.fillS.toFixed(1)} s (${(f.n / f.fillS).toFixed(1)}/s, one at a time); removal: ${f.removeS.toFixed(1)} s (4 in parallel)`);
    out.push('');
  }
  out.push('4. berth\'s nftables tables (inet + bridge "berth"), processes in the daemon\'s namespace, berthd');
  out.push(
    table(
      ['state', 'rules', 'elements', 'processes in netns', 'proxies', 'berthd fds', 'berthd RSS'],
      res.kernel.map((k) => [
        k.label,
        String(k.nft.rules),
        String(k.nft.elements),
        procText(k.procs),
        String(proxies(k.procs)),
        Number.isFinite(k.fds) ? String(k.fds) : '–',
        Number.isFinite(k.rssKiB) ? `${(k.rssKiB / 1024).toFixed(0)} MiB` : '–',
      ]),
    ),
  );
  for (const k of res.kernel) {
    const sets = [...k.nft.perSet.entries()].map(([name, n]) => `${name}=${n}`).join(' ');
    out.push(`   ${k.label}: ${sets || 'no elements'}`);
  }
  const idle = res.kernel.find((k) => k.label.startsWith('one container'));
  const range = res.kernel.find((k) => k.label.includes('1000-port'));
  if (idle && range) {
    out.push(
      `   the 1000-port publish added ${range.nft.rules - idle.nft.rules} rules, ${range.nft.elements - idle.nft.elements} elements, ` +
        `${range.fds - idle.fds} berthd descriptors (one held socket per host port), ${range.rssKiB - idle.rssKiB} KiB of berthd RSS`,
    );
  }
  const failures: string[] = [];
  for (const [name, s] of Object.entries(res.variants)) {
    for (const [what, x] of Object.entries(s) as [string, Samples][]) if (x.failed > 0) failures.push(`${name} ${what}: ${x.failed} failed: ${x.errors.join(' | ')}`);
  }
  if (res.many && res.many.perContainer.failed > 0) failures.push(`section 2: ${res.many.perContainer.failed} failed: ${res.many.perContainer.errors.join(' | ')}`);
  for (const p of [res.flat?.atZero.one, res.flat?.atZero.none, res.flat?.atTop.one, res.flat?.atTop.none]) {
    if (p && p.failed > 0) failures.push(`flatness probe: ${p.failed} failed: ${p.errors.join(' | ')}`);
  }
  if (failures.length > 0) out.push('', 'FAILURES', ...failures.map((f) => `   ${f}`));
  out.push('', ...res.notes);
  return out.join('\n');
}

async function header(opts: Options): Promise<string[]> {
  const cpus = os.cpus();
  return [
    `berth ports bench — ${new Date().toISOString()} ${opts.quick ? '(--quick)' : '(full)'}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `settings: ${opts.runs} runs per variant (+${opts.warmup} warm-ups), ${opts.many} × ${opts.manyPorts} ports, flatness over ${opts.flat} containers`,
  ];
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  const res: Results = {
    header: await header(opts),
    variants: { none: newVariantSamples(), one: newVariantSamples(), range: newVariantSamples() },
    kernel: [],
    notes: [],
  };
  let failure: unknown;
  let w: BenchWorld | undefined;
  try {
    progress('starting berthd in a new network namespace');
    w = current = await BenchWorld.create();
    progress(`berthd pid ${w.pid}, netns ${w.ns}, state ${w.dir}`);
    res.header.push(`berthd: soft RLIMIT_NOFILE ${w.fdLimit()} (each published host port holds one socket)`);
    const b = new Bench(w);
    await w.apiOk('POST', `/images/create?fromImage=${IMAGE}&tag=latest`);
    await rangeKernel(b, res);
    await publishCost(b, opts, res);
    await manyPorts(b, opts, res);
    await flatness(b, opts, res);
  } catch (e: unknown) {
    failure = e;
  }
  if (w) res.notes.push(...(await disposeNotes(w)));
  res.notes.push(closingNote());
  process.stdout.write(render(res) + '\n');
  return exitStatus(failure, interrupted);
}

runMain(main);
