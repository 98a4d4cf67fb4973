/** Shared fixtures of the macvlan and ipvlan unit tests (not a test file itself). */
import type { KernelFeatures } from '../../src/kernel/features.js';
import type { DriverContext } from '../../src/network/drivers/driver.js';
import type { EndpointId, EndpointRecord, NetworkId, NetworkRecord } from '../../src/network/model.js';
import { FakeKernel } from '../lib/fake-kernel.js';
import { networkRecord } from '../lib/records.js';

export const NET_ID = '0123456789abcdef'.repeat(4);
export const SANDBOX = '/run/berth/netns/c0ffee000001';
export const ALL_FEATURES: KernelFeatures = { macvlan: true, ipvlan: true, vlan: true, dummy: true, ifb: true, vxlan: true, esp: true };
/** This machine: macvlan, ifb and vxlan, but no ipvlan, 802.1Q or dummy. */
export const THIS_KERNEL: KernelFeatures = { ...ALL_FEATURES, ipvlan: false, vlan: false, dummy: false };

/** A fresh context (each has its own registry of parent users) on a fake kernel with these features. */
export function driverContext(features: KernelFeatures = ALL_FEATURES): DriverContext {
  const kernel = new FakeKernel();
  kernel.featureSet = features;
  return { kernel, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined };
}

export function net(driver: string, options: Record<string, string>, name = 'n', id = NET_ID): NetworkRecord {
  const pools = [{ subnet: '192.168.111.0/24', gateway: '192.168.111.1', auxAddresses: {}, allocated: [] }];
  return networkRecord({ id: id as NetworkId, name, driver, options, ipam: { driver: 'default', options: {}, pools } });
}

export function endpoint(over: Partial<EndpointRecord> = {}): EndpointRecord {
  return {
    id: 'e'.repeat(64) as EndpointId,
    networkId: NET_ID as NetworkId,
    containerId: 'c0ffee000001',
    name: 'web',
    ifName: 'eth0',
    hostIfName: 'veth1234567',
    mac: '02:42:c0:a8:6f:0a',
    ipv4: { address: '192.168.111.10', prefixLen: 24, gateway: '192.168.111.1' },
    ipv6: undefined,
    aliases: [],
    gateway: true,
    ...over,
  };
}
