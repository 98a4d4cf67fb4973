/**
 * This node's place in a swarm, as the API asks it. berth does not run swarm mode yet:
 * `InactiveSwarm` is a node outside any swarm and refuses as dockerd does there (its
 * daemon/cluster errors, all Unavailable). The swarm implementation takes its place
 * behind `SwarmState`; the routes stay as they are.
 */
import { notImplemented, unavailable, type BerthError } from '../errors.js';

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

export interface SwarmState {
  /** This node's membership now; cheap, asked on every /info and /_ping. */
  status(): SwarmStatus;
  /**
   * Asked before any request on the cluster's state (the swarm itself, nodes, services,
   * tasks, secrets, configs): throws dockerd's Unavailable error when this node is not an
   * active manager, returns when it is.
   */
  requireManager(): void;
  /** POST /swarm/init: makes this node the first manager of a new swarm; its node ID. */
  init(): Promise<string>;
  /** POST /swarm/join: joins an existing swarm. */
  join(): Promise<void>;
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

/** A node outside any swarm: berth's only state until swarm mode is built. */
export class InactiveSwarm implements SwarmState {
  status(): SwarmStatus {
    return { state: 'inactive', nodeId: '', nodeAddr: '', controlAvailable: false, error: '' };
  }

  requireManager(): void {
    throw notSwarmManager();
  }

  async init(): Promise<string> {
    throw notImplemented('berth does not run swarm mode yet: this node cannot create a swarm');
  }

  async join(): Promise<void> {
    throw notImplemented('berth does not run swarm mode yet: this node cannot join a swarm');
  }

  async leave(): Promise<void> {
    throw notInSwarm();
  }

  // dockerd answers an unlock on a node outside a swarm with its not-a-manager error.
  async unlock(): Promise<void> {
    throw notSwarmManager();
  }
}
