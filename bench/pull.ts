/**
 * Pull from a local registry, berth against real Docker in the same run (issue 17): one
 * namespace holds Debian's docker-registry (plain HTTP on 127.0.0.1:5000, an insecure
 * registry for both engines), berthd, and dockerd 20.10 (in a mount namespace of its own,
 * lib/dockerd.ts). An image of 5 layers of random bytes, about 100 MB in all (gzip cannot
 * shrink it), is made here without any engine and pushed once with skopeo. Then each
 * round removes the image from one engine and pulls it again (every layer downloaded,
 * verified, decompressed and extracted), then the other; the engine that goes first
 * alternates. Both download 3 layers at a time (their default). Figures, not tests.
 *
 *   node dist/bench/pull.js [--quick] [--runs N] [--layers N] [--mb N]
 *
 * Per pull: wall-clock seconds of `docker pull` (the CLI's whole command), MB/s of blob
 * bytes, the daemon's CPU (own, and the children it waited for; for berth also its tool
 * helper's), the registry's CPU, and the seconds a `sync` right after the pull takes (the
 * extracted files the daemon left for the kernel to write back). Each pull starts after
 * a `sync`, so neither engine pays for the other's writeback. Needs root, iproute2,
 * docker-registry, skopeo, dockerd (../shared/bench/install.sh) and the docker CLI.
 * Everything is removed at the end, also after a failure or Ctrl-C.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { processesMentioning } from '../test/lib/leftovers.js';
import { childNamed, procStat } from '../test/lib/proc.js';
import { registryMissing, TestRegistry } from '../test/lib/registry.js';
import { must, REPO, sh, World } from '../test/lib/world.js';
import { closingNote, exitStatus, Interrupts, parseIntFlags, progress, runMain } from './lib/cli.js';
import { dockerdMissing, RealDockerd } from './lib/dockerd.js';
import { writeRandomImage, type RandomImage } from './lib/random-image.js';
import { cell, num, Samples, table } from './lib/stats.js';
import type { TimedResult } from './lib/world.js';

/** A Ctrl-C stops the benchmark after its current pull, cleaning up. */
const interrupts = new Interrupts('pull');

const USAGE = `usage: node dist/bench/pull.js [--quick] [--runs N] [--layers N] [--mb N]
  --quick     3 timed rounds (about 25 s)
  --runs N    timed rounds after one warm-up round (default 7, about 35 s)
  --layers N  layers of the image (default 5)
  --mb N      MB of random data in all, split evenly over the layers (default 100)`;

const REGISTRY = '127.0.0.1:5000';
const REF = `${REGISTRY}/bench/random:1`;

interface Engine {
  name: string;
  docker(...args: string[]): Promise<TimedResult>;
  /** CPU ms so far: the daemon's own, and what it ran (children, helpers). */
  cpuMs(): { own: number; children: number };
}

interface Figures {
  seconds: Samples;
  cpuOwn: Samples;
  cpuChildren: Samples;
  registryCpu: Samples;
  sync: Samples;
}

function newFigures(): Figures {
  return { seconds: new Samples(), cpuOwn: new Samples(), cpuChildren: new Samples(), registryCpu: new Samples(), sync: new Samples() };
}

function cpuMsOf(pid: number): number {
  const s = procStat(pid);
  return s ? s.ownMs + s.childrenMs : NaN;
}

