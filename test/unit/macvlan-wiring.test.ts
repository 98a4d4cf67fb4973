import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURES, kernelLacks } from '../../src/kernel/features.js';
import type { LinkInfo } from '../../src/kernel/links.js';
import { parseMacvlanConfig } from '../../src/network/drivers/macvlan/config.js';
import { planMacvlanJoin } from '../../src/network/drivers/macvlan/endpoint.js';
import { planSublinkLeave } from '../../src/network/drivers/sublink/sandbox.js';
import { macvlanDriver } from '../../src/network/drivers/macvlan/index.js';
import { planParent, type ParentRef } from '../../src/network/drivers/sublink/parent.js';
import { ALL_FEATURES as ALL, driverContext, endpoint, net, SANDBOX, THIS_KERNEL } from './macvlan-fixtures.js';

function link(name: string, over: Partial<LinkInfo> = {}): LinkInfo {
  return { name, kind: undefined, mtu: 1500, up: true, ownedByBerth: false, addresses: [], master: undefined, ...over };
}

describe('macvlan join', () => {
  it('makes the sandbox, sends a macvlan link of the parent into it, then addresses and routes it', () => {
    const c = parseMacvlanConfig(net('macvlan', { parent: 'lan0' }));
    assert.deepEqual(planMacvlanJoin(c, endpoint(), SANDBOX), {
      steps: [
        { in: 'sandbox', commands: [] },
        { in: 'host', commands: [`link add eth0 link lan0 address 02:42:c0:a8:6f:0a netns ${SANDBOX} type macvlan mode bridge`] },
        {
          in: 'sandbox',
          commands: ['addr add 192.168.111.10/24 dev eth0', 'link set eth0 up', 'route replace default via 192.168.111.1 dev eth0'],
        },
      ],
    });
  });

  it('adds IPv6 without DAD and its default route; a second network (no gateway role) gets no route', () => {
    const c = parseMacvlanConfig(net('macvlan', { parent: 'lan0', macvlan_mode: 'vepa' }));
    const ep = endpoint({ ifName: 'eth1', ipv6: { address: 'fd00:111::10', prefixLen: 64, gateway: 'fd00:111::1' } });
    const plan = planMacvlanJoin(c, ep, SANDBOX);
    assert.match(plan.steps[1]!.commands[0]!, /link add eth1 link lan0 .* type macvlan mode vepa$/);
    assert.deepEqual(plan.steps[2]!.commands, [
      'addr add 192.168.111.10/24 dev eth1',
      'addr add fd00:111::10/64 dev eth1 nodad',
      'link set eth1 up',
      'route replace default via 192.168.111.1 dev eth1',
      'route replace default via fd00:111::1 dev eth1',
    ]);
    const second = planMacvlanJoin(c, { ...ep, gateway: false }, SANDBOX);
    assert.ok(second.steps[2]!.commands.every((cmd) => !cmd.startsWith('route')));
  });

  it('gives no default route on a network without a parent or an internal one, and no MAC in passthru mode', () => {
    const own = planMacvlanJoin(parseMacvlanConfig(net('macvlan', {})), endpoint(), SANDBOX);
    assert.match(own.steps[1]!.commands[0]!, /^link add eth0 link dm-0123456789ab address/);
    assert.deepEqual(own.steps[2]!.commands, ['addr add 192.168.111.10/24 dev eth0', 'link set eth0 up']);
    // --internal keeps the parent (the LAN is still there) but gives no way out, as in Docker.
    const internal = planMacvlanJoin(parseMacvlanConfig({ ...net('macvlan', { parent: 'eth0' }), internal: true }), endpoint(), SANDBOX);
    assert.match(internal.steps[1]!.commands[0]!, /^link add eth0 link eth0 address/);
    assert.deepEqual(internal.steps[2]!.commands, ['addr add 192.168.111.10/24 dev eth0', 'link set eth0 up']);
    const pt = planMacvlanJoin(parseMacvlanConfig(net('macvlan', { parent: 'eth0', macvlan_mode: 'passthru' })), endpoint(), SANDBOX);
    assert.equal(pt.steps[1]!.commands[0], `link add eth0 link eth0 netns ${SANDBOX} type macvlan mode passthru`);
  });

  it('leaves by deleting the link inside the sandbox', () => {
    assert.deepEqual(planSublinkLeave(endpoint({ ifName: 'eth2' })), { steps: [{ in: 'sandbox', commands: ['link del dev eth2'] }] });
  });
});

