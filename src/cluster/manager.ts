/**
 * What a manager does for the cluster: it admits joining nodes (the token decides the
 * role, the CA signs the node's own key, a manager also becomes an etcd member), promotes
 * and demotes nodes, shows and changes the cluster object and the nodes. Versions are
 * etcd revisions, so a stale update is refused as swarmkit refuses it ("update out of
 * sequence").
 *
 * A manager of a swarm whose state is in an external etcd (berthd --cluster-store) adds
 * no etcd members: its managers are the nodes that serve as such (managerAddr), and the
 * one leading is the living manager whose liveness key is the oldest (etcd's election).
 */
import { forbidden, invalid, messageOf, notFound, systemError } from '../errors.js';
import type { EtcdMemberInfo, EtcdStore } from '../store/etcd.js';
import { signNode, type KeyedCert, type NodeRole } from './ca.js';
import { peerUrl } from './etcd-member.js';
import type { JoinAsk, JoinGrant, PromoteAsk } from './join.js';
import type { Availability, ClusterRecord, JoinTokens, NodeRecord, SwarmSpec } from './model.js';
import { checkDemotion } from './roles.js';
import { tryParseIp } from '../network/ipam/index.js';
import type { NodeTls } from './node-endpoint.js';
import type { TaskLogOptions } from './services/log-server.js';
import { gatherLogs, type LogItem } from './services/service-logs.js';
import { Services, type TaskView } from './services/services.js';
import { ALIVE, CLUSTER, CLUSTER_ID, NODES } from './stored.js';
import { newJoinToken, newSwarmId, openTokens, parseJoinToken, sameToken, sealTokens } from './tokens.js';

/** A node as the API shows it: its record, its version, whether it is alive, and its place among the managers. */
export interface NodeView {
  record: NodeRecord;
  version: number;
  ready: boolean;
  manager?: { leader: boolean; reachable: boolean; addr: string };
}

export interface ClusterView {
  record: ClusterRecord;
  version: number;
  tokens: JoinTokens;
}

export interface ManagerSelf {
  nodeId: string;
  addr: string;
  joinPort: number;
  /** The swarm keeps its state in an external etcd: no members to add or remove. */
  external: boolean;
  /** Its node certificate, key and root: what the nodes ask of a manager reading their tasks' logs. */
  tls: NodeTls;
}

const OUT_OF_SEQUENCE = 'rpc error: code = Unknown desc = update out of sequence';
const NEED_TOKEN = 'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster';

export class Manager {
  /** The swarm's services and tasks. */
  readonly services: Services;

  constructor(
    private readonly store: EtcdStore,
    /** This manager's CA (its key signs nodes and seals the tokens). */
    private readonly ca: KeyedCert,
    private readonly self: ManagerSelf,
  ) {
    this.services = new Services(store);
  }

  /** The logs of a service's tasks (`service`) or of one task, from the nodes they run on. */
  async *logs(of: { service: string } | { task: string }, opts: TaskLogOptions, signal: AbortSignal): AsyncGenerator<LogItem> {
    let tasks: () => Promise<TaskView[]>;
    if ('service' in of) {
      const id = (await this.services.get(of.service)).record.id;
      tasks = async () => (await this.services.tasks()).filter((t) => t.record.serviceId === id);
    } else {
      const id = (await this.services.task(of.task)).record.id;
      tasks = async () => [await this.services.task(id)];
    }
    const nodes = async (): Promise<{ id: string; addr: string; ready: boolean }[]> => (await this.nodes()).map((n) => ({ id: n.record.id, addr: n.record.addr, ready: n.ready }));
    yield* gatherLogs({ tasks, nodes, tls: this.self.tls }, opts, signal);
  }

  /** The first manager writes the cluster and itself. */
  async found(cluster: Omit<ClusterRecord, 'sealedTokens' | 'rootCa'>, node: NodeRecord): Promise<void> {
    const tokens = { worker: newJoinToken(this.ca.cert), manager: newJoinToken(this.ca.cert) };
    const record: ClusterRecord = { ...cluster, rootCa: this.ca.cert, sealedTokens: sealTokens(tokens, this.ca.key) };
    await this.store.commit([CLUSTER.put(CLUSTER_ID, record), NODES.put(node.id, node)]);
  }

