import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpvlanConfig } from '../../src/network/drivers/ipvlan/config.js';
import { planIpvlanJoin } from '../../src/network/drivers/ipvlan/endpoint.js';
import { ipvlanDriver } from '../../src/network/drivers/ipvlan/index.js';
import { macvlanDriver } from '../../src/network/drivers/macvlan/index.js';
import { ALL_FEATURES as ALL, driverContext, endpoint, net, SANDBOX } from './macvlan-fixtures.js';

describe('ipvlan options', () => {
  it('defaults to l2 with the bridge flag', () => {
    const c = parseIpvlanConfig(net('ipvlan', { parent: 'eth0' }));
    assert.deepEqual([c.parent, c.mode, c.flag], [{ name: 'eth0', own: false }, 'l2', 'bridge']);
  });

  it('takes l3, l3s and the flags; refuses others with Docker’s messages', () => {
    const c = parseIpvlanConfig(net('ipvlan', { parent: 'eth0.20', ipvlan_mode: 'l3s', ipvlan_flag: 'private' }));
    assert.deepEqual([c.parent.name, c.mode, c.flag], ['eth0.20', 'l3s', 'private']);
    assert.throws(() => parseIpvlanConfig(net('ipvlan', { ipvlan_mode: 'l4' })), {
      message: "requested ipvlan mode 'l4' is not valid, 'l2' mode is the ipvlan driver default",
    });
    assert.throws(() => parseIpvlanConfig(net('ipvlan', { ipvlan_flag: 'hub' })), {
      message: "requested ipvlan flag 'hub' is not valid, 'bridge' is the ipvlan driver default",
    });
    assert.throws(() => parseIpvlanConfig(net('ipvlan', { parent: 'lo' })), /loopback interface is not a valid ipvlan parent link/);
  });

  it('without a parent owns a di- link', () => {
    assert.deepEqual(parseIpvlanConfig(net('ipvlan', {})).parent, { name: 'di-0123456789ab', own: true });
  });
});

describe('ipvlan join', () => {
  it('l2: an ipvlan link of the parent, no MAC of its own, default route via the gateway', () => {
    const c = parseIpvlanConfig(net('ipvlan', { parent: 'eth0' }));
    assert.deepEqual(planIpvlanJoin(c, endpoint(), SANDBOX), {
      steps: [
        { in: 'sandbox', commands: [] },
        { in: 'host', commands: [`link add eth0 link eth0 netns ${SANDBOX} type ipvlan mode l2 bridge`] },
        {
          in: 'sandbox',
          commands: ['addr add 192.168.111.10/24 dev eth0', 'link set eth0 up', 'route replace default via 192.168.111.1 dev eth0'],
        },
      ],
    });
  });

  it('l3: the default route is the link itself, for IPv4 and IPv6', () => {
    const c = parseIpvlanConfig(net('ipvlan', { parent: 'eth0.30', ipvlan_mode: 'l3', ipvlan_flag: 'vepa' }));
    const ep = endpoint({ ipv4: { address: '10.1.2.3', prefixLen: 24, gateway: '10.1.2.1' }, ipv6: { address: 'fd00::3', prefixLen: 64, gateway: 'fd00::1' } });
    const plan = planIpvlanJoin(c, ep, SANDBOX);
    assert.equal(plan.steps[1]!.commands[0], `link add eth0 link eth0.30 netns ${SANDBOX} type ipvlan mode l3 vepa`);
    assert.deepEqual(plan.steps[2]!.commands, [
      'addr add 10.1.2.3/24 dev eth0',
      'addr add fd00::3/64 dev eth0 nodad',
      'link set eth0 up',
      'route replace default dev eth0',
      'route replace ::/0 dev eth0',
    ]);
  });

  it('no default route without a parent, on an internal network, or without the gateway role', () => {
    const own = planIpvlanJoin(parseIpvlanConfig(net('ipvlan', { ipvlan_mode: 'l3' })), endpoint(), SANDBOX);
    assert.deepEqual(own.steps[2]!.commands, ['addr add 192.168.111.10/24 dev eth0', 'link set eth0 up']);
    const internal = parseIpvlanConfig({ ...net('ipvlan', { parent: 'eth0' }), internal: true });
    assert.deepEqual(planIpvlanJoin(internal, endpoint(), SANDBOX).steps[2]!.commands, ['addr add 192.168.111.10/24 dev eth0', 'link set eth0 up']);
    const l3 = parseIpvlanConfig(net('ipvlan', { parent: 'eth0', ipvlan_mode: 'l3' }));
    assert.ok(planIpvlanJoin(l3, endpoint({ gateway: false }), SANDBOX).steps[2]!.commands.every((c) => !c.startsWith('route')));
  });
});

describe('ipvlan driver', () => {
  it('refuses a network on a kernel without ipvlan, naming the feature, before touching anything', async () => {
    const d = ipvlanDriver(driverContext({ ...ALL, ipvlan: false }));
    const n = d.validate(net('ipvlan', { parent: 'eth0.100', ipvlan_mode: 'l3' }, 'iv'));
    await assert.rejects(n.ensure(), { name: 'NotImplemented', message: 'kernel lacks ipvlan support (ipvlan module): cannot create ipvlan network iv' });
  });

  it('refuses a parent a macvlan network of the same daemon uses', async () => {
    const shared = driverContext();
    macvlanDriver(shared).validate(net('macvlan', { parent: 'eth0' }, 'mv', 'a'.repeat(64)));
    const iv = ipvlanDriver(shared).validate(net('ipvlan', { parent: 'eth0' }, 'iv'));
    await assert.rejects(iv.ensure(), /already used by macvlan network mv/);
  });
});
