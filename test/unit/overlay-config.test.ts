import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DIRECT_ROUTING_OPTION, parseOverlayConfig, parseVniList, VNI_OPTION } from '../../src/network/drivers/overlay/config.js';
import { net } from './macvlan-fixtures.js';

describe('overlay options', () => {
  it('names the links after the VNI and reads the MTU option as the underlay’s, as Docker does', () => {
    const c = parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', 'com.docker.network.driver.mtu': '9000' }));
    assert.deepEqual(c, { vni: 4097, encrypted: false, directRouting: false, mtu: 8950, vxlan: 'vx-001001', hostLink: 'ov-001001' });
    assert.equal(parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097' })).mtu, undefined, 'otherwise the underlay’s own decides');
  });

  it('takes direct routing as a boolean, never with encryption (routed packets carry no VXLAN to encrypt)', () => {
    assert.equal(parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', [DIRECT_ROUTING_OPTION]: 'true' })).directRouting, true);
    assert.equal(parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', [DIRECT_ROUTING_OPTION]: '0' })).directRouting, false);
    assert.throws(() => parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', [DIRECT_ROUTING_OPTION]: 'yes' })), { name: 'InvalidParameter' });
    assert.throws(() => parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', [DIRECT_ROUTING_OPTION]: 'true', encrypted: '' })), {
      message: `${DIRECT_ROUTING_OPTION} cannot be used with encrypted: directly routed packets carry no VXLAN to encrypt`,
    });
  });

  it('refuses an MTU that leaves the links less than IPv4’s 68 bytes', () => {
    assert.equal(parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', 'com.docker.network.driver.mtu': '118' })).mtu, 68);
    assert.throws(() => parseOverlayConfig(net('overlay', { [VNI_OPTION]: '4097', 'com.docker.network.driver.mtu': '117' })), {
      name: 'InvalidParameter',
      message: 'invalid com.docker.network.driver.mtu value "117": the MTU must be an integer between 118 and 65535 (VXLAN takes 50 bytes of it)',
    });
  });

  it('reads a vxlanid_list as Docker does: numbers separated by commas, its words for anything else', () => {
    assert.deepEqual(parseVniList('5000'), [5000]);
    assert.deepEqual(parseVniList('5000,5001'), [5000, 5001]);
    assert.deepEqual(parseVniList('-5'), [-5], 'a number, refused later as out of range');
    assert.throws(() => parseVniList('abc'), { name: 'InvalidParameter', message: 'invalid vxlan id value "abc" passed' });
    assert.throws(() => parseVniList('5000,'), { message: 'invalid vxlan id value "" passed' });
  });
});
