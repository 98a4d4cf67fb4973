/** The host driver: containers share the daemon's namespace; nothing to program. */
import { LOCAL_NETWORK, type NetworkDriver } from '../driver.js';

export function hostDriver(): NetworkDriver {
  return {
    name: 'host',
    capabilities: {
      ...LOCAL_NETWORK,
      usesIpam: false,
      singleton: true,
      endpointInterface: false,
      hostNamespace: true,
      connectRefusal: 'cannot connect container to host network - container must be created in host network mode',
    },
    validate: (net) => ({
      displayOptions: { ...net.options },
      kernelNames: [],
      ensure: async () => undefined,
      remove: async () => undefined,
    }),
  };
}
