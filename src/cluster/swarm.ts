/**
 * This node in swarm mode: outside a swarm, or a manager or worker of one. It forms a
 * swarm (init: a CA, an etcd member, the cluster object, the join endpoint), joins one
 * through a manager's join endpoint, leaves, and comes back after a daemon restart from
 * what it kept on disk (node-state.ts). Its state answers /_ping and /info; as a manager
 * it serves the cluster's API through Manager. It follows its own node record, so a
 * promotion or demotion made on any manager changes its role (role-change.ts), and keeps
 * the list of the store's members fresh on disk, for the next connection.
 * With berthd --cluster-store the swarm's state lives in that etcd: no member of its own.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { invalid, messageOf, systemError, unavailable } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import { parseCidr } from '../network/ipam/index.js';
import { resolveAdvertiseAddr, resolveDataPathAddr, resolveListenAddr, splitHostPort, SWARM_PORT } from './addresses.js';
import { ensureDataPath, removeDataPath } from './data-path.js';
import { createRootCa, nodeRequest, signNode, type KeyedCert } from './ca.js';
import { swarmClocks, type NodeClock } from './clock.js';
import { loadClusterStore, type ClusterStoreConfig } from './cluster-store.js';
import { clientUrl, peerUrl, tlsFiles, writeTls } from './etcd-member.js';
import { requestJoin, type JoinAsk } from './join.js';
import { Manager } from './manager.js';
import { RoleFollower, type MemberStart } from './role-change.js';
import { DEFAULT_HEARTBEAT_NS, type Availability, type NodeRecord, type SwarmSpec } from './model.js';
import { clearNodeState, loadNodeState, saveNodeState, type NodeState } from './node-state.js';
import { leaseTtlFor, Session, type ExternalStore } from './session.js';
import { ClusterNetworks } from './networks.js';
import type { TaskContainers } from './services/agent.js';
import { NODE_PORT, type NodeTls } from './node-endpoint.js';
import { NodeServices } from './services/runtime.js';
import { CLUSTER, CLUSTER_ID, NODES } from './stored.js';
import { notInSwarm, notSwarmManager, type InitRequest, type JoinRequest, type SwarmDetails, type SwarmState, type SwarmStatus } from './swarm-state.js';
import { newSwarmId } from './tokens.js';

export const CA_KEY = 'ca-key.pem';

export interface SwarmDeps {
  /** <data-root>/cluster */
  dir: string;
  /** Where the namespace of a data path of its own is bound (cluster/data-path.ts). */
  dataPathNetns: string;
  kernel: Kernel;
  log: (m: string) => void;
  /** What this node is like, for node ls / inspect. */
  hostname: string;
  engineVersion: string;
  /** berthd --cluster-store: the swarms this node forms or joins keep their state there. */
  clusterStore?: ClusterStoreConfig;
  /** The engine's side of the agent: this node's tasks run as its containers (none: this node runs no tasks). */
  tasks?: TaskContainers;
}

export const DEFAULT_SPEC: SwarmSpec = {
  name: 'default',
  labels: {},
  taskHistoryRetentionLimit: 5,
  nodeCertExpiry: 7_776_000_000_000_000,
  heartbeatPeriod: DEFAULT_HEARTBEAT_NS,
  autoLockManagers: false,
};

const ALREADY = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
const WORKER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
const PREPARING = 'This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.';
const NEEDS_CLUSTER_STORE = "this node's swarm keeps its state in an external etcd: start berthd with the managers' --cluster-store (and --cluster-store-opt)";

/**
 * Hears when the node's shared networks come (connected to its swarm) and go (`leaving`:
 * the node leaves its swarm; otherwise it is shutting down or lost its connection, and
 * comes back with them).
 */
export type SharedListener = (shared: ClusterNetworks | undefined, leaving: boolean) => Promise<void>;

export class SwarmNode implements SwarmState {
  private state: NodeState | undefined;
  private session: Session | undefined;
  private manager: Manager | undefined;
  private shared: ClusterNetworks | undefined;
  private services: NodeServices | undefined;
  private readonly listeners: SharedListener[] = [];
  private readonly follower: RoleFollower;
  /** Membership changes (init, join, leave, role changes) one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Set while init/join/leave or a restore runs: answers 'pending'. */
  private busy = false;
  private error = '';

