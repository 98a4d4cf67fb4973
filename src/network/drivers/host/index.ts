/** The host driver: containers share the daemon's namespace; nothing to program. */
import type { NetworkDriver } from '../driver.js';

export function hostDriver(): NetworkDriver {
  return {
    name: 'host',
    usesIpam: false,
    validate: (net) => ({
      displayOptions: { ...net.options },
      kernelNames: [],
      ensure: async () => undefined,
      remove: async () => undefined,
    }),
  };
}
