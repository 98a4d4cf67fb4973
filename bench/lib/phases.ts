/**
 * The measurements, one function per phase. Each repeated loop starts with `warmup`
 * iterations that are not recorded. Every phase checks `ctx.check()` between
 * operations, which throws once the user asked to stop (Ctrl-C).
 */
import { Samples, timed } from './stats.js';
import * as os from 'node:os';
import { newLevel, PARALLEL, type Cpu, type Level, type Mode, type Report } from './report.js';
import { forEachLimit, sleep } from '../../test/lib/async.js';
import { messageOf, type BenchWorld } from './world.js';

export interface Options {
  quick: boolean;
  /** Running containers at the top level (500, or 100 with --quick). */
  containers: number;
  /** Repetitions of each API loop. */
  runs: number;
  /** `docker run -d` / `rm -f` samples per level. */
  cliRuns: number;
  warmup: number;
  /** Containers started at once while filling up. */
  fillParallel: number;
}

export interface Ctx {
  w: BenchWorld;
  opts: Options;
  report: Report;
  progress(msg: string): void;
  /** Throws when the run must stop (interrupted, or the daemon died). */
  check(): void;
}

export const IMAGE = 'busybox';
const CMD = ['sleep', '100000'];
/** A Linux bridge takes at most 1023 ports: the filler spreads over networks of this many. */
const PER_NETWORK = 1000;
/** A filler start slower than this is reported as it happens. */
const SLOW_MS = 5000;
/** How long the daemon's CPU use is watched while nothing is asked of it. */
const IDLE_MS = 3000;
export const ATTACH_A = 'bench-attach-a';
export const ATTACH_B = 'bench-attach-b';

/** The state the phases share: the attach container and how many fillers run. */
export interface Scene {
  attachId: string;
  fillers: number;
  fillNetworks: string[];
}

export async function prepare(ctx: Ctx): Promise<Scene> {
  const { w } = ctx;
  ctx.progress(`making image ${IMAGE}`);
  await w.apiOk('POST', `/images/create?fromImage=${IMAGE}&tag=latest`);
  await w.apiOk('GET', `/images/${IMAGE}/json`);
  for (const name of [ATTACH_A, ATTACH_B]) await w.apiOk('POST', '/networks/create', { Name: name, Driver: 'bridge', CheckDuplicate: true });
  return { attachId: '', fillers: 0, fillNetworks: [] };
}

function createBody(network: string): unknown {
  return {
    Image: IMAGE,
    Cmd: CMD,
    HostConfig: { NetworkMode: network },
    NetworkingConfig: network === 'none' ? {} : { EndpointsConfig: { [network]: {} } },
  };
}

/** POST /containers/create then /start; returns the ID and both times. */
async function createStart(ctx: Ctx, network: string, name: string): Promise<{ id: string; create: number; start: number }> {
  const c = await ctx.w.apiOk('POST', `/containers/create?name=${name}`, createBody(network));
  const id = (c.body as { Id: string }).Id;
  ctx.w.names.set(id.slice(0, 12), name);
  const s = await ctx.w.api('POST', `/containers/${id}/start`);
  if (s.status >= 400) {
    await ctx.w.api('DELETE', `/containers/${id}?force=1`);
    throw new Error(`start: ${s.status} ${messageOf(s.body)}`);
  }
  return { id, create: c.ms, start: s.ms };
}

/** Time `fn` `runs` times after `warmup` unrecorded runs; a thrown error counts as a failed sample. */
async function repeat(ctx: Ctx, runs: number, fn: (i: number, record: boolean) => Promise<void>): Promise<void> {
  for (let i = 0; i < ctx.opts.warmup + runs; i++) {
    ctx.check();
    await fn(i, i >= ctx.opts.warmup);
  }
}

/**
 * Section 1: create+start on --network none, on the default bridge (veth, addresses,
 * firewall; no embedded DNS) and on a user network (the same plus the embedded DNS),
 * each removed at once. The order rotates so the three see the same noise.
 */