  private constructor(private readonly deps: SwarmDeps) {
    this.follower = new RoleFollower({
      dir: deps.dir,
      caKeyFile: CA_KEY,
      log: deps.log,
      current: () => (this.state && this.session ? { state: this.state, session: this.session } : undefined),
      exclusively: async (f) => this.exclusively(f),
      disconnect: async () => this.disconnect({ keepLease: true }),
      connectAs: async (next, ca, member) => {
        try {
          await this.connect(next, ca, member);
          await this.openShared(next, this.session!);
        } catch (e: unknown) {
          await this.disconnect({ keepLease: true });
          throw e;
        }
        this.state = next;
        saveNodeState(this.deps.dir, next);
      },
      reconnectLater: (state) => {
        this.state = state;
        void this.reconnect(state);
      },
      save: (state) => {
        this.state = state;
        saveNodeState(this.deps.dir, state);
      },
      clusterChanged: async () => this.applyCluster(),
    });
  }

  /** The node as this daemon start finds it: outside a swarm, or back in its swarm (connecting in the background). */
  static open(deps: SwarmDeps): SwarmNode {
    return new SwarmNode(deps);
  }

  /** Start: back into the swarm this node was in (in the background: the store may take a while to answer). */
  resume(): void {
    this.state = loadNodeState(this.deps.dir);
    if (this.state) void this.reconnect(this.state);
    // A leave the daemon died in may have left its data path's namespace.
    else void removeDataPath(this.deps.kernel, this.deps.dataPathNetns).catch(() => undefined);
  }

  /** `listener` hears of the shared networks as they come and go. */
  onShared(listener: SharedListener): void {
    this.listeners.push(listener);
  }

  private async tellShared(shared: ClusterNetworks | undefined, leaving = false): Promise<void> {
    for (const l of this.listeners) await l(shared, leaving).catch((e: unknown) => this.deps.log(`swarm networks: ${messageOf(e)}`));
  }

  status(): SwarmStatus {
    const s = this.state;
    if (!s) return { state: this.busy ? 'pending' : 'inactive', nodeId: '', nodeAddr: '', controlAvailable: false, error: '' };
    const state = this.session ? 'active' : this.error !== '' ? 'error' : 'pending';
    return { state, nodeId: s.nodeId, nodeAddr: s.addr, controlAvailable: s.role === 'manager', error: this.error };
  }

  requireManager(): void {
    this.managerOrThrow();
  }

  /** The manager's API, or dockerd's refusal for this node's state. */
  managerOrThrow(): Manager {
    if (!this.state) throw notSwarmManager();
    if (this.state.role === 'worker') throw unavailable(WORKER);
    if (!this.manager) throw unavailable(PREPARING);
    return this.manager;
  }

  async init(req: InitRequest): Promise<string> {
    if (this.state || this.busy) throw unavailable(ALREADY);
    const links = await this.deps.kernel.links.list();
    const listen = resolveListenAddr(req.listenAddr, links);
    const advertise = resolveAdvertiseAddr(req.advertiseAddr, links, listen.port);
    const dataPath = resolveDataPathAddr(req.dataPathAddr, links);
    const pool = checkAddressPool(req.defaultAddrPool, req.subnetSize);
    const dataPathPort = checkDataPathPort(req.dataPathPort);
    return this.exclusively(async () => {
      if (this.state) throw unavailable(ALREADY);
      const external = this.deps.clusterStore !== undefined;
      const clusterId = newSwarmId();
      const nodeId = newSwarmId();
      const ca = await createRootCa(clusterId);
      const own = await nodeRequest(nodeId);
      const cert = await signNode(ca, own.csr, { nodeId, role: 'manager', clusterId }, [advertise.host], req.spec.nodeCertExpiry);
      writeTls(this.deps.dir, { ca: ca.cert, cert, key: own.key });
      fs.writeFileSync(path.join(this.deps.dir, CA_KEY), ca.key, { mode: 0o600 });
      const state: NodeState = {
        clusterId,
        nodeId,
        role: 'manager',
        addr: advertise.host,
        ...(dataPath ? { dataPath } : {}),
        listenPort: listen.port,
        etcdEndpoints: external ? [] : [clientUrl(advertise.host)],
        ...(external ? { external } : {}),
      };
      await this.enter(state, async () => {
        await this.connect(state, ca, external ? undefined : { state: 'new', initialCluster: `${nodeId}=${peerUrl(advertise.host)}` });
        const now = new Date().toISOString();
        await this.manager!.found(
          { id: clusterId, createdAt: now, updatedAt: now, spec: req.spec, defaultAddrPool: pool.pools, subnetSize: pool.size, dataPathPort },
          { ...this.nodeRecord(nodeId, 'manager', advertise.host, req.availability, `${advertise.host}:${listen.port}`), ...(dataPath ? { dataPathAddr: dataPath.addr } : {}) },
        );
      });
      return nodeId;
    });
  }

