/** /nodes: the swarm's nodes, as a manager shows and changes them (dockerd's node routes). */
import { invalid } from '../../errors.js';
import type { NodeView } from '../../cluster/manager.js';
import type { Availability, NodeRole } from '../../cluster/model.js';
import type { SwarmState } from '../../cluster/swarm-state.js';
import type { ApiRequest, Router } from '../router.js';
import { nodeShape } from '../shapes/swarm.js';
import { boolParam, optString, parseFilters, stringMap, type WireObject } from '../wire.js';

const FILTERS = new Set(['id', 'label', 'membership', 'name', 'node.label', 'role']);

export function nodeRoutes(
  router: Router,
  swarm: SwarmState,
  checks: { versionParam: (req: ApiRequest) => Promise<void>; jsonObject: (req: ApiRequest) => Promise<WireObject> },
): void {
  router
    .add('GET', '/nodes', async (req) => {
      const filters = parseFilters(req.query.get('filters'));
      for (const key of Object.keys(filters)) if (!FILTERS.has(key)) throw invalid(`invalid filter '${key}'`);
      const m = swarm.managerOrThrow();
      const { record } = await m.cluster();
      const nodes = (await m.nodes()).filter((n) => matches(n, filters));
      return { status: 200, body: nodes.map((n) => nodeShape(n, record.rootCa)) };
    })
    .add('GET', '/nodes/{id}', async (req) => {
      const m = swarm.managerOrThrow();
      const [n, c] = await Promise.all([m.node(req.params.id!), m.cluster()]);
      return { status: 200, body: nodeShape(n, c.record.rootCa) };
    })
    .add('DELETE', '/nodes/{id}', async (req) => {
      await swarm.managerOrThrow().removeNode(req.params.id!, boolParam(req.query, 'force'));
      return { status: 200 };
    })
    .add('POST', '/nodes/{id}/update', async (req) => {
      const body = await checks.jsonObject(req);
      await checks.versionParam(req);
      const m = swarm.managerOrThrow();
      const role = optString(body, 'Role') ?? '';
      const availability = optString(body, 'Availability') ?? '';
      if (!['manager', 'worker'].includes(role)) throw invalid(`invalid Role: "${role}"`);
      if (!['active', 'pause', 'drain'].includes(availability)) throw invalid(`invalid Availability: "${availability}"`);
      const name = optString(body, 'Name');
      await m.updateNode(req.params.id!, Number(req.query.get('version')), {
        labels: stringMap(body, 'Labels'),
        role: role as NodeRole,
        availability: availability as Availability,
        ...(name ? { name } : {}),
      });
      return { status: 200 };
    });
}

/** dockerd's node filters: id and name by prefix, labels, role, membership (every admitted node is accepted). */
function matches(n: NodeView, f: Record<string, string[]>): boolean {
  const any = (values: string[] | undefined, test: (v: string) => boolean): boolean => values === undefined || values.some(test);
  const label = (labels: Record<string, string>) => (v: string): boolean => {
    const eq = v.indexOf('=');
    return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
  };
  for (const v of f.role ?? []) if (v !== 'manager' && v !== 'worker') throw invalid(`Invalid role filter: '${v}'`);
  for (const v of f.membership ?? []) if (v !== 'accepted' && v !== 'pending') throw invalid(`Invalid membership filter: '${v}'`);
  const role = n.manager ? 'manager' : 'worker';
  return (
    any(f.id, (v) => n.record.id.startsWith(v)) &&
    any(f.name, (v) => n.record.description.hostname.startsWith(v)) &&
    any(f.role, (v) => v === role) &&
    any(f.membership, (v) => v === 'accepted') &&
    (f['node.label'] ?? []).every(label(n.record.spec.labels)) &&
    (f.label ?? []).every(label({}))
  );
}
