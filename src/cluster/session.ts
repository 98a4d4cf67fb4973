/**
 * A node connected to its swarm: its etcd member (managers, unless the swarm keeps its
 * state in an external etcd), its client of the cluster store, the lease that says it is
 * alive, and its join endpoint (managers). Opened by init, join, a role change and a
 * daemon start that finds node.json; closed by leave, a role change and shutdown.
 */
import * as fs from 'node:fs';
import { messageOf, unavailable } from '../errors.js';
import { EtcdStore } from '../store/etcd.js';
import type { NodeRole } from './ca.js';
import { EtcdMember, clientUrl, peerUrl, tlsFiles } from './etcd-member.js';
import { serveJoin, type JoinServerOptions } from './join.js';
import { DEFAULT_HEARTBEAT_NS } from './model.js';
import { ALIVE, CLUSTER, CLUSTER_ID } from './stored.js';

/**
 * How long a node may go unheard before it is Down: its lease's TTL, one heartbeat period
 * of the swarm (Dispatcher.HeartbeatPeriod, 5 s by default), 2 s at least. The lease is
 * renewed every third of it, so a node is Down after three renewals missed in a row: a
 * network outage of a second or so passes unseen, a dead node's tasks run elsewhere
 * within about 5 s (Docker: 17–20 s). `swarm update --dispatcher-heartbeat` trades one
 * for the other.
 */
export function leaseTtlFor(heartbeatPeriodNs: number): number {
  return Math.max(2, Math.round(heartbeatPeriodNs / 1e9));
}

export const LEASE_TTL_S = leaseTtlFor(DEFAULT_HEARTBEAT_NS);

/** An etcd cluster berth does not run (berthd --cluster-store): where it is and how to trust it. */
export interface ExternalStore {
  /** http(s)://host:port of its members. */
  endpoints: string[];
  /** Its root, and this node's client certificate and key when it asks for one; none: plain HTTP. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

export interface SessionOptions {
  dir: string;
  clusterId: string;
  nodeId: string;
  role: NodeRole;
  addr: string;
  /** The swarm's own etcd members' client URLs, as last known (unused with `external`). */
  etcdEndpoints: string[];
  /** The swarm keeps its state in this etcd: no member of berth's own. */
  external?: ExternalStore;
  /**
   * Managers: how their etcd member starts (undefined: it has data already). `learnerId`:
   * it was added as a learner, to be made a voter once it has caught up.
   */
  member?: { state: 'new' | 'existing'; initialCluster: string; learnerId?: string };
  /** Managers: the join endpoint. */
  join?: Omit<JoinServerOptions, 'tls' | 'log'>;
  /** The lease was lost and made again: what was bound to the old one must be put again. */
  onRenewed?: () => void;
  /** The lease was lost: the owner reconnects (instead of renewing it through this client). */
  onLost?: () => void;
  log: (m: string) => void;
}

export class Session {
  private lease: ReturnType<EtcdStore['lease']> | undefined;
  /** The TTL of `lease`, s. */
  private ttl = LEASE_TTL_S;
  private closed = false;
  private join: { close(): Promise<void> } | undefined;

  private constructor(
    readonly opts: SessionOptions,
    readonly store: EtcdStore,
    private readonly member: EtcdMember | undefined,
  ) {}