  async join(req: JoinRequest): Promise<void> {
    if (this.state || this.busy) throw unavailable(ALREADY);
    if (req.remoteAddrs.length === 0) throw invalid('at least 1 RemoteAddr is required to join');
    const remote = splitHostPort(req.remoteAddrs[0]!, SWARM_PORT);
    if (!remote) throw invalid(`invalid remote address ${req.remoteAddrs[0]}`);
    const links = await this.deps.kernel.links.list();
    const listen = resolveListenAddr(req.listenAddr, links);
    // An advertise address that does not resolve is left to the manager, which sees the node's.
    let addr = '';
    try {
      addr = resolveAdvertiseAddr(req.advertiseAddr, links, listen.port).host;
    } catch {
      addr = '';
    }
    const dataPath = resolveDataPathAddr(req.dataPathAddr, links);
    await this.exclusively(async () => {
      if (this.state) throw unavailable(ALREADY);
      const own = await nodeRequest('joining');
      const ask: JoinAsk = { token: req.joinToken, csr: own.csr, addr, ...(dataPath ? { dataPathAddr: dataPath.addr } : {}), hostname: this.deps.hostname, availability: req.availability, description: this.description() };
      const grant = await requestJoin(remote, ask);
      checkStoreKind(grant.external === true, this.deps.clusterStore !== undefined);
      writeTls(this.deps.dir, { ca: grant.ca, cert: grant.cert, key: own.key });
      if (grant.caKey) fs.writeFileSync(path.join(this.deps.dir, CA_KEY), grant.caKey, { mode: 0o600 });
      const state: NodeState = {
        clusterId: grant.clusterId,
        nodeId: grant.nodeId,
        role: grant.role,
        addr: grant.addr,
        ...(dataPath ? { dataPath } : {}),
        listenPort: listen.port,
        etcdEndpoints: grant.etcdEndpoints,
        ...(grant.external ? { external: true } : {}),
      };
      const ca = grant.caKey ? { cert: grant.ca, key: grant.caKey } : undefined;
      const member = grant.initialCluster ? { state: 'existing' as const, initialCluster: grant.initialCluster, ...(grant.learnerId ? { learnerId: grant.learnerId } : {}) } : undefined;
      await this.enter(state, async () => {
        await this.connect(state, ca, member);
        if ((await this.session!.store.get(CLUSTER.kind.prefix + CLUSTER_ID)) === undefined) {
          throw unavailable(`the cluster store this node was given (--cluster-store) does not hold swarm ${grant.clusterId}: start berthd with the managers' --cluster-store`);
        }
      });
    });
  }

  /**
   * Become a node of the swarm `state` names: `connect` (to its store, as a manager or a
   * worker), then its shared networks; the state is kept only once both are done, and a
   * failure leaves nothing (no session, no state on disk).
   */
  private async enter(state: NodeState, connect: () => Promise<void>): Promise<void> {
    try {
      await connect();
      await this.openShared(state, this.session!);
    } catch (e: unknown) {
      await this.disconnect();
      await removeDataPath(this.deps.kernel, this.deps.dataPathNetns).catch(() => undefined);
      clearNodeState(this.deps.dir);
      throw e;
    }
    saveNodeState(this.deps.dir, state);
    this.state = state;
  }

