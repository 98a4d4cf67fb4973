import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { displayOptions, parseBridgeConfig } from '../../src/network/drivers/bridge/config.js';
import type { NetworkRecord } from '../../src/network/model.js';
import { FakeKernel } from '../lib/fake-kernel.js';
import { networkRecord } from '../lib/records.js';

const ctx = { kernel: new FakeKernel(), defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined };

function net(options: Record<string, string>): NetworkRecord {
  return networkRecord({ options, ipam: { driver: 'default', options: {}, pools: [{ subnet: '10.1.0.0/16', gateway: '10.1.0.1', auxAddresses: {}, allocated: [] }] } });
}

describe('bridge options', () => {
  it('derives the bridge name, gateways and defaults', () => {
    const c = parseBridgeConfig(net({}), ctx);
    assert.equal(c.bridgeName, 'br-abcdef012345');
    assert.deepEqual(c.gateways, ['10.1.0.1/16']);
    assert.equal(c.enableIcc, true);
    assert.equal(c.enableMasquerade, true);
    assert.equal(c.mtu, 1500);
    assert.equal(c.external, false);
    assert.deepEqual(displayOptions(net({}), c), { 'com.docker.network.bridge.name': 'br-abcdef012345' });
  });

  it('parses every option with Go boolean syntax', () => {
    const c = parseBridgeConfig(
      net({
        'com.docker.network.bridge.name': 'mybr',
        'com.docker.network.bridge.enable_icc': 'F',
        'com.docker.network.bridge.enable_ip_masquerade': '0',
        'com.docker.network.bridge.host_binding_ipv4': '127.0.0.1',
        'com.docker.network.driver.mtu': '9000',
      }),
      ctx,
    );
    assert.deepEqual([c.bridgeName, c.enableIcc, c.enableMasquerade, c.hostBindingIpv4, c.mtu], ['mybr', false, false, '127.0.0.1', 9000]);
  });

  it('refuses bad values', () => {
    assert.throws(() => parseBridgeConfig(net({ 'com.docker.network.bridge.enable_icc': 'yes' }), ctx), /enable_icc/);
    assert.throws(() => parseBridgeConfig(net({ 'com.docker.network.driver.mtu': '1e3' }), ctx), /mtu/);
    assert.throws(() => parseBridgeConfig(net({ 'com.docker.network.bridge.name': 'a-very-long-bridge-name' }), ctx), /interface name/);
    assert.throws(() => parseBridgeConfig(net({ 'com.docker.network.bridge.host_binding_ipv4': '::1' }), ctx), /host_binding_ipv4/);
  });

  it('shows all options for the default bridge and never owns a -b bridge', () => {
    const d = net({ 'com.docker.network.bridge.default_bridge': 'true' });
    const c = parseBridgeConfig(d, { ...ctx, defaultBridge: { name: 'mybr', external: true } });
    assert.equal(c.bridgeName, 'mybr');
    assert.equal(c.external, true);
    assert.equal(displayOptions(d, c)['com.docker.network.bridge.enable_icc'], 'true');
  });
});
