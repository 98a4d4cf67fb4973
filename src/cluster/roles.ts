/**
 * The rules of a role change, as swarmkit's controlapi UpdateNode checks a demotion:
 * the last manager stays one; a manager that is not (yet) a member of the store's
 * consensus cannot be taken out of it; and a demotion that would leave fewer reachable
 * voters than the smaller cluster's quorum is refused (swarmkit's CanRemoveMember, with
 * etcd's voters for raft's members and a node's lease for reachability). The manager
 * asking counts as reachable. A swarm on an external etcd has no consensus of its own:
 * only the first rule holds there.
 */
import { invalid, notFound, type BerthError } from '../errors.js';

export interface DemotionCase {
  /** The node to demote. */
  target: string;
  /** The manager handling the request. */
  self: string;
  /** The nodes that serve as managers now (swarmkit's observed role). */
  managers: readonly string[];
  /** The store's voting members (node IDs) and whether each is reachable. */
  voters: readonly { name: string; reachable: boolean }[];
  /** The swarm keeps its state in an external etcd. */
  external: boolean;
}

/** Why the demotion cannot be made (dockerd's status and words), or undefined. */
export function checkDemotion(c: DemotionCase): BerthError | undefined {
  if (c.managers.length === 1 && c.managers[0] === c.target) {
    return invalid('rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm');
  }
  if (c.external) return undefined;
  if (!c.voters.some((v) => v.name === c.target)) return notFound("rpc error: code = NotFound desc = can't find manager in raft memberlist");
  const reachable = c.voters.filter((v) => v.name !== c.target && (v.reachable || v.name === c.self)).length;
  const quorum = Math.floor((c.voters.length - 1) / 2) + 1;
  if (reachable < quorum) return invalid("rpc error: code = FailedPrecondition desc = can't remove member from the raft: this would result in a loss of quorum");
  return undefined;
}