  async leave(force: boolean): Promise<void> {
    const s = this.state;
    if (!s) throw notInSwarm();
    if (s.role === 'manager' && !force) throw unavailable(await this.leaveWarning());
    await this.exclusively(async () => {
      const now = this.state;
      if (!now) throw notInSwarm();
      // The last manager of a swarm on an external etcd erases it there (with its own etcd, its data goes with it).
      const erase = now.external === true && now.role === 'manager' && (await this.manager?.lastManager().catch(() => false)) === true;
      await this.follower.unfollow();
      await this.closeServices(true);
      // Told even while disconnected: what the swarm left on this host goes with it.
      await this.tellShared(undefined, true);
      await this.shared?.close().catch(() => undefined);
      this.shared = undefined;
      await removeDataPath(this.deps.kernel, this.deps.dataPathNetns).catch((e: unknown) => this.deps.log(`swarm leave: the data path's namespace: ${messageOf(e)}`));
      if (erase) await this.session?.store.deleteAll().catch((e: unknown) => this.deps.log(`swarm leave: erasing the swarm: ${messageOf(e)}`));
      // A manager that goes for good takes its etcd member out while the others still have a quorum.
      await this.session?.close({ removeMember: now.role === 'manager' }).catch((e: unknown) => this.deps.log(`swarm leave: ${messageOf(e)}`));
      this.session = undefined;
      this.manager = undefined;
      clearNodeState(this.deps.dir);
      this.state = undefined;
      this.error = '';
    });
  }

  async details(): Promise<SwarmDetails | undefined> {
    if (!this.session || !this.state) return undefined;
    if (!this.manager) {
      // A worker reads the managers from the store too (it reaches it as a client).
      const managers = [...(await NODES.load(this.session.store)).values()].filter((n) => n.spec.role === 'manager' && n.managerAddr !== undefined);
      return { remoteManagers: managers.map((n) => ({ nodeId: n.id, addr: n.managerAddr ?? `${n.addr}:${SWARM_PORT}` })).sort((a, b) => (a.addr < b.addr ? -1 : 1)) };
    }
    const [nodes, cluster] = await Promise.all([this.manager.nodes(), this.manager.cluster()]);
    const managers = nodes.filter((n) => n.manager);
    return {
      remoteManagers: managers.map((n) => ({ nodeId: n.record.id, addr: n.manager!.addr })).sort((a, b) => (a.addr < b.addr ? -1 : 1)),
      manager: { nodes: nodes.length, managers: managers.length, cluster: { record: cluster.record, version: cluster.version } },
    };
  }

  async clocks(): Promise<NodeClock[] | undefined> {
    if (!this.session || !this.state) return undefined;
    return swarmClocks(this.session.store, this.state.nodeId, this.nodeTls());
  }

  async unlock(): Promise<void> {
    if (!this.state) throw notSwarmManager();
    throw invalid('swarm is not locked');
  }

  /** Daemon shutdown: disconnect, keeping the membership for the next start. */
  async close(): Promise<void> {
    await this.disconnect();
  }

  /** What `docker swarm leave` without --force answers a manager (dockerd's words). */
  private async leaveWarning(): Promise<string> {
    let text = 'You are attempting to leave the swarm on a node that is participating as a manager. ';
    const managers = this.manager ? (await this.manager.nodes().catch(() => [])).filter((n) => n.manager) : [];
    const reachable = managers.filter((n) => n.manager?.reachable).length;
    const unreachable = managers.length - reachable;
    if (reachable <= 1 && unreachable === 0) return `${text}Removing the last manager erases all current state of the swarm. Use \`--force\` to ignore this message. `;
    if (reachable - 2 <= unreachable) {
      text += `Removing this node leaves ${reachable - 1} managers out of ${reachable + unreachable}. Without a Raft quorum your swarm will be inaccessible. `;
    }
    return `${text}The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`;
  }

