/** berth's own endpoints for seeing inside (not Docker's): GET /berth/doctor, GET /berth/topology, POST /berth/trace. */
import type { Insight } from '../../insight/service.js';
import { invalid } from '../../errors.js';
import type { Router } from '../router.js';

export function insightRoutes(router: Router, deps: Insight): void {
  router
    .add('GET', '/berth/doctor', async () => ({ status: 200, body: await deps.doctor() }))
    .add('GET', '/berth/topology', async (req) => {
      const network = req.query.get('network') ?? '';
      const container = req.query.get('container') ?? '';
      return { status: 200, body: await deps.topology({ ...(network ? { network } : {}), ...(container ? { container } : {}) }) };
    })
    .add('POST', '/berth/trace', async (req) => {
      const body = (await req.json()) as { From?: unknown; To?: unknown; WaitSeconds?: unknown } | null;
      if (typeof body?.From !== 'string' || typeof body.To !== 'string') throw invalid('a trace needs From and To');
      const wait = typeof body.WaitSeconds === 'number' && body.WaitSeconds > 0 ? Math.min(body.WaitSeconds, 60) : 5;
      return { status: 200, body: await deps.trace(body.From, body.To, wait * 1000) };
    });
}
