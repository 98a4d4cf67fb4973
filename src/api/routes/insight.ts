/** berth's own endpoints for seeing inside (not Docker's): GET /berth/doctor. */
import type { Report } from '../../insight/doctor.js';
import type { Router } from '../router.js';

export function insightRoutes(router: Router, doctor: () => Promise<Report>): void {
  router.add('GET', '/berth/doctor', async () => ({ status: 200, body: await doctor() }));
}
