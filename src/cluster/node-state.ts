/**
 * This node's membership, kept on its own disk so a restarted berthd rejoins its swarm:
 * <data-root>/cluster/node.json (with the certificates beside it, see etcd-member.ts).
 * Absent: the node is outside any swarm.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeRole } from './ca.js';
import type { DataPath } from './addresses.js';

export interface NodeState {
  clusterId: string;
  nodeId: string;
  /** The role its certificate carries. */
  role: NodeRole;
  /** Its advertise address (IP). */
  addr: string;
  /** --data-path-addr: where its VXLAN leaves and arrives, if not from `addr`. */
  dataPath?: DataPath;
  /** The port its join endpoint listens on (managers; 2377). */
  listenPort: number;
  /** The managers' etcd client endpoints, as last known (https://ip:2379); none with an external store. */
  etcdEndpoints: string[];
  /** The swarm keeps its state in an external etcd (berthd --cluster-store), not in its managers' members. */
  external?: boolean;
}

const FILE = 'node.json';

export function loadNodeState(dir: string): NodeState | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, FILE), 'utf8')) as NodeState;
  } catch {
    return undefined;
  }
}

export function saveNodeState(dir: string, s: NodeState): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(s, null, 2), { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

/** Forget the swarm: certificates, keys, etcd's data, the state itself. */
export function clearNodeState(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