  async cluster(): Promise<ClusterView> {
    const got = (await this.store.listVersioned(CLUSTER.kind.prefix)).get(CLUSTER.kind.prefix + CLUSTER_ID);
    if (!got) throw systemError('the cluster store holds no swarm');
    const record = CLUSTER.kind.check(got.value);
    return { record, version: got.version, tokens: openTokens(record.sealedTokens, this.ca.key) };
  }

  /** POST /swarm/update: the spec replaced; tokens rotated as asked. */
  async updateCluster(version: number, spec: SwarmSpec, rotate: { worker: boolean; manager: boolean }): Promise<void> {
    const { record, tokens } = await this.cluster();
    const next: JoinTokens = {
      worker: rotate.worker ? newJoinToken(this.ca.cert) : tokens.worker,
      manager: rotate.manager ? newJoinToken(this.ca.cert) : tokens.manager,
    };
    const updated: ClusterRecord = { ...record, spec, updatedAt: new Date().toISOString(), sealedTokens: sealTokens(next, this.ca.key) };
    if (!(await this.store.commitIfVersion(CLUSTER.kind.prefix + CLUSTER_ID, version, [CLUSTER.put(CLUSTER_ID, updated)]))) throw systemError(OUT_OF_SEQUENCE);
  }

  /** A joining node's --data-path-addr: an IPv4 address no node of the swarm has as its own or its VXLAN's (peers would send to both). */
  private async checkDataPathAddr(dp: string): Promise<void> {
    const ip = tryParseIp(dp);
    if (ip?.family !== 4 || ip.value === 0n) throw invalid(`invalid data path address ${JSON.stringify(dp)}: an IPv4 address is needed`);
    for (const n of (await NODES.load(this.store)).values()) {
      if (n.addr === dp || n.dataPathAddr === dp) throw invalid(`data path address ${dp} is already used by node ${n.id} of the swarm`);
    }
  }

  /** The join endpoint's decision: the token picks the role; the node gets an ID, a certificate and the store. */
  async admit(ask: JoinAsk, remote: string): Promise<JoinGrant> {
    parseJoinToken(ask.token);
    const { record, tokens } = await this.cluster();
    const role: NodeRole | undefined = sameToken(ask.token, tokens.manager) ? 'manager' : sameToken(ask.token, tokens.worker) ? 'worker' : undefined;
    if (!role) throw invalid(NEED_TOKEN);
    const nodeId = newSwarmId();
    const addr = ask.addr !== '' ? ask.addr : remote;
    if (ask.dataPathAddr !== undefined) await this.checkDataPathAddr(ask.dataPathAddr);
    const cert = await signNode(this.ca, ask.csr, { nodeId, role, clusterId: record.id }, [addr], record.spec.nodeCertExpiry);
    const now = new Date().toISOString();
    const node: NodeRecord = {
      id: nodeId,
      createdAt: now,
      updatedAt: now,
      spec: { labels: {}, role, availability: ask.availability === '' ? 'active' : ask.availability },
      description: { hostname: ask.hostname, ...ask.description },
      addr,
      ...(ask.dataPathAddr ? { dataPathAddr: ask.dataPathAddr } : {}),
      ...(role === 'manager' ? { managerAddr: `${addr}:${this.self.joinPort}` } : {}),
    };
    await this.store.commit([NODES.put(nodeId, node)]);
    const base = { clusterId: record.id, nodeId, role, cert, ca: this.ca.cert, addr, ...(this.self.external ? { external: true } : {}) };
    const endpoints = await this.endpoints();
    if (role === 'worker') return { ...base, etcdEndpoints: endpoints };
    return { ...base, caKey: this.ca.key, ...(await this.placeMember(nodeId, addr)), etcdEndpoints: endpoints };
  }