export async function apiContainers(ctx: Ctx): Promise<void> {
  ctx.progress(`API create+start+remove on none, default bridge, user network (${ctx.opts.runs} each)`);
  const modes = Object.keys(ctx.report.api.containers) as Mode[];
  await repeat(ctx, ctx.opts.runs, async (i, rec) => {
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(i + k) % modes.length]!;
      const s = ctx.report.api.containers[mode];
      const net = mode === 'user' ? ATTACH_A : mode;
      let id = '';
      await timed(s.createStart, rec, async () => {
        const r = await createStart(ctx, net, `api-${mode}-${i}`);
        id = r.id;
        if (rec) s.start.add(r.start);
        return r.create + r.start;
      });
      if (id) await timed(s.remove, rec, async () => (await ctx.w.apiOk('DELETE', `/containers/${id}?force=1`)).ms);
    }
  });
  // berthd names its timings by network mode: "attach none", "attach bridge", "attach network".
  for (const mode of modes) await insideTimes(ctx, `attach ${mode === 'user' ? 'network' : mode}`, ctx.report.api.containers[mode].attachInside);
}

/**
 * Section 1: PARALLEL starts sent at once (created first), each on a user network of its
 * own, then all on one: the network's work is serialised per network, so starts on
 * different networks overlap where those on one network queue.
 */
export async function apiParallelStarts(ctx: Ctx): Promise<void> {
  ctx.progress(`API ${PARALLEL} starts at once, on ${PARALLEL} networks and on one (${ctx.opts.runs} each)`);
  const nets = Array.from({ length: PARALLEL }, (_, i) => `bench-par-${i}`);
  for (const name of nets) await ctx.w.apiOk('POST', '/networks/create', { Name: name, Driver: 'bridge' });
  const p = ctx.report.api.parallel;
  await repeat(ctx, ctx.opts.runs, async (i, rec) => {
    for (const [shared, samples] of (i % 2 === 0 ? [[false, p.separate], [true, p.shared]] : [[true, p.shared], [false, p.separate]]) as [boolean, Samples][]) {
      const ids: string[] = [];
      for (let k = 0; k < PARALLEL; k++) {
        const c = await ctx.w.apiOk('POST', `/containers/create?name=par-${i}-${shared ? 's' : 'd'}-${k}`, createBody(shared ? nets[0]! : nets[k]!));
        ids.push((c.body as { Id: string }).Id);
      }
      const t0 = performance.now();
      const starts = await Promise.all(ids.map(async (id) => ctx.w.api('POST', `/containers/${id}/start`)));
      const wall = performance.now() - t0;
      if (starts.some((s) => s.status >= 400)) throw new Error(`parallel start: ${starts.map((s) => s.status).join(' ')}`);
      if (rec) samples.add(wall);
      await Promise.all(ids.map(async (id) => ctx.w.apiOk('DELETE', `/containers/${id}?force=1`)));
    }
  });
  for (const name of nets) await ctx.w.apiOk('DELETE', `/networks/${name}`);
}

/** Section 1: POST /networks/create and DELETE /networks/{id}. */
export async function apiNetworks(ctx: Ctx): Promise<void> {
  ctx.progress(`API network create/rm (${ctx.opts.runs} each)`);
  const a = ctx.report.api;
  await repeat(ctx, ctx.opts.runs, async (i, rec) => {
    let id = '';
    await timed(a.networkCreate, rec, async () => {
      const r = await ctx.w.apiOk('POST', '/networks/create', { Name: `bench-net-${i}`, Driver: 'bridge', CheckDuplicate: true });
      id = (r.body as { Id: string }).Id;
      return r.ms;
    });
    if (id) await timed(a.networkRm, rec, async () => (await ctx.w.apiOk('DELETE', `/networks/${id}`)).ms);
  });
}

/** The container that is connected and disconnected over and over. */
export async function startAttachContainer(ctx: Ctx, scene: Scene): Promise<void> {
  scene.attachId = (await createStart(ctx, ATTACH_A, 'attach')).id;
}

const NO_IDLE: Cpu = { own: 0, children: 0 };

/**
 * berthd's CPU per iteration of `loop`, which runs `iterations` times, less what it
 * burns anyway meanwhile (`idlePerMs`: its CPU per ms of wall time while idle).
 */
