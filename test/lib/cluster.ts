/**
 * A world of several hosts on one machine: an underlay namespace whose bridge stands for
 * the LAN, host namespaces joined to it (eth0 = 10.99.0.11, .12, …/24), each with its own
 * berthd (a World running in that namespace, with its own roots and socket), and a
 * "client" namespace standing for a machine outside the cluster (10.99.0.200).
 * `dispose()` disposes every host's World (which fails on what a daemon leaked), then
 * removes the namespaces.
 */
import { randomBytes } from 'node:crypto';
import { settled } from './async.js';
import { must, RUN_TAG, sh, World, type WorldOptions } from './world.js';

export const UNDERLAY_PREFIX = '10.99.0';
export const CLIENT_IP = `${UNDERLAY_PREFIX}.200`;

export class ClusterWorld {
  readonly hosts: World[] = [];
  /** Namespaces made on the underlay, in order (the client's, then the hosts'). */
  private readonly made: string[] = [];

  private constructor(
    readonly id: string,
    readonly underlay: string,
    readonly client: string,
  ) {}

  /** `n` hosts, each with a berthd started with `opts` (daemonArgs, daemonEnv). */
  static async create(n: number, opts: Omit<WorldOptions, 'netns' | 'prepare'> = {}): Promise<ClusterWorld> {
    const id = `${RUN_TAG}${randomBytes(3).toString('hex')}`;
    const c = new ClusterWorld(id, `berth-ul-${id}`, `berth-cl-${id}`);
    try {
      await must('ip', ['netns', 'add', c.underlay]);
      await must('ip', ['-n', c.underlay, 'link', 'add', 'ul0', 'type', 'bridge']);
      await must('ip', ['-n', c.underlay, 'link', 'set', 'ul0', 'up']);
      await c.attach(c.client, CLIENT_IP, 'cl');
      for (let i = 0; i < n; i++) {
        const ns = `berth-h${i + 1}-${id}`;
        await c.attach(ns, c.hostIp(i), `h${i + 1}`);
        // Each host shows its own name in node ls (they share this machine's hostname).
        c.hosts.push(await World.create({ ...opts, netns: ns, daemonEnv: { ...opts.daemonEnv, BERTH_HOSTNAME: `host${i + 1}` } }));
      }
    } catch (e: unknown) {
      await c.dispose().catch(() => undefined);
      throw e;
    }
    return c;
  }

  /** The underlay address of host `i` (0-based). */
  hostIp(i: number): string {
    return `${UNDERLAY_PREFIX}.${11 + i}`;
  }

  /** A namespace on the underlay: eth0 with `ip`/24, its other end `port` on the underlay's bridge. */
  private async attach(ns: string, ip: string, port: string): Promise<void> {
    await must('ip', ['netns', 'add', ns]);
    this.made.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await must('ip', ['-n', this.underlay, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await must('ip', ['-n', this.underlay, 'link', 'set', port, 'master', 'ul0', 'up']);
    await must('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }

  /** A swarm of them all: host 1 inits it (advertising its underlay address), the others join as workers. */
  async formSwarm(): Promise<void> {
    const [first, ...others] = this.hosts;
    await first!.dockerOk('swarm', 'init', '--advertise-addr', this.hostIp(0));
    const token = await first!.dockerOk('swarm', 'join-token', '-q', 'worker');
    for (const h of others) await h.dockerOk('swarm', 'join', '--token', token, `${this.hostIp(0)}:2377`);
  }

  /**
   * Remove every service (through host 1, a manager) and wait until no task's container is
   * left on any host: an agent would start one again while the world goes.
   */
  async removeServices(): Promise<void> {
    const h1 = this.hosts[0];
    if (!h1) return;
    for (const s of (await h1.docker('service', 'ls', '-q')).stdout.split('\n').filter((x) => x !== '')) await h1.docker('service', 'rm', s);
    await untilCluster(async () => (await Promise.all(this.hosts.map(async (h) => h.dockerOk('ps', '-aq', '--filter', 'label=com.docker.swarm.task')))).join(''), (ids) => ids === '', 30_000).catch(() => undefined);
  }

  /** Run a command in the client namespace (an outside machine on the LAN). */
  async fromClient(args: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return sh('nsenter', [`--net=/run/netns/${this.client}`, '--', ...args], { timeoutMs });
  }

  /**
   * Dispose every host's world (leak checks included), then remove the namespaces; throws
   * what leaked, overlay links (ov-*, vx-*) left in a host's namespace among it: their
   * containers are gone by then, so their instances must be too.
   */
  async dispose(): Promise<void> {
    const failures: string[] = [];
    // Every host's containers first, while the swarm still has its managers: a host
    // disposed after them would find the store without a quorum, and a removal that must
    // withdraw an endpoint from it would wait out the CLI's time (99-services saw it).
    await Promise.all(
      this.hosts.map(async (h) => {
        const ids = (await h.docker('ps', '-aq')).stdout.split('\n').filter((x) => x !== '');
        if (ids.length > 0) await h.docker('rm', '-f', ...ids);
      }),
    ).catch(() => undefined);
    for (const h of this.hosts) {
      try {
        await h.dispose();
      } catch (e: unknown) {
        failures.push(`${h.ns}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const links = (await sh('ip', ['-n', h.ns, '-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
      const overlay = links.filter((n) => /^(ov|vx)-/.test(n));
      if (overlay.length > 0) failures.push(`${h.ns}: overlay links left: ${overlay.join(' ')}`);
    }
    for (const ns of [...this.made, this.underlay]) await sh('ip', ['netns', 'del', ns]);
    if (failures.length > 0) throw new Error(failures.join('\n'));
  }
}

/**
 * `docker node ls` on `w` as hostname -> the other fields, joined by `|` (default
 * Status|ManagerStatus; 92-swarm-managers adds Availability).
 */
export async function nodeRows(w: World, fields = '{{.Status}}|{{.ManagerStatus}}'): Promise<Map<string, string>> {
  const out = await w.dockerOk('node', 'ls', '--format', `{{.Hostname}}|${fields}`);
  return new Map(out.split('\n').map((l) => [l.split('|')[0]!, l.split('|').slice(1).join('|')]));
}

/**
 * Poll a cluster fact every 250 ms until `ok` holds or `ms` pass; a probe that fails (a
 * manager just killed, a node reconnecting) counts as not yet. Returns the last answer.
 */
export async function untilCluster<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  return (await settled(async () => probe().catch(() => undefined), (v) => v !== undefined && ok(v), ms, 250)) as T;
}