  /** One change of membership at a time, in the order asked; meanwhile the node is 'pending'. */
  private async exclusively<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      this.busy = true;
      try {
        return await f();
      } finally {
        this.busy = false;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Start the member (managers of a swarm with its own etcd), connect, keep alive, serve joins (managers), follow the records. */
  private async connect(state: NodeState, ca: KeyedCert | undefined, member?: MemberStart): Promise<void> {
    let manager: Manager | undefined;
    const external = state.external ? this.externalStore() : undefined;
    this.session = await Session.open({
      dir: this.deps.dir,
      clusterId: state.clusterId,
      nodeId: state.nodeId,
      role: state.role,
      addr: state.addr,
      etcdEndpoints: state.etcdEndpoints,
      ...(external ? { external } : {}),
      ...(member ? { member } : {}),
      ...(ca
        ? {
            join: {
              listen: { host: '0.0.0.0', port: state.listenPort },
              rootCa: () => ca.cert,
              grant: async (ask, remote) => manager!.admit(ask, remote),
              promote: async (nodeId, ask) => manager!.promotion(nodeId, ask),
            },
          }
        : {}),
      // A manager renews its lease through its own member; a worker reconnects, through every member it knows by now.
      ...(state.role === 'manager' ? { onRenewed: () => void this.tellShared(this.shared) } : { onLost: () => this.restart() }),
      log: this.deps.log,
    });
    if (ca) manager = this.manager = new Manager(this.session.store, ca, { nodeId: state.nodeId, addr: state.addr, joinPort: state.listenPort, external: state.external === true, tls: this.nodeTls() });
    this.error = '';
    await this.follower.follow(this.session, state.nodeId);
  }

  /** This node's certificate, its key and the swarm's root, as on disk now. */
  private nodeTls(): NodeTls {
    const files = tlsFiles(this.deps.dir);
    return { ca: fs.readFileSync(files.ca, 'utf8'), cert: fs.readFileSync(files.cert, 'utf8'), key: fs.readFileSync(files.key, 'utf8') };
  }

  /** The external etcd of berthd --cluster-store, its files read now; Unavailable when the daemon was started without it. */
  private externalStore(): ExternalStore {
    if (!this.deps.clusterStore) throw unavailable(NEEDS_CLUSTER_STORE);
    return loadClusterStore(this.deps.clusterStore);
  }

  /** Stop the agent and the orchestrator; `leaving`: the tasks' containers go too. */
  private async closeServices(leaving: boolean): Promise<void> {
    const services = this.services;
    this.services = undefined;
    await services?.close(leaving).catch((e: unknown) => this.deps.log(`swarm services: ${messageOf(e)}`));
    if (leaving && !services && this.deps.tasks) {
      for (const c of this.deps.tasks.list()) await this.deps.tasks.remove(c.id).catch(() => undefined);
    }
  }

  /** The shared networks of the swarm, once connected (and again after a lost lease took this node's endpoints). */
  private async openShared(state: NodeState, session: Session): Promise<void> {
    const cluster = CLUSTER.kind.check((await session.store.get(CLUSTER.kind.prefix + CLUSTER_ID)) ?? null);
    const dp = state.dataPath;
    const vtep = dp?.addr ?? state.addr;
    // The link VXLAN leaves by: the one with its address, or the data path namespace's parent.
    const links = await this.deps.kernel.links.list();
    const underlay = links.find((l) => l.addresses.some((a) => a.split('/')[0] === vtep)) ?? links.find((l) => dp?.kind === 'namespace' && l.name === dp.parent);
    const netns = dp?.kind === 'namespace' ? await ensureDataPath(this.deps.kernel, this.deps.dataPathNetns, dp, cluster.dataPathPort) : undefined;
    this.shared = await ClusterNetworks.open({
      store: session.store,
      nodeId: state.nodeId,
      manager: state.role === 'manager',
      local: {
        addr: vtep,
        ...(netns ? { dataPathNetns: netns } : {}),
        dataPathPort: cluster.dataPathPort,
        underlayMtu: underlay?.mtu ?? 1500,
        ...(underlay ? { underlayLink: underlay.name } : {}),
        underlaySubnet: underlay?.addresses.find((a) => a.split('/')[0] === vtep),
      },
      pools: { bases: cluster.defaultAddrPool, size: cluster.subnetSize },
      putLeased: async (key, value) => session.putLeased(key, value),
      log: this.deps.log,
    });
    await this.tellShared(this.shared);
    if (this.deps.tasks && !this.services) {
      this.services = await NodeServices.open({
        store: session.store,
        nodeId: state.nodeId,
        manager: state.role === 'manager',
        containers: this.deps.tasks,
        shared: () => this.shared,
        endpoint: { port: NODE_PORT, tls: this.nodeTls(), clusterId: state.clusterId },
        log: this.deps.log,
      });
    }
  }

  /**
   * Close the session and its shared networks. `keepLease`: the node's keys stay until
   * its lease lapses, for the next session to put them again (a role change, a reconnect).
   */
  private async disconnect(opts: { keepLease?: boolean } = {}): Promise<void> {
    await this.follower.unfollow();
    await this.closeServices(false);
    if (this.shared) {
      await this.tellShared(undefined);
      await this.shared.close().catch(() => undefined);
      this.shared = undefined;
    }
    await this.session?.close(opts).catch(() => undefined);
    this.session = undefined;
    this.manager = undefined;
  }

  /** The swarm's heartbeat sets this node's lease TTL: a new lease, this node's keys put again under it, then the old one revoked. */
  private async applyCluster(): Promise<void> {
    const session = this.session;
    const raw = await session?.store.get(CLUSTER.kind.prefix + CLUSTER_ID);
    if (!session || raw === undefined) return;
    const old = await session.retune(leaseTtlFor(CLUSTER.kind.check(raw).spec.heartbeatPeriod));
    if (!old) return;
    await this.tellShared(this.shared);
    await old.revoke().catch(() => undefined);
  }

  /** A worker's lease was lost: connect again, through every member known by now. */
  private restart(): void {
    void this.exclusively(async () => {
      const state = this.state;
      if (!state || !this.session) return;
      await this.disconnect({ keepLease: true });
      void this.reconnect(state);
    });
  }

  /**
   * After a daemon restart or a lost lease: back into the swarm, retrying while the store
   * cannot be reached. Each attempt is a membership change of its own: the role follower
   * it starts (which may demote this node at once) waits for it to finish.
   */
  private async reconnect(state: NodeState): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const done = await this.exclusively(async () => {
        if (this.state !== state || this.session) return true;
        try {
          await this.connectAgain(state);
          return true;
        } catch (e: unknown) {
          await this.disconnect({ keepLease: true });
          this.error = messageOf(e);
          this.deps.log(`swarm: cannot reach the cluster (${this.error}); retrying`);
          return false;
        }
      });
      if (done) return;
      await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 10_000)));
    }
  }

  /** Connect as `state` again, through the members as saved now (the follower keeps them fresh). */
  private async connectAgain(state: NodeState): Promise<void> {
    const caKeyFile = path.join(this.deps.dir, CA_KEY);
    const ca = state.role === 'manager' && fs.existsSync(caKeyFile) ? { cert: fs.readFileSync(path.join(this.deps.dir, 'ca.pem'), 'utf8'), key: fs.readFileSync(caKeyFile, 'utf8') } : undefined;
    const now = loadNodeState(this.deps.dir) ?? state;
    await this.connect({ ...state, etcdEndpoints: now.etcdEndpoints }, ca);
    await this.openShared(state, this.session!);
  }

  private description(): JoinAsk['description'] {
    return {
      architecture: os.machine(),
      os: 'linux',
      nanoCpus: os.cpus().length * 1e9,
      memoryBytes: os.totalmem(),
      engineVersion: this.deps.engineVersion,
    };
  }

  private nodeRecord(id: string, role: 'manager' | 'worker', addr: string, availability: Availability | '', managerAddr: string): NodeRecord {
    const now = new Date().toISOString();
    return {
      id,
      createdAt: now,
      updatedAt: now,
      spec: { labels: {}, role, availability: availability === '' ? 'active' : availability },
      description: { hostname: this.deps.hostname, ...this.description() },
      addr,
      managerAddr,
    };
  }
}

