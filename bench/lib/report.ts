/** What a run measured (filled in as it goes), and its rendering as text tables. */
/** Containers started at once in the parallel-start rows. */
export const PARALLEL = 4;
import { cell, num, Samples, table, type Summary } from './stats.js';

/** Figures taken at one number of running containers. */
export interface Level {
  /** Running containers when the level's figures were taken. */
  running: number;
  rssKiB: number;
  fds: number;
  cliFloor: Samples;
  connect: Samples;
  disconnect: Samples;
  /** GET /_ping: the daemon's own floor (event loop latency plus HTTP). */
  ping: Samples;
  /** berthd CPU per connect+disconnect pair, ms (own, children). */
  cpuConnect?: Cpu;
  /** berthd CPU per docker run -d + rm -f pair, ms. */
  cpuRun?: Cpu;
  /** berthd's CPU use while idle for a few seconds, % of one core. */
  idleCpuPct: number;
  /** 1-minute load average when the level was measured (machine noise). */
  load1: number;
  /** `docker run -d`, absent at the idle level. */
  run?: Samples;
  rm?: Samples;
  /** Containers per second while filling up to this level (API, several in parallel). */
  fillRate?: number;
  /** create+start of each filler on the way to this level (4 in parallel). */
  fill: Samples;
}

export interface Cpu {
  own: number;
  children: number;
}

export function newLevel(running: number): Level {
  return { running, rssKiB: NaN, fds: NaN, load1: NaN, idleCpuPct: NaN, ping: new Samples(), fill: new Samples(), cliFloor: new Samples(), connect: new Samples(), disconnect: new Samples() };
}

/** How the section-1 containers are attached: --network none, the default bridge, a user network. */
export type Mode = 'none' | 'bridge' | 'user';

export interface Report {
  header: string[];
  /** Section 1: one API round trip each. */
  api: {
    connect: Samples;
    disconnect: Samples;
    /** create+start, start alone, and DELETE ?force=1, per network mode. */
    containers: Record<Mode, { createStart: Samples; start: Samples; remove: Samples; attachInside: Samples }>;
    /** The connect's attach as berthd measured it (GET /berth/timings, "connect"). */
    connectInside: Samples;
    networkCreate: Samples;
    networkRm: Samples;
    /** Wall time of PARALLEL starts sent at once: each on a network of its own, or all on one. */
    parallel: { separate: Samples; shared: Samples };
  };
  levels: Level[];
  removeAll?: { count: number; seconds: number; failed: number };
  rssAfterKiB?: number;
  /** berthd's soft RLIMIT_NOFILE. */
  fdLimit?: number;
  fdsAfter?: number;
  notes: string[];
}

export function newReport(): Report {
  const s = (): Samples => new Samples();
  return {
    header: [],
    api: {
      connect: s(),
      disconnect: s(),
      containers: {
        none: { createStart: s(), start: s(), remove: s(), attachInside: s() },
        bridge: { createStart: s(), start: s(), remove: s(), attachInside: s() },
        user: { createStart: s(), start: s(), remove: s(), attachInside: s() },
      },
      connectInside: s(),
      networkCreate: s(),
      networkRm: s(),
      parallel: { separate: s(), shared: s() },
    },
    levels: [],
    notes: [],
  };
}

export function render(r: Report): string {
  return [...r.header, '', apiTable(r), '', scaleTable(r), '', ...afterLines(r), ...problemLines(r), ...r.notes].join('\n');
}

function apiTable(r: Report): string {
  const a = r.api;
  const c = a.containers;
  const med = (x: Samples): number => x.summary()?.median ?? NaN;
  const diff = (x: Samples, y: Samples): string => num(med(x) - med(y));
  const rows: [string, string][] = [
    ['POST /networks/{id}/connect, running container', cell(a.connect.summary())],
    ['POST /networks/{id}/disconnect', cell(a.disconnect.summary())],
    ['  the attach of that connect, measured inside berthd', cell(a.connectInside.summary())],
    ['create + start, --network none', cell(c.none.createStart.summary())],
    ['create + start, default bridge (no embedded DNS)', cell(c.bridge.createStart.summary())],
    ['create + start, user network', cell(c.user.createStart.summary())],
    ['  network cost per container: user − none (medians)', diff(c.user.createStart, c.none.createStart)],
    ['    of which bridge − none (veth, addresses, firewall)', diff(c.bridge.createStart, c.none.createStart)],
    ['    of which user − bridge (embedded DNS, user bridge)', diff(c.user.createStart, c.bridge.createStart)],
    ['  start alone, --network none', cell(c.none.start.summary())],
    ['  start alone, default bridge', cell(c.bridge.start.summary())],
    ['  start alone, user network', cell(c.user.start.summary())],
    ['  network attach inside berthd, --network none', cell(c.none.attachInside.summary())],
    ['  network attach inside berthd, default bridge', cell(c.bridge.attachInside.summary())],
    ['  network attach inside berthd, user network', cell(c.user.attachInside.summary())],
    ['DELETE ?force=1 of a running container, --network none', cell(c.none.remove.summary())],
    ['DELETE ?force=1 of a running container, default bridge', cell(c.bridge.remove.summary())],
    ['DELETE ?force=1 of a running container, user network', cell(c.user.remove.summary())],
    [`${PARALLEL} starts at once, each on a network of its own (wall time)`, cell(a.parallel.separate.summary())],
    [`${PARALLEL} starts at once, all on one network (wall time)`, cell(a.parallel.shared.summary())],
    ['POST /networks/create (bridge, default pool)', cell(a.networkCreate.summary())],
    ['DELETE /networks/{id}', cell(a.networkRm.summary())],
  ];
  return ['1. Engine API on the unix socket, one request each (ms: median (min–max, n))', table(['request', 'ms'], rows)].join('\n');
}

