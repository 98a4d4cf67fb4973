/**
 * The client's ledger of acknowledged effects: what the daemon said it did, so that a
 * restart can be checked for durability ("every call that returned success before the
 * kill is still true after it"). It doubles as the workload's model of the world.
 *
 * Each fact is 'yes', 'no' or 'either'. An acknowledged call sets it; a call whose answer
 * was lost in the kill may or may not have happened, so it widens the fact to 'either'
 * (both outcomes are fine; all-or-nothing is the structural checks' business). A refused
 * call (4xx/5xx) changes nothing: an error must mean no effect. After each kill point's
 * checks the ledger is rebuilt from what the daemon shows (`fromObserved`).
 */
import type { Violation } from './invariants.js';
import type { CtrView, Observed } from './observe.js';

export type Fact = 'yes' | 'no' | 'either';

/** The fact after an acknowledged change to `value`. */
export const acked = (value: boolean): Fact => (value ? 'yes' : 'no');
/** The fact after a change to `value` whose outcome is unknown. */
export const maybe = (cur: Fact, value: boolean): Fact => (cur === acked(value) ? cur : 'either');

export const PREDEFINED = new Set(['bridge', 'host', 'none']);
/** Subnets the workload gives with --subnet (10.77.<n>.0/24); others come from the default pools. */
export const EXPLICIT_SUBNET = /^10\.77\.(\d+)\.0\/24$/;

export interface NetFact {
  name: string;
  id: string | undefined;
  exists: Fact;
  internal: boolean;
  /** The --subnet it was created with. */
  subnet: string | undefined;
}

export type Kind = 'sleep' | 'httpd';

export interface CtrFact {
  name: string;
  id: string | undefined;
  kind: Kind;
  exists: Fact;
  running: Fact;
  /** Network name -> connected (configured). */
  nets: Map<string, Fact>;
  /** Network name -> --ip. */
  staticIps: Map<string, string>;
  hostPort: number | undefined;
  /** The PID while it runs, when known. */
  pid: number | undefined;
  /** Network name -> address while it runs, when known. */
  ips: Map<string, string>;
}

export class Ledger {
  readonly nets = new Map<string, NetFact>();
  readonly ctrs = new Map<string, CtrFact>();

  /** Networks that surely exist. */
  liveNets(): NetFact[] {
    return [...this.nets.values()].filter((n) => n.exists === 'yes');
  }

  liveCtrs(): CtrFact[] {
    return [...this.ctrs.values()].filter((c) => c.exists === 'yes');
  }

  /** Names of networks a container is (or may be) configured on. */
  netsOf(c: CtrFact): string[] {
    return [...c.nets].filter(([, f]) => f !== 'no').map(([n]) => n);
  }

  /** Containers that are (or may be) configured on a network. */
  usersOf(net: string): CtrFact[] {
    return [...this.ctrs.values()].filter((c) => c.exists !== 'no' && (c.nets.get(net) ?? 'no') !== 'no');
  }

  /** Fill in what an inspect right after an acknowledged start or connect shows. */
  noteRunning(c: CtrFact, view: CtrView): void {
    if (!view.running) return;
    c.pid = view.pid;
    for (const n of view.networks) if (n.ip) c.ips.set(n.name, n.ip);
  }

  /** Durability: every fact the ledger is sure of holds in the snapshot. */
  check(o: Observed): Violation[] {
    const out: Violation[] = [];
    const d = (detail: string): void => void out.push({ check: 'durability', detail });
    for (const f of this.nets.values()) {
      const n = o.networks.find((x) => x.name === f.name);
      if (f.exists === 'yes' && !n) d(`network ${f.name} was created (acknowledged), but is gone`);
      if (f.exists === 'no' && n) d(`network ${f.name} was removed (acknowledged), but exists (${n.id.slice(0, 12)})`);
      if (!n || f.exists === 'no') continue;
      if (f.id && n.id !== f.id) d(`network ${f.name} has ID ${n.id.slice(0, 12)}, acknowledged ${f.id.slice(0, 12)}`);
      if (n.internal !== f.internal) d(`network ${f.name}: internal is ${n.internal}, created ${f.internal}`);
      if (f.subnet && !n.subnets.includes(f.subnet)) d(`network ${f.name}: subnets ${n.subnets.join(',')}, created with ${f.subnet}`);
    }
    for (const f of this.ctrs.values()) {
      const c = o.containers.find((x) => x.name === f.name);
      if (f.exists === 'yes' && !c) d(`container ${f.name} was created (acknowledged), but is gone`);
      if (f.exists === 'no' && c) d(`container ${f.name} was removed (acknowledged), but exists (${c.status})`);
      if (!c || f.exists === 'no') continue;
      if (f.id && c.id !== f.id) d(`container ${f.name} has ID ${c.id.slice(0, 12)}, acknowledged ${f.id.slice(0, 12)}`);
      if (f.running === 'yes' && !c.running) d(`container ${f.name} was running, but is ${c.status} after the restart`);
      if (f.running === 'no' && c.running) d(`container ${f.name} was stopped (acknowledged), but runs`);
      if (f.running === 'yes' && c.running && f.pid !== undefined && c.pid !== f.pid) d(`container ${f.name} runs with PID ${c.pid}, not ${f.pid} (restarted)`);
      for (const [net, fact] of f.nets) {
        const cn = c.networks.find((x) => x.name === net);
        if (fact === 'yes' && !cn) d(`container ${f.name} was connected to ${net} (acknowledged), but is not`);
        if (fact === 'no' && cn) d(`container ${f.name} was disconnected from ${net} (acknowledged), but is connected`);
        const ip = f.ips.get(net);
        if (fact === 'yes' && f.running === 'yes' && c.running && cn && ip && cn.ip !== ip) d(`container ${f.name} on ${net}: address ${cn.ip || 'none'}, was ${ip}`);
        const want = f.staticIps.get(net);
        if (fact === 'yes' && c.running && cn && want && cn.ip !== want) d(`container ${f.name} on ${net}: address ${cn.ip || 'none'}, asked for --ip ${want}`);
      }
    }
    return out;
  }

  /** A ledger of exactly what the daemon shows (after the checks of a kill point). */
  static fromObserved(o: Observed): Ledger {
    const l = new Ledger();
    for (const n of o.networks) {
      if (PREDEFINED.has(n.name)) continue;
      const subnet = n.subnets.find((s) => EXPLICIT_SUBNET.test(s));
      l.nets.set(n.name, { name: n.name, id: n.id, exists: 'yes', internal: n.internal, subnet });
    }
    for (const c of o.containers) {
      const hostPort = c.portBindings.map((b) => Number(b.hostPort)).find((p) => p > 0);
      const fact: CtrFact = {
        name: c.name,
        id: c.id,
        kind: c.cmd[0] === 'httpd' ? 'httpd' : 'sleep',
        exists: 'yes',
        running: acked(c.running),
        nets: new Map(c.networks.map((n) => [n.name, 'yes'])),
        staticIps: new Map(c.networks.filter((n) => n.staticIp).map((n) => [n.name, n.staticIp])),
        hostPort,
        pid: undefined,
        ips: new Map(),
      };
      l.noteRunning(fact, c);
      l.ctrs.set(c.name, fact);
    }
    return l;
  }
}
