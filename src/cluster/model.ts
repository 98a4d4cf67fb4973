/**
 * Swarm mode's model: plain data kept in the cluster store (etcd), one key per object.
 * Docker's JSON shapes are made from it in src/api/shapes/swarm.ts.
 */
import type { NodeRole } from './ca.js';

export type { NodeRole };
export type Availability = 'active' | 'pause' | 'drain';

/** swarm: the cluster object (one per cluster). */
export interface ClusterRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  spec: SwarmSpec;
  /** --default-addr-pool and --default-addr-pool-mask-length (Docker's defaults when not given). */
  defaultAddrPool: string[];
  subnetSize: number;
  /** UDP port of VXLAN (--data-path-port). */
  dataPathPort: number;
  /** The root CA's certificate (PEM): every node's TrustRoot. */
  rootCa: string;
  /** The join tokens, sealed with a key only managers hold (workers read the store too). */
  sealedTokens: string;
}

/** swarmkit's default Dispatcher.HeartbeatPeriod, ns. */
export const DEFAULT_HEARTBEAT_NS = 5_000_000_000;

/** The parts of Docker's swarm spec berth keeps and shows. */
export interface SwarmSpec {
  name: 'default';
  labels: Record<string, string>;
  taskHistoryRetentionLimit: number;
  /** Node certificates' lifetime, ns. */
  nodeCertExpiry: number;
  /** How often nodes prove they are alive, ns: each node's lease lasts two periods. */
  heartbeatPeriod: number;
  autoLockManagers: boolean;
}

export interface JoinTokens {
  worker: string;
  manager: string;
}

/** nodes/<id>: a node as the cluster knows it, up or not (a node stays until `node rm`). */
export interface NodeRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  spec: { labels: Record<string, string>; role: NodeRole; availability: Availability; name?: string };
  description: {
    hostname: string;
    architecture: string;
    os: string;
    nanoCpus: number;
    memoryBytes: number;
    engineVersion: string;
  };
  /** Its advertise address (IP): where peers reach it (VXLAN, etcd for managers). */
  addr: string;
  /** Its VXLAN's address when not `addr` (--data-path-addr): where peers send the overlays' frames. */
  dataPathAddr?: string;
  /** Managers: their join address (ip:2377). */
  managerAddr?: string;
}

/** alive/<id>: present while the node's lease lives (its daemon runs and reaches the store). */
export interface AliveRecord {
  since: string;
}
