/** How swarm mode is kept in the cluster store (etcd): one typed collection per kind. */
import { Collection } from '../store/collection.js';
import { anyObject, arrayOf, num, object, str } from '../store/check.js';
import type { AliveRecord, ClusterRecord, NodeRecord } from './model.js';

/** swarm/cluster: the cluster object. */
export const CLUSTER = new Collection<ClusterRecord>({
  prefix: 'swarm/',
  version: 1,
  check: (v) =>
    object<ClusterRecord>({ id: str, createdAt: str, updatedAt: str, spec: anyObject, defaultAddrPool: arrayOf(str), subnetSize: num, dataPathPort: num, rootCa: str, sealedTokens: str })(v, 'swarm'),
});
export const CLUSTER_ID = 'cluster';

/** nodes/<id> */
export const NODES = new Collection<NodeRecord>({
  prefix: 'nodes/',
  version: 1,
  check: (v) =>
    object<NodeRecord>({ id: str, createdAt: str, updatedAt: str, spec: object({ role: str, availability: str, labels: anyObject }), description: object({ hostname: str }), addr: str })(v, 'node'),
});

/** alive/<node id>: bound to the node's lease. */
export const ALIVE = new Collection<AliveRecord>({ prefix: 'alive/', version: 1, check: (v) => object<AliveRecord>({ since: str })(v, 'alive') });
