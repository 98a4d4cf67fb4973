/**
 * A continuous fetcher (fetcher-child.ts) in a container's network namespace: every
 * fetch's start time (epoch ms, the clock of name-probe.ts's epochMs) and who answered,
 * or "fail", kept in order for the benchmark to read.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fetcher-child.js');

export interface Fetch {
  at: number;
  /** The answer's first word (the task's hostname), or "fail". */
  who: string;
  /** A failure's cause: the socket's error code, `timeout` or `http<status>`. */
  why?: string;
}

export class Fetcher {
  readonly fetches: Fetch[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      const [at, who, why] = l.split(' ');
      this.fetches.push({ at: Number(at), who: who ?? 'fail', ...(why ? { why } : {}) });
    });
  }

  /** Fetch `url` from the network namespace `netns` (a path: /proc/<pid>/ns/net), `gapMs` between fetches. */
  static start(netns: string, url: string, gapMs = 20): Fetcher {
    return new Fetcher(spawn('nsenter', [`--net=${netns}`, '--', process.execPath, CHILD, url, String(gapMs)]));
  }

  /** The fetches started at or after `t`. */
  since(t: number): Fetch[] {
    return this.fetches.filter((f) => f.at >= t);
  }

  /** End it (SIGKILL by PID) and wait for it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((res) => this.child.once('exit', () => res()));
    this.child.kill('SIGKILL');
    await exited;
  }
}
