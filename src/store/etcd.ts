/**
 * The cluster store: the KvStore interface on etcd v3 (the npm etcd3 client over gRPC,
 * TLS with this node's certificate), every key under one prefix per cluster, so the
 * typed collections work unchanged. A commit is one etcd transaction. Beyond a local
 * store it can commit only if keys are still absent (an address taken by two hosts at
 * once goes to one of them) and watch a prefix from a revision (every node derives its
 * kernel from what the others write).
 */
import { ConsecutiveBreaker, handleWhen, circuitBreaker, retry, ExponentialBackoff } from 'cockatiel';
import { Etcd3, isRecoverableError, Range, type IKeyValue, type Namespace, type Watcher } from 'etcd3';
import { conflict, messageOf, unavailable } from '../errors.js';
import type { Json, KvStore, Op } from './kv.js';


/** What a conditional commit checks of a key: its last change, or its creation. */
export type StoreCondition = { key: string; version: number } | { key: string; created: number };

export interface EtcdStoreOptions {
  /** http(s)://ip:2379 of the members. */
  endpoints: string[];
  /** The root to trust and, for client-certificate auth, this client's certificate and key; none: plain HTTP. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** Every key lives under it ("/berth/<cluster id>/"). */
  prefix: string;
}

/** A change a watch saw: a put (with the value) or a delete. */
export type WatchEvent = { kind: 'put'; key: string; value: Json; revision: number } | { kind: 'delete'; key: string; revision: number };

export class EtcdStore implements KvStore {
  readonly client: Etcd3;
  private readonly ns: Namespace;
  private readonly watchers = new Set<Watcher>();

