/**
 * The chaos client's operations: random, seeded Engine API calls on networks and
 * containers, chosen from the ledger's model and recorded in it as they are answered.
 *
 * Ops that run at the same time touch disjoint objects (each op names the containers
 * and networks it touches), so the ledger never depends on the order the daemon chose.
 * Every API call of an op goes through `step`, which updates the ledger: acknowledged ->
 * the new value; no answer after sending -> 'either' and the op ends; refused -> the op
 * ends with nothing changed.
 */
import { isNoAnswer, messageOf, type ApiResult, type EngineClient } from './client.js';
import { maybe, EXPLICIT_SUBNET, type CtrFact, type Kind, type Ledger, type NetFact } from './ledger.js';
import { obj, str } from './json.js';
import { containerView } from './observe.js';
import type { Rng } from '../lib/prng.js';

export interface OpRecord {
  label: string;
  /** pending while in flight; then done, refused (an error status), unknown (answer lost), unsent. */
  outcome: 'pending' | 'done' | 'refused' | 'unknown' | 'unsent';
  /** The call in flight or the last one made. */
  call: string;
  /** Refusal: status and message. */
  detail: string;
  startedMs: number;
}

export interface Op {
  label: string;
  /** Objects the op may change: "c:<name>", "n:<name>". */
  touches: string[];
  /** Never throws: the outcome is in `rec`. */
  run(rec: OpRecord): Promise<void>;
}

export interface WorkloadLimits {
  maxNetworks: number;
  maxContainers: number;
}

/** Thrown by `step` to end an op early (refused or unanswered). */
class OpEnded extends Error {}

const IMAGE = 'busybox';
const HTTPD_CMD = ['httpd', '-f', '-p', '80', '-h', '/www'];
const SLEEP_CMD = ['sleep', '100000'];

export class Workload {
  /** Monotonic counters: names and host ports are never reused within a run. */
  private netSeq = 0;
  private ctrSeq = 0;
  private portSeq = 0;

  constructor(
    private readonly client: EngineClient,
    public ledger: Ledger,
    private readonly limits: WorkloadLimits,
  ) {}

  /** After a resync: counters stay above every name the daemon shows. */
  adopt(ledger: Ledger): void {
    this.ledger = ledger;
    for (const n of ledger.nets.keys()) this.netSeq = Math.max(this.netSeq, Number(/^n(\d+)$/.exec(n)?.[1] ?? -1) + 1);
    for (const c of ledger.ctrs.keys()) this.ctrSeq = Math.max(this.ctrSeq, Number(/^c(\d+)$/.exec(c)?.[1] ?? -1) + 1);
  }

