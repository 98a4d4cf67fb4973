/** The null driver ("none"): containers get only their loopback. */
import type { NetworkDriver } from '../driver.js';

export function nullDriver(): NetworkDriver {
  return {
    name: 'null',
    usesIpam: false,
    validate: (net) => ({
      displayOptions: { ...net.options },
      kernelNames: [],
      ensure: async () => undefined,
      remove: async () => undefined,
      // The container gets a namespace of its own with only its loopback.
      planJoin: () => ({ steps: [{ in: 'sandbox', commands: [] }] }),
      planLeave: () => ({ steps: [] }),
    }),
  };
}
