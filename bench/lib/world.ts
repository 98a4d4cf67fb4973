/**
 * The benchmark's world: a fresh network namespace with berthd in it, its own
 * data/exec roots and socket under a temp dir, raw timed Engine API calls on the
 * socket, and timed docker CLI calls.
 *
 * Unlike test/lib/world.ts, berthd runs in a process group of its own (detached),
 * so a Ctrl-C on the terminal reaches only the benchmark, which then removes the
 * containers through the API before it stops the daemon by PID. `dispose()`
 * removes everything and returns what it had to clean up by force (leaks).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { berthdArgs, must, RUN_TAG, runFolder, sh, type Result } from '../../test/lib/world.js';
import { forEachLimit, sleep } from '../../test/lib/async.js';
import { killProcessesMentioning, removeDaemonCgroups, unmountUnder } from '../../test/lib/leftovers.js';
import { childNamed, procStat } from '../../test/lib/proc.js';

const API = '/v1.44';
const LOG_KEEP = 256 * 1024;

export interface ApiResult {
  status: number;
  body: unknown;
  /** Wall-clock time of the round trip, ms. */
  ms: number;
}

export interface TimedResult extends Result {
  ms: number;
}

/** Daemon log lines at WARN or above, counted, with the first few kept. */
export interface LogProblems {
  warn: number;
  error: number;
  examples: string[];
}

export class BenchWorld {
  readonly ns: string;
  readonly dir: string;
  readonly sock: string;
  private daemon: ChildProcess | undefined;
  private logTail = '';
  private partialLine = '';
  readonly problems: LogProblems = { warn: 0, error: 0, examples: [] };
  /** Short container ID (12) -> the name the benchmark gave it, to name leftovers. */
  readonly names = new Map<string, string>();
  /** berthd's PID (nsenter execs the shim, which execs node: the same process). */
  pid = 0;
  daemonId = '';

  private constructor() {
    const id = randomBytes(3).toString('hex');
    // Tagged with its run, in its run's folder: what a benchmark killed half-way left is swept (test/lib/world.ts).
    this.ns = `berth-bench-${RUN_TAG}${id}`;
    this.dir = runFolder(`berth-bench-${id}-`);
    this.sock = path.join(this.dir, 'berth.sock');
  }

