/**
 * A throwaway world for integration tests: a fresh network namespace standing for
 * the host, berthd started inside it with its own data/exec roots and socket, and
 * helpers to drive it with the docker CLI and berth and to read the kernel.
 * `dispose()` removes everything and fails when something was left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as http from 'node:http';
import { settled } from './async.js';
import { DAEMON_ID_FILE, killProcessesMentioning, removeDaemonCgroups, unmountUnder } from './leftovers.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The run a world belongs to: scripts/test.sh's (BERTH_TEST_RUN, its folders under the
 * run's TMPDIR), or else this process's own (t<pid>, /tmp/berth-run-<pid>: a test file run
 * alone, a benchmark, a script). Its tag is part of every namespace name a world makes and
 * its folder holds the worlds' folders, so what a run that died before its clean-up left
 * (killed, or ended by an error its clean-up never saw) is found and removed by the next
 * sweep (test/leftovers-cli.ts, which scripts/test.sh runs first).
 */
const OWN_RUN = process.env.BERTH_TEST_RUN === undefined;
export const RUN_TAG = `${process.env.BERTH_TEST_RUN ?? `t${process.pid}`}-`;
const RUN_DIR = OWN_RUN ? `/tmp/berth-run-${process.pid}` : os.tmpdir();
// A run of its own that ends as it should leaves its folder empty: it goes too.
if (OWN_RUN) {
  process.once('exit', () => {
    try {
      fs.rmdirSync(RUN_DIR);
    } catch {
      /* never made, or something left in it: the next sweep names it */
    }
  });
}

