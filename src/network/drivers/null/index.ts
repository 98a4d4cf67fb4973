/** The null driver ("none"): containers get only their loopback. */
import { LOCAL_NETWORK, type NetworkDriver } from '../driver.js';

export function nullDriver(): NetworkDriver {
  return {
    name: 'null',
    capabilities: {
      ...LOCAL_NETWORK,
      usesIpam: false,
      singleton: true,
      endpointInterface: false,
      ipv4WithoutSubnets: false,
      connectRefusal: 'container cannot be connected to multiple networks with one of the networks in private (none) mode',
    },
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