/** Remove the image from `e`, then pull it: every layer must be downloaded again. */
async function pullOnce(e: Engine, img: RandomImage, registryPid: number): Promise<{ s: number; own: number; children: number; registry: number; sync: number }> {
  const rm = await e.docker('rmi', REF);
  if (rm.code !== 0 && !/No such image/.test(rm.stderr)) throw new Error(`${e.name}: docker rmi: ${rm.stderr}`);
  await must('sync', []);
  const cpu0 = e.cpuMs();
  const reg0 = cpuMsOf(registryPid);
  const r = await e.docker('pull', REF);
  const cpu1 = e.cpuMs();
  const reg1 = cpuMsOf(registryPid);
  if (r.code !== 0) throw new Error(`${e.name}: docker pull exited ${r.code}: ${r.stderr}`);
  const complete = r.stdout.split('\n').filter((l) => l.endsWith(': Pull complete')).length;
  if (complete !== img.layers) throw new Error(`${e.name}: ${complete} layers pulled, not ${img.layers}:\n${r.stdout}`);
  const t0 = performance.now();
  await must('sync', []);
  return { s: r.ms / 1000, own: cpu1.own - cpu0.own, children: cpu1.children - cpu0.children, registry: reg1 - reg0, sync: (performance.now() - t0) / 1000 };
}

