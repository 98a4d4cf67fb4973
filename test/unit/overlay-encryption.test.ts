/**
 * Encrypted overlay networks: the IPsec plan between two hosts (Docker's SPIs, keys and
 * salts, transport-mode ESP for the marked VXLAN), its `ip xfrm` commands, the driver
 * programming it per remote host through the kernel port, and the refusal where the
 * kernel has no ESP.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../src/errors.js';
import { policyDeleteArgs, policyUpdateArgs, stateAddArgs, stateDeleteArgs } from '../../src/kernel/xfrm.js';
import { IPSEC_MARK } from '../../src/network/firewall/model.js';
import type { NetworkKey, SwarmPlace } from '../../src/network/shared.js';
import { overlayDriver } from '../../src/network/drivers/overlay/index.js';
import { blockPolicy, buildSpi, pairPlan } from '../../src/network/drivers/overlay/xfrm-plan.js';
import type { CreateNetworkRequest } from '../../src/network/model.js';
import type { RemoteEndpoint } from '../../src/network/shared.js';
import { FakeKernel } from '../lib/fake-kernel.js';
import { networkRecord } from '../lib/records.js';

const K1: NetworkKey = { key: '00112233445566778899aabbccddeeff', tag: 3 };
const K2: NetworkKey = { key: 'ffeeddccbbaa99887766554433221100', tag: 4 };

describe('the IPsec plan between two hosts', () => {
  it("derives the SPIs as Docker's buildSPI does (FNV-1a over both addresses and the tag)", () => {
    // Computed apart from this code (Python: fnv1a32(As16(src) + tag BE + As16(dst))).
    assert.equal(buildSpi('10.99.0.11', '10.99.0.12', 3), 3541167697);
    assert.equal(buildSpi('10.99.0.12', '10.99.0.11', 3), 1804385193);
    assert.equal(buildSpi('fd00::1', 'fd00::2', 0xdeadbeef), 852705630);
  });

  it('gives the primary key both directions and the policy, the others the inbound direction only', () => {
    const plan = pairPlan({ local: '10.99.0.11', remote: '10.99.0.12', keys: [K1, K2], port: 4789 });
    const fwd = buildSpi('10.99.0.11', '10.99.0.12', 3);
    const rev = buildSpi('10.99.0.12', '10.99.0.11', 3);
    const rev2 = buildSpi('10.99.0.12', '10.99.0.11', 4);
    const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
    assert.deepEqual(plan.states, [
      { src: '10.99.0.12', dst: '10.99.0.11', spi: rev, reqid: IPSEC_MARK, aeadKey: K1.key + hex8(rev), icvBits: 64 },
      { src: '10.99.0.11', dst: '10.99.0.12', spi: fwd, reqid: IPSEC_MARK, aeadKey: K1.key + hex8(fwd), icvBits: 64 },
      { src: '10.99.0.12', dst: '10.99.0.11', spi: rev2, reqid: IPSEC_MARK, aeadKey: K2.key + hex8(rev2), icvBits: 64 },
    ]);
    assert.deepEqual(plan.policies, [
      { src: '10.99.0.11/32', dst: '10.99.0.12/32', dport: 4789, mark: IPSEC_MARK, tmpl: { src: '10.99.0.11', dst: '10.99.0.12', spi: fwd, reqid: IPSEC_MARK } },
    ]);
  });

  it('is the mirror image on the other host: its outbound association is this one’s inbound', () => {
    const here = pairPlan({ local: '10.99.0.11', remote: '10.99.0.12', keys: [K1], port: 4789 });
    const there = pairPlan({ local: '10.99.0.12', remote: '10.99.0.11', keys: [K1], port: 4789 });
    const key = (s: { src: string; dst: string; spi: number; aeadKey: string }): string => `${s.src}>${s.dst} ${s.spi} ${s.aeadKey}`;
    assert.deepEqual(here.states.map(key).sort(), there.states.map(key).sort());
  });

  it('refuses to plan without a key or with a key that is not 16 bytes of hex', () => {
    assert.throws(() => pairPlan({ local: '10.99.0.11', remote: '10.99.0.12', keys: [], port: 4789 }), /no encryption key/);
    assert.throws(() => pairPlan({ local: '10.99.0.11', remote: '10.99.0.12', keys: [{ key: 'abcd', tag: 1 }], port: 4789 }), /not 16 bytes/);
  });

  it('renders ip xfrm commands: ESP transport associations, the marked UDP policy, the block policy behind', () => {
    const plan = pairPlan({ local: '10.99.0.11', remote: '10.99.0.12', keys: [K1], port: 4789 });
    const fwd = plan.states[1]!;
    assert.deepEqual(stateAddArgs(fwd), ['xfrm', 'state', 'add', 'src', '10.99.0.11', 'dst', '10.99.0.12', 'proto', 'esp', 'spi', `0x${fwd.spi.toString(16)}`, 'reqid', '0xd0c4e3', 'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', `0x${fwd.aeadKey}`, '64']);
    assert.deepEqual(stateDeleteArgs(fwd), ['xfrm', 'state', 'delete', 'src', '10.99.0.11', 'dst', '10.99.0.12', 'proto', 'esp', 'spi', `0x${fwd.spi.toString(16)}`]);
    const policy = plan.policies[0]!;
    assert.equal(
      policyUpdateArgs(policy).join(' '),
      `xfrm policy update src 10.99.0.11/32 dst 10.99.0.12/32 proto udp dport 4789 dir out mark 0xd0c4e3 mask 0xffffffff tmpl src 10.99.0.11 dst 10.99.0.12 proto esp spi 0x${fwd.spi.toString(16)} reqid 0xd0c4e3 mode transport`,
    );
    assert.equal(policyDeleteArgs(policy).join(' '), 'xfrm policy delete src 10.99.0.11/32 dst 10.99.0.12/32 proto udp dport 4789 dir out mark 0xd0c4e3 mask 0xffffffff');
    assert.equal(
      policyUpdateArgs(blockPolicy('10.99.0.11', 4789)).join(' '),
      'xfrm policy update src 0.0.0.0/0 dst 0.0.0.0/0 proto udp dport 4789 dir out mark 0xd0c4e3 mask 0xffffffff priority 10000 action block',
    );
    assert.equal(blockPolicy('fd00::11', 4789).src, '::/0');
  });
});

const PLACE: SwarmPlace = { addr: '10.99.0.11', dataPathPort: 4789, underlayMtu: 1500, networkKeys: [K1] };

function encryptedNet(vni: number, kernel: FakeKernel, place: SwarmPlace | undefined = PLACE) {
  const driver = overlayDriver({ kernel, defaultBridge: { name: 'berth0', external: false }, defaultMtu: 1500, log: () => undefined, swarm: () => place });
  const record = networkRecord({ id: `n${vni}` as never, name: `sec${vni}`, driver: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': String(vni), encrypted: '' } });
  return { driver, net: driver.validate(record) };
}

const peer = (id: string, node: string, ip: string): RemoteEndpoint => ({ networkId: 'n', endpointId: id, containerId: `c${id}`, name: id, aliases: [], ipv4: ip, mac: `02:42:0a:00:01:${id.padStart(2, '0')}`, node });

describe('the overlay driver and encryption', () => {
  it('refuses an encrypted network where the kernel has no ESP, before anything is made, naming it', async () => {
    const kernel = new FakeKernel();
    kernel.featureSet = { ...kernel.featureSet, esp: false };
    const { driver, net } = encryptedNet(4097, kernel);
    const req = { name: 'secret', driver: 'overlay', options: { encrypted: '' } } as unknown as CreateNetworkRequest;
    await assert.rejects(driver.checkCreate!(req), (e: unknown) => isBerthError(e) && e.kind === 'NotImplemented' && /kernel lacks IPsec ESP support .*: cannot create encrypted overlay network secret/.test(e.message));
    await assert.rejects(net.ensure(), /kernel lacks IPsec ESP/);
    assert.deepEqual([...kernel.host.keys()], []);
    // A probe that could not tell is no ESP either: nothing pretends to encrypt.
    kernel.featureSet = { ...kernel.featureSet, esp: undefined };
    await assert.rejects(driver.checkCreate!(req), /kernel lacks IPsec ESP/);
    await driver.checkCreate!({ ...req, options: {} });
  });

  it('refuses to make an encrypted network while the swarm has no key', async () => {
    const kernel = new FakeKernel();
    const { net } = encryptedNet(4097, kernel, { ...PLACE, networkKeys: [] });
    await assert.rejects(net.ensure(), /encryption key is not present/);
  });

  it('programs each remote host once across encrypted networks, before its first FDB entry, and removes it with the last', async () => {
    const kernel = new FakeKernel();
    const a = encryptedNet(4097, kernel);
    const b = a.driver.validate(networkRecord({ id: 'n4098' as never, name: 'sec2', driver: 'overlay', options: { 'com.docker.network.driver.overlay.vxlanid_list': '4098', encrypted: '' } }));
    await a.net.ensure();
    await b.ensure();
    assert.equal(a.net.encryptedVni, 4097);
    const p1 = peer('1', '10.99.0.12', '10.0.1.5');
    await a.net.setPeers!([p1], true);
    await b.setPeers!([{ ...p1, endpointId: '9' }]);
    const plan = pairPlan({ local: '10.99.0.11', remote: '10.99.0.12', keys: [K1], port: 4789 });
    assert.equal(kernel.peerTables.states.size, plan.states.length);
    assert.equal(kernel.peerTables.policies.size, 2, 'the pair and the block policy behind it');
    const steps = kernel.faults.log.filter((s) => /^(xfrm|host: bridge)/.test(s));
    assert.match(steps[0] ?? '', /^xfrm add 2 2$/, steps.join('\n'));
    await a.net.dropPeers!([p1]);
    assert.equal(kernel.peerTables.states.size, 2, 'the other encrypted network still reaches the host');
    await b.remove();
    assert.equal(kernel.peerTables.states.size, 0);
    assert.equal(kernel.peerTables.policies.size, 0);
  });
});