  constructor(readonly opts: EtcdStoreOptions) {
    this.client = new Etcd3({
      hosts: opts.endpoints,
      ...(opts.tls ? { credentials: { rootCertificate: opts.tls.ca, ...(opts.tls.cert ? { certChain: opts.tls.cert } : {}), ...(opts.tls.key ? { privateKey: opts.tls.key } : {}) } } : {}),
      dialTimeout: 5000,
      // A member that says "unavailable" is tried again soon: etcd is briefly so while a
      // member joins or a leader is elected; the client's default shuns it for 5 s.
      faultHandling: {
        host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 500, breaker: new ConsecutiveBreaker(5) }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: 3, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }) }),
      },
      // A request that hangs is an unreachable cluster: answer it, do not hold the caller.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 10_000 }),
    });
    this.ns = this.client.namespace(opts.prefix);
  }

  async list(prefix: string): Promise<Map<string, Json>> {
    const kvs = await this.range(prefix);
    return new Map(kvs.map((kv) => [kv.key.toString(), JSON.parse(kv.value.toString()) as Json]));
  }

  /**
   * Every key under `prefix`, in key order, read in pages at the first page's revision:
   * one answer may not pass the client's 4 MiB receive limit (about 10,000 endpoints).
   */
  private async range(prefix: string): Promise<IKeyValue[]> {
    const all = Range.prefix(prefix);
    const end = all.end;
    const out: IKeyValue[] = [];
    let start = all.start;
    let revision: string | undefined;
    for (;;) {
      const page = this.ns.getAll().inRange({ start, end }).limit(LIST_PAGE);
      if (revision !== undefined) page.revision(revision);
      const res = await this.call(async () => page.exec());
      revision ??= res.header.revision;
      out.push(...res.kvs);
      const last = res.kvs[res.kvs.length - 1];
      if (!res.more || !last) return out;
      start = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  async get(key: string): Promise<Json | undefined> {
    const v = await this.call(() => this.ns.get(key).string());
    return v === null ? undefined : (JSON.parse(v) as Json);
  }

  async commit(ops: readonly Op[]): Promise<void> {
    await this.commitIf([], ops);
  }

  /**
   * Apply `ops` in one transaction only if none of `absent` exists; otherwise nothing is
   * applied and Conflict names the first key taken.
   */
  async commitIf(absent: readonly string[], ops: readonly Op[]): Promise<void> {
    if (ops.length === 0) return;
    // etcd transactions need a comparison: with no key to test, one that always holds.
    const [first, ...rest] = absent.length > 0 ? absent : [];
    const txn = first === undefined ? this.ns.if(ops.map(keyOf)[0]!, 'Version', '>', -1) : this.ns.if(first, 'Version', '==', 0);
    for (const k of rest) txn.and(k, 'Version', '==', 0);
    txn.then(...ops.map((o) => ('put' in o ? this.ns.put(o.put).value(JSON.stringify(o.value)) : this.ns.delete().key(o.del))));
    const res = await this.call(async () => txn.commit());
    if (!res.succeeded) throw conflict(`${absent.join(', ')}: already taken`);
  }

  /**
   * Values with the revision of their last change (what Docker shows as Version.Index)
   * and of their creation (the oldest of a set of leased keys is an election's winner).
   */
  async listVersioned(prefix: string): Promise<Map<string, { value: Json; version: number; created: number }>> {
    const out = new Map<string, { value: Json; version: number; created: number }>();
    for (const kv of await this.range(prefix)) {
      out.set(this.relative(kv.key.toString()), { value: JSON.parse(kv.value.toString()) as Json, version: Number(kv.mod_revision), created: Number(kv.create_revision) });
    }
    return out;
  }

  /** Delete every key of this store (under its prefix): a swarm erased by its last manager. */
  async deleteAll(): Promise<void> {
    await this.call(async () => this.ns.delete().all());
  }

  /** Apply `ops` only if `key` was last changed at `version`; false when it was changed since (or is gone). */
  async commitIfVersion(key: string, version: number, ops: readonly Op[]): Promise<boolean> {
    return this.commitWhen([{ key, version }], ops);
  }

  /**
   * Apply `ops` only if every condition holds: the key was last changed at `version`, or
   * made at `created` (a leased key still the one it was: its lease has not lapsed since).
   * False, and nothing applied, when one does not.
   */
  async commitWhen(conds: readonly StoreCondition[], ops: readonly Op[]): Promise<boolean> {
    const [first, ...rest] = conds;
    if (!first || ops.length === 0) throw new Error('commitWhen needs a condition and an op');
    const cmp = (c: StoreCondition): [string, 'Mod' | 'Create', '==', number] => ('version' in c ? [c.key, 'Mod', '==', c.version] : [c.key, 'Create', '==', c.created]);
    const txn = this.ns.if(...cmp(first));
    for (const c of rest) txn.and(...cmp(c));
    txn.then(...ops.map((o) => ('put' in o ? this.ns.put(o.put).value(JSON.stringify(o.value)) : this.ns.delete().key(o.del))));
    return (await this.call(async () => txn.commit())).succeeded;
  }

  /** The etcd members (managers): their IDs, names (node IDs; '' until a new one starts), URLs, and whether they are learners yet. */
  async members(): Promise<EtcdMemberInfo[]> {
    const res = await this.call(async () => this.client.cluster.memberList({}));
    return res.members.map(memberInfo);
  }

  /**
   * Add a member as a learner (a manager that joins or is promoted): it does not count
   * for the quorum until promoteLearner, so one that never starts stalls nothing.
   * Its ID, and every member after it (the new one without a name yet).
   */
  async addLearner(peerUrl: string): Promise<{ id: string; members: EtcdMemberInfo[] }> {
    const res = await this.call(async () => this.client.cluster.memberAdd({ peerURLs: [peerUrl], isLearner: true }));
    return { id: res.member.ID, members: res.members.map(memberInfo) };
  }

  /**
   * Make a learner a voting member. 'not-ready' while it has not caught up with the
   * leader yet (etcd refuses then); 'done' also when it votes already.
   */
  async promoteLearner(id: string): Promise<'done' | 'not-ready'> {
    try {
      await this.client.cluster.memberPromote({ ID: id });
      return 'done';
    } catch (e: unknown) {
      const m = messageOf(e);
      // etcd's words (etcdserver/api/v3rpc/rpctypes): a voter already; a learner still behind.
      if (/can only promote a learner member$/.test(m)) return 'done';
      if (/can only promote a learner member which is in sync with leader|rpc not supported for learner|unhealthy cluster/.test(m)) return 'not-ready';
      throw unavailable(`the cluster store is not reachable: ${m}`);
    }
  }

  async removeMember(id: string): Promise<void> {
    await this.call(async () => this.client.cluster.memberRemove({ ID: id }));
  }

  /** The ID of the member that leads now. */
  async leaderId(): Promise<string> {
    return (await this.call(async () => this.client.maintenance.status())).leader;
  }

  /** Put `key` bound to a lease of `ttlSeconds`, kept alive until released; it goes when the lease lapses. */
  lease(ttlSeconds: number): ReturnType<Etcd3['lease']> {
    return this.ns.lease(ttlSeconds, { autoKeepAlive: true });
  }

  /** The store's current revision (watch from it to miss nothing after a list). */
  async revision(): Promise<number> {
    const res = await this.call(() => this.ns.getAll().prefix('').limit(1).exec());
    return Number(res.header.revision);
  }

  /**
   * Follow every change under `prefix` after `fromRevision`. `onLost` hears when the watch
   * can no longer be resumed (the revision was compacted): the caller lists again.
   */
  async watch(prefix: string, fromRevision: number, onEvent: (e: WatchEvent) => void, onLost: (e: unknown) => void): Promise<() => Promise<void>> {
    const w = await this.ns.watch().prefix(prefix).startRevision(String(fromRevision + 1)).create();
    this.watchers.add(w);
    // The namespace gives keys relative to the prefix already.
    const key = (kv: IKeyValue): string => kv.key.toString();
    w.on('put', (kv) => onEvent({ kind: 'put', key: key(kv), value: JSON.parse(kv.value.toString()) as Json, revision: Number(kv.mod_revision) }));
    w.on('delete', (kv) => onEvent({ kind: 'delete', key: key(kv), revision: Number(kv.mod_revision) }));
    w.on('error', onLost);
    return async () => {
      this.watchers.delete(w);
      await w.cancel();
    };
  }

  async close(): Promise<void> {
    for (const w of this.watchers) await w.cancel().catch(() => undefined);
    this.client.close();
  }

  /** A key as the callers name it: without the cluster's prefix (raw answers carry it). */
  private relative(key: string): string {
    return key.startsWith(this.opts.prefix) ? key.slice(this.opts.prefix.length) : key;
  }

  /** etcd's errors as berth's: an unreachable cluster is Unavailable. */
  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e: unknown) {
      throw unavailable(`the cluster store is not reachable: ${messageOf(e)}`);
    }
  }
}

const keyOf = (o: Op): string => ('put' in o ? o.put : o.del);

/** An etcd member as berth sees it. */
export interface EtcdMemberInfo {
  id: string;
  /** Its --name: the node ID of the manager it belongs to ('' until it first starts). */
  name: string;
  peerUrls: string[];
  clientUrls: string[];
  /** A learner does not vote yet (a manager that is still catching up). */
  learner: boolean;
}

const memberInfo = (m: { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner?: boolean }): EtcdMemberInfo => ({
  id: m.ID,
  name: m.name,
  peerUrls: m.peerURLs,
  clientUrls: m.clientURLs,
  learner: m.isLearner === true,
});

/** Keys per answer of a list: far below the 4 MiB limit even with large values. */
const LIST_PAGE = 1000;