  /**
   * /promote: a node the swarm made a manager (its record says so) asks for what it needs:
   * a manager's certificate for its own key, the CA's key, and its etcd member's place.
   */
  async promotion(nodeId: string, ask: PromoteAsk): Promise<JoinGrant> {
    const n = (await this.store.listVersioned(NODES.kind.prefix + nodeId)).get(NODES.kind.prefix + nodeId);
    if (!n) throw notFound(`node ${nodeId} not found`);
    const record = NODES.kind.check(n.value);
    if (record.spec.role !== 'manager') throw forbidden(`node ${nodeId} is not to be a manager`);
    const { record: cluster } = await this.cluster();
    const cert = await signNode(this.ca, ask.csr, { nodeId, role: 'manager', clusterId: cluster.id }, [record.addr], cluster.spec.nodeCertExpiry);
    const place = await this.placeMember(nodeId, record.addr);
    const managerAddr = `${record.addr}:${ask.joinPort}`;
    if (record.managerAddr !== managerAddr) await this.store.commit([NODES.put(nodeId, { ...record, managerAddr, updatedAt: new Date().toISOString() })]);
    return {
      clusterId: cluster.id,
      nodeId,
      role: 'manager',
      cert,
      ca: this.ca.cert,
      caKey: this.ca.key,
      addr: record.addr,
      ...place,
      etcdEndpoints: await this.endpoints(),
      ...(this.self.external ? { external: true } : {}),
    };
  }

  /** The swarm's own etcd members' client URLs (voters: a learner answers no client); none with an external store. */
  async endpoints(): Promise<string[]> {
    if (this.self.external) return [];
    return (await this.store.members()).filter((m) => !m.learner && m.clientUrls.length > 0).flatMap((m) => m.clientUrls);
  }

  /**
   * A manager-to-be's etcd member: added as a learner (it does not count for the quorum
   * until it has caught up, so one that never starts stalls nothing), or the one an
   * earlier attempt added. Nothing with an external store.
   */
  private async placeMember(nodeId: string, addr: string): Promise<{ initialCluster?: string; learnerId?: string }> {
    if (this.self.external) return {};
    const url = peerUrl(addr);
    const members = await this.store.members();
    const earlier = members.find((m) => m.peerUrls.includes(url));
    if (earlier && !earlier.learner) throw invalid(`node ${nodeId}'s address ${addr} is a member of the swarm's etcd already`);
    const { id, members: after } = earlier ? { id: earlier.id, members } : await this.addLearner(url);
    const initialCluster = after.map((m) => `${m.id === id ? nodeId : m.name}=${m.peerUrls[0]}`).join(',');
    return { initialCluster, learnerId: id };
  }