/** A new folder of this run's (a world's roots and socket), named from `prefix`. */
export function runFolder(prefix: string): string {
  fs.mkdirSync(RUN_DIR, { recursive: true });
  return fs.mkdtempSync(path.join(RUN_DIR, prefix));
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a command (argv array) and collect its output; never throws on exit codes. */
export function sh(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // the command may exit before reading its input
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Like sh, but a non-zero exit is an error carrying stderr. */
export async function must(cmd: string, args: readonly string[], opts: Parameters<typeof sh>[2] = {}): Promise<string> {
  const r = await sh(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The lan's side of the daemon's namespace (lan0) and the lan's own address (its eth0). */
export const LAN_HOST_IP = '192.0.2.1';
export const LAN_PEER_IP = '192.0.2.2';

/**
 * A namespace `lan` standing for another host on the daemon namespace `ns`'s network:
 * a veth lan0 (LAN_HOST_IP/24) there, eth0 (LAN_PEER_IP/24, default route back) in the
 * lan. The caller deletes `lan` (also when this fails half-way).
 */
export async function makeLan(ns: string, lan: string): Promise<void> {
  await must('ip', ['netns', 'add', lan]);
  await must('ip', ['-n', ns, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan]);
  await must('ip', ['-n', ns, 'addr', 'add', `${LAN_HOST_IP}/24`, 'dev', 'lan0']);
  await must('ip', ['-n', ns, 'link', 'set', 'lan0', 'up']);
  await must('ip', ['-n', lan, 'addr', 'add', `${LAN_PEER_IP}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', lan, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', lan, 'link', 'set', 'lo', 'up']);
  await must('ip', ['-n', lan, 'route', 'add', 'default', 'via', LAN_HOST_IP]);
}

/**
 * nsenter's arguments that run this repository's berthd (or BERTH_DAEMON's, another
 * checkout's bin/berthd, for side-by-side benchmarks) in `nsPath`, with its roots and socket.
 */
export function berthdArgs(nsPath: string, roots: { dataRoot: string; execRoot: string; sock: string }, extra: readonly string[] = []): string[] {
  return [`--net=${nsPath}`, '--', process.env.BERTH_DAEMON ?? path.join(REPO, 'bin/berthd'), '--data-root', roots.dataRoot, '--exec-root', roots.execRoot, '-H', `unix://${roots.sock}`, ...extra];
}

export interface WorldOptions {
  /** Extra berthd flags. */
  daemonArgs?: string[];
  /** Extra variables in berthd's environment (BERTH_RESOLV_CONF …). */
  daemonEnv?: Record<string, string>;
  /** Runs in the fresh namespace before berthd first starts (e.g. to make a -b bridge). */
  prepare?: (w: World) => Promise<void>;
  /** Run in this existing namespace (a host of a ClusterWorld), which the world then neither makes nor deletes. */
  netns?: string;
  /** berthd in a process group of its own: a Ctrl-C on the terminal reaches only the caller (benchmarks). */
  detached?: boolean;
}

export class World {
  readonly ns: string;
  readonly nsPath: string;
  readonly dir: string;
  readonly sock: string;
  private daemon: ChildProcess | undefined;
  private daemonLog = '';
  /** The daemon's ID (its cgroup parent is berth-<first 12>). */
  daemonId = '';

  private constructor(readonly opts: WorldOptions) {
    const id = randomBytes(3).toString('hex');
    this.ns = opts.netns ?? `berth-it-${RUN_TAG}${id}`;
    this.nsPath = `/run/netns/${this.ns}`;
    this.dir = runFolder(`berth-it-${id}-`);
    this.sock = path.join(this.dir, 'berth.sock');
  }

  static async create(opts: WorldOptions = {}): Promise<World> {
    const w = new World(opts);
    try {
      if (!opts.netns) {
        await must('ip', ['netns', 'add', w.ns]);
        await must('ip', ['-n', w.ns, 'link', 'set', 'lo', 'up']);
      }
      await opts.prepare?.(w);
      await w.start();
    } catch (e: unknown) {
      // A daemon that never answered, or a prepare that failed: nothing of it may stay.
      await w.stop('SIGKILL');
      await w.removeRest();
      throw e;
    }
    return w;
  }

  get dataRoot(): string {
    return path.join(this.dir, 'data');
  }

  get execRoot(): string {
    return path.join(this.dir, 'exec');
  }

  /** Start berthd in the world's namespace and wait until it answers /_ping. */
  async start(extraArgs: string[] = []): Promise<void> {
    const args = berthdArgs(this.nsPath, this, [...(this.opts.daemonArgs ?? []), ...extraArgs]);
    const child = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.opts.daemonEnv }, detached: this.opts.detached ?? false });
    child.stdout!.on('data', (b: Buffer) => (this.daemonLog += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.daemonLog += b.toString()));
    this.daemon = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`berthd exited ${child.exitCode}:\n${this.daemonLog}`);
      if ((await pingStatus(this.sock)) === 200) {
        this.daemonId = ((await this.api('GET', '/info')).body as { ID: string }).ID;
        fs.writeFileSync(path.join(this.dir, DAEMON_ID_FILE), this.daemonId);
        return;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`berthd did not answer within 20 s:\n${this.daemonLog}`);
  }

  /** Stop the daemon: SIGTERM (clean) or SIGKILL (crash). Resolves when it has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.daemon;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    // nsenter execs berthd's shell shim which execs node: the pid is the daemon's own.
    child.kill(signal);
    await exited;
    this.daemon = undefined;
  }

  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', extraArgs: string[] = []): Promise<void> {
    await this.stop(signal);
    await this.start(extraArgs);
  }

  get log(): string {
    return this.daemonLog;
  }

  docker(...args: string[]): Promise<Result> {
    return sh('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${this.sock}` } });
  }

  /** docker that must succeed; returns trimmed stdout. */
  async dockerOk(...args: string[]): Promise<string> {
    const r = await this.docker(...args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  }

  berth(...args: string[]): Promise<Result> {
    return sh(path.join(REPO, 'bin/berth'), ['-H', `unix://${this.sock}`, ...args]);
  }

  /** A raw Engine API request, for what the docker CLI checks before the daemon sees it. */
  api(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        { socketPath: this.sock, method, path: urlPath, headers: data ? { 'Content-Type': 'application/json' } : {} },
        (res) => {
          let text = '';
          res.on('data', (b: Buffer) => (text += b.toString()));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  /** A "lan" namespace standing for another machine: 192.0.2.2/24, behind the host's lan0 (192.0.2.1). */
  async addLan(): Promise<string> {
    const lan = `${this.ns}-lan`;
    this.extraNamespaces.push(lan);
    await makeLan(this.ns, lan);
    return lan;
  }

  readonly extraNamespaces: string[] = [];
  private readonly children: ChildProcess[] = [];

  /**
   * A long-running process in a namespace (e.g. a server in the lan), ended by dispose.
   * `netns` is a name under /run/netns or a path (a container's /proc/<pid>/ns/net).
   */
  spawnIn(netns: string, args: string[]): ChildProcess {
    const nsPath = netns.startsWith('/') ? netns : `/run/netns/${netns}`;
    const child = spawn('nsenter', [`--net=${nsPath}`, '--', ...args], { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  /** Run a command in a namespace of this world. */
  inNs(netns: string, args: string[], timeoutMs = 15_000): Promise<Result> {
    return sh('nsenter', [`--net=/run/netns/${netns}`, '--', ...args], { timeoutMs });
  }

  /** iproute2 in the world's namespace. */
  ip(...args: string[]): Promise<string> {
    return must('ip', ['-n', this.ns, ...args]);
  }

  /** Link names in the world's namespace. */
  /**
   * The namespace's link names, once the bridges of removed networks are gone (berthd
   * renames them `berthrm-*` and the kernel deletes them after the rm answered).
   */
  async links(): Promise<string[]> {
    const names = async (): Promise<string[]> => (JSON.parse(await this.ip('-j', 'link', 'show')) as { ifname: string }[]).map((r) => r.ifname);
    return settled(names, (all) => !all.some((n) => n.startsWith('berthrm-')));
  }

  /** Remove all containers, stop the daemon, delete the namespace and the roots; throws if anything leaked. */
  async dispose(): Promise<void> {
    const leaks: string[] = [];
    if (this.daemon) {
      const ps = await this.docker('ps', '-aq');
      if (ps.code !== 0) leaks.push(`docker ps -aq failed: ${ps.stderr.trim()}`);
      const ids = ps.stdout.split('\n').filter((x) => x !== '');
      const rm = ids.length > 0 ? await this.docker('rm', '-f', ...ids) : undefined;
      if (rm && rm.code !== 0) leaks.push(`docker rm -f failed: ${rm.stderr.trim()}`);
      // Spare sandboxes belong to no container; the daemon deletes them when it stops.
      const netns = path.join(this.execRoot, 'netns');
      const left = fs.existsSync(netns) ? fs.readdirSync(netns).filter((f) => !f.startsWith('spare-')) : [];
      if (left.length > 0) leaks.push(`netns files: ${left.join(' ')}`);
    }
    await this.stop('SIGTERM');
    leaks.push(...(await this.removeRest()));
    if (leaks.length > 0) throw new Error(`leaked: ${leaks.join('; ')}`);
  }

  /**
   * With the daemon stopped: what it left is removed and named (processes naming the
   * folder, e.g. a manager's etcd member, which dies with its daemon; its cgroups; mounts),
   * then the namespace (unless it is a cluster host's) and the folder.
   */
  private async removeRest(): Promise<string[]> {
    // The test's own helpers (a lan's server) first: they name the folder too, and are no leak.
    await Promise.all(this.children.filter((c) => c.exitCode === null && c.signalCode === null).map(async (c) => new Promise((res) => c.once('exit', res).kill('SIGKILL'))));
    const leaks = [...killProcessesMentioning(this.dir), ...removeDaemonCgroups(this.daemonId), ...(await unmountUnder(this.dir))];
    for (const ns of this.extraNamespaces) await sh('ip', ['netns', 'del', ns]);
    if (!this.opts.netns) await sh('ip', ['netns', 'del', this.ns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
    return leaks;
  }
}

/** The status of GET /_ping on a unix socket, or 0 when nothing answers. */
function pingStatus(socketPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
  });
}