async function cpuPer(ctx: Ctx, iterations: number, loop: () => Promise<void>, idlePerMs: Cpu = NO_IDLE): Promise<Cpu> {
  const a = ctx.w.cpuMs();
  const t0 = performance.now();
  await loop();
  const wall = performance.now() - t0;
  const b = ctx.w.cpuMs();
  return {
    own: (b.own - a.own - idlePerMs.own * wall) / iterations,
    children: (b.children - a.children - idlePerMs.children * wall) / iterations,
  };
}

async function connectLoop(ctx: Ctx, scene: Scene, connect: Samples, disconnect: Samples, idlePerMs: Cpu = NO_IDLE): Promise<Cpu> {
  return cpuPer(ctx, ctx.opts.warmup + ctx.opts.runs, () => connectLoopOnce(ctx, scene, connect, disconnect), idlePerMs);
}

async function connectLoopOnce(ctx: Ctx, scene: Scene, connect: Samples, disconnect: Samples): Promise<void> {
  await repeat(ctx, ctx.opts.runs, async (_i, rec) => {
    const body = { Container: scene.attachId, EndpointConfig: {} };
    let ok = false;
    await timed(connect, rec, async () => {
      const r = await ctx.w.apiOk('POST', `/networks/${ATTACH_B}/connect`, body);
      ok = true;
      return r.ms;
    });
    if (ok) {
      await timed(disconnect, rec, async () => (await ctx.w.apiOk('POST', `/networks/${ATTACH_B}/disconnect`, { Container: scene.attachId, Force: false })).ms);
    }
  });
}

/** Section 1: connect/disconnect with only the attach container running. */
export async function apiAttach(ctx: Ctx, scene: Scene): Promise<void> {
  ctx.progress(`API network connect/disconnect (${ctx.opts.runs} each)`);
  await connectLoop(ctx, scene, ctx.report.api.connect, ctx.report.api.disconnect);
  await insideTimes(ctx, 'connect', ctx.report.api.connectInside);
}

/**
 * The latest `runs` samples of one of berthd's own timings (GET /berth/timings): the
 * recorded iterations of the loop just run, without its warm-ups.
 */
async function insideTimes(ctx: Ctx, name: string, into: Samples): Promise<void> {
  const all = (await ctx.w.apiOk('GET', '/berth/timings')).body as Record<string, { total: number; recentMs: number[] } | undefined>;
  for (const ms of all[name]?.recentMs.slice(-ctx.opts.runs) ?? []) into.add(ms);
}

async function running(ctx: Ctx): Promise<number> {
  const r = await ctx.w.apiOk('GET', '/containers/json');
  return (r.body as unknown[]).length;
}

/**
 * Start fillers (API, several at once) until `target` containers run in total.
 * Returns the rate (containers/s); `times` gets each create+start time.
 */
export async function fillTo(ctx: Ctx, scene: Scene, target: number, times: Samples): Promise<number> {
  const now = await running(ctx);
  const wanted = target - now;
  if (wanted <= 0) return NaN;
  const indexes = Array.from({ length: wanted }, (_, k) => scene.fillers + k);
  for (const i of indexes) {
    const net = `bench-scale-${Math.floor(i / PER_NETWORK)}`;
    if (!scene.fillNetworks.includes(net)) {
      await ctx.w.apiOk('POST', '/networks/create', { Name: net, Driver: 'bridge', CheckDuplicate: true });
      scene.fillNetworks.push(net);
    }
  }
  let done = 0;
  let failed = 0;
  const errors: string[] = [];
  const t0 = performance.now();
  const step = Math.max(10, Math.round(wanted / 20));
  await forEachLimit(indexes, ctx.opts.fillParallel, async (i) => {
    ctx.check();
    try {
      const r = await createStart(ctx, `bench-scale-${Math.floor(i / PER_NETWORK)}`, `fill-${i}`);
      times.add(r.create + r.start);
      if (r.create + r.start > SLOW_MS) ctx.progress(`slow: fill-${i} took ${(r.create / 1000).toFixed(1)} s to create, ${(r.start / 1000).toFixed(1)} s to start`);
      done += 1;
    } catch (e: unknown) {
      failed += 1;
      if (errors.length < 3) errors.push(e instanceof Error ? e.message : String(e));
      if (failed > Math.max(5, wanted / 20)) throw new Error(`filling up: ${failed} starts failed: ${errors.join(' | ')}`);
    }
    if ((done + failed) % step === 0) ctx.progress(`starting containers ${now + done}/${target}${failed ? ` (${failed} failed)` : ''}`);
  });
  const seconds = (performance.now() - t0) / 1000;
  scene.fillers += wanted;
  if (failed > 0) ctx.report.notes.push(`NOTE filling to ${target}: ${failed} of ${wanted} starts failed: ${errors.join(' | ')}`);
  const have = await running(ctx);
  if (have < target) throw new Error(`only ${have} of ${target} containers are running after filling up`);
  return done / seconds;
}

