/**
 * Real Docker (Debian's dockerd, ../shared/bench/install.sh) beside berth in a benchmark's
 * namespace, for figures of the two side by side. It never touches the machine: dockerd
 * runs in the given network namespace and in a mount namespace of its own (slave
 * propagation), with an empty tmpfs on /run (so it starts its own containerd under its
 * exec root instead of finding the host's) and on /etc/docker (its key.json), all its
 * state under `dir`, no bridge and no iptables (a pull needs neither). It runs in a
 * process group of its own, so a Ctrl-C reaches only the benchmark; `stop()` ends it by
 * PID (SIGTERM, SIGKILL after 20 s) and then whatever still names `dir` (its containerd).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../../test/lib/async.js';
import { killProcessesMentioning, processesMentioning } from '../../test/lib/leftovers.js';
import { procStat } from '../../test/lib/proc.js';
import { sh } from '../../test/lib/world.js';
import type { TimedResult } from './world.js';

const LOG_KEEP = 64 * 1024;

/** Why real Docker cannot run here, or undefined when it can. */
export function dockerdMissing(): string | undefined {
  for (const bin of ['dockerd', 'containerd', 'unshare']) {
    if (!['/usr/bin', '/usr/sbin', '/usr/local/bin'].some((d) => fs.existsSync(path.join(d, bin)))) {
      return `${bin} is not installed (../shared/bench/install.sh installs Debian's docker.io)`;
    }
  }
  return undefined;
}

export class RealDockerd {
  private logTail = '';

  private constructor(
    private readonly child: ChildProcess,
    /** Where its data root, exec root, socket and config live. */
    readonly dir: string,
  ) {
    const keep = (b: Buffer): void => void (this.logTail = (this.logTail + b.toString()).slice(-LOG_KEEP));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  get sock(): string {
    return path.join(this.dir, 'docker.sock');
  }

  /** dockerd's PID: nsenter, unshare and sh each exec the next, so it is the spawned one. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Start dockerd in `nsPath` with `extraArgs`, and wait until it answers. */
  static async start(nsPath: string, dir: string, extraArgs: readonly string[] = []): Promise<RealDockerd> {
    fs.mkdirSync(dir, { recursive: true });
    const config = path.join(dir, 'daemon.json');
    fs.writeFileSync(config, '{}\n');
    const args = [
      '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', `unix://${path.join(dir, 'docker.sock')}`, '--config-file', config,
      '--bridge', 'none', '--iptables=false', '--ip6tables=false', '--storage-driver', 'overlay2', ...extraArgs,
    ];
    const script = 'mount -t tmpfs -o mode=755 bench-run /run && mount -t tmpfs -o mode=755 bench-etc /etc/docker && exec "$@"';
    const child = spawn('nsenter', [`--net=${nsPath}`, '--', 'unshare', '--mount', '--propagation', 'slave', '--', 'sh', '-c', script, 'sh', 'dockerd', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const d = new RealDockerd(child, dir);
    const deadline = Date.now() + 60_000;
    try {
      while (Date.now() < deadline) {
        if (!d.alive()) throw new Error(`dockerd exited ${String(child.exitCode ?? child.signalCode)}:\n${d.logLines(30)}`);
        if ((await d.docker('version', '--format', '{{.Server.Version}}')).code === 0) return d;
        await sleep(200);
      }
      throw new Error(`dockerd did not answer within 60 s:\n${d.logLines(30)}`);
    } catch (e: unknown) {
      await d.stop();
      throw e;
    }
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logLines(n: number): string {
    return this.logTail.split('\n').slice(-n).join('\n');
  }

  /** The docker CLI against this dockerd, timed from spawn to exit. */
  async docker(...args: string[]): Promise<TimedResult> {
    const t0 = performance.now();
    const r = await sh('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${this.sock}` }, timeoutMs: 300_000 });
    return { ...r, ms: performance.now() - t0 };
  }

  /**
   * dockerd's CPU so far, ms: its own, and its waited-for children's (the re-executed
   * docker-untar that applies a layer, unpigz where installed). containerd, its
   * long-lived child, plays no part in a 20.10 pull and is not counted.
   */
  cpuMs(): { own: number; children: number } {
    const s = procStat(this.pid);
    return s ? { own: s.ownMs, children: s.childrenMs } : { own: NaN, children: NaN };
  }

  /** Stop dockerd by PID, then anything still naming its folder; returns what had to be killed. */
  async stop(): Promise<string[]> {
    if (this.alive()) {
      const exited = new Promise<void>((res) => this.child.once('exit', () => res()));
      this.child.kill('SIGTERM');
      const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
      if (timedOut && this.alive()) {
        this.child.kill('SIGKILL');
        await exited;
      }
    }
    // containerd stops when dockerd does; give it a moment before calling it a leftover.
    for (let i = 0; i < 50 && processesMentioning(this.dir).length > 0; i++) await sleep(100);
    return killProcessesMentioning(this.dir);
  }
}

