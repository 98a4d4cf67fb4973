import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sameDefaultBridge, storedDefaultBridge, wantedDefaultBridge } from '../../src/network/default-bridge.js';
import { DEFAULT_ADDRESS_POOLS, parseCidr } from '../../src/network/ipam/index.js';
import { networkRecord } from '../lib/records.js';

const pools = DEFAULT_ADDRESS_POOLS;
const kept = { bridge: 'berth0', subnet: '172.21.0.0/16', gateway: '172.21.0.1' };

describe('the default bridge at each start', () => {
  it('--bip (or the -b bridge’s address) wins', () => {
    assert.deepEqual(wantedDefaultBridge({ bridge: 'berth0', bip: '10.55.0.1/24', current: kept, blockers: [], pools }), {
      bridge: 'berth0',
      subnet: '10.55.0.0/24',
      gateway: '10.55.0.1',
    });
  });

  it('keeps the subnet it has while nothing claims it, though a lower pool is free (dockerd reuses docker0’s address)', () => {
    assert.deepEqual(wantedDefaultBridge({ bridge: 'berth0', bip: undefined, current: kept, blockers: [], pools }), kept);
  });

  it('takes the first free pool when another network or a host route claims its subnet, or on first start', () => {
    const blocked = wantedDefaultBridge({ bridge: 'berth0', bip: undefined, current: kept, blockers: [parseCidr('172.21.5.0/24'), parseCidr('172.17.0.0/16')], pools });
    assert.deepEqual(blocked, { bridge: 'berth0', subnet: '172.18.0.0/16', gateway: undefined });
    assert.equal(wantedDefaultBridge({ bridge: 'berth0', bip: undefined, current: undefined, blockers: [], pools }).subnet, '172.17.0.0/16');
  });

  it('reads the stored bridge name (older records: the current one) and compares', () => {
    const record = networkRecord({
      options: { 'com.docker.network.bridge.name': 'ubr0' },
      ipam: { driver: 'default', options: {}, pools: [{ subnet: '10.44.0.0/24', gateway: '10.44.0.1', auxAddresses: {}, allocated: [] }] },
    });
    const stored = storedDefaultBridge(record, 'berth0');
    assert.deepEqual(stored, { bridge: 'ubr0', subnet: '10.44.0.0/24', gateway: '10.44.0.1' });
    assert.equal(storedDefaultBridge({ ...record, options: {} }, 'berth0')?.bridge, 'berth0');
    assert.ok(sameDefaultBridge(stored, { bridge: 'ubr0', subnet: '10.44.0.0/24', gateway: undefined }));
    assert.ok(!sameDefaultBridge(stored, { bridge: 'berth0', subnet: '10.44.0.0/24', gateway: undefined }), 'another bridge');
    assert.ok(!sameDefaultBridge(stored, { bridge: 'ubr0', subnet: '10.44.0.0/24', gateway: '10.44.0.254' }), 'another gateway');
    assert.ok(!sameDefaultBridge(undefined, stored!));
  });
});
