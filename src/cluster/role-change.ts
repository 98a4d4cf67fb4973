/**
 * A node follows its own record in the store: when a manager promoted or demoted it
 * (docker node promote | demote), or did so while it was down, it changes its role.
 *
 * Promotion: it asks a living manager's join endpoint (/promote), showing its node
 * certificate, for a manager's certificate of a fresh key, the CA's key and its etcd
 * member's place (added as a learner); then it reconnects as a manager, its member
 * catching up and made a voter. A promotion that fails puts the node back as it was and
 * is tried again.
 * Demotion: its member was taken out by the manager that demoted it (if not, it takes it
 * out itself); it signs itself a worker's certificate with the CA key it still holds,
 * forgets that key and its member's data, and reconnects as a worker through the other
 * members.
 * Both keep the node's lease (its keys are put again under the next one), so the rest of
 * the swarm never sees it Down for it.
 *
 * It also keeps the members' client URLs fresh on disk as managers come and go, so a
 * worker (or a demoted manager) reconnecting after a loss knows every way in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { messageOf, unavailable } from '../errors.js';
import type { WatchEvent } from '../store/etcd.js';
import { splitHostPort, SWARM_PORT } from './addresses.js';
import { nodeRequest, signNode, type KeyedCert } from './ca.js';
import { clientUrl, tlsFiles, writeTls } from './etcd-member.js';
import { requestPromotion, type JoinGrant } from './join.js';
import type { NodeState } from './node-state.js';
import type { Session } from './session.js';
import { ALIVE, CLUSTER, CLUSTER_ID, NODES } from './stored.js';

/** How a manager's etcd member starts after a role change: joining, as a learner to be made a voter. */
export interface MemberStart {
  state: 'new' | 'existing';
  initialCluster: string;
  learnerId?: string;
}

/** What the node lends the follower: its connection, and the ways to swap it. */
export interface RoleHost {
  /** <data-root>/cluster */
  dir: string;
  /** The CA key's file name under dir. */
  caKeyFile: string;
  log: (m: string) => void;
  /** The node's state and session now (undefined while it is not connected). */
  current(): { state: NodeState; session: Session } | undefined;
  /** Run `f` alone among the node's membership changes (init, join, leave, role changes). */
  exclusively<T>(f: () => Promise<T>): Promise<T>;
  /** Disconnect, keeping the lease (it lapses unless the next connection puts the keys again). */
  disconnect(): Promise<void>;
  /** Connect as `next`, open its shared networks, follow, save `next`. Throws (disconnected, nothing saved) when it cannot. */
  connectAs(next: NodeState, ca: KeyedCert | undefined, member?: MemberStart): Promise<void>;
  /** Connect as `state` in the background, retrying until it works. */
  reconnectLater(state: NodeState): void;
  /** Save `state` as the node's (fresh endpoints). */
  save(state: NodeState): void;
  /** The cluster object changed (a swarm update): apply what concerns this node (its lease's TTL). */
  clusterChanged(): Promise<void>;
}

const FIRST_RETRY_MS = 2000;
const MAX_RETRY_MS = 30_000;

/** One per node; follows the records through each session in turn. */
export class RoleFollower {
  private session: Session | undefined;
  private stopWatches: (() => Promise<void>)[] = [];
  private work: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private notBefore = 0;
  /** The store's members as last seen (node IDs): a change of their records matters. */
  private managers = new Set<string>();

  constructor(private readonly host: RoleHost) {}

  /**
   * Follow the node records and the cluster object through `session` from now; checks the
   * node's own role at once. Only a change of this node's record or of a manager's wakes
   * it (workers coming and going do not).
   */
  async follow(session: Session, nodeId: string): Promise<void> {
    const rev = await session.store.revision();
    this.session = session;
    const lost = (what: string) => (e: unknown): void => {
      this.host.log(`swarm: the watch of the ${what} ended (${messageOf(e)})`);
      this.schedule();
      this.scheduleCluster();
    };
    const changed = (e: WatchEvent): void => {
      const id = e.key.slice(NODES.kind.prefix.length);
      const manager = e.kind === 'put' && (e.value as { spec?: { role?: unknown } } | null)?.spec?.role === 'manager';
      if (id === nodeId || manager || this.managers.has(id)) this.schedule();
    };
    this.stopWatches.push(await session.store.watch(NODES.kind.prefix, rev, changed, lost('nodes')));
    this.stopWatches.push(await session.store.watch(CLUSTER.kind.prefix, rev, () => this.scheduleCluster(), lost('swarm')));
    this.schedule();
  }

