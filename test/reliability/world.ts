/**
 * The chaos run's world: like test/lib/world.ts (a fresh "host" namespace with berthd in
 * it, its own roots and socket under a temp dir, a "lan" namespace at 192.0.2.2 behind
 * the host's lan0 at 192.0.2.1), but made to be crashed over and over:
 *   - berthd runs in a process group of its own, so a Ctrl-C reaches only the chaos run;
 *   - `kill()` sends SIGKILL to berthd's own PID and waits for it to be gone;
 *   - `start()` has a generous deadline and notices a daemon killed by a signal, so a
 *     kill during start-up (reconcile) is just another kill point;
 *   - the daemon's log is kept as a bounded tail, with WARN/ERROR lines counted.
 * `dispose()` removes everything (containers through the API first) and returns what it
 * had to clean up by force. Nothing here touches the machine's root network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { berthdArgs, makeLan, must, sh, type Result } from '../lib/world.js';
import { EngineClient, messageOf } from './client.js';
import { arr, obj, str } from './json.js';
import { forEachLimit, sleep } from '../lib/async.js';
import { killProcessesMentioning, removeDaemonCgroups, unmountUnder } from '../lib/leftovers.js';

const LOG_KEEP = 512 * 1024;

export interface LogProblems {
  warn: number;
  error: number;
  examples: string[];
}

export class ChaosWorld {
  readonly ns: string;
  readonly lan: string;
  readonly dir: string;
  readonly sock: string;
  readonly client: EngineClient;
  private daemon: ChildProcess | undefined;
  private logTail = '';
  private partial = '';
  /** Everything the daemon printed, when a file was asked for. */
  private logFile: number | undefined;
  readonly problems: LogProblems = { warn: 0, error: 0, examples: [] };
  /** The daemon's ID (its cgroup parent is berth-<first 12>). */
  daemonId = '';
  pid = 0;

  private constructor(logPath: string | undefined) {
    const id = randomBytes(3).toString('hex');
    this.ns = `berth-chaos-${id}`;
    this.lan = `${this.ns}-lan`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `berth-chaos-${id}-`));
    this.sock = path.join(this.dir, 'berth.sock');
    this.client = new EngineClient(this.sock);
    if (logPath) this.logFile = fs.openSync(logPath, 'w');
  }

  /** Make the namespaces and start berthd. On failure, what was made is removed. */
  static async create(opts: { logPath?: string; startTimeoutMs?: number } = {}): Promise<ChaosWorld> {
    const w = new ChaosWorld(opts.logPath);
    try {
      await must('ip', ['netns', 'add', w.ns]);
      await must('ip', ['-n', w.ns, 'link', 'set', 'lo', 'up']);
      await makeLan(w.ns, w.lan);
      await w.start(opts.startTimeoutMs);
    } catch (e: unknown) {
      await w.dispose();
      throw e;
    }
    return w;
  }

  get nsPath(): string {
    return `/run/netns/${this.ns}`;
  }
  get dataRoot(): string {
    return path.join(this.dir, 'data');
  }
  get execRoot(): string {
    return path.join(this.dir, 'exec');
  }
  get storeFile(): string {
    return path.join(this.dataRoot, 'store', 'berth.db');
  }

  alive(): boolean {
    const c = this.daemon;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** Spawn berthd (without waiting for it). */
  spawnDaemon(): void {
    if (this.alive()) throw new Error('berthd is already running');
    const child = spawn('nsenter', berthdArgs(this.nsPath, this), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', (b: Buffer) => this.onLog(b));
    child.stderr.on('data', (b: Buffer) => this.onLog(b));
    this.daemon = child;
    this.pid = child.pid ?? 0;
  }

  /** Wait until the spawned daemon answers /_ping; throws when it exits or the deadline passes. */
  async waitReady(timeoutMs = 90_000): Promise<void> {
    const child = this.daemon;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!child || !this.alive()) throw new Error(`berthd exited (${String(child?.exitCode ?? child?.signalCode)}):\n${this.logLines(30)}`);
      if (await this.client.ping()) {
        const info = await this.client.ok('GET', '/info');
        this.daemonId = str(obj(info.body).ID);
        return;
      }
      await sleep(50);
    }
    throw new Error(`berthd did not answer within ${timeoutMs / 1000} s:\n${this.logLines(30)}`);
  }

  async start(timeoutMs?: number): Promise<void> {
    this.spawnDaemon();
    await this.waitReady(timeoutMs);
  }

  /** SIGKILL berthd by PID; resolves when it is gone. */
  async kill(): Promise<void> {
    const child = this.daemon;
    if (!child || !this.alive()) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.daemon;
    if (!child || !this.alive()) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    if (await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)])) {
      if (this.alive()) child.kill('SIGKILL');
      await exited;
    }
  }

  private onLog(b: Buffer): void {
    if (this.logFile !== undefined) fs.writeSync(this.logFile, b);
    const lines = (this.partial + b.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      const level = / (WARN|ERROR|FATAL) /.exec(l)?.[1];
      if (level === 'WARN') this.problems.warn += 1;
      else if (level) this.problems.error += 1;
      if (level && this.problems.examples.length < 12) this.problems.examples.push(l.slice(0, 300));
    }
    this.logTail = (this.logTail + b.toString()).slice(-LOG_KEEP);
  }

  /** Write a marker into the log file (kill points), so a reader can line the log up with the run. */
  mark(text: string): void {
    if (this.logFile !== undefined) fs.writeSync(this.logFile, `----- chaos: ${text}\n`);
  }

  logLines(n: number): string {
    return this.logTail.split('\n').slice(-n).join('\n');
  }

  /** A command in one of this world's namespaces (by nsenter, so /sys stays as it is). */
  inNs(netns: string, args: readonly string[], timeoutMs = 20_000): Promise<Result> {
    return sh('nsenter', [`--net=/run/netns/${netns}`, '--', ...args], { timeoutMs });
  }

  /**
   * Remove everything: containers and user networks through the API (a dead daemon is
   * started again for that), then the daemon, then leftovers by force, the namespaces and
   * the temp dir. Returns what had to be cleaned up by force (leaks) or could not be.
   */
  async dispose(): Promise<string[]> {
    const leaks: string[] = [];
    try {
      if (!this.alive() && fs.existsSync(this.storeFile)) {
        await this.start().catch((e: unknown) => leaks.push(`restart for clean-up failed: ${messageOf(e)}`));
      }
      if (this.alive()) await this.removeAll().catch((e: unknown) => leaks.push(`clean-up through the API: ${String(e)}`));
      await this.stop();
    } finally {
      leaks.push(...killProcessesMentioning(this.dir), ...removeDaemonCgroups(this.daemonId), ...(await unmountUnder(this.dir)));
      for (const ns of [this.lan, this.ns]) if (fs.existsSync(`/run/netns/${ns}`)) await sh('ip', ['netns', 'del', ns]);
      if (this.logFile !== undefined) fs.closeSync(this.logFile);
      this.logFile = undefined;
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
    return leaks;
  }

  /** rm -f every container, then remove every user network, through the API. */
  async removeAll(): Promise<void> {
    const list = await this.client.ok('GET', '/containers/json?all=1');
    const ids = arr(list.body).map((c) => str(obj(c).Id));
    const failures: string[] = [];
    await forEachLimit(ids, 3, async (id) => {
      const r = await this.client.api('DELETE', `/containers/${id}?force=1`);
      if (r.status >= 400 && r.status !== 404) failures.push(`${id.slice(0, 12)}: ${r.status} ${messageOf(r.body)}`);
    });
    const nets = arr((await this.client.ok('GET', '/networks')).body).map(obj);
    for (const n of nets) {
      const name = str(n.Name);
      if (['bridge', 'host', 'none'].includes(name)) continue;
      const r = await this.client.api('DELETE', `/networks/${str(n.Id)}`);
      if (r.status >= 400) failures.push(`network ${name}: ${r.status} ${messageOf(r.body)}`);
    }
    if (failures.length > 0) throw new Error(failures.join('; '));
  }
}