/** The figures of one level: memory, CLI floor, connect/disconnect, docker run -d / rm -f. */
export async function measureLevel(ctx: Ctx, scene: Scene, withRuns: boolean): Promise<Level> {
  const { w, opts } = ctx;
  const level = newLevel(await running(ctx));
  level.rssKiB = w.rssKiB();
  level.fds = w.fdCount();
  level.load1 = os.loadavg()[0] ?? NaN;
  const idle = await cpuPer(ctx, IDLE_MS, () => sleep(IDLE_MS));
  level.idleCpuPct = (idle.own + idle.children) * 100;
  await repeat(ctx, opts.runs, async (_i, rec) => {
    await timed(level.ping, rec, async () => (await w.apiOk('GET', '/_ping')).ms);
  });
  ctx.progress(`at ${level.running} running: docker ps -q ×${opts.runs}`);
  await repeat(ctx, opts.runs, async (_i, rec) => {
    await timed(level.cliFloor, rec, async () => {
      const r = await w.docker('ps', '-q');
      if (r.code !== 0) throw new Error(`docker ps -q: ${r.stderr.trim()}`);
      return r.ms;
    });
  });
  ctx.progress(`at ${level.running} running: API connect/disconnect ×${opts.runs}`);
  level.cpuConnect = await connectLoop(ctx, scene, level.connect, level.disconnect, idle);
  if (!withRuns) return level;
  const run = (level.run = new Samples());
  const rm = (level.rm = new Samples());
  ctx.progress(`at ${level.running} running: docker run -d / rm -f ×${opts.cliRuns}`);
  level.cpuRun = await cpuPer(ctx, opts.warmup + opts.cliRuns, () => runLoop(ctx, level, run, rm), idle);
  return level;
}

async function runLoop(ctx: Ctx, level: Level, run: Samples, rm: Samples): Promise<void> {
  const { w, opts } = ctx;
  await repeat(ctx, opts.cliRuns, async (i, rec) => {
    let id = '';
    await timed(run, rec, async () => {
      const r = await w.docker('run', '-d', '--network', 'bench-scale-0', '--name', `timed-${level.running}-${i}`, IMAGE, ...CMD);
      if (r.code !== 0) throw new Error(`docker run: ${r.stderr.trim()}`);
      id = r.stdout.trim();
      w.names.set(id.slice(0, 12), `timed-${level.running}-${i}`);
      return r.ms;
    });
    const target = id || `timed-${level.running}-${i}`;
    await timed(rm, rec && id !== '', async () => {
      const r = await w.docker('rm', '-f', target);
      if (r.code !== 0 && id) throw new Error(`docker rm -f: ${r.stderr.trim()}`);
      return r.ms;
    });
  });
}

/** Remove every container through the API, 4 at a time, timed. */
export async function removeAll(ctx: Ctx): Promise<void> {
  const ids = await ctx.w.containerIds();
  let done = 0;
  let failed = 0;
  const t0 = performance.now();
  await forEachLimit(ids, 4, async (id) => {
    const r = await ctx.w.api('DELETE', `/containers/${id}?force=1`);
    if (r.status >= 400) {
      failed += 1;
      if (failed <= 3) ctx.report.notes.push(`NOTE removing ${id.slice(0, 12)}: ${r.status} ${messageOf(r.body)}`);
    }
    done += 1;
    if (done % 50 === 0 || done === ids.length) ctx.progress(`removing containers ${done}/${ids.length}`);
  });
  ctx.report.removeAll = { count: ids.length, seconds: (performance.now() - t0) / 1000, failed };
}
