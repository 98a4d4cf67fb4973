/** berth's own endpoints for seeing inside (not Docker's): GET /berth/doctor, GET /berth/topology. */
import type { Report } from '../../insight/doctor.js';
import type { Topology, TopologyFilter } from '../../insight/topology.js';
import type { Router } from '../router.js';

export interface InsightDeps {
  doctor(): Promise<Report>;
  topology(filter: TopologyFilter): Promise<Topology>;
}

export function insightRoutes(router: Router, deps: InsightDeps): void {
  router
    .add('GET', '/berth/doctor', async () => ({ status: 200, body: await deps.doctor() }))
    .add('GET', '/berth/topology', async (req) => {
      const network = req.query.get('network') ?? '';
      const container = req.query.get('container') ?? '';
      return { status: 200, body: await deps.topology({ ...(network ? { network } : {}), ...(container ? { container } : {}) }) };
    });
}
