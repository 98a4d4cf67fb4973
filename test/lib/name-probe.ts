/**
 * A name probe (name-probe-child.ts) running in a container's network namespace: it tells
 * when a name appears in that container's DNS and its address answers, or when a name is
 * gone. Times are epoch ms with fractions (performance.timeOrigin + performance.now()).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'name-probe-child.js');

/** The clock the probe's times are on. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface Appeared {
  ip: string;
  /** The first answer with an address came. */
  dnsAt: number;
  /** A SYN to the address got its answer. */
  answerAt: number;
}

export class NameProbe {
  private readonly waiting: ((line: string) => void)[] = [];

  private constructor(
    /** Which host (or container) the probe stands for, in error messages. */
    readonly label: string,
    private readonly child: ChildProcessWithoutNullStreams,
  ) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => this.waiting.shift()?.(l));
  }

  /** Start a probe in the network namespace `netns` (a path: /proc/<pid>/ns/net). */
  static start(label: string, netns: string): NameProbe {
    return new NameProbe(label, spawn('nsenter', [`--net=${netns}`, '--', process.execPath, CHILD]));
  }

  /** Resolves once `name` resolves and its address answers. */
  async appeared(name: string, timeoutMs = 15_000): Promise<Appeared> {
    return this.ask<Appeared>({ op: 'appear', name, timeoutMs });
  }

  /** Resolves with the time the first query was sent that no longer found `name`. */
  async vanished(name: string, timeoutMs = 60_000): Promise<number> {
    return (await this.ask<{ goneAt: number }>({ op: 'vanish', name, timeoutMs })).goneAt;
  }

  private async ask<T>(cmd: { op: 'appear' | 'vanish'; name: string; timeoutMs: number }): Promise<T> {
    const line = await new Promise<string>((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(JSON.stringify(cmd) + '\n');
    });
    const r = JSON.parse(line) as T & { error?: string };
    if (r.error) throw new Error(`name probe on ${this.label}: ${r.error}`);
    return r;
  }

  /** End the probe (SIGKILL by PID) and wait for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((res) => this.child.once('exit', () => res()));
    this.child.kill('SIGKILL');
    await exited;
  }
}
