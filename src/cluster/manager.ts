/**
 * What a manager does for the cluster: it admits joining nodes (the token decides the
 * role, the CA signs the node's own key, a manager also becomes an etcd member), shows
 * and changes the cluster object and the nodes. Versions are etcd revisions, so a stale
 * update is refused as swarmkit refuses it ("update out of sequence").
 */
import { forbidden, invalid, messageOf, notFound, notImplemented, systemError } from '../errors.js';
import type { EtcdStore } from '../store/etcd.js';
import { signNode, type KeyedCert, type NodeRole } from './ca.js';
import { clientUrl, peerUrl } from './etcd-member.js';
import type { JoinAsk, JoinGrant } from './join.js';
import type { Availability, ClusterRecord, JoinTokens, NodeRecord, SwarmSpec } from './model.js';
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

const OUT_OF_SEQUENCE = 'rpc error: code = Unknown desc = update out of sequence';
const NEED_TOKEN = 'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster';

export class Manager {
  constructor(
    private readonly store: EtcdStore,
    /** This manager's CA (its key signs nodes and seals the tokens). */
    private readonly ca: KeyedCert,
    private readonly self: { nodeId: string; addr: string; joinPort: number },
  ) {}

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

  /** The join endpoint's decision: the token picks the role; the node gets an ID, a certificate and the store. */
  async admit(ask: JoinAsk, remote: string): Promise<JoinGrant> {
    parseJoinToken(ask.token);
    const { record, tokens } = await this.cluster();
    const role: NodeRole | undefined = sameToken(ask.token, tokens.manager) ? 'manager' : sameToken(ask.token, tokens.worker) ? 'worker' : undefined;
    if (!role) throw invalid(NEED_TOKEN);
    const nodeId = newSwarmId();
    const addr = ask.addr !== '' ? ask.addr : remote;
    const cert = await signNode(this.ca, ask.csr, { nodeId, role, clusterId: record.id }, [addr]);
    const now = new Date().toISOString();
    const node: NodeRecord = {
      id: nodeId,
      createdAt: now,
      updatedAt: now,
      spec: { labels: {}, role, availability: ask.availability === '' ? 'active' : ask.availability },
      description: { hostname: ask.hostname, ...ask.description },
      addr,
      ...(role === 'manager' ? { managerAddr: `${addr}:${this.self.joinPort}` } : {}),
    };
    await this.store.commit([NODES.put(nodeId, node)]);
    const members = await this.store.members();
    const endpoints = members.flatMap((m) => m.clientUrls);
    if (role === 'worker') return { clusterId: record.id, nodeId, role, cert, ca: this.ca.cert, addr, etcdEndpoints: endpoints };
    // The new member counts for the quorum from now: it must start right after this answer.
    const after = await this.addMember(peerUrl(addr));
    const initialCluster = after.map((m) => `${m.name === '' ? nodeId : m.name}=${m.peerUrls[0]}`).join(',');
    return { clusterId: record.id, nodeId, role, cert, ca: this.ca.cert, caKey: this.ca.key, initialCluster, addr, etcdEndpoints: [...endpoints, clientUrl(addr)] };
  }

  /**
   * etcd refuses to add a member while the last one added has not caught up yet
   * ("unhealthy cluster"): managers joining in a row wait for it, up to 30 s.
   */
  private async addMember(url: string): Promise<{ id: string; name: string; peerUrls: string[] }[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await this.store.addMember(url);
      } catch (e: unknown) {
        if (!/unhealthy cluster|circuit breaker/.test(messageOf(e)) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** Every node with its status: ready while its lease lives; managers with their reachability and the leader. */
  async nodes(): Promise<NodeView[]> {
    const [records, alive, members, leaderId] = await Promise.all([
      this.store.listVersioned(NODES.kind.prefix),
      this.store.list(ALIVE.kind.prefix),
      this.store.members(),
      this.store.leaderId(),
    ]);
    const leader = members.find((m) => m.id === leaderId)?.name;
    const memberNames = new Set(members.map((m) => m.name));
    return [...records.values()].map(({ value, version }) => {
      const record = NODES.kind.check(value);
      const ready = alive.has(ALIVE.kind.prefix + record.id);
      const isMember = memberNames.has(record.id);
      return {
        record,
        version,
        ready,
        ...(isMember ? { manager: { leader: record.id === leader, reachable: ready, addr: record.managerAddr ?? `${record.addr}:${this.self.joinPort}` } } : {}),
      };
    });
  }

  /** By full ID, hostname, or unique ID prefix (dockerd's getNode). */
  async node(ref: string): Promise<NodeView> {
    const all = await this.nodes();
    const found = all.find((n) => n.record.id === ref) ?? all.filter((n) => n.record.description.hostname === ref);
    if (!Array.isArray(found)) return found;
    if (found.length === 1) return found[0]!;
    const byPrefix = all.filter((n) => n.record.id.startsWith(ref));
    if (byPrefix.length === 1 && ref !== '') return byPrefix[0]!;
    if (found.length > 1 || byPrefix.length > 1) throw invalid(`node ${ref} is ambiguous (${Math.max(found.length, byPrefix.length)} matches found)`);
    throw notFound(`node ${ref} not found`);
  }

  /** POST /nodes/{id}/update: labels and availability; a role change needs promotion, not there yet. */
  async updateNode(ref: string, version: number, spec: { labels: Record<string, string>; role: NodeRole; availability: Availability; name?: string }): Promise<void> {
    const n = await this.node(ref);
    if (spec.role !== n.record.spec.role) {
      if (n.manager && (await this.nodes()).filter((x) => x.manager).length === 1) {
        throw invalid('rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm');
      }
      throw notImplemented(`berth cannot ${spec.role === 'manager' ? 'promote' : 'demote'} a node yet: make it leave and join again with the ${spec.role} token`);
    }
    const updated: NodeRecord = { ...n.record, spec: { ...spec }, updatedAt: new Date().toISOString() };
    if (!(await this.store.commitIfVersion(NODES.kind.prefix + n.record.id, version, [NODES.put(n.record.id, updated)]))) throw systemError(OUT_OF_SEQUENCE);
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
}
