/**
 * A node connected to its swarm: its etcd member (managers), its client of the cluster
 * store, the lease that says it is alive, and its join endpoint (managers). Opened by
 * init, join and a daemon start that finds node.json; closed by leave and shutdown.
 */
import * as fs from 'node:fs';
import { messageOf, unavailable } from '../errors.js';
import { EtcdStore } from '../store/etcd.js';
import type { NodeRole } from './ca.js';
import { EtcdMember, clientUrl, tlsFiles } from './etcd-member.js';
import { serveJoin, type JoinServerOptions } from './join.js';
import { ALIVE } from './stored.js';

/** How long a node may go unheard before it is Down (the lease's TTL). */
export const LEASE_TTL_S = 10;

export interface SessionOptions {
  dir: string;
  clusterId: string;
  nodeId: string;
  role: NodeRole;
  addr: string;
  etcdEndpoints: string[];
  /** Managers: how their etcd member starts (undefined: it has data already). */
  member?: { state: 'new' | 'existing'; initialCluster: string };
  /** Managers: the join endpoint. */
  join?: Omit<JoinServerOptions, 'tls' | 'log'>;
  /** The lease was lost and made again: what was bound to the old one must be put again. */
  onRenewed?: () => void;
  log: (m: string) => void;
}

export class Session {
  private lease: ReturnType<EtcdStore['lease']> | undefined;
  private closed = false;
  private join: { close(): Promise<void> } | undefined;

  private constructor(
    readonly opts: SessionOptions,
    readonly store: EtcdStore,
    private readonly member: EtcdMember | undefined,
  ) {}

  /** Start what this node runs and connect; resolves once the store answers (or throws after `waitMs`). */
  static async open(opts: SessionOptions, waitMs = 30_000): Promise<Session> {
    const tls = tlsFiles(opts.dir);
    const member =
      opts.role === 'manager'
        ? EtcdMember.start({
            name: opts.nodeId,
            dir: opts.dir,
            address: opts.addr,
            state: opts.member?.state ?? 'existing',
            initialCluster: opts.member?.initialCluster ?? `${opts.nodeId}=https://${opts.addr}:2380`,
            clusterId: opts.clusterId,
            log: opts.log,
          })
        : undefined;
    // A manager asks its own member first; a worker the managers it knows.
    const endpoints = member ? [clientUrl(opts.addr), ...opts.etcdEndpoints.filter((e) => e !== clientUrl(opts.addr))] : opts.etcdEndpoints;
    const store = new EtcdStore({
      endpoints,
      tls: { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) },
      prefix: `/berth/${opts.clusterId}/`,
    });
    const s = new Session(opts, store, member);
    try {
      await s.ready(waitMs);
      await s.keepAlive();
      if (opts.join) s.join = await serveJoin({ ...opts.join, tls: { cert: fs.readFileSync(tls.cert, 'utf8'), key: fs.readFileSync(tls.key, 'utf8') }, log: opts.log });
    } catch (e: unknown) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** Poll the store until it answers (an etcd member just started, or a quorum forming). */
  private async ready(waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        await this.store.revision();
        return;
      } catch (e: unknown) {
        this.member?.check();
        if (Date.now() > deadline) throw unavailable(`the cluster store did not answer within ${waitMs / 1000} s: ${messageOf(e)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** alive/<node>, bound to a lease this node keeps alive; made again if the lease is lost. */
  private async keepAlive(): Promise<void> {
    if (this.closed) return;
    const lease = this.store.lease(LEASE_TTL_S);
    this.lease = lease;
    lease.on('lost', (e: unknown) => {
      if (this.closed || this.lease !== lease) return;
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
   * Leave: stop saying this node is alive (others see it Down at once), stop serving joins,
   * disconnect, stop the etcd member. `keepMember` false also removes the member from etcd
   * first (a manager leaving for good, while the others still have a quorum).
   */
  async close(opts: { removeMember?: boolean } = {}): Promise<void> {
    this.closed = true;
    await this.join?.close().catch(() => undefined);
    if (this.lease) await this.lease.revoke().catch(() => undefined);
    if (opts.removeMember && this.member) {
      try {
        const me = (await this.store.members()).find((m) => m.name === this.opts.nodeId);
        if (me) await this.store.removeMember(me.id);
      } catch (e: unknown) {
        this.opts.log(`swarm: removing this node's etcd member: ${messageOf(e)}`);
      }
    }
    await this.store.close().catch(() => undefined);
    await this.member?.stop();
  }
}
