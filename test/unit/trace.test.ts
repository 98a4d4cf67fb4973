/** berth trace's reading of `nft monitor trace` (pure): the path, translations, drops and their reasons. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { explainTrace, type TraceNames } from '../../src/insight/trace.js';

const names: TraceNames = {
  networkOfLink: new Map([['br-app', 'app'], ['br-other', 'other'], ['veth1', 'quiet']]),
  containerOfIp: new Map([['172.18.0.2', 'web']]),
  publishedOn: new Map([['tcp/8081', '127.0.0.1']]),
};
const pkt = (id: string, chain: string, rest: string): string => `trace id ${id} ${chain} packet: ${rest} `;

describe('berth trace', () => {
  it('follows a published port from outside: DNAT to the container, out by its bridge', () => {
    const lines = [
      pkt('aa', 'inet berth dnat_in', 'iif "lan0" ip saddr 192.0.2.2 ip daddr 192.0.2.1 ip id 7 ip protocol tcp tcp sport 5000 tcp dport 8080'),
      'trace id aa inet berth dnat_in rule fib daddr type local jump publish (verdict jump publish)',
      'trace id aa inet berth publish rule meta l4proto { tcp, udp, sctp } dnat ip to ip daddr . meta l4proto . th dport map @pub4_port (verdict accept)',
      pkt('aa', 'inet berth forward', 'iif "lan0" oif "br-app" ip saddr 192.0.2.2 ip daddr 172.18.0.2 ip id 7 tcp dport 80'),
      'trace id aa inet berth forward rule oifname @bridges ct status dnat accept comment "published ports" (verdict accept)',
      pkt('bb', 'inet berth dnat_in', 'iif "lan0" ip saddr 192.0.2.2 ip daddr 192.0.2.1 ip id 8 tcp dport 8080'),
    ];
    const r = explainTrace('192.0.2.2 → 192.0.2.1:8080/tcp', { lines, probe: 'waited' }, names);
    assert.deepEqual(r.translated, ['DNAT 192.0.2.1:8080 → web 172.18.0.2:80']);
    assert.equal(r.leftBy, 'br-app');
    assert.equal(r.packets, 2);
    assert.deepEqual(r.hops.map((h) => h.chain), ['inet berth dnat_in', 'inet berth forward'], 'the first packet only');
    assert.equal(r.summary, 'delivered, DNAT 192.0.2.1:8080 → web 172.18.0.2:80, leaving by br-app (app).');
  });

  it('joins a frame’s bridge trace and its IP trace (new trace ID, same IPv4 identification) and names the drop', () => {
    const lines = [
      pkt('b1', 'bridge berth icc_unicast', 'iif "veth9" ip saddr 172.19.0.2 ip daddr 172.18.0.2 ip id 42 tcp dport 80'),
      'trace id b1 bridge berth icc_unicast policy accept',
      pkt('i1', 'inet berth forward', 'iif "br-other" oif "br-app" ip saddr 172.19.0.2 ip daddr 172.18.0.2 ip id 42 tcp dport 80'),
      'trace id i1 inet berth forward rule oifname @bridges drop comment "other networks and outside: no direct access" (verdict drop)',
    ];
    const r = explainTrace('x', { lines, probe: 'timeout' }, names);
    assert.equal(r.packets, 1);
    assert.equal(r.dropped?.reason, 'networks are isolated: containers of other networks and machines outside reach network app only through a published port');
    assert.equal(r.leftBy, undefined);
  });

  it('names the source’s network for a drop on the way in (ICC off on the port it came from)', () => {
    const lines = [pkt('c1', 'bridge berth icc_unicast', 'iif "veth1" ip saddr 10.0.0.2 ip daddr 10.0.0.3 ip id 1'), 'trace id c1 bridge berth icc_unicast rule iifname @no_icc_ports meta pkttype other meta protocol { ip, ip6 } drop comment "ICC off" (verdict drop)'];
    assert.match(explainTrace('x', { lines, probe: 'timeout' }, names).summary, /off on network quiet/);
  });

  it('says masquerade, a policy drop of another table, a port published on one address, and no route', () => {
    const masq = explainTrace('x', { lines: [pkt('m', 'inet berth source_nat', 'oif "eth0" ip saddr 172.18.0.2 ip daddr 8.8.8.8 ip id 3'), 'trace id m inet berth source_nat rule ip saddr @masq4 ip saddr . oifname != @subnets4 masquerade comment "egress" (verdict accept)'], probe: 'connected' }, names);
    assert.deepEqual(masq.translated, ["masquerade out of eth0 (the source becomes that interface's address)"]);
    const foreign = explainTrace('x', { lines: [pkt('f', 'ip filter FORWARD', 'iif "br-app" oif "eth0" ip saddr 172.18.0.2 ip daddr 8.8.8.8 ip id 4'), 'trace id f ip filter FORWARD policy drop'], probe: 'timeout' }, names);
    assert.match(foreign.summary, /^dropped in ip filter FORWARD: the chain ip filter FORWARD drops what no rule accepts \(its policy\), and it is not berth's\.$/);
    const local = explainTrace('host → 192.0.2.1:8081/tcp', { lines: [pkt('l', 'inet berth dnat_local', 'oif "lo" ip saddr 192.0.2.1 ip daddr 192.0.2.1 ip id 5 tcp dport 8081')], probe: 'refused' }, names);
    assert.equal(local.summary, 'not translated: port 8081/tcp is published on 127.0.0.1 only, not on the address asked.');
    assert.match(explainTrace('x', { lines: [], probe: 'ENETUNREACH' }, names).summary, /^no route: the source has no route/);
  });

  it('names a remote destination’s host from the outer packet when the flow leaves in VXLAN, crossing no other hook', () => {
    const remote: TraceNames = { ...names, containerOfIp: new Map([['10.0.1.3', 'c2']]) };
    const tunnelLines = [pkt('t', 'inet berth underlay_untracked', 'oif "eth0" ip saddr 10.99.0.11 ip daddr 10.99.0.12 ip id 7 udp dport 4789'), 'trace id t inet berth underlay_untracked rule udp dport @vxlan_ports notrack (verdict continue)'];
    const r = explainTrace('c1 10.0.1.2 → c2 (on 10.99.0.12) 10.0.1.3:80/tcp', { lines: [], tunnelLines, probe: 'connected' }, remote);
    assert.deepEqual(r.tunnel, { oif: 'eth0', host: '10.99.0.12' });
    assert.equal(r.summary, "delivered: from the container's interface (a macvlan of the overlay's VXLAN link) straight into the VXLAN link, no bridge and no hook of the host's on the way, carried over VXLAN out of eth0 to host 10.99.0.12, where c2 runs.");
    const dropped = explainTrace('c1 → 10.0.1.3:80/tcp', { lines: [], probe: 'timeout' }, remote);
    assert.equal(dropped.tunnel, undefined, 'no outer packet seen: no tunnel claimed');
  });

  it('tells a frame that crossed only its bridge (marked, seen by no chain of berth’s) as delivered at layer 2', () => {
    const r = explainTrace('db → web:80/tcp', { lines: [], probe: 'connected', marked: 3 }, names);
    assert.equal(r.packets, 3);
    assert.equal(r.summary, 'delivered at layer 2 (connected): the packets crossed only their bridge, where no rule of berth’s applies while no network has ICC off.'.replace('’', "'"));
  });
});