  /** Make the namespace and start berthd in it. On failure, what was made is removed. */
  static async create(): Promise<BenchWorld> {
    const w = new BenchWorld();
    try {
      await must('ip', ['netns', 'add', w.ns]);
      await must('ip', ['-n', w.ns, 'link', 'set', 'lo', 'up']);
      await w.start();
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

  private async start(): Promise<void> {
    const child = spawn('nsenter', berthdArgs(this.nsPath, this), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.on('data', (b: Buffer) => this.onLog(b));
    child.stderr.on('data', (b: Buffer) => this.onLog(b));
    this.daemon = child;
    this.pid = child.pid ?? 0;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (!this.alive()) throw new Error(`berthd exited ${String(child.exitCode ?? child.signalCode)}:\n${this.logTail}`);
      const ping = await this.api('GET', '/_ping').catch(() => undefined);
      if (ping?.status === 200) {
        this.daemonId = ((await this.api('GET', '/info')).body as { ID: string }).ID;
        return;
      }
      await sleep(50);
    }
    throw new Error(`berthd did not answer within 30 s:\n${this.logTail}`);
  }

  private onLog(b: Buffer): void {
    const text = this.partialLine + b.toString();
    const lines = text.split('\n');
    this.partialLine = lines.pop() ?? '';
    for (const l of lines) {
      const level = / (WARN|ERROR|FATAL) /.exec(l)?.[1];
      if (level === 'WARN') this.problems.warn += 1;
      else if (level) this.problems.error += 1;
      if (level && this.problems.examples.length < 8) this.problems.examples.push(l.slice(0, 300));
    }
    this.logTail = (this.logTail + b.toString()).slice(-LOG_KEEP);
  }

  /** The last lines of the daemon's log. */
  logLines(n: number): string {
    return this.logTail.split('\n').slice(-n).join('\n');
  }

  alive(): boolean {
    const c = this.daemon;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  /** berthd's resident memory in KiB (VmRSS), or NaN if it is gone. */
  rssKiB(): number {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
    } catch {
      return NaN;
    }
  }

  /** berthd's open file descriptors, or NaN if it is gone. */
  fdCount(): number {
    try {
      return fs.readdirSync(`/proc/${this.pid}/fd`).length;
    } catch {
      return NaN;
    }
  }

  /** berthd's soft limit on open files (RLIMIT_NOFILE), or NaN. */
  fdLimit(): number {
    try {
      const limits = fs.readFileSync(`/proc/${this.pid}/limits`, 'utf8');
      return Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? NaN);
    } catch {
      return NaN;
    }
  }

  /**
   * CPU time berthd used so far, ms: its own (utime+stime), and that of the child
   * processes it has waited for (cutime+cstime: conmon, socket helpers), plus all of its
   * tool-spawning helper's (kernel/spawner.ts: the helper and the ip, nft, nsenter,
   * unshare, runc … it ran).
   */
  cpuMs(): { own: number; children: number } {
    const daemon = procStat(this.pid);
    if (!daemon) return { own: NaN, children: NaN };
    const spawner = childNamed(this.pid, 'berth-spawner');
    const helper = spawner === undefined ? undefined : procStat(spawner);
    return { own: daemon.ownMs, children: daemon.childrenMs + (helper ? helper.ownMs + helper.childrenMs : 0) };
  }

  /** One Engine API request on the socket, timed from send to the end of the body. */
  api(method: string, urlPath: string, body?: unknown): Promise<ApiResult> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = data ? { 'Content-Type': 'application/json' } : {};
      const prefix = urlPath === '/_ping' ? '' : API;
      const t0 = performance.now();
      const req = http.request({ socketPath: this.sock, method, path: prefix + urlPath, headers, timeout: 120_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => {
          const ms = performance.now() - t0;
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* a stream or an empty body */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, ms });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 120 s`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  /** Like api, but a status of 400 or more is an error carrying the daemon's message. */
  async apiOk(method: string, urlPath: string, body?: unknown): Promise<ApiResult> {
    const r = await this.api(method, urlPath, body);
    if (r.status >= 400) throw new Error(`${method} ${urlPath}: ${r.status} ${messageOf(r.body)}`);
    return r;
  }

  /** The docker CLI against this daemon, timed from spawn to exit. */
  async docker(...args: string[]): Promise<TimedResult> {
    const t0 = performance.now();
    const r = await sh('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${this.sock}` }, timeoutMs: 120_000 });
    return { ...r, ms: performance.now() - t0 };
  }

  /** IDs of all containers, running or not. */
  async containerIds(): Promise<string[]> {
    const r = await this.apiOk('GET', '/containers/json?all=1');
    return (r.body as { Id: string }[]).map((c) => c.Id);
  }

  /**
   * Remove everything and check that nothing is left: containers through the API,
   * user networks, then the daemon (SIGTERM by PID, SIGKILL after 20 s), then the
   * namespace and the temp dir. Returns what had to be cleaned up by force.
   */
  async dispose(progress: (msg: string) => void = () => undefined): Promise<string[]> {
    const leaks: string[] = [];
    if (this.alive()) {
      await this.removeContainers(progress).catch((e: unknown) => leaks.push(`container removal: ${String(e)}`));
      await this.removeNetworks().catch((e: unknown) => leaks.push(`network removal: ${String(e)}`));
      leaks.push(...(await this.kernelLeftovers()));
    }
    await this.stopDaemon();
    const netnsDir = path.join(this.execRoot, 'netns');
    const after = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [];
    if (after.length > 0) leaks.push(`namespace files left after berthd stopped: ${after.length} (${after.slice(0, 5).join(' ')})`);
    leaks.push(...killProcessesMentioning(this.dir), ...removeDaemonCgroups(this.daemonId), ...(await unmountUnder(this.dir)));
    if (fs.existsSync(this.nsPath)) await sh('ip', ['netns', 'del', this.ns]);
    if (fs.existsSync(this.nsPath)) leaks.push(`netns ${this.ns} could not be deleted`);
    fs.rmSync(this.dir, { recursive: true, force: true });
    return leaks;
  }

  private async removeContainers(progress: (msg: string) => void): Promise<void> {
    const ids = await this.containerIds();
    let done = 0;
    const failures: string[] = [];
    await forEachLimit(ids, 4, async (id) => {
      const r = await this.api('DELETE', `/containers/${id}?force=1`);
      if (r.status >= 400 && r.status !== 404) failures.push(`${id.slice(0, 12)}: ${r.status} ${messageOf(r.body)}`);
      done += 1;
      if (done % 50 === 0 || done === ids.length) progress(`removing containers ${done}/${ids.length}`);
    });
    const left = await this.containerIds();
    if (failures.length > 0 || left.length > 0) throw new Error(`${left.length} containers left; ${failures.slice(0, 3).join('; ')}`);
  }

  private async removeNetworks(): Promise<void> {
    const nets = (await this.apiOk('GET', '/networks')).body as { Id: string; Name: string }[];
    for (const n of nets) {
      if (['bridge', 'host', 'none'].includes(n.Name)) continue;
      await this.apiOk('DELETE', `/networks/${n.Id}`);
    }
  }

  /** With no containers and no user networks: links other than lo and berth0, namespace files. */
  private async kernelLeftovers(): Promise<string[]> {
    const out: string[] = [];
    const links = (JSON.parse(await must('ip', ['-n', this.ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
    const extra = links.filter((l) => l !== 'lo' && l !== 'berth0');
    if (extra.length > 0) out.push(`links left in ${this.ns}: ${extra.length} (${extra.slice(0, 5).join(' ')})`);
    const netnsDir = path.join(this.execRoot, 'netns');
    // spare-*: namespaces berthd prepares ahead of time; checked after it stops.
    const files = (fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : []).filter((f) => !f.startsWith('spare-'));
    if (files.length > 0) {
      const named = files.map((f) => this.names.get(f) ?? f);
      out.push(`container netns files left: ${files.length} (${named.slice(0, 10).join(' ')})`);
    }
    return out;
  }

  private async stopDaemon(): Promise<void> {
    const child = this.daemon;
    if (!child || !this.alive()) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    const timedOut = await Promise.race([exited.then(() => false), sleep(20_000).then(() => true)]);
    if (timedOut && this.alive()) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

export function messageOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'message' in body) return String((body as { message: unknown }).message);
  return typeof body === 'string' ? body.trim().slice(0, 300) : JSON.stringify(body).slice(0, 300);
}

