/**
 * Traffic probes against a snapshot (observe.ts): real packets, so a daemon whose model
 * and kernel agree but whose data path is broken still fails. HTTP from one running
 * container to a running httpd container on a shared network (exec wget), name lookups
 * through the embedded DNS on user networks (exec nslookup), and published httpd ports
 * from the lan namespace (curl to the host's lan address).
 */
import type { Violation } from './invariants.js';
import type { CtrView, Observed } from './observe.js';
import type { Rng } from '../lib/prng.js';
import { LAN_HOST_IP } from '../lib/world.js';
import type { ChaosWorld } from './world.js';

const v = (check: string, detail: string): Violation => ({ check, detail });
const running = (o: Observed): CtrView[] => o.containers.filter((c) => c.running);

export interface ProbeLimits {
  /** Container-to-container HTTP probes. */
  reach: number;
  /** Embedded-DNS lookups. */
  dns: number;
  /** Published-port probes from the lan (cheap; all of them by default). */
  published: number;
}

const HTTPD_PAGE = /berth/;

/**
 * Real traffic against the snapshot: HTTP from one running container to a running httpd
 * container on a shared network, name lookups through the embedded DNS on user networks,
 * and every published httpd port from the lan. Probes are sampled with `rng`; a failing
 * probe is retried before it counts.
 */
export async function probeTraffic(w: ChaosWorld, o: Observed, rng: Rng, limits: ProbeLimits): Promise<{ violations: Violation[]; sent: ProbeLimits }> {
  const out: Violation[] = [];
  const sent: ProbeLimits = { reach: 0, dns: 0, published: 0 };
  const nets = new Map(o.networks.map((n) => [n.id, n]));
  const up = running(o);
  const isHttpd = (c: CtrView): boolean => c.cmd[0] === 'httpd';
  type Pair = { from: CtrView; to: CtrView; net: string; ip: string };
  const pairs: Pair[] = [];
  for (const to of up) {
    for (const tn of to.networks) {
      if (!tn.ip) continue;
      for (const from of up) {
        if (from.id === to.id || !from.networks.some((fn) => fn.networkId === tn.networkId && fn.ip)) continue;
        pairs.push({ from, to, net: tn.networkId, ip: tn.ip });
      }
    }
  }
  for (const p of rng.shuffle(pairs.filter((x) => isHttpd(x.to))).slice(0, limits.reach)) {
    sent.reach += 1;
    const ok = await retry(async () => {
      // busybox 1.35's wget -T crashes (SIGSEGV); busybox timeout bounds it instead.
      const r = await w.client.exec(p.from.id, ['timeout', '5', 'wget', '-qO-', `http://${p.ip}/`]);
      return r.code === 0 && HTTPD_PAGE.test(r.stdout) ? '' : `exit ${r.code} ${r.stderr.trim().slice(0, 120)}`;
    });
    if (ok) out.push(v('reach', `${p.from.name} cannot fetch http://${p.ip}/ from ${p.to.name} on ${nets.get(p.net)?.name}: ${ok}`));
  }
  // Several shared networks: the resolver may answer with the address on any of them.
  const sharedIps = (from: CtrView, to: CtrView): string[] =>
    to.networks.filter((tn) => tn.ip && from.networks.some((fn) => fn.networkId === tn.networkId && fn.ip)).map((tn) => tn.ip);
  // Docker gives a container the embedded DNS when it was created on a user network;
  // one created on the default bridge keeps the host's resolvers even when connected later.
  const userPairs = pairs.filter((x) => nets.get(x.net)?.name !== 'bridge' && !['', 'default', 'bridge'].includes(x.from.networkMode));
  for (const p of rng.shuffle(userPairs).slice(0, limits.dns)) {
    sent.dns += 1;
    const accepted = sharedIps(p.from, p.to).filter((ip) => o.networks.find((n) => n.name !== 'bridge' && n.containers.some((a) => a.ipv4 === ip)));
    const ok = await retry(async () => {
      const r = await w.client.exec(p.from.id, ['timeout', '5', 'nslookup', p.to.name]);
      const answers = [...r.stdout.matchAll(/Address(?: \d+)?:\s*([0-9.]+)$/gm)].map((m) => m[1]!).filter((a) => a !== '127.0.0.11');
      const good = answers.length > 0 && answers.every((a) => accepted.includes(a));
      return good ? '' : `got [${answers.join(' ')}], want one of [${accepted.join(' ')}] (exit ${r.code}) ${r.stderr.trim().slice(0, 80)}`;
    });
    if (ok) out.push(v('dns', `${p.from.name} cannot resolve ${p.to.name} on ${nets.get(p.net)?.name}: ${ok}`));
  }
  const published = up.filter(isHttpd).flatMap((c) => c.ports.filter((b) => b.key === '80/tcp' && (b.hostIp === '' || b.hostIp === '0.0.0.0')).map((b) => ({ c, port: b.hostPort })));
  for (const p of rng.shuffle(published).slice(0, limits.published)) {
    sent.published += 1;
    const url = `http://${LAN_HOST_IP}:${p.port}/`;
    const ok = await retry(async () => {
      const r = await w.inNs(w.lan, ['curl', '-sS', '-m', '3', url]);
      return r.code === 0 && HTTPD_PAGE.test(r.stdout) ? '' : `curl exit ${r.code} ${r.stderr.trim().slice(0, 120)}`;
    });
    if (ok) out.push(v('published', `${url} from the lan does not reach ${p.c.name}: ${ok}`));
  }
  return { violations: out, sent };
}

/** Run a probe up to three times; '' is success, else the last failure. */
async function retry(probe: () => Promise<string>): Promise<string> {
  let last = '';
  for (let i = 0; i < 3; i++) {
    try {
      last = await probe();
    } catch (e: unknown) {
      last = e instanceof Error ? e.message : String(e);
    }
    if (last === '') return '';
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}
