import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMacvlanConfig } from '../../src/network/drivers/macvlan/config.js';
import { checkParentShare, parseVlanName, type ParentUse } from '../../src/network/drivers/sublink/parent.js';
import { NET_ID as ID, net } from './macvlan-fixtures.js';

describe('macvlan options', () => {
  it('defaults to bridge mode on the given parent', () => {
    const c = parseMacvlanConfig(net('macvlan', { parent: 'eth0' }));
    assert.deepEqual(c, { networkId: ID, networkName: 'n', parent: { name: 'eth0', own: false }, internal: false, mode: 'bridge' });
  });

  it('takes every macvlan mode and refuses others with Docker’s message', () => {
    for (const mode of ['bridge', 'private', 'vepa', 'passthru']) {
      assert.equal(parseMacvlanConfig(net('macvlan', { parent: 'eth0', macvlan_mode: mode })).mode, mode);
    }
    assert.throws(
      () => parseMacvlanConfig(net('macvlan', { parent: 'eth0', macvlan_mode: 'hub' })),
      { name: 'InvalidParameter', message: "requested macvlan mode 'hub' is not valid, 'bridge' mode is the macvlan driver default" },
    );
  });

  it('without a parent (or an empty one) owns a dm- link named after the network ID', () => {
    assert.deepEqual(parseMacvlanConfig(net('macvlan', {})).parent, { name: 'dm-0123456789ab', own: true });
    assert.deepEqual(parseMacvlanConfig(net('macvlan', { parent: '' })).parent, { name: 'dm-0123456789ab', own: true });
    assert.equal(parseMacvlanConfig(net('macvlan', {})).internal, true);
  });

  it('refuses loopback and names that are no interface names', () => {
    assert.throws(() => parseMacvlanConfig(net('macvlan', { parent: 'lo' })), /loopback interface is not a valid macvlan parent link/);
    assert.throws(() => parseMacvlanConfig(net('macvlan', { parent: 'a-very-long-interface' })), /invalid parent value/);
    assert.throws(() => parseMacvlanConfig(net('macvlan', { parent: 'eth 0' })), /not a valid interface name/);
  });
});

describe('802.1Q parent names', () => {
  it('splits name.vlan_id', () => {
    assert.deepEqual(parseVlanName('eth0.100'), { base: 'eth0', id: 100 });
    assert.deepEqual(parseVlanName('enp0s31f6.4094'), { base: 'enp0s31f6', id: 4094 });
  });

  it('refuses what is not one, with Docker’s messages', () => {
    assert.throws(() => parseVlanName('eth0.1.2'), /required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received eth0.1.2/);
    assert.throws(() => parseVlanName('eth0.x'), /unable to parse a valid vlan id from: x \(ex. eth0.10 for vlan 10\)/);
    assert.throws(() => parseVlanName('eth0.0'), /vlan id must be between 1-4094, received: 0/);
    assert.throws(() => parseVlanName('eth0.4095'), /vlan id must be between 1-4094, received: 4095/);
  });
});

describe('sharing a parent', () => {
  const use = (networkName: string, driver: 'macvlan' | 'ipvlan', passthru = false, parent = 'eth0'): ParentUse => ({
    networkId: networkName,
    networkName,
    driver,
    parent,
    passthru,
  });

  it('lets several macvlan networks share a parent', () => {
    assert.doesNotThrow(() => checkParentShare(use('b', 'macvlan'), [use('a', 'macvlan'), use('c', 'macvlan')]));
  });

  it('keeps passthru exclusive, either way round', () => {
    assert.throws(() => checkParentShare(use('b', 'macvlan', true), [use('a', 'macvlan')]), {
      name: 'Conflict',
      message: 'cannot use mode passthru, macvlan network a is already using parent interface eth0',
    });
    assert.throws(() => checkParentShare(use('b', 'macvlan'), [use('a', 'macvlan', true)]), {
      message: 'macvlan network a is already using parent interface eth0 in mode passthru',
    });
  });

  it('allows one ipvlan network per parent and never macvlan beside ipvlan', () => {
    assert.throws(() => checkParentShare(use('b', 'ipvlan'), [use('a', 'ipvlan')]), {
      message: 'ipvlan network a is already using parent interface eth0',
    });
    assert.throws(() => checkParentShare(use('b', 'macvlan'), [use('a', 'ipvlan')]), {
      message: 'parent interface eth0 is already used by ipvlan network a: a parent carries macvlan or ipvlan networks, not both',
    });
  });
});
