/** Model records for unit tests: a plain bridge network, with what a test needs changed. */
import type { NetworkId, NetworkRecord } from '../../src/network/model.js';

export function networkRecord(over: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: 'abcdef0123456789'.repeat(4) as NetworkId,
    name: 'n',
    driver: 'bridge',
    created: '',
    internal: false,
    attachable: false,
    ingress: false,
    enableIPv6: false,
    ipam: { driver: 'default', options: {}, pools: [] },
    options: {},
    labels: {},
    predefined: false,
    ...over,
  };
}
