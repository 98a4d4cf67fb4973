/** Docker's JSON shapes of swarm mode: the swarm (GET /swarm), nodes, and /info's Swarm block. */
import { tlsInfo } from '../../cluster/ca.js';
import type { ClusterView, NodeView } from '../../cluster/manager.js';
import type { ClusterRecord } from '../../cluster/model.js';
import type { SwarmDetails, SwarmStatus } from '../../cluster/swarm-state.js';

/**
 * The Raft settings a swarm shows: swarmkit's defaults. berth's managers keep the swarm in
 * etcd, whose consensus has settings of its own, so these are shown and never changed.
 */
export const RAFT = { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 } as const;

function tls(rootPem: string): Record<string, string> {
  const t = tlsInfo(rootPem);
  return { TrustRoot: t.trustRoot, CertIssuerSubject: t.certIssuerSubject, CertIssuerPublicKey: t.certIssuerPublicKey };
}

/** The cluster as GET /swarm shows it (and /info's Cluster, without the tokens). */
export function swarmShape(v: { record: ClusterRecord; version: number }, tokens?: ClusterView['tokens']): Record<string, unknown> {
  const r = v.record;
  return {
    ID: r.id,
    Version: { Index: v.version },
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt,
    Spec: {
      Name: r.spec.name,
      Labels: r.spec.labels,
      Orchestration: { TaskHistoryRetentionLimit: r.spec.taskHistoryRetentionLimit },
      Raft: { ...RAFT },
      Dispatcher: { HeartbeatPeriod: r.spec.heartbeatPeriod },
      CAConfig: { NodeCertExpiry: r.spec.nodeCertExpiry },
      TaskDefaults: {},
      EncryptionConfig: { AutoLockManagers: r.spec.autoLockManagers },
    },
    TLSInfo: tls(r.rootCa),
    RootRotationInProgress: false,
    DefaultAddrPool: r.defaultAddrPool,
    SubnetSize: r.subnetSize,
    DataPathPort: r.dataPathPort,
    ...(tokens ? { JoinTokens: { Worker: tokens.worker, Manager: tokens.manager } } : {}),
  };
}

export function nodeShape(n: NodeView, rootPem: string): Record<string, unknown> {
  const r = n.record;
  const d = r.description;
  return {
    ID: r.id,
    Version: { Index: n.version },
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt,
    Spec: { ...(r.spec.name ? { Name: r.spec.name } : {}), Labels: r.spec.labels, Role: r.spec.role, Availability: r.spec.availability },
    Description: {
      Hostname: d.hostname,
      Platform: { Architecture: d.architecture, OS: d.os },
      Resources: { NanoCPUs: d.nanoCpus, MemoryBytes: d.memoryBytes },
      Engine: { EngineVersion: d.engineVersion, Plugins: PLUGINS },
      TLSInfo: tls(rootPem),
    },
    Status: { State: n.ready ? 'ready' : 'down', ...(n.ready ? {} : { Message: 'heartbeat failure' }), Addr: r.addr },
    ...(n.manager ? { ManagerStatus: { ...(n.manager.leader ? { Leader: true } : {}), Reachability: n.manager.reachable ? 'reachable' : 'unreachable', Addr: n.manager.addr } } : {}),
  };
}

/** The plugins a berth node has, as Docker lists them (sorted by type, then name). */
const PLUGINS = [
  ...['json-file', 'local', 'none'].map((Name) => ({ Type: 'Log', Name })),
  ...['bridge', 'host', 'ipvlan', 'macvlan', 'null'].map((Name) => ({ Type: 'Network', Name })),
  { Type: 'Volume', Name: 'local' },
];

/** /info's Swarm block (Docker's swarm.Info). */
export function swarmInfoShape(s: SwarmStatus, details?: SwarmDetails): Record<string, unknown> {
  const base = { NodeID: s.nodeId, NodeAddr: s.nodeAddr, LocalNodeState: s.state, ControlAvailable: s.controlAvailable, Error: s.error };
  if (!details) return { ...base, RemoteManagers: null };
  return {
    ...base,
    RemoteManagers: details.remoteManagers.length > 0 ? details.remoteManagers.map((m) => ({ NodeID: m.nodeId, Addr: m.addr })) : null,
    ...(details.manager ? { Nodes: details.manager.nodes, Managers: details.manager.managers, Cluster: swarmShape(details.manager.cluster) } : {}),
  };
}