/** A node joins a swarm only the way it keeps its state: both on an external etcd, or neither. */
function checkStoreKind(swarmExternal: boolean, nodeExternal: boolean): void {
  if (swarmExternal && !nodeExternal) throw unavailable(NEEDS_CLUSTER_STORE);
  if (!swarmExternal && nodeExternal) throw unavailable("this node was started with --cluster-store, but the swarm keeps its state in its managers' own etcd: start berthd without it to join");
}

/** --default-addr-pool and its mask length, with dockerd's errors (plain ones: 500). */
function checkAddressPool(pools: readonly string[], size: number): { pools: string[]; size: number } {
  const subnetSize = size === 0 ? 24 : size;
  if (subnetSize > 29) throw systemError(`subnet size is out of range: ${subnetSize}`);
  const given = pools.length > 0 ? [...pools] : ['10.0.0.0/8'];
  for (const p of given) {
    let prefix: number;
    try {
      prefix = parseCidr(p).prefix;
    } catch (e: unknown) {
      throw systemError(`invalid base pool ${p}: ${messageOf(e)}`);
    }
    if (subnetSize < prefix) throw systemError(`invalid CIDR: "${p}". Subnet size is too small for pool: ${subnetSize}`);
  }
  return { pools: given, size: subnetSize };
}

/** --data-path-port: 4789 by default, 1024–49151 (dockerd's words). */
function checkDataPathPort(port: number): number {
  if (port === 0) return 4789;
  if (port < 1024 || port > 49151) throw systemError(`Datapath port number is not in valid range (1024-49151) : ${port}`);
  return port;
}