  /** A random op whose objects are not in `busy`; undefined when none fits. */
  next(rng: Rng, busy: ReadonlySet<string>): Op | undefined {
    const free = (keys: readonly string[]): boolean => keys.every((k) => !busy.has(k));
    const l = this.ledger;
    const nets = l.liveNets().filter((n) => free([`n:${n.name}`]));
    const ctrs = l.liveCtrs().filter((c) => free([`c:${c.name}`, ...l.netsOf(c).map((n) => `n:${n}`)]));
    const runningCtrs = ctrs.filter((c) => c.running === 'yes');
    const stopped = ctrs.filter((c) => c.running === 'no');
    const unusedNets = nets.filter((n) => l.usersOf(n.name).length === 0);
    const busyNets = nets.filter((n) => l.usersOf(n.name).some((c) => c.running === 'yes' && free([`c:${c.name}`])));
    const connectable = ctrs.filter((c) => nets.some((n) => !l.netsOf(c).includes(n.name)));
    const multi = ctrs.filter((c) => [...c.nets.values()].filter((f) => f === 'yes').length >= 2);
    const nNets = [...l.nets.values()].filter((n) => n.exists !== 'no').length;
    const nCtrs = [...l.ctrs.values()].filter((c) => c.exists !== 'no').length;
    const kind = rng.weighted<string>([
      ['net-create', nNets < 2 ? 4 : nNets < this.limits.maxNetworks ? 0.8 : 0],
      ['net-rm', unusedNets.length > 0 ? (nNets >= this.limits.maxNetworks ? 1.5 : 0.5) : 0],
      ['net-rm-busy', busyNets.length > 0 ? 0.15 : 0],
      ['ctr-create', nCtrs < 3 ? 5 : nCtrs < this.limits.maxContainers ? 2.5 : 0],
      ['start', stopped.length > 0 ? 1 : 0],
      ['stop', runningCtrs.length > 0 ? 0.8 : 0],
      ['rm', ctrs.length > 0 ? (nCtrs >= this.limits.maxContainers ? 2 : 0.9) : 0],
      ['connect', connectable.length > 0 ? 1.2 : 0],
      ['disconnect', multi.length > 0 ? 1 : 0],
    ]);
    switch (kind) {
      case 'net-create':
        return this.netCreate(rng);
      case 'net-rm':
        return this.netRm(rng.pick(unusedNets));
      case 'net-rm-busy': {
        const n = rng.pick(busyNets);
        return this.netRm(n, l.usersOf(n.name).map((c) => `c:${c.name}`));
      }
      case 'ctr-create': {
        const op = this.ctrCreate(rng, nets);
        return free(op.touches) ? op : undefined;
      }
      case 'start':
        return this.start(rng.pick(stopped));
      case 'stop':
        return this.stop(rng.pick(runningCtrs), rng.chance(0.5) ? 0 : 1);
      case 'rm':
        return this.rm(rng.pick(ctrs));
      case 'connect': {
        const c = rng.pick(connectable);
        const n = rng.pick(nets.filter((x) => !l.netsOf(c).includes(x.name)));
        return this.connect(rng, c, n);
      }
      case 'disconnect': {
        const c = rng.pick(multi);
        return this.disconnect(c, rng.pick([...c.nets].filter(([, f]) => f === 'yes').map(([n]) => n)));
      }
      default:
        return undefined;
    }
  }

  /**
   * One API call of an op. Acknowledged (a status in `ok`): `onAck` records the effect.
   * Answer lost after sending: `onUnknown` widens the ledger and the op ends. Refused or
   * never sent: the op ends with nothing recorded.
   */
  private async step(
    rec: OpRecord,
    call: { method: string; path: string; body?: unknown },
    ok: readonly number[],
    onAck: (r: ApiResult) => void,
    onUnknown: () => void,
  ): Promise<ApiResult> {
    rec.call = `${call.method} ${call.path}`;
    let r: ApiResult;
    try {
      r = await this.client.api(call.method, call.path, call.body);
    } catch (e: unknown) {
      if (!isNoAnswer(e)) throw e;
      if (e.sent) {
        rec.outcome = 'unknown';
        onUnknown();
      } else rec.outcome = 'unsent';
      rec.detail = e.code;
      throw new OpEnded();
    }
    if (!ok.includes(r.status)) {
      rec.outcome = 'refused';
      rec.detail = `${r.status} ${messageOf(r.body)}`;
      throw new OpEnded();
    }
    onAck(r);
    return r;
  }

  private op(label: string, touches: string[], body: (rec: OpRecord) => Promise<void>): Op {
    return {
      label,
      touches,
      run: async (rec) => {
        try {
          await body(rec);
          rec.outcome = 'done';
        } catch (e: unknown) {
          if (e instanceof OpEnded) return;
          rec.outcome = 'refused';
          rec.detail = `client error: ${e instanceof Error ? e.message : String(e)}`;
        }
      },
    };
  }

