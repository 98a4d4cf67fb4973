/** Golden tests of berth's nftables text: the expected text is written by hand. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../src/errors.js';
import type { FirewallModel, FwEndpoint, FwNetwork, FwPublication, FwUnderlay } from '../../src/network/firewall/model.js';
import {
  addEndpoint,
  addNetwork,
  addPublications,
  changeUnderlay,
  modelElements,
  removeEndpoint,
  removeNetwork,
  removePublications,
  renderBase,
  renderFull,
} from '../../src/network/firewall/ruleset.js';
import { subnetRanges } from '../../src/network/firewall/elements.js';
import { parseCidr } from '../../src/network/ipam/index.js';

const APP: FwNetwork = { id: 'n1', bridge: 'br-app', subnets: ['172.18.0.0/16', 'fd00:18::/64'], internal: false, icc: true, masquerade: true };
const SECRET: FwNetwork = { id: 'n2', bridge: 'br-secret', subnets: ['10.9.0.0/24'], internal: true, icc: false, masquerade: true };
const NOMASQ: FwNetwork = { id: 'n3', bridge: 'br-nomasq', subnets: ['10.10.0.0/24'], internal: false, icc: true, masquerade: false };
const EP: FwEndpoint = { networkId: 'n2', containerId: 'c9', hostIfName: 'veth1a2b3c4' };

function pub(hostIp: string, h: [number, number], c: [number, number], extra: Partial<FwPublication> = {}): FwPublication {
  return {
    networkId: 'n1',
    containerId: 'c1',
    proto: 'tcp',
    hostIp,
    hostPorts: { start: h[0], end: h[1] },
    containerPorts: { start: c[0], end: c[1] },
    ipv4: '172.18.0.2',
    ...extra,
  };
}

describe('network elements', () => {
  it('a network with ICC and masquerade, IPv4 and IPv6', () => {
    assert.equal(
      addNetwork(APP),
      'add element inet berth bridges { "br-app" }\n' +
        'add element inet berth icc_pairs { "br-app" . "br-app" }\n' +
        'add element inet berth subnets4 { 172.18.0.0/16 . "br-app" }\n' +
        'add element inet berth subnets6 { fd00:18::/64 . "br-app" }\n' +
        'add element inet berth masq4 { 172.18.0.0/16 }\n' +
        'add element inet berth masq6 { fd00:18::/64 }\n',
    );
  });

  it('an internal network with ICC off: no masquerade, no ICC pair', () => {
    assert.equal(
      addNetwork(SECRET),
      'add element inet berth bridges { "br-secret" }\n' +
        'add element inet berth internal { "br-secret" }\n' +
        'add element inet berth subnets4 { 10.9.0.0/24 . "br-secret" }\n',
    );
  });

  it('masquerade off leaves the subnet out of masq4 only', () => {
    assert.equal(
      addNetwork(NOMASQ),
      'add element inet berth bridges { "br-nomasq" }\n' +
        'add element inet berth icc_pairs { "br-nomasq" . "br-nomasq" }\n' +
        'add element inet berth subnets4 { 10.10.0.0/24 . "br-nomasq" }\n',
    );
  });

  it('removal deletes the same elements', () => {
    assert.equal(
      removeNetwork(SECRET),
      'delete element inet berth bridges { "br-secret" }\n' +
        'delete element inet berth internal { "br-secret" }\n' +
        'delete element inet berth subnets4 { 10.9.0.0/24 . "br-secret" }\n',
    );
  });

  it('canonicalises subnets and refuses names that could break out of quotes', () => {
    assert.match(addNetwork({ ...APP, subnets: ['172.18.5.0/16'] }), /subnets4 \{ 172\.18\.0\.0\/16 \. "br-app" \}/);
    for (const bridge of ['br"x', 'br x', 'a\\b', '', 'sixteen-chars-xx']) {
      assert.throws(() => addNetwork({ ...APP, bridge }), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter');
    }
    assert.throws(() => addNetwork({ ...APP, subnets: ['172.18.0.0/33'] }), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter');
  });
});

describe('endpoint elements', () => {
  it('a port of an ICC-off network goes to the bridge table; ICC on needs nothing', () => {
    assert.equal(addEndpoint(EP, SECRET), 'add element bridge berth no_icc_ports { "veth1a2b3c4" }\n');
    assert.equal(removeEndpoint(EP, SECRET), 'delete element bridge berth no_icc_ports { "veth1a2b3c4" }\n');
    assert.equal(addEndpoint({ ...EP, networkId: 'n1' }, APP), '');
  });
});

describe('publication elements', () => {
  it('-p 8080:80 on a dual-stack container: one element per family, port rewritten', () => {
    assert.equal(
      addPublications([pub('', [8080, 8080], [80, 80], { ipv6: 'fd00:18::2' })]),
      'add element inet berth pub4_port { 0.0.0.0/0 . tcp . 8080 : 172.18.0.2 . 80 }\n' +
        'add element inet berth pub6_port { ::/0 . tcp . 8080 : fd00:18::2 . 80 }\n',
    );
  });

  it('-p 8000-8999:8000-8999 is one element that keeps the port', () => {
    assert.equal(addPublications([pub('', [8000, 8999], [8000, 8999])]), 'add element inet berth pub4_keep { 0.0.0.0/0 . tcp . 8000-8999 : 172.18.0.2 }\n');
  });

  it('-p 127.0.0.1:53:53/udp binds that address only', () => {
    assert.equal(
      addPublications([pub('127.0.0.1', [53, 53], [53, 53], { proto: 'udp', ipv6: 'fd00:18::2' })]),
      'add element inet berth pub4_keep { 127.0.0.1 . udp . 53 : 172.18.0.2 }\n',
    );
  });

  it('no element for an IPv6 host address of an IPv4-only container, nor for ::1 (the relay serves them); -p 0.0.0.0:… is IPv4 only', () => {
    assert.equal(addPublications([pub('::1', [8080, 8080], [80, 80])]), '');
    assert.equal(addPublications([pub('::', [8080, 8080], [80, 80])]), '');
    assert.equal(addPublications([pub('::1', [8080, 8080], [80, 80], { ipv6: 'fd00:18::2' })]), '');
    assert.equal(
      addPublications([pub('fd00:1::5', [8080, 8080], [80, 80], { ipv6: 'fd00:18::2' })]),
      'add element inet berth pub6_port { fd00:1::5 . tcp . 8080 : fd00:18::2 . 80 }\n',
    );
    assert.equal(
      addPublications([pub('0.0.0.0', [8080, 8080], [80, 80], { ipv6: 'fd00:18::2' })]),
      'add element inet berth pub4_port { 0.0.0.0/0 . tcp . 8080 : 172.18.0.2 . 80 }\n',
    );
    assert.equal(
      addPublications([pub('::', [8080, 8080], [80, 80], { ipv6: 'fd00:18::2' })]),
      'add element inet berth pub6_port { ::/0 . tcp . 8080 : fd00:18::2 . 80 }\n',
    );
  });

  it('a range with an offset costs one element per port (nft cannot DNAT with an offset)', () => {
    assert.equal(
      addPublications([pub('', [9000, 9002], [100, 102], { proto: 'sctp' })]),
      'add element inet berth pub4_port { 0.0.0.0/0 . sctp . 9000 : 172.18.0.2 . 100, 0.0.0.0/0 . sctp . 9001 : 172.18.0.2 . 101, 0.0.0.0/0 . sctp . 9002 : 172.18.0.2 . 102 }\n',
    );
  });

  it('several publications of a container are one line per map', () => {
    assert.equal(
      addPublications([pub('', [8080, 8080], [80, 80]), pub('', [8443, 8443], [443, 443]), pub('', [3000, 3010], [3000, 3010])]),
      'add element inet berth pub4_keep { 0.0.0.0/0 . tcp . 3000-3010 : 172.18.0.2 }\n' +
        'add element inet berth pub4_port { 0.0.0.0/0 . tcp . 8080 : 172.18.0.2 . 80, 0.0.0.0/0 . tcp . 8443 : 172.18.0.2 . 443 }\n',
    );
  });

  it('removal names keys only', () => {
    assert.equal(
      removePublications([pub('', [8080, 8080], [80, 80], { ipv6: 'fd00:18::2' }), pub('', [3000, 3010], [3000, 3010])]),
      'delete element inet berth pub4_keep { 0.0.0.0/0 . tcp . 3000-3010 }\n' +
        'delete element inet berth pub4_port { 0.0.0.0/0 . tcp . 8080 }\n' +
        'delete element inet berth pub6_port { ::/0 . tcp . 8080 }\n',
    );
  });

  it('refuses a mapping that is not exact and a bad target address', () => {
    assert.throws(() => addPublications([pub('', [8000, 8010], [80, 80])]), /not an exact mapping/);
    assert.throws(() => addPublications([pub('', [80, 80], [80, 80], { ipv4: 'fd00::2' })]), /invalid IPv4 address: fd00::2/);
  });

  it('the number of elements does not grow with the size of a range or the number of publications', () => {
    const count = (pubs: FwPublication[]): number => modelElements({ networks: [], endpoints: [], publications: pubs }).reduce((n, g) => n + g.elements.length, 0);
    assert.equal(count([pub('', [10000, 10999], [10000, 10999])]), 1);
    // As README.md and bench/README.md say: ports that differ cost one element each (no offset in nft maps).
    assert.equal(count([pub('', [40000, 40999], [30000, 30999])]), 1000);
    const many = Array.from({ length: 500 }, (_, i) => pub('', [20000 + i, 20000 + i], [80, 80], { containerId: `c${i}`, ipv4: `172.18.${Math.floor(i / 250)}.${(i % 250) + 2}` }));
    assert.equal(count(many), 500);
    // The 500th publication renders the same size of change as the first.
    assert.equal(addPublications([many[499]!]).split('\n').length, addPublications([many[0]!]).split('\n').length);
  });
});

const BASE = `add table inet berth
delete table inet berth
add table bridge berth
delete table bridge berth
table inet berth {
	comment "managed by berthd: changes are overwritten"

	set bridges {
		type ifname
		comment "bridges of berth networks"
	}

	set internal {
		type ifname
		comment "bridges of internal networks"
	}

	set icc_pairs {
		type ifname . ifname
		comment "bridge . bridge of networks with ICC on"
	}

	set subnets4 {
		type ipv4_addr . ifname
		flags interval
		comment "subnet . its bridge"
	}

	set subnets6 {
		type ipv6_addr . ifname
		flags interval
		comment "subnet . its bridge"
	}

	set masq4 {
		type ipv4_addr
		flags interval
		comment "subnets masqueraded on egress"
	}

	set masq6 {
		type ipv6_addr
		flags interval
		comment "subnets masqueraded on egress"
	}

	map pub4_keep {
		type ipv4_addr . inet_proto . inet_service : ipv4_addr
		flags interval
		comment "published ports, same port in the container"
	}

	map pub4_port {
		type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
		flags interval
		comment "published ports, other port in the container"
	}

	map pub6_keep {
		type ipv6_addr . inet_proto . inet_service : ipv6_addr
		flags interval
		comment "published ports, same port in the container"
	}

	map pub6_port {
		type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service
		flags interval
		comment "published ports, other port in the container"
	}

	set swarm_nodes4 {
		type ipv4_addr
		comment "the swarm's nodes: the only sources of VXLAN"
	}

	set swarm_nodes6 {
		type ipv6_addr
		comment "the swarm's nodes: the only sources of VXLAN"
	}

	set encrypted_vnis {
		typeof @th,96,24
		comment "VNIs of encrypted overlay networks"
	}

	chain guard {
		comment "only the host reaches its loopback: DNAT runs before routing drops a martian 127/8"
		type filter hook prerouting priority raw; policy accept;
		ip daddr 127.0.0.0/8 iifname != "lo" drop comment "loopback from a container or another host"
	}

	chain dnat_in {
		comment "published ports: connections from outside and from containers"
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump publish
	}

	chain dnat_local {
		comment "published ports: connections from the host itself, 127.0.0.1 included"
		type nat hook output priority -100; policy accept;
		ip6 daddr ::1 return comment "no DNAT from ::1 in IPv6: berth's relay serves it"
		fib daddr type local jump publish
	}

	chain publish {
		meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @pub4_port
		meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @pub4_keep
		meta l4proto { tcp, udp, sctp } dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub6_port
		meta l4proto { tcp, udp, sctp } dnat ip6 to ip6 daddr . meta l4proto . th dport map @pub6_keep
	}

	chain source_nat {
		type nat hook postrouting priority srcnat; policy accept;
		ct status dnat ip saddr . oifname @subnets4 masquerade comment "hairpin"
		ct status dnat ip6 saddr . oifname @subnets6 masquerade comment "hairpin"
		ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade comment "from the host's loopback"
		ip saddr @masq4 ip saddr . oifname != @subnets4 masquerade comment "egress"
		ip6 saddr @masq6 ip6 saddr . oifname != @subnets6 masquerade comment "egress"
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		iifname . oifname @icc_pairs accept comment "within a network"
		iifname @internal drop comment "internal network: no way out"
		oifname @internal drop comment "internal network: no way in"
		oifname @bridges ct state established,related accept
		oifname @bridges ct status dnat accept comment "published ports"
		oifname @bridges drop comment "other networks and outside: no direct access"
	}
}
table bridge berth {
	comment "managed by berthd: changes are overwritten"

	set no_icc_ports {
		type ifname
		comment "bridge ports of networks with ICC off"
	}
}
`;

describe('full ruleset', () => {
  it('the base replaces only berth tables, in one transaction', () => {
    assert.equal(renderBase(), BASE);
  });

  it('--userland-proxy lets only TCP to 127.0.0.0/8 past the DNAT: UDP and SCTP keep the kernel path', () => {
    const DNAT_LOCAL = `	chain dnat_local {
		comment "published ports: connections from the host itself, 127.0.0.1 included"
		type nat hook output priority -100; policy accept;
		ip6 daddr ::1 return comment "no DNAT from ::1 in IPv6: berth's relay serves it"
		meta l4proto tcp ip daddr 127.0.0.0/8 return comment "served by the userland proxy"
		fib daddr type local jump publish
	}
`;
    const text = renderFull({ networks: [], endpoints: [], publications: [], loopbackByProxy: true });
    assert.ok(text.includes(DNAT_LOCAL), text);
    assert.equal(text.replace('\t\tmeta l4proto tcp ip daddr 127.0.0.0/8 return comment "served by the userland proxy"\n', ''), BASE);
  });

  it('a model puts its elements inline in the set definitions', () => {
    const text = renderFull({ networks: [APP, SECRET], endpoints: [EP], publications: [pub('', [8080, 8080], [80, 80])] });
    assert.ok(text.includes('\t\tcomment "bridges of berth networks"\n\t\telements = { "br-app", "br-secret" }\n'));
    assert.ok(text.includes('\t\telements = { 172.18.0.0/16 . "br-app", 10.9.0.0/24 . "br-secret" }\n'));
    assert.ok(text.includes('\t\telements = { 0.0.0.0/0 . tcp . 8080 : 172.18.0.2 . 80 }\n'));
    assert.ok(text.includes('\t\tcomment "bridge ports of networks with ICC off"\n\t\telements = { "veth1a2b3c4" }\n'));
    // An endpoint of an unknown network contributes nothing.
    assert.ok(!renderFull({ networks: [], endpoints: [EP], publications: [] }).includes('veth1a2b3c4'));
  });
});

describe('subnet elements', () => {
  const cidrs = (...s: string[]) => s.map((x) => parseCidr(x));
  it('merge adjacent subnets into one range and keep a lone one a prefix', () => {
    assert.deepEqual(subnetRanges(cidrs('10.1.0.0/24')), ['10.1.0.0/24']);
    assert.deepEqual(subnetRanges(cidrs('10.1.1.0/24', '10.1.0.0/24', '10.9.0.0/16')), ['10.1.0.0-10.1.1.255', '10.9.0.0/16']);
    const many = cidrs(...Array.from({ length: 10_000 }, (_, i) => `10.${100 + (i >> 8)}.${i & 255}.0/24`));
    assert.deepEqual(subnetRanges(many), ['10.100.0.0-10.139.15.255']);
    assert.deepEqual(subnetRanges(cidrs('fd00:1::/64', 'fd00:1:0:1::/64')), ['fd00:1::-fd00:1:0:1:ffff:ffff:ffff:ffff']);
  });
});

describe("the swarm's VXLAN guard", () => {
  const GUARD: FwUnderlay = { vxlanPorts: [4789], members: ['10.99.0.12', '10.99.0.11', 'fd00::11'], encryptedVnis: [4097] };

  const within = (underlay: FwUnderlay | undefined) => (): FirewallModel => ({ networks: [], endpoints: [], publications: [], underlay });
  const PLAIN = { ...GUARD, encryptedVnis: [] };

  it('writes the port into its rules and puts the nodes by family and the encrypted VNIs in their sets', () => {
    const text = renderFull(within(GUARD)());
    assert.ok(text.includes('\t\tudp dport 4789 notrack comment "the swarm\'s VXLAN: stateless, no conntrack entry per flow"\n'), text);
    assert.ok(text.includes('\t\tudp dport 4789 jump vxlan_in\n'), text);
    assert.ok(text.includes('\t\telements = { 10.99.0.12, 10.99.0.11 }\n'), text);
    assert.ok(text.includes('\t\telements = { fd00::11 }\n'), text);
    assert.ok(text.includes('\t\tcomment "VNIs of encrypted overlay networks"\n\t\telements = { 4097 }\n'), text);
    assert.ok(text.includes('\t\tudp dport 4789 @th,96,24 @encrypted_vnis meta mark set 0x00d0c4e3\n'), text);
    assert.ok(text.includes('meta ipsec missing counter drop'), text);
    // Without an encrypted network, nothing of IPsec's on the path.
    const plain = renderFull(within(PLAIN)());
    assert.doesNotMatch(plain, /encrypted_vnis meta|meta ipsec|underlay_out/);
    assert.match(renderFull(within({ ...PLAIN, vxlanPorts: [4789, 7777] })()), /\t\tudp dport \{ 4789, 7777 \} notrack /);
    // Outside a swarm nothing of it: no VXLAN is filtered.
    assert.equal(renderFull(within(undefined)()), BASE);
  });

  it('changes only the elements that differ, and renders the ruleset again when its rules change', () => {
    const joined = { ...GUARD, members: [...GUARD.members, '10.99.0.13'] };
    assert.equal(changeUnderlay(GUARD, joined, within(joined)), 'add element inet berth swarm_nodes4 { 10.99.0.13 }\n');
    assert.equal(changeUnderlay(joined, GUARD, within(GUARD)), 'delete element inet berth swarm_nodes4 { 10.99.0.13 }\n');
    assert.equal(changeUnderlay(GUARD, GUARD, within(GUARD)), '');
    assert.equal(changeUnderlay(GUARD, { ...GUARD, encryptedVnis: [4097, 4098] }, within(GUARD)), 'add element inet berth encrypted_vnis { 4098 }\n');
    // Leaving, joining, the last encrypted network gone, another port: the whole ruleset, in one transaction.
    assert.equal(changeUnderlay(GUARD, undefined, within(undefined)), BASE);
    assert.equal(changeUnderlay(undefined, PLAIN, within(PLAIN)), renderFull(within(PLAIN)()));
    assert.equal(changeUnderlay(GUARD, PLAIN, within(PLAIN)), renderFull(within(PLAIN)()));
    assert.match(changeUnderlay(PLAIN, { ...PLAIN, vxlanPorts: [7777] }, within({ ...PLAIN, vxlanPorts: [7777] })), /udp dport 7777 notrack/);
  });

  it('refuses what is not an address, a port or a VNI', () => {
    const cases: [FwUnderlay, RegExp][] = [
      [{ ...GUARD, members: ['10.99.0.11; flush ruleset'] }, /invalid IP address/],
      [{ ...GUARD, vxlanPorts: [70000] }, /invalid VXLAN port/],
      [{ ...GUARD, encryptedVnis: [1 << 24] }, /invalid VXLAN ID/],
    ];
    for (const [bad, error] of cases) {
      assert.throws(() => changeUnderlay(undefined, bad, within(bad)), error);
    }
  });
});