describe('parent links', () => {
  const host = (name: string): ParentRef => ({ name, own: false });
  const own: ParentRef = { name: 'dm-0123456789ab', own: true };

  it('uses an existing parent as it is', () => {
    assert.deepEqual(planParent(host('eth0'), { link: link('eth0'), base: undefined }, ALL, 'macvlan'), []);
    assert.deepEqual(planParent(host('eth0.100'), { link: link('eth0.100', { kind: 'vlan' }), base: link('eth0') }, THIS_KERNEL, 'macvlan'), []);
  });

  it('names a missing parent', () => {
    assert.throws(() => planParent(host('nosuch'), { link: undefined, base: undefined }, ALL, 'macvlan'), {
      name: 'InvalidParameter',
      message: 'the requested parent interface nosuch was not found on the Docker host',
    });
    assert.throws(() => planParent(host('eth9.100'), { link: undefined, base: undefined }, ALL, 'macvlan'), {
      message: 'the requested parent interface eth9 was not found on the Docker host: cannot create eth9.100',
    });
  });

  it('creates a missing 802.1Q sub-interface, marked as berth’s', () => {
    assert.deepEqual(planParent(host('eth0.100'), { link: undefined, base: link('eth0') }, ALL, 'macvlan'), [
      'link add link eth0 name eth0.100 type vlan id 100',
      'link set dev eth0.100 alias berth',
      'link set dev eth0.100 up',
    ]);
  });

  it('refuses a sub-interface on a kernel without 802.1Q, naming the feature', () => {
    assert.throws(() => planParent(host('eth0.100'), { link: undefined, base: link('eth0') }, THIS_KERNEL, 'macvlan'), {
      name: 'NotImplemented',
      message: 'kernel lacks 802.1Q VLAN support (8021q): cannot create eth0.100',
    });
  });

  it('makes the network’s own parent a dummy, or an ifb where the kernel has no dummy', () => {
    const cmds = (kind: string): string[] => [`link add name dm-0123456789ab type ${kind}`, 'link set dev dm-0123456789ab alias berth', 'link set dev dm-0123456789ab up'];
    assert.deepEqual(planParent(own, { link: undefined, base: undefined }, ALL, 'macvlan'), cmds('dummy'));
    assert.deepEqual(planParent(own, { link: undefined, base: undefined }, THIS_KERNEL, 'macvlan'), cmds('ifb'));
    assert.deepEqual(planParent(own, { link: link(own.name, { up: false }), base: undefined }, ALL, 'macvlan'), ['link set dev dm-0123456789ab up']);
    assert.throws(() => planParent(own, { link: undefined, base: undefined }, { ...THIS_KERNEL, ifb: false }, 'macvlan'), {
      message: 'kernel lacks dummy link support (dummy module): cannot create dm-0123456789ab, the parent of a macvlan network without -o parent (give -o parent=IFACE)',
    });
  });

  it('tries a feature when the kernel could not be probed', () => {
    const unknown = { ...ALL, vlan: undefined, dummy: undefined };
    assert.equal(planParent(host('eth0.7'), { link: undefined, base: link('eth0') }, unknown, 'macvlan').length, 3);
    assert.match(planParent(own, { link: undefined, base: undefined }, unknown, 'macvlan')[0]!, /type dummy$/);
  });
});

describe('kernel features', () => {
  it('names the missing feature and what it prevents', () => {
    assert.equal(kernelLacks('ipvlan', 'cannot create ipvlan network x').message, 'kernel lacks ipvlan support (ipvlan module): cannot create ipvlan network x');
    assert.equal(kernelLacks('vlan', 'cannot create eth0.100').kind, 'NotImplemented');
  });

  it('probes link types that need a lower device on a veth made in the same throwaway namespace', () => {
    for (const f of ['macvlan', 'ipvlan', 'vlan'] as const) assert.match(FEATURES[f].probe[0]!, /type veth/);
    assert.deepEqual(FEATURES.dummy.probe, ['link add bprobe2 type dummy']);
  });
});

describe('macvlan driver', () => {
  it('refuses a network on a kernel without macvlan before touching anything', async () => {
    const d = macvlanDriver(driverContext({ ...ALL, macvlan: false }));
    const n = d.validate(net('macvlan', { parent: 'eth0' }, 'mv'));
    await assert.rejects(n.ensure(), { message: 'kernel lacks macvlan support (macvlan module): cannot create macvlan network mv' });
  });

  it('refuses passthru beside another network on the parent before touching anything', async () => {
    const d = macvlanDriver(driverContext());
    d.validate(net('macvlan', { parent: 'eth0' }, 'first', 'f'.repeat(64)));
    const pt = d.validate(net('macvlan', { parent: 'eth0', macvlan_mode: 'passthru' }, 'pt'));
    await assert.rejects(pt.ensure(), { message: 'cannot use mode passthru, macvlan network first is already using parent interface eth0' });
  });

  it('takes one endpoint at a time in passthru mode only', () => {
    const d = macvlanDriver(driverContext());
    assert.equal(d.validate(net('macvlan', { parent: 'eth0' })).oneEndpointOnly, undefined);
    const pt = d.validate(net('macvlan', { parent: 'eth1', macvlan_mode: 'passthru' }, 'pt', 'b'.repeat(64)));
    assert.equal(pt.oneEndpointOnly, 'macvlan network pt is in passthru mode: its parent eth1 serves one container at a time');
  });

  it('shows the options as given and owns only its own parent link', () => {
    const d = macvlanDriver(driverContext());
    const given = d.validate(net('macvlan', { parent: 'eth0', macvlan_mode: 'private' }));
    assert.deepEqual(given.displayOptions, { parent: 'eth0', macvlan_mode: 'private' });
    assert.deepEqual(given.kernelNames, []);
    assert.deepEqual(d.validate(net('macvlan', {})).kernelNames, ['dm-0123456789ab']);
  });
});