  /** Stop following (the session goes); a change under way finishes. */
  async unfollow(): Promise<void> {
    this.session = undefined;
    clearTimeout(this.timer);
    const stops = this.stopWatches;
    this.stopWatches = [];
    for (const stop of stops) await stop().catch(() => undefined);
  }

  private schedule(): void {
    this.work = this.work.then(async () => this.run());
  }

  private scheduleCluster(): void {
    this.work = this.work.then(async () => {
      if (!this.session) return;
      await this.host.exclusively(async () => this.host.clusterChanged()).catch((e: unknown) => this.host.log(`swarm: applying the swarm's update: ${messageOf(e)}`));
    });
  }

  private async run(): Promise<void> {
    if (!this.session) return;
    const wait = this.notBefore - Date.now();
    if (wait > 0) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.schedule(), wait);
      this.timer.unref();
      return;
    }
    try {
      await this.host.exclusively(async () => {
        await this.refreshEndpoints();
        await this.reconcile();
      });
      this.failures = 0;
    } catch (e: unknown) {
      this.failures++;
      const delay = Math.min(FIRST_RETRY_MS * 2 ** (this.failures - 1), MAX_RETRY_MS);
      this.host.log(`swarm: role change: ${messageOf(e)}; trying again in ${delay / 1000} s`);
      this.notBefore = Date.now() + delay;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.schedule(), delay);
      this.timer.unref();
    }
  }

  /** The node's role as its record wants it, taken if it differs. */
  private async reconcile(): Promise<void> {
    const now = this.host.current();
    if (!now || now.session !== this.session) return;
    const raw = await now.session.store.get(NODES.kind.prefix + now.state.nodeId);
    // A node removed from the swarm (node rm) keeps what it is until it leaves.
    if (raw === undefined) return;
    const wanted = NODES.kind.check(raw).spec.role;
    if (wanted === now.state.role) return;
    this.host.log(`swarm: this node is to be a ${wanted} now`);
    if (wanted === 'manager') await promoteSelf(this.host, now.state, now.session);
    else await demoteSelf(this.host, now.state, now.session);
  }

  /** The members' client URLs on disk, so a reconnection knows every way in (none with an external store). */
  private async refreshEndpoints(): Promise<void> {
    const now = this.host.current();
    if (!now || now.session !== this.session || now.state.external) return;
    const members = await now.session.store.members();
    this.managers = new Set(members.map((m) => m.name));
    const urls = members.filter((m) => !m.learner).flatMap((m) => m.clientUrls).sort();
    if (urls.length > 0 && urls.join(',') !== [...now.state.etcdEndpoints].sort().join(',')) this.host.save({ ...now.state, etcdEndpoints: urls });
  }
}

/** A worker the swarm made a manager: a manager's certificate, the CA's key and an etcd member, from a living manager. */
async function promoteSelf(host: RoleHost, state: NodeState, session: Session): Promise<void> {
  const files = tlsFiles(host.dir);
  const old = { ca: fs.readFileSync(files.ca, 'utf8'), cert: fs.readFileSync(files.cert, 'utf8'), key: fs.readFileSync(files.key, 'utf8') };
  const own = await nodeRequest(state.nodeId);
  const grant = await askManagers(session, state, (remote) => requestPromotion(remote, { csr: own.csr, joinPort: state.listenPort }, old));
  const next: NodeState = { ...state, role: 'manager', etcdEndpoints: grant.etcdEndpoints.length > 0 ? grant.etcdEndpoints : state.etcdEndpoints };
  await host.disconnect();
  writeTls(host.dir, { ca: grant.ca, cert: grant.cert, key: own.key });
  fs.writeFileSync(path.join(host.dir, host.caKeyFile), grant.caKey ?? '', { mode: 0o600 });
  try {
    await host.connectAs(next, { cert: grant.ca, key: grant.caKey ?? '' }, grant.initialCluster ? { state: 'existing', initialCluster: grant.initialCluster, ...(grant.learnerId ? { learnerId: grant.learnerId } : {}) } : undefined);
  } catch (e: unknown) {
    // Back to what it was; its learner stays in etcd (not voting) for the next attempt.
    forgetManager(host);
    writeTls(host.dir, old);
    await host.connectAs(state, undefined).catch(() => host.reconnectLater(state));
    throw e;
  }
}