  /**
   * etcd refuses a member while the last one added has not caught up yet (an unhealthy
   * cluster, or a learner already): managers joining in a row wait for it, up to 30 s.
   */
  private async addLearner(url: string): Promise<{ id: string; members: EtcdMemberInfo[] }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await this.store.addLearner(url);
      } catch (e: unknown) {
        if (!/unhealthy cluster|too many learner members|circuit breaker/.test(messageOf(e)) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Every node with its status: ready while its lease lives; managers with their reachability and the leader. */
  async nodes(): Promise<NodeView[]> {
    const [records, alive, members, leaderId] = await Promise.all([
      this.store.listVersioned(NODES.kind.prefix),
      this.store.listVersioned(ALIVE.kind.prefix),
      this.self.external ? Promise.resolve([]) : this.store.members(),
      this.self.external ? Promise.resolve('') : this.store.leaderId(),
    ]);
    const views = [...records.values()].map(({ value, version }) => {
      const record = NODES.kind.check(value);
      return { record, version, ready: alive.has(ALIVE.kind.prefix + record.id) };
    });
    const isManager = this.self.external
      ? (r: NodeRecord): boolean => r.spec.role === 'manager' && r.managerAddr !== undefined
      : (r: NodeRecord): boolean => members.some((m) => m.name === r.id && !m.learner);
    const leader = this.self.external
      ? oldestAlive(views.filter((v) => v.ready && isManager(v.record)).map((v) => v.record.id), alive)
      : members.find((m) => m.id === leaderId)?.name;
    return views.map((v) => ({
      ...v,
      ...(isManager(v.record) ? { manager: { leader: v.record.id === leader, reachable: v.ready, addr: v.record.managerAddr ?? `${v.record.addr}:${this.self.joinPort}` } } : {}),
    }));
  }

  /** By full ID, hostname, or unique ID prefix (dockerd's getNode). */
  async node(ref: string): Promise<NodeView> {
    return pick(await this.nodes(), ref);
  }

  /**
   * POST /nodes/{id}/update: labels, availability and role. A promotion is recorded; the
   * node then asks for its manager's certificate and member (promotion). A demotion is
   * checked as swarmkit checks it (not the last manager, not a quorum lost), recorded,
   * and the node's etcd member taken out at once (the node may be down); the node
   * follows when it sees its record.
   */
  async updateNode(ref: string, version: number, spec: { labels: Record<string, string>; role: NodeRole; availability: Availability; name?: string }): Promise<void> {
    const all = await this.nodes();
    const n = pick(all, ref);
    const id = n.record.id;
    const demoting = n.record.spec.role === 'manager' && spec.role === 'worker';
    let member: EtcdMemberInfo | undefined;
    if (demoting) {
      const members = this.self.external ? [] : await this.store.members();
      member = members.find((m) => m.name === id);
      const problem = checkDemotion({
        target: id,
        self: this.self.nodeId,
        managers: all.filter((x) => x.manager).map((x) => x.record.id),
        external: this.self.external,
        voters: members.filter((m) => !m.learner).map((m) => ({ name: m.name, reachable: m.name === this.self.nodeId || all.some((x) => x.record.id === m.name && x.ready) })),
      });
      if (problem) throw problem;
    }
    const { managerAddr, ...rest } = n.record;
    const updated: NodeRecord = { ...rest, ...(demoting ? {} : managerAddr !== undefined ? { managerAddr } : {}), spec: { ...spec }, updatedAt: new Date().toISOString() };
    if (!(await this.store.commitIfVersion(NODES.kind.prefix + id, version, [NODES.put(id, updated)]))) throw systemError(OUT_OF_SEQUENCE);
    if (member) {
      try {
        await this.store.removeMember(member.id);
      } catch (e: unknown) {
        throw systemError(`node ${id} is a worker now, but its etcd member could not be removed yet (${messageOf(e)}); it removes itself when it next connects`);
      }
    }
  }

  /** DELETE /nodes/{id}: a manager must be demoted first; a node that is up only with force. */
  async removeNode(ref: string, force: boolean): Promise<void> {
    const n = await this.node(ref);
    const id = n.record.id;
    if (n.manager) {
      throw invalid(`rpc error: code = FailedPrecondition desc = node ${id} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`);
    }
    if (n.ready && !force) throw invalid(`rpc error: code = FailedPrecondition desc = node ${id} is not down and can't be removed`);
    if (id === this.self.nodeId) throw forbidden('a node cannot remove itself: use docker swarm leave');
    await this.store.commit([NODES.del(id), ALIVE.del(id)]);
  }

  /** Whether this is the swarm's last manager (its leaving erases the swarm). */
  async lastManager(): Promise<boolean> {
    const managers = (await this.nodes()).filter((n) => n.manager || n.record.spec.role === 'manager');
    return managers.every((n) => n.record.id === this.self.nodeId);
  }
}

/** dockerd's getNode: by full ID, then hostname, then a unique ID prefix. */
function pick(all: readonly NodeView[], ref: string): NodeView {
  const found = all.find((n) => n.record.id === ref) ?? all.filter((n) => n.record.description.hostname === ref);
  if (!Array.isArray(found)) return found;
  if (found.length === 1) return found[0]!;
  const byPrefix = all.filter((n) => n.record.id.startsWith(ref));
  if (byPrefix.length === 1 && ref !== '') return byPrefix[0]!;
  if (found.length > 1 || byPrefix.length > 1) throw invalid(`node ${ref} is ambiguous (${Math.max(found.length, byPrefix.length)} matches found)`);
  throw notFound(`node ${ref} not found`);
}

/** Of `ids`, the one whose liveness key was made first (etcd's election: the lowest create revision wins). */
function oldestAlive(ids: readonly string[], alive: Map<string, { created: number }>): string | undefined {
  let best: { id: string; created: number } | undefined;
  for (const id of ids) {
    const created = alive.get(ALIVE.kind.prefix + id)?.created;
    if (created !== undefined && (!best || created < best.created)) best = { id, created };
  }
  return best?.id;
}
