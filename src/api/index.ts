/** All API routes on one router. */
import type { NetworkController } from '../network/controller.js';
import { Router } from './router.js';
import { networkRoutes } from './routes/networks.js';
import { systemRoutes, type SystemInfo } from './routes/system.js';

export interface ApiDeps {
  networks: NetworkController;
  system: SystemInfo;
}

export function buildRouter(deps: ApiDeps): Router {
  const router = new Router();
  systemRoutes(router, deps.system);
  networkRoutes(router, { networks: deps.networks, containersOf: () => ({}) });
  return router;
}
