/**
 * A swarm for the cluster benchmarks: test/lib/cluster.ts's hosts on one underlay (each
 * berthd in a process group of its own, so a Ctrl-C reaches only the benchmark), formed
 * with the docker CLI (init on the first host, the others joined as workers), plus
 * plain namespaces on the same underlay for the references made without berth.
 */
import * as fs from 'node:fs';
import { ClusterWorld, UNDERLAY_PREFIX } from '../../test/lib/cluster.js';
import { must, sh, type World } from '../../test/lib/world.js';

/** A container the benchmark started: its ID, its namespace (for nsenter) and overlay address. */
export interface BenchContainer {
  id: string;
  name: string;
  pid: number;
  net: string;
  ip: string;
}

export class BenchSwarm {
  /** Plain namespaces the benchmark added on the underlay (removed by dispose). */
  private readonly extra: string[] = [];

  private constructor(readonly cluster: ClusterWorld) {}

  /** `n` hosts in a swarm: host 1 the manager, the others workers; host i with `dataPathAddr(i)`'s --data-path-addr where it gives one. */
  static async form(n: number, progress: (m: string) => void, dataPathAddr: (i: number) => string | undefined = () => undefined): Promise<BenchSwarm> {
    progress(`${n} hosts on an underlay, each with its berthd`);
    const c = await ClusterWorld.create(n, { detached: true });
    const s = new BenchSwarm(c);
    try {
      progress('swarm init on host1, the others join');
      const dp = (i: number): string[] => {
        const addr = dataPathAddr(i);
        return addr === undefined ? [] : ['--data-path-addr', addr];
      };
      await s.hosts[0]!.dockerOk('swarm', 'init', '--advertise-addr', c.hostIp(0), ...dp(0));
      const token = await s.hosts[0]!.dockerOk('swarm', 'join-token', '-q', 'worker');
      for (const [i, h] of s.hosts.entries()) if (i > 0) await h.dockerOk('swarm', 'join', '--token', token, ...dp(i), `${c.hostIp(0)}:2377`);
    } catch (e: unknown) {
      await s.dispose();
      throw e;
    }
    return s;
  }

  get hosts(): World[] {
    return this.cluster.hosts;
  }

  /** Make busybox present on every host (the first run would otherwise pull it inside a timed step). */
  async pullEverywhere(): Promise<void> {
    for (const h of this.hosts) await h.dockerOk('pull', '-q', 'busybox');
  }

  /** `docker run -d --network net busybox sleep` on a host, then what the benchmark needs of the container. */
  async run(host: World, name: string, net: string, extra: string[] = []): Promise<BenchContainer> {
    const id = await host.dockerOk('run', '-d', '--name', name, '--network', net, ...extra, 'busybox', 'sleep', '1000000');
    return this.inspect(host, id, name, net);
  }

  async inspect(host: World, id: string, name: string, net: string): Promise<BenchContainer> {
    const out = await host.dockerOk('inspect', '-f', `{{.State.Pid}} {{(index .NetworkSettings.Networks "${net}").IPAddress}}`, id);
    const [pid, ip] = out.split(' ');
    return { id, name, pid: Number(pid), net: `/proc/${pid}/ns/net`, ip: ip ?? '' };
  }

  /**
   * A plain namespace on the underlay (eth0 = 10.99.0.<last>/24, no berth, no nftables):
   * a machine of the same LAN for the references.
   */
  async plainHost(name: string, last: number): Promise<string> {
    const ns = `berth-${name}-${this.cluster.id}`;
    await must('ip', ['netns', 'add', ns]);
    this.extra.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    await must('ip', ['-n', this.cluster.underlay, 'link', 'add', name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await must('ip', ['-n', this.cluster.underlay, 'link', 'set', name, 'master', 'ul0', 'up']);
    await must('ip', ['-n', ns, 'addr', 'add', `${UNDERLAY_PREFIX}.${last}/24`, 'dev', 'eth0']);
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return ns;
  }

  /** A plain namespace with no link at all (an endpoint behind a plain host's bridge). */
  async plainNamespace(name: string): Promise<string> {
    const ns = `berth-${name}-${this.cluster.id}`;
    await must('ip', ['netns', 'add', ns]);
    this.extra.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Everything removed: the plain namespaces, then the cluster (containers, daemons, their
   * namespaces; it checks what each daemon leaked). Returns what was left or failed.
   */
  async dispose(): Promise<string[]> {
    const left: string[] = [];
    for (const ns of this.extra) await sh('ip', ['netns', 'del', ns]);
    for (const ns of this.extra) if (fs.existsSync(`/run/netns/${ns}`)) left.push(`netns ${ns}`);
    // A node's data-path namespace lives while it is in the swarm: leaving takes it (workers first).
    for (const h of [...this.hosts].reverse()) await h.docker('swarm', 'leave', '--force');
    try {
      await this.cluster.dispose();
    } catch (e: unknown) {
      left.push(e instanceof Error ? e.message : String(e));
    }
    return left;
  }
}
