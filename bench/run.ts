/**
 * berth's own benchmark: figures (medians), not timed tests. It starts berthd in a
 * network namespace of its own, measures the network attach through the Engine API,
 * `docker run -d` at 10 and at N running containers, the daemon's memory and the CLI
 * floor, prints tables on stdout (progress on stderr), and removes everything.
 *
 *   node dist/bench/run.js [--quick] [--containers N] [--runs N] [--cli-runs N]
 *
 * Needs root, iproute2, nftables, runc, conmon and the docker CLI. Never touches the
 * machine's root network namespace. Ctrl-C stops the run and still cleans up.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, sh } from '../test/lib/world.js';
import {
  apiAttach,
  apiContainers,
  apiNetworks,
  apiParallelStarts,
  fillTo,
  measureLevel,
  prepare,
  removeAll,
  startAttachContainer,
  type Ctx,
  type Options,
} from './lib/phases.js';
import { newReport, render, type Report } from './lib/report.js';
import { Samples } from './lib/stats.js';
import { BenchWorld } from './lib/world.js';
import { closingNote, disposeNotes, exitStatus, parseIntFlags, progress, runMain } from './lib/cli.js';

const USAGE = `usage: node dist/bench/run.js [--quick] [--containers N] [--runs N] [--cli-runs N]
  --quick          smaller N (100 containers, 10 API runs, 8 CLI runs): about 1-2 min
  --containers N   running containers at the top level (default 500; 100 with --quick)
  --runs N         repetitions of each API loop and of docker ps -q (default 30; 10 with --quick)
  --cli-runs N     docker run -d / rm -f samples per level (default 20; 8 with --quick)`;

function parseArgs(argv: readonly string[]): Options {
  const { quick, values } = parseIntFlags(argv, USAGE, { '--containers': 'containers', '--runs': 'runs', '--cli-runs': 'cliRuns' });
  const opts: Options = {
    quick,
    containers: values.containers ?? (quick ? 100 : 500),
    runs: values.runs ?? (quick ? 10 : 30),
    cliRuns: values.cliRuns ?? (quick ? 8 : 20),
    warmup: quick ? 2 : 3,
    fillParallel: 4,
  };
  if (opts.containers <= 10) throw new Error('--containers must be more than 10');
  return opts;
}


/** Ctrl-C (or SIGTERM/SIGHUP): the first stops the run and cleans up; the third gives up. */
let interrupts = 0;
let current: BenchWorld | undefined;
function onSignal(sig: NodeJS.Signals): void {
  interrupts += 1;
  if (interrupts === 1) progress(`${sig}: stopping; removing containers, daemon and namespace (Ctrl-C twice more to give up)`);
  else if (interrupts === 2) progress('still cleaning up; one more Ctrl-C quits and leaves things behind');
  else {
    const w = current;
    if (w) process.stderr.write(`left behind: berthd pid ${w.pid}, netns ${w.ns}, state ${w.dir} (with running containers)\n`);
    process.exit(130);
  }
}

async function header(opts: Options): Promise<string[]> {
  const git = await sh('git', ['-C', REPO, 'describe', '--always', '--dirty']);
  const cli = await sh('docker', ['version', '--format', '{{.Client.Version}}']);
  const cpus = os.cpus();
  return [
    `berth bench — ${new Date().toISOString()}  berth ${git.stdout.trim() || '?'}  ${opts.quick ? '(--quick)' : '(full)'}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, kernel ${os.release()}, node ${process.version}, docker CLI ${cli.stdout.trim() || '?'}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `build: ${buildState()}`,
    `settings: ${opts.containers} containers at the top level, ${opts.runs} API runs, ${opts.cliRuns} docker run/rm runs per level, ${opts.warmup} warm-ups per loop`,
  ];
}

/** When dist/ was built, and which sources are newer than their compiled file (a stale build). */
function buildState(): string {
  const built = fs.statSync(path.join(REPO, 'dist/src/bin/berthd.js')).mtime;
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) {
        const js = path.join(REPO, 'dist', path.relative(REPO, full)).replace(/\.ts$/, '.js');
        if (!fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(full).mtimeMs) stale.push(path.relative(REPO, full));
      }
    }
  };
  walk(path.join(REPO, 'src'));
  const warn = stale.length > 0 ? ` — WARNING: ${stale.length} src files are newer than dist (${stale.slice(0, 3).join(', ')}…): run make build` : '';
  return `dist/ built ${built.toISOString()}${warn}`;
}

async function measure(w: BenchWorld, opts: Options, report: Report): Promise<void> {
  const ctx: Ctx = {
    w,
    opts,
    report,
    progress,
    check: () => {
      if (interrupts > 0) throw new Error('interrupted');
      if (!w.alive()) throw new Error(`berthd died:\n${w.logLines(20)}`);
    },
  };
  report.fdLimit = w.fdLimit();
  const scene = await prepare(ctx);
  await apiNetworks(ctx);
  await apiContainers(ctx);
  await apiParallelStarts(ctx);
  await startAttachContainer(ctx, scene);
  await apiAttach(ctx, scene);
  report.levels.push(await measureLevel(ctx, scene, false));
  for (const target of [10, opts.containers]) {
    ctx.progress(`filling up to ${target} running containers`);
    const fill = new Samples();
    const rate = await fillTo(ctx, scene, target, fill);
    const level = await measureLevel(ctx, scene, true);
    level.fillRate = rate;
    level.fill = fill;
    report.levels.push(level);
  }
  ctx.progress('removing all containers through the API');
  await removeAll(ctx);
  report.rssAfterKiB = w.rssKiB();
  report.fdsAfter = w.fdCount();
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, onSignal);
  const report = newReport();
  report.header = await header(opts);
  let failure: unknown;
  let w: BenchWorld | undefined;
  try {
    progress('starting berthd in a new network namespace');
    w = current = await BenchWorld.create();
    progress(`berthd pid ${w.pid}, netns ${w.ns}, state ${w.dir}`);
    await measure(w, opts, report);
  } catch (e: unknown) {
    failure = e;
  }
  if (w) report.notes.push(...(await disposeNotes(w)));
  report.notes.push(closingNote());
  process.stdout.write(render(report) + '\n');
  return exitStatus(failure, interrupts);
}

runMain(main);