  private netCreate(rng: Rng): Op {
    const name = `n${this.netSeq++}`;
    const internal = rng.chance(0.25);
    const used = new Set([...this.ledger.nets.values()].filter((n) => n.exists !== 'no' && n.subnet).map((n) => EXPLICIT_SUBNET.exec(n.subnet!)?.[1]));
    let subnet: string | undefined;
    if (rng.chance(0.5)) {
      const octet = rng.shuffle(Array.from({ length: 250 }, (_, i) => String(i + 1))).find((o) => !used.has(o));
      subnet = octet ? `10.77.${octet}.0/24` : undefined;
    }
    const fact: NetFact = { name, id: undefined, exists: 'no', internal, subnet };
    const label = `network create ${name}${subnet ? ` --subnet ${subnet}` : ''}${internal ? ' --internal' : ''}`;
    return this.op(label, [`n:${name}`], async (rec) => {
      this.ledger.nets.set(name, fact);
      const body = { Name: name, Driver: 'bridge', Internal: internal, CheckDuplicate: true, ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}) };
      await this.step(
        rec,
        { method: 'POST', path: '/networks/create', body },
        [201],
        (r) => {
          fact.exists = 'yes';
          fact.id = str(obj(r.body).Id);
        },
        () => (fact.exists = maybe(fact.exists, true)),
      );
    });
  }

  private netRm(n: NetFact, alsoTouches: string[] = []): Op {
    return this.op(`network rm ${n.name}${alsoTouches.length > 0 ? ' (in use)' : ''}`, [`n:${n.name}`, ...alsoTouches], async (rec) => {
      await this.step(
        rec,
        { method: 'DELETE', path: `/networks/${n.name}` },
        [204],
        () => (n.exists = 'no'),
        () => (n.exists = maybe(n.exists, false)),
      );
    });
  }

  private freePort(): number {
    const used = new Set(this.ledger.liveCtrs().map((c) => c.hostPort));
    for (;;) {
      const p = 20000 + (this.portSeq++ % 10000);
      if (!used.has(p)) return p;
    }
  }

  private freeIp(net: NetFact, rng: Rng): string | undefined {
    const octet = EXPLICIT_SUBNET.exec(net.subnet ?? '')?.[1];
    if (!octet) return undefined;
    const used = new Set(
      [...this.ledger.ctrs.values()].filter((c) => c.exists !== 'no').flatMap((c) => [c.staticIps.get(net.name), c.ips.get(net.name)]),
    );
    const host = rng.shuffle(Array.from({ length: 150 }, (_, i) => 100 + i)).find((h) => !used.has(`10.77.${octet}.${h}`));
    return host === undefined ? undefined : `10.77.${octet}.${host}`;
  }

  private ctrCreate(rng: Rng, nets: readonly NetFact[]): Op {
    const name = `c${this.ctrSeq++}`;
    const kind: Kind = rng.chance(0.45) ? 'httpd' : 'sleep';
    const primary = nets.length === 0 || rng.chance(0.2) ? undefined : rng.pick(nets);
    const others = nets.filter((n) => n !== primary);
    const second = primary && others.length > 0 && rng.chance(0.3) ? rng.pick(others) : undefined;
    const netNames = [primary?.name ?? 'bridge', ...(second ? [second.name] : [])];
    const staticIps = new Map<string, string>();
    for (const n of [primary, second]) {
      if (!n || !rng.chance(0.35)) continue;
      const ip = this.freeIp(n, rng);
      if (ip) staticIps.set(n.name, ip);
    }
    const hostPort = kind === 'httpd' && rng.chance(0.6) ? this.freePort() : undefined;
    const startIt = rng.chance(0.85);
    const endpoints: Record<string, unknown> = {};
    for (const n of netNames) {
      const ip = staticIps.get(n);
      endpoints[n] = ip ? { IPAMConfig: { IPv4Address: ip } } : {};
    }
    const body = {
      Image: IMAGE,
      Cmd: kind === 'httpd' ? HTTPD_CMD : SLEEP_CMD,
      ...(hostPort ? { ExposedPorts: { '80/tcp': {} } } : {}),
      HostConfig: { NetworkMode: netNames[0], ...(hostPort ? { PortBindings: { '80/tcp': [{ HostIp: '', HostPort: String(hostPort) }] } } : {}) },
      NetworkingConfig: { EndpointsConfig: endpoints },
    };
    const fact: CtrFact = {
      name,
      id: undefined,
      kind,
      exists: 'no',
      running: 'no',
      nets: new Map(netNames.map((n) => [n, 'yes'])),
      staticIps,
      hostPort,
      pid: undefined,
      ips: new Map(),
    };
    const flags = [...netNames.map((n) => `--network ${n}${staticIps.has(n) ? ` --ip ${staticIps.get(n)}` : ''}`), ...(hostPort ? [`-p ${hostPort}:80`] : [])];
    const label = `${startIt ? 'run' : 'create'} ${name} ${flags.join(' ')} ${kind}`;
    return this.op(label, [`c:${name}`, ...netNames.map((n) => `n:${n}`)], async (rec) => {
      this.ledger.ctrs.set(name, fact);
      await this.step(
        rec,
        { method: 'POST', path: `/containers/create?name=${name}`, body },
        [201],
        (r) => {
          fact.exists = 'yes';
          fact.id = str(obj(r.body).Id);
        },
        () => (fact.exists = maybe(fact.exists, true)),
      );
      if (startIt) await this.startSteps(rec, fact);
    });
  }

  private async startSteps(rec: OpRecord, c: CtrFact): Promise<void> {
    await this.step(
      rec,
      { method: 'POST', path: `/containers/${c.name}/start` },
      [204, 304],
      () => (c.running = 'yes'),
      () => (c.running = maybe(c.running, true)),
    );
    await this.inspectInto(rec, c);
  }

  /** Record the PID and addresses of a container the ledger says runs. */
  private async inspectInto(rec: OpRecord, c: CtrFact): Promise<void> {
    const r = await this.step(rec, { method: 'GET', path: `/containers/${c.name}/json` }, [200], () => undefined, () => undefined);
    this.ledger.noteRunning(c, containerView(r.body));
  }

  private start(c: CtrFact): Op {
    return this.op(`start ${c.name}`, [`c:${c.name}`, ...this.ledger.netsOf(c).map((n) => `n:${n}`)], (rec) => this.startSteps(rec, c));
  }

  private stop(c: CtrFact, t: number): Op {
    return this.op(`stop -t ${t} ${c.name}`, [`c:${c.name}`, ...this.ledger.netsOf(c).map((n) => `n:${n}`)], async (rec) => {
      await this.step(
        rec,
        { method: 'POST', path: `/containers/${c.name}/stop?t=${t}` },
        [204, 304],
        () => {
          c.running = 'no';
          c.pid = undefined;
          c.ips.clear();
        },
        () => (c.running = maybe(c.running, false)),
      );
    });
  }

  private rm(c: CtrFact): Op {
    return this.op(`rm -f ${c.name}`, [`c:${c.name}`, ...this.ledger.netsOf(c).map((n) => `n:${n}`)], async (rec) => {
      await this.step(
        rec,
        { method: 'DELETE', path: `/containers/${c.name}?force=1` },
        [204],
        () => {
          c.exists = 'no';
          c.running = 'no';
        },
        () => {
          c.exists = maybe(c.exists, false);
          c.running = maybe(c.running, false);
        },
      );
    });
  }

  private connect(rng: Rng, c: CtrFact, n: NetFact): Op {
    const ip = rng.chance(0.3) ? this.freeIp(n, rng) : undefined;
    const label = `network connect${ip ? ` --ip ${ip}` : ''} ${n.name} ${c.name}`;
    return this.op(label, [`c:${c.name}`, `n:${n.name}`, ...this.ledger.netsOf(c).map((x) => `n:${x}`)], async (rec) => {
      await this.step(
        rec,
        { method: 'POST', path: `/networks/${n.name}/connect`, body: { Container: c.name, EndpointConfig: ip ? { IPAMConfig: { IPv4Address: ip } } : {} } },
        [200],
        () => {
          c.nets.set(n.name, 'yes');
          if (ip) c.staticIps.set(n.name, ip);
        },
        () => {
          c.nets.set(n.name, maybe(c.nets.get(n.name) ?? 'no', true));
          if (ip) c.staticIps.set(n.name, ip);
        },
      );
      if (c.running === 'yes') await this.inspectInto(rec, c);
    });
  }

  private disconnect(c: CtrFact, net: string): Op {
    return this.op(`network disconnect ${net} ${c.name}`, [`c:${c.name}`, ...this.ledger.netsOf(c).map((x) => `n:${x}`)], async (rec) => {
      await this.step(
        rec,
        { method: 'POST', path: `/networks/${net}/disconnect`, body: { Container: c.name } },
        [200],
        () => {
          c.nets.set(net, 'no');
          c.ips.delete(net);
          c.staticIps.delete(net);
        },
        () => c.nets.set(net, maybe(c.nets.get(net) ?? 'yes', false)),
      );
    });
  }
}

