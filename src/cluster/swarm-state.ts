/**
 * This node's place in a swarm, as the API asks it (the seam between src/api and
 * src/cluster): its status for /_ping and /info, the membership verbs, and the
 * manager's API. `SwarmNode` (swarm.ts) is the real one; outside a swarm it refuses as
 * dockerd does there (its daemon/cluster errors).
 */
import { unavailable, type BerthError } from '../errors.js';
import type { NodeClock } from './clock.js';
import type { Manager } from './manager.js';
import type { Availability, ClusterRecord, SwarmSpec } from './model.js';

/** Docker's LocalNodeState. */
export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

/** What /info (its Swarm block) and /_ping (its Swarm header) say of this node. */
export interface SwarmStatus {
  state: LocalNodeState;
  nodeId: string;
  nodeAddr: string;
  /** Whether this node is a manager (ControlAvailable). */
  controlAvailable: boolean;
  /** Why the node is in the error state; '' otherwise. */
  error: string;
}

/** POST /swarm/init, read from Docker's InitRequest. */
export interface InitRequest {
  listenAddr: string;
  advertiseAddr: string;
  /** --data-path-addr ('' for none): see addresses.ts's DataPath. */
  dataPathAddr: string;
  dataPathPort: number;
  defaultAddrPool: string[];
  subnetSize: number;
  availability: Availability | '';
  /** The swarm's settings (swarmkit's defaults where the request left them). */
  spec: SwarmSpec;
}

/** POST /swarm/join, read from Docker's JoinRequest. */
export interface JoinRequest {
  listenAddr: string;
  advertiseAddr: string;
  remoteAddrs: string[];
  joinToken: string;
  dataPathAddr: string;
  availability: Availability | '';
}

/** What /info adds for an active node: its managers, and for a manager the counts and the cluster. */
export interface SwarmDetails {
  remoteManagers: { nodeId: string; addr: string }[];
  manager?: { nodes: number; managers: number; cluster: { record: ClusterRecord; version: number } };
}

export interface SwarmState {
  /** What /info shows beyond the status (asks the cluster store); undefined outside an active swarm. */
  details(): Promise<SwarmDetails | undefined>;
  /** How far the other live nodes' clocks are from this one's; undefined outside an active swarm. */
  clocks(): Promise<NodeClock[] | undefined>;
  /** This node's membership now; cheap, asked on every /info and /_ping. */
  status(): SwarmStatus;
  /** Throws dockerd's Unavailable error unless this node is an active manager. */
  requireManager(): void;
  /** The manager's API (the swarm, its nodes); throws as requireManager does. */
  managerOrThrow(): Manager;
  /** POST /swarm/init: makes this node the first manager of a new swarm; its node ID. */
  init(req: InitRequest): Promise<string>;
  /** POST /swarm/join: joins an existing swarm through one of its managers. */
  join(req: JoinRequest): Promise<void>;
  /** POST /swarm/leave; outside a swarm, Unavailable "This node is not part of a swarm". */
  leave(force: boolean): Promise<void>;
  /** POST /swarm/unlock with the key `docker swarm unlock-key` printed. */
  unlock(key: string): Promise<void>;
}

/** dockerd's errNoSwarm: leaving a swarm this node is not part of. */
export function notInSwarm(): BerthError {
  return unavailable('This node is not part of a swarm');
}

/** dockerd's errNoManager for a node outside a swarm. */
export function notSwarmManager(): BerthError {
  return unavailable('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
}