function scaleTable(r: Report): string {
  const levels = r.levels;
  if (levels.length === 0) return '2. Scale: not reached';
  const first = levels.find((l) => l.run !== undefined);
  const last = levels[levels.length - 1]!;
  const heads = levels.map((l) => (l.run === undefined ? `idle (${l.running} running)` : `${l.running} running`));
  const ratioHead = first && last !== first ? `ratio ${last.running}/${first.running}` : 'ratio';
  const ratio = (pick: (l: Level) => Summary | undefined): string => {
    if (!first || last === first) return '–';
    const a = pick(first)?.median;
    const b = pick(last)?.median;
    return a && b ? `${(b / a).toFixed(2)}×` : '–';
  };
  const row = (label: string, pick: (l: Level) => Samples | undefined): string[] => [
    label,
    ...levels.map((l) => cell(pick(l)?.summary())),
    ratio((l) => pick(l)?.summary()),
  ];
  const scalar = (label: string, pick: (l: Level) => number, fmt: (x: number) => string): string[] => {
    const a = first ? pick(first) : NaN;
    const b = pick(last);
    const rt = first && last !== first && Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${(b / a).toFixed(2)}×` : '–';
    return [label, ...levels.map((l) => fmt(pick(l))), rt];
  };
  const ms = (x: number): string => (Number.isFinite(x) ? `${num(x)} ms` : '–');
  const mib = (k: number): string => (Number.isFinite(k) ? `${(k / 1024).toFixed(1)} MiB` : '–');
  const rows = [
    row('docker run -d busybox sleep (user network)', (l) => l.run),
    row('docker rm -f (that container)', (l) => l.rm),
    row('API network connect (running container)', (l) => l.connect),
    row('API network disconnect', (l) => l.disconnect),
    row('docker ps -q (CLI floor)', (l) => l.cliFloor),
    row('API GET /_ping (daemon floor)', (l) => l.ping),
    scalar('berthd CPU per run+rm, own (less idle CPU)', (l) => l.cpuRun?.own ?? NaN, ms),
    scalar('berthd CPU per run+rm, tools and helpers', (l) => l.cpuRun?.children ?? NaN, ms),
    scalar('berthd CPU per connect+disconnect, own (less idle)', (l) => l.cpuConnect?.own ?? NaN, ms),
    scalar('berthd CPU per connect+disconnect, tools and helpers', (l) => l.cpuConnect?.children ?? NaN, ms),
    scalar('berthd VmRSS', (l) => l.rssKiB, mib),
    scalar(`berthd open fds (soft limit ${r.fdLimit ?? '?'})`, (l) => l.fds, (x) => (Number.isFinite(x) ? String(x) : '–')),
    row('API create+start while filling up (4 in parallel)', (l) => (l.fill.values.length > 0 ? l.fill : undefined)),
    scalar('fill rate (API create+start, 4 in parallel)', (l) => l.fillRate ?? NaN, (x) => (Number.isFinite(x) ? `${x.toFixed(1)}/s` : '–')),
    scalar('berthd CPU while idle (3 s)', (l) => l.idleCpuPct, (x) => (Number.isFinite(x) ? `${x.toFixed(1)}%` : '–')),
    scalar('load average, 1 min (machine noise)', (l) => l.load1, (x) => x.toFixed(2)),
  ];
  const out = ['2. At scale (ms: median (min–max, n)); the ratio is the flatness: 1.00× = no slower with more containers', table(['', ...heads, ratioHead], rows)];
  if (first && last !== first && Number.isFinite(first.rssKiB) && Number.isFinite(last.rssKiB)) {
    const per = (last.rssKiB - first.rssKiB) / (last.running - first.running);
    out.push(`   daemon memory per extra running container: ${per.toFixed(0)} KiB (VmRSS delta ${first.running} → ${last.running}; rough, the V8 heap grows and shrinks in steps)`);
  }
  return out.join('\n');
}

function afterLines(r: Report): string[] {
  const out: string[] = ['3. Clean-up'];
  if (r.removeAll) {
    const { count, seconds, failed } = r.removeAll;
    out.push(`   removed ${count} containers via the API (DELETE ?force=1, 4 in parallel): ${seconds.toFixed(1)} s, ${(count / seconds).toFixed(1)}/s${failed ? `, ${failed} failed` : ''}`);
  }
  if (r.rssAfterKiB !== undefined) out.push(`   berthd after removing everything: VmRSS ${(r.rssAfterKiB / 1024).toFixed(1)} MiB, ${r.fdsAfter ?? '?'} open fds`);
  return out;
}

function problemLines(r: Report): string[] {
  const out: string[] = [];
  const all: [string, Samples][] = [
    ['connect', r.api.connect],
    ['disconnect', r.api.disconnect],
    ['network create', r.api.networkCreate],
    ['network rm', r.api.networkRm],
    ...Object.entries(r.api.containers).flatMap(([mode, x]): [string, Samples][] => [
      [`create+start ${mode}`, x.createStart],
      [`remove ${mode}`, x.remove],
    ]),
    ...r.levels.flatMap((l) => {
      const named: [string, Samples | undefined][] = [
        [`run@${l.running}`, l.run],
        [`rm@${l.running}`, l.rm],
        [`connect@${l.running}`, l.connect],
        [`disconnect@${l.running}`, l.disconnect],
        [`ps@${l.running}`, l.cliFloor],
        [`ping@${l.running}`, l.ping],
      ];
      return named.filter((x): x is [string, Samples] => x[1] !== undefined);
    }),
  ];
  for (const [name, s] of all) {
    if (s.failed > 0) out.push(`   FAILED ${name}: ${s.failed}× — ${s.errors.join(' | ')}`);
  }
  return out;
}