/** The managers' join endpoints, the living first, this node's own not; the first that grants wins. */
async function askManagers(session: Session, state: NodeState, ask: (remote: { host: string; port: number }) => Promise<JoinGrant>): Promise<JoinGrant> {
  const [nodes, alive] = await Promise.all([session.store.list(NODES.kind.prefix), session.store.list(ALIVE.kind.prefix)]);
  const managers = [...nodes.values()]
    .map((v) => NODES.kind.check(v))
    .filter((n) => n.id !== state.nodeId && n.managerAddr !== undefined && n.spec.role === 'manager')
    .sort((a, b) => Number(alive.has(ALIVE.kind.prefix + b.id)) - Number(alive.has(ALIVE.kind.prefix + a.id)));
  let last: unknown = unavailable('no manager of the swarm to ask');
  for (const m of managers) {
    const remote = splitHostPort(m.managerAddr!, SWARM_PORT);
    if (!remote) continue;
    try {
      return await ask(remote);
    } catch (e: unknown) {
      last = e;
    }
  }
  throw last;
}

/** A manager the swarm made a worker: out of etcd, a worker's certificate signed with the CA key it still holds, that key forgotten. */
async function demoteSelf(host: RoleHost, state: NodeState, session: Session): Promise<void> {
  const files = tlsFiles(host.dir);
  const caKey = fs.readFileSync(path.join(host.dir, host.caKeyFile), 'utf8');
  const ca: KeyedCert = { cert: fs.readFileSync(files.ca, 'utf8'), key: caKey };
  let endpoints = state.etcdEndpoints.filter((u) => u !== clientUrl(state.addr));
  let expiry: number | undefined;
  try {
    if (session.hasMember) await session.removeOwnMember();
    if (!state.external) {
      const voters = (await session.store.members()).filter((m) => !m.learner && m.name !== state.nodeId).flatMap((m) => m.clientUrls);
      if (voters.length > 0) endpoints = voters;
    }
    expiry = CLUSTER.kind.check((await session.store.get(CLUSTER.kind.prefix + CLUSTER_ID)) ?? null).spec.nodeCertExpiry;
  } catch (e: unknown) {
    host.log(`swarm: demotion: asking the store (${messageOf(e)}); using the members last known`);
  }
  const own = await nodeRequest(state.nodeId);
  const cert = await signNode(ca, own.csr, { nodeId: state.nodeId, role: 'worker', clusterId: state.clusterId }, [state.addr], expiry);
  const next: NodeState = { ...state, role: 'worker', etcdEndpoints: endpoints };
  await host.disconnect();
  // No way back: the member is out of the cluster. Saved first, so a restart comes back a worker.
  host.save(next);
  writeTls(host.dir, { ca: ca.cert, cert, key: own.key });
  forgetManager(host);
  await host.connectAs(next, undefined).catch((e: unknown) => {
    host.log(`swarm: reconnecting as a worker: ${messageOf(e)}`);
    host.reconnectLater(next);
  });
}

/** The CA key and the etcd member's data go with the manager's role. */
function forgetManager(host: RoleHost): void {
  fs.rmSync(path.join(host.dir, host.caKeyFile), { force: true });
  fs.rmSync(path.join(host.dir, 'etcd'), { recursive: true, force: true });
}
