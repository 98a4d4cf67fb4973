/** berth topology's join of the kernel's views with the model (pure): pairs, names, tunnels, drift, filters. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NsInterface } from '../../src/kernel/namespace-view.js';
import { buildTopology, type TopologyInput } from '../../src/insight/topology.js';
import { renderDot, renderText } from '../../src/insight/topology-render.js';

const iface = (over: Partial<NsInterface> & { ifindex: number; name: string }): NsInterface => ({ kind: 'veth', mac: '', mtu: 1500, up: true, master: undefined, peer: undefined, parent: undefined, alias: undefined, addresses: [], vxlan: undefined, ...over });

function input(over: Partial<TopologyInput> = {}): TopologyInput {
  return {
    model: {
      networks: [{ id: 'n1', name: 'app', driver: 'bridge', scope: 'local', links: ['br-app'], subnets: ['10.1.0.0/24'], gateways: ['10.1.0.1'], ipv6: false }],
      endpoints: [{ containerId: 'c1', name: 'web', networkId: 'n1', ifName: 'eth0', hostIfName: 'veth1', ipv4: '10.1.0.2/24', mac: '02:42:0a:01:00:02' }],
      sandboxes: [{ containerId: 'c1', path: '/run/netns/c1' }],
      published: [{ containerId: 'c1', port: { proto: 'tcp', hostIp: '', hostPorts: { start: 8080, end: 8080 }, containerPorts: { start: 8080, end: 8080 } } }],
      remote: [{ networkId: 'n2', endpointId: 'e9', containerId: 'c9', name: 'far', aliases: [], ipv4: '10.0.1.9', mac: '02:42:0a:00:01:09', node: '10.99.0.12' }],
      pools: ['172.17.0.0/16'],
      underlayMtu: 1500,
    },
    containerNames: new Map([['c1', 'web']]),
    host: {
      interfaces: [
        iface({ ifindex: 3, name: 'br-app', kind: 'bridge', addresses: ['10.1.0.1/24'], alias: 'berth' }),
        iface({ ifindex: 7, name: 'veth1', master: 'br-app', peer: { ifindex: 2, otherNamespace: true }, alias: 'berth' }),
        iface({ ifindex: 9, name: 'vx-001001', kind: 'vxlan', vxlan: { vni: 4097, local: '10.99.0.11', port: 4789 } }),
      ],
      routes: [],
    },
    sandboxes: new Map([['c1', { interfaces: [iface({ ifindex: 2, name: 'eth0', addresses: ['10.1.0.2/24'], peer: { ifindex: 7, otherNamespace: true } })], routes: [{ dst: 'default', via: '10.1.0.1', dev: 'eth0' }] }]]),
    fdb: new Map([['vx-001001', [{ mac: '00:00:00:00:00:00', dst: '10.99.0.12', permanent: true }, { mac: '02:42:0a:00:01:09', dst: '10.99.0.12', permanent: true }]]]),
    ...over,
  };
}

describe('berth topology', () => {
  it('pairs veth ends by the kernel’s ifindexes and names them after the model', () => {
    const t = buildTopology(input());
    const host = t.namespaces[0]!;
    assert.equal(host.interfaces.find((i) => i.name === 'veth1')?.peerName, 'web:eth0');
    assert.equal(t.namespaces[1]!.interfaces[0]!.peerName, 'host:veth1');
    assert.equal(t.namespaces[1]!.interfaces[0]!.network, 'app');
    assert.deepEqual(t.ports, [{ container: 'web', proto: 'tcp', hostIp: '0.0.0.0', hostPorts: '8080', containerIp: '10.1.0.2', containerPorts: '8080', rule: 'DNAT in table inet berth, map pub4_keep' }]);
    assert.deepEqual(t.tunnels, [{ link: 'vx-001001', network: undefined, vni: 4097, local: '10.99.0.11', peers: [{ vtep: '10.99.0.12', mac: '02:42:0a:00:01:09', endpoint: 'far', ip: '10.0.1.9' }] }]);
    assert.deepEqual(t.drift, []);
  });

  it('flags drift: an address other than the model’s, a stray berth link, a namespace that cannot be read', () => {
    const base = input();
    const wrongIp = buildTopology({ ...base, sandboxes: new Map([['c1', { interfaces: [iface({ ifindex: 2, name: 'eth0', addresses: ['10.1.0.99/24'], peer: { ifindex: 7, otherNamespace: true } })], routes: [] }]]) });
    assert.deepEqual(wrongIp.drift, [{ kind: 'mismatch', detail: 'web: eth0 has 10.1.0.99/24, the model says 10.1.0.2/24' }]);
    const stray = buildTopology({ ...base, host: { ...base.host, interfaces: [...base.host.interfaces, iface({ ifindex: 11, name: 'veth9', alias: 'berth' })] } });
    assert.deepEqual(stray.drift.map((d) => d.kind), ['unknown']);
    const gone = buildTopology({ ...base, sandboxes: new Map([['c1', undefined]]) });
    assert.match(gone.drift[0]!.detail, /^container web: its namespace \/run\/netns\/c1 cannot be read/);
  });

  it('narrows to a network or a container, and renders text and Graphviz', () => {
    const t = buildTopology(input(), { container: 'web' });
    assert.deepEqual(t.namespaces[0]!.interfaces.map((i) => i.name).sort(), ['br-app', 'veth1']);
    assert.match(renderText(t), /└ veth1 .* ⇄ web:eth0 {2}\[app\]/);
    assert.match(renderDot(t), /"web:eth0" -> "host:veth1" \[dir=none, label="veth"\];/);
    assert.match(renderDot(t), /label="br-app\\nbridge\\n10\.1\.0\.1\/24\\n\[app\]"/);
    assert.deepEqual(buildTopology(input(), { network: 'other' }).namespaces.map((n) => n.name), ['host']);
  });

  it('shows a data path of its own as a namespace (kept with a swarm network), and flags it gone or without its address', () => {
    const base = input();
    const overlay = { id: 'n2', name: 'ov', driver: 'overlay', scope: 'swarm' as const, links: ['vx-001001'], subnets: ['10.0.1.0/24'], gateways: [], ipv6: false };
    const model = { ...base.model, networks: [...base.model.networks, overlay], dataPath: { netns: '/run/berth/data-path.netns', addr: '10.99.0.111', members: ['10.99.0.111', '10.99.0.112'] } };
    const view = { interfaces: [iface({ ifindex: 2, name: 'underlay', kind: 'macvlan', addresses: ['10.99.0.111/24'] })], routes: [] };
    const t = buildTopology({ ...base, model, dataPath: view });
    assert.deepEqual(t.namespaces.map((n) => [n.kind, n.name]), [['host', 'host'], ['data-path', 'data path'], ['container', 'web']]);
    assert.deepEqual(t.drift, []);
    assert.match(renderText(t), /^data path \(the swarm's VXLAN socket, off the host's netfilter\) {2}\/run\/berth\/data-path\.netns\n {2}underlay +macvlan +10\.99\.0\.111\/24/m);
    assert.match(renderDot(t), /label="data path";/);
    assert.deepEqual(buildTopology({ ...base, model, dataPath: view }, { network: 'ov' }).namespaces.map((n) => n.kind), ['host', 'data-path']);
    assert.deepEqual(buildTopology({ ...base, model, dataPath: view }, { network: 'app' }).namespaces.map((n) => n.kind), ['host', 'container']);
    assert.match(buildTopology({ ...base, model }).drift[0]!.detail, /^the data path's namespace \/run\/berth\/data-path\.netns cannot be read/);
    const moved = buildTopology({ ...base, model, dataPath: { ...view, interfaces: [iface({ ifindex: 2, name: 'underlay', kind: 'macvlan', addresses: ['10.99.0.99/24'] })] } });
    assert.deepEqual(moved.drift, [{ kind: 'missing', detail: "the data path's namespace has no link with 10.99.0.111, the address VXLAN leaves from" }]);
  });

  it('tells a container named host from the host', () => {
    const t = buildTopology({ ...input(), containerNames: new Map([['c1', 'host']]) });
    assert.deepEqual(t.namespaces.map((n) => n.kind), ['host', 'container']);
    assert.match(renderText(t), /^container host \(c1\)/m);
    assert.deepEqual(buildTopology({ ...input(), containerNames: new Map([['c1', 'host']]) }, { container: 'host' }).namespaces.map((n) => n.kind), ['host', 'container']);
  });
});