function record(f: Figures, p: Awaited<ReturnType<typeof pullOnce>>): void {
  f.seconds.add(p.s);
  f.cpuOwn.add(p.own / 1000);
  f.cpuChildren.add(p.children / 1000);
  f.registryCpu.add(p.registry / 1000);
  f.sync.add(p.sync);
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function report(img: RandomImage, engines: readonly Engine[], figures: readonly Figures[], perRound: readonly number[]): string[] {
  const mb = img.blobBytes / 1e6;
  const rows = engines.map((e, i) => {
    const f = figures[i]!;
    const s = f.seconds.summary();
    const own = f.cpuOwn.summary()?.median ?? NaN;
    const children = f.cpuChildren.summary()?.median ?? NaN;
    return [e.name, cell(s), num(mb / (s?.median ?? NaN)), `${num(own + children)} (${num(own)} + ${num(children)})`, num(f.registryCpu.summary()?.median ?? NaN), cell(f.sync.summary())];
  });
  const [b, d] = figures.map((f) => f.seconds.summary()?.median ?? NaN) as [number, number];
  const cpu = figures.map((f) => (f.cpuOwn.summary()?.median ?? NaN) + (f.cpuChildren.summary()?.median ?? NaN)) as [number, number];
  return [
    table(['per pull (medians)', 'docker pull, s', 'MB/s', 'daemon CPU s (own + children)', 'registry CPU s', 'sync after the pull, s'], rows),
    '',
    `   berth / Docker: time ${num(b / d)}× (median of the per-round ratios ${num(median(perRound))}×), daemon CPU ${num(cpu[0] / cpu[1])}×`,
  ];
}

async function main(): Promise<number> {
  const { quick, values } = parseIntFlags(process.argv.slice(2), USAGE, { '--runs': 'runs', '--layers': 'layers', '--mb': 'mb' });
  const runs = values.runs ?? (quick ? 3 : 7);
  const layers = values.layers ?? 5;
  const mb = values.mb ?? 100;
  const missing = registryMissing() ?? dockerdMissing();
  if (missing !== undefined) throw new Error(`pull bench: ${missing}`);
  const cpus = os.cpus();
  // BERTH_DAEMON (test/lib/world.ts) runs another checkout's bin/berthd: name that one.
  const daemonRepo = process.env.BERTH_DAEMON ? path.resolve(path.dirname(process.env.BERTH_DAEMON), '..') : REPO;
  const rev = (await sh('git', ['-C', daemonRepo, 'describe', '--always', '--dirty'])).stdout.trim() || daemonRepo;
  const out = [
    `berth vs Docker: pull from a local registry — ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  ];
  let failure: unknown;
  const left: string[] = [];
  let w: World | undefined;
  let dockerd: RealDockerd | undefined;
  try {
    progress('berthd, docker-registry and dockerd in a fresh namespace');
    w = await World.create({ detached: true, daemonArgs: ['--insecure-registry', REGISTRY] });
    const reg = await TestRegistry.start(w, 'bench');
    const registryPid = processesMentioning(path.join(reg.dir, 'config.yml')).find((p) => p.argv[0]?.endsWith('docker-registry'))?.pid ?? 0;
    dockerd = await RealDockerd.start(w.nsPath, path.join(w.dir, 'dockerd'), ['--insecure-registry', REGISTRY]);
    const berthPid = Number(fs.readFileSync(path.join(w.execRoot, 'berthd.pid'), 'utf8'));
    const world = w;
    const berth: Engine = {
      name: `berth ${rev}`,
      docker: async (...args) => {
        const t0 = performance.now();
        const r = await world.docker(...args);
        return { ...r, ms: performance.now() - t0 };
      },
      cpuMs: () => {
        const d = procStat(berthPid);
        const helperPid = childNamed(berthPid, 'berth-spawner');
        const helper = helperPid === undefined ? undefined : procStat(helperPid);
        return d ? { own: d.ownMs, children: d.childrenMs + (helper ? helper.ownMs + helper.childrenMs : 0) } : { own: NaN, children: NaN };
      },
    };
    const real = dockerd;
    const docker: Engine = { name: `Docker ${(await real.docker('version', '--format', '{{.Server.Version}}')).stdout.trim()}`, docker: async (...args) => real.docker(...args), cpuMs: () => real.cpuMs() };

    progress(`the image: ${layers} layers of random bytes, ${mb} MB in all; skopeo pushes it`);
    const img = await writeRandomImage(path.join(w.dir, 'image'), path.join(w.dir, 'image-work'), layers, Math.round((mb * 1e6) / layers));
    await reg.skopeo('copy', '--quiet', '--dest-tls-verify=false', `dir:${img.dir}`, `docker://${REF}`);
    out.push(
      `settings: ${REF} on docker-registry ${(await sh('docker-registry', ['--version'])).stdout.trim().split(' ').pop() ?? '?'} (HTTP, same namespace), ${layers} layers, ${(img.blobBytes / 1e6).toFixed(1)} MB of gzip blobs (${(img.dataBytes / 1e6).toFixed(1)} MB of random data); 3 downloads at a time on both; 1 warm-up round, ${runs} timed rounds, who goes first alternates; both daemons store on ${(await sh('findmnt', ['-no', 'FSTYPE', '-T', w.dir])).stdout.trim()} (berth: extracted layers; Docker: overlay2)`,
    );

    const engines = [berth, docker];
    const figures = [newFigures(), newFigures()];
    const perRound: number[] = [];
    for (let round = 0; round <= runs && interrupts.count === 0; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      const got: number[] = [NaN, NaN];
      for (const i of order) {
        if (interrupts.count > 0) break;
        const p = await pullOnce(engines[i]!, img, registryPid);
        progress(`${round === 0 ? 'warm-up' : `round ${round}/${runs}`}: ${engines[i]!.name} ${p.s.toFixed(2)} s, CPU ${((p.own + p.children) / 1000).toFixed(2)} s`);
        got[i] = p.s;
        if (round > 0) record(figures[i]!, p);
      }
      if (round > 0 && got.every(Number.isFinite)) perRound.push(got[0]! / got[1]!);
    }
    const ids = await Promise.all(engines.map(async (e) => (await e.docker('image', 'inspect', '-f', '{{.Id}}', REF)).stdout.trim()));
    out.push('', ...report(img, engines, figures, perRound));
    out.push(`   the same image on both: ${ids[0] === ids[1] ? `yes (${ids[0]!.slice(0, 19)})` : `NO (${ids.join(' vs ')})`}`);
  } catch (e: unknown) {
    failure = e;
  } finally {
    progress('clean-up: dockerd, berthd, registry, namespace');
    if (dockerd) left.push(...(await dockerd.stop()).map((l) => `dockerd: ${l}`));
    if (w) await w.dispose().catch((e: unknown) => left.push(String(e)));
  }
  out.push(left.length === 0 ? '   nothing left behind (daemons, registry, mounts, namespace)' : `   LEFT BEHIND (removed by force): ${left.join('; ')}`);
  out.push(closingNote());
  process.stdout.write(`${out.join('\n')}\n`);
  return exitStatus(failure, interrupts.count);
}

runMain(main);