  /** Start what this node runs and connect; resolves once the store answers (or throws after `waitMs`). */
  static async open(opts: SessionOptions, waitMs = 30_000): Promise<Session> {
    const own = tlsFiles(opts.dir);
    const tls = opts.external ? opts.external.tls : { ca: fs.readFileSync(own.ca), cert: fs.readFileSync(own.cert), key: fs.readFileSync(own.key) };
    const storeOn = (endpoints: string[]): EtcdStore => new EtcdStore({ endpoints, ...(tls ? { tls } : {}), prefix: `/berth/${opts.clusterId}/` });
    const others = opts.etcdEndpoints.filter((e) => e !== clientUrl(opts.addr));
    // A manager demoted while it was away starts no member: etcd refuses to run a removed one (it exits, again at each try); its follower makes it a worker.
    const removed = opts.role === 'manager' && !opts.external && !opts.member && others.length > 0 && (await removedWhileAway(storeOn(others), opts));
    if (removed) opts.log("swarm: this node's etcd member was taken out of the cluster while it was away (a demotion); connecting through the others");
    const member =
      opts.role === 'manager' && !opts.external && !removed
        ? EtcdMember.start({
            name: opts.nodeId,
            dir: opts.dir,
            address: opts.addr,
            state: opts.member?.state ?? 'existing',
            initialCluster: opts.member?.initialCluster ?? `${opts.nodeId}=${peerUrl(opts.addr)}`,
            clusterId: opts.clusterId,
            log: opts.log,
          })
        : undefined;
    try {
      // A learner answers no client: it is made a voter through the others first.
      if (member && opts.member?.learnerId) await promote(storeOn(others), opts.member.learnerId, member, waitMs);
    } catch (e: unknown) {
      await member?.stop();
      throw e;
    }
    // A manager asks its own member too; a worker (or a manager without one) the members it knows.
    const store = storeOn(opts.external ? opts.external.endpoints : member ? [clientUrl(opts.addr), ...others] : others);
    const s = new Session(opts, store, member);
    try {
      await s.ready(waitMs);
      // The swarm's heartbeat sets the TTL (a new swarm has none yet: the default).
      const cluster = await store.get(CLUSTER.kind.prefix + CLUSTER_ID);
      if (cluster !== undefined) s.ttl = leaseTtlFor(CLUSTER.kind.check(cluster).spec.heartbeatPeriod);
      await s.keepAlive();
      if (opts.join) s.join = await serveJoin({ ...opts.join, tls: { cert: fs.readFileSync(own.cert, 'utf8'), key: fs.readFileSync(own.key, 'utf8') }, log: opts.log });
    } catch (e: unknown) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** Whether this node runs an etcd member of the swarm's own. */
  get hasMember(): boolean {
    return this.member !== undefined;
  }

  /** Poll the store until it answers (an etcd member just started, or a quorum forming). */
  private async ready(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await this.store.revision();
        return;
      } catch (e: unknown) {
        // A member that died (removed from the cluster while this node was away) matters only when it is the only way in.
        if (this.opts.etcdEndpoints.every((u) => u === clientUrl(this.opts.addr))) this.member?.check();
        if (Date.now() > deadline) throw unavailable(`the cluster store did not answer within ${waitMs / 1000} s: ${messageOf(e)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /**
   * The swarm's heartbeat changed: a lease of the new TTL, alive/<node> put under it. The
   * old one is returned for the caller to revoke once it has put this node's other keys
   * again (they move to the new lease); undefined when the TTL is the same.
   */
  async retune(ttl: number): Promise<ReturnType<EtcdStore['lease']> | undefined> {
    if (ttl === this.ttl || this.closed) return undefined;
    const old = this.lease;
    this.ttl = ttl;
    await this.keepAlive();
    return old;
  }

  /** alive/<node>, bound to a lease this node keeps alive; made again if the lease is lost. */
  private async keepAlive(): Promise<void> {
    if (this.closed) return;
    const lease = this.store.lease(this.ttl);
    this.lease = lease;
    lease.on('lost', (e: unknown) => {
      if (this.closed || this.lease !== lease) return;
      if (this.opts.onLost) {
        this.opts.log(`swarm: lease lost (${messageOf(e)}); reconnecting`);
        this.opts.onLost();
        return;
      }
      this.opts.log(`swarm: lease lost (${messageOf(e)}); renewing`);
      const retry = (): void => {
        this.keepAlive().then(() => this.opts.onRenewed?.(), (err: unknown) => {
          this.opts.log(`swarm: cannot renew the lease: ${messageOf(err)}`);
          if (!this.closed) setTimeout(retry, 2000).unref();
        });
      };
      retry();
    });
    const op = ALIVE.put(this.opts.nodeId, { since: new Date().toISOString() });
    if (!('put' in op)) return;
    await lease.put(op.put).value(JSON.stringify(op.value));
  }

  /** Put a key bound to this node's lease: it goes when the node stops being alive. */
  async putLeased(key: string, value: unknown): Promise<void> {
    if (!this.lease) throw unavailable('this node has no lease in the cluster store');
    await this.lease.put(key).value(JSON.stringify(value));
  }

  /**
   * Disconnect: stop serving joins, stop the etcd member. Unless `keepLease`, stop saying
   * this node is alive first (others see it Down at once); with it the lease is let go
   * and lapses in its TTL, while the next session puts this node's keys again under its
   * own (a role change, a reconnect). `removeMember` also takes this node's etcd member
   * out of the cluster first (a manager leaving for good, while the others still have a
   * quorum).
   */
  async close(opts: { removeMember?: boolean; keepLease?: boolean } = {}): Promise<void> {
    this.closed = true;
    await this.join?.close().catch(() => undefined);
    if (opts.keepLease) this.lease?.release();
    else if (this.lease) await this.lease.revoke().catch(() => undefined);
    if (opts.removeMember && this.member) await this.removeOwnMember();
    await this.store.close().catch(() => undefined);
    await this.member?.stop();
  }

  /** Take this node's etcd member out of the cluster, if it is still in. */
  async removeOwnMember(): Promise<void> {
    try {
      const me = (await this.store.members()).find((m) => m.name === this.opts.nodeId || m.peerUrls.includes(peerUrl(this.opts.addr)));
      if (me) await this.store.removeMember(me.id);
    } catch (e: unknown) {
      this.opts.log(`swarm: removing this node's etcd member: ${messageOf(e)}`);
    }
  }
}

/**
 * Whether the other members answer (within a few seconds) without this node's member among
 * them. Not knowing (no quorum: the whole swarm restarting) is not removed.
 */
async function removedWhileAway(store: EtcdStore, opts: SessionOptions): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), 3000);
  });
  try {
    const members = await Promise.race([store.members(), late]).catch(() => undefined);
    return members !== undefined && !members.some((m) => m.name === opts.nodeId || m.peerUrls.includes(peerUrl(opts.addr)));
  } finally {
    clearTimeout(timer);
    await store.close().catch(() => undefined);
  }
}

/** Make the learner `id` (this node's member, just started) a voter, through the other members; gives up after `waitMs`. */
async function promote(store: EtcdStore, id: string, member: EtcdMember, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      member.check();
      const done = await store.promoteLearner(id).catch((e: unknown) => {
        if (Date.now() > deadline) throw e;
        return 'not-ready' as const;
      });
      if (done === 'done') return;
      if (Date.now() > deadline) throw unavailable(`this node's etcd member did not catch up with the cluster within ${waitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await store.close().catch(() => undefined);
  }
}
