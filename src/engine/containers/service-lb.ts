/**
 * Swarm services' load balancing wired to the container lifecycle: a container on a
 * swarm network gets the services' VIPs in its namespace before its process runs, and a
 * task's container stops being a backend before its endpoints go.
 */
import type { ServiceBalancer } from '../../network/services/balancer.js';
import type { LifecycleHooks } from './lifecycle.js';

export function serviceLbHooks(balancer: ServiceBalancer): LifecycleHooks {
  return {
    async started(c) {
      await balancer.started(c.id);
    },
    async stopped(c) {
      await balancer.stopped(c.id);
    },
    async left() {
      await balancer.sync();
    },
  };
}
