/** The benchmarks' command lines and progress lines, shared by run, ports and dataplane. */
import * as os from 'node:os';
import type { BenchWorld } from './world.js';

/**
 * `--quick`, `-h/--help` (prints `usage`, exits) and named positive integers, e.g.
 * `{ '--runs': 'runs' }`. Anything else is an error that shows the usage.
 */
export function parseIntFlags<K extends string>(
  argv: readonly string[],
  usage: string,
  flags: Record<string, K>,
): { quick: boolean; values: Partial<Record<K, number>> } {
  const values: Partial<Record<K, number>> = {};
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') {
      quick = true;
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    } else if (a in flags) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer\n${usage}`);
      values[flags[a]!] = v;
    } else {
      throw new Error(`unknown argument ${a}\n${usage}`);
    }
  }
  return { quick, values };
}

const t0 = performance.now();

/** A progress line on stderr, with the seconds since the benchmark started. */
export function progress(msg: string): void {
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

/** The last note of every benchmark: how long it took and how loaded the machine was. */
export function closingNote(): string {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `   total time ${((performance.now() - t0) / 1000).toFixed(0)} s; load average at the end ${load}`;
}

/** A note on the daemon's WARN/ERROR log lines, when there were any. */
export function daemonLogNotes(p: { warn: number; error: number; examples: string[] }): string[] {
  if (p.warn + p.error === 0) return [];
  return [`   daemon log: ${p.warn} WARN, ${p.error} ERROR lines; first: ${p.examples.map((x) => `\n     ${x}`).join('')}`];
}

/**
 * The end of every benchmark run: the world disposed of (with `alsoLeft`, what the
 * benchmark found left of its own making), then the notes that say what had to be
 * removed by force and what the daemon logged as WARN/ERROR.
 */
export async function disposeNotes(w: BenchWorld, alsoLeft: readonly string[] = []): Promise<string[]> {
  progress('clean-up: containers, networks, daemon, namespace');
  const left = [...alsoLeft, ...(await w.dispose(progress))];
  const what = left.length === 0 ? '   nothing left behind (containers, links, netns files, processes, cgroups, mounts, netns)' : `   LEFT BEHIND (removed by force): ${left.join('; ')}`;
  return [what, ...daemonLogNotes(w.problems)];
}

/**
 * Ctrl-C, SIGTERM and SIGHUP ask a benchmark to stop after its current `step` and clean
 * up; the third gives up at once. `count` says how many came.
 */
export class Interrupts {
  count = 0;

  constructor(step: string) {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(sig, () => {
        this.count += 1;
        if (this.count === 1) progress(`${sig}: stopping after the current ${step}; cleaning up (Ctrl-C twice more to give up)`);
        else if (this.count >= 3) process.exit(130);
      });
    }
  }

  /** Throws once a stop was asked for. */
  check(): void {
    if (this.count > 0) throw new Error('interrupted');
  }
}

/** The exit status of a benchmark: 0, 1 after a failure (reported), 130 when interrupted. */
export function exitStatus(failure: unknown, interrupted: number): number {
  if (failure === undefined) return 0;
  process.stderr.write(`bench stopped: ${failure instanceof Error ? failure.stack ?? failure.message : String(failure)}\n`);
  return interrupted > 0 ? 130 : 1;
}

/** Run a benchmark's main and exit with its status; a bad command line exits 2. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
