/** `berth doctor`'s verdicts on made-up hosts (the facts as facts.ts gathers them). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeClock } from '../../src/cluster/clock.js';
import { diagnose, type Check, type DoctorFacts } from '../../src/insight/doctor.js';
import { expected } from '../../src/insight/facts.js';

const ALL_FEATURES = { macvlan: true, ipvlan: true, vlan: true, dummy: true, ifb: true, vxlan: true, esp: true } as const;

function host(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    sysctls: { ipv4Forward: '1' },
    ipv6: false,
    firewall: { enforcing: true, tables: ['inet berth', 'bridge berth'] },
    foreignTables: [],
    features: ALL_FEATURES,
    pools: ['172.17.0.0/16'],
    hostRoutes: [{ dst: '192.168.1.0/24', dev: 'eth0' }],
    expectedLinks: new Map([['berth0', 'network bridge']]),
    ownedLinks: ['berth0'],
    overlays: [],
    ...over,
  };
}

const verdicts = (f: DoctorFacts): Record<string, string> => Object.fromEntries(diagnose(f).checks.map((c) => [c.id, c.verdict]));

describe('berth doctor', () => {
  it('finds a well host healthy, with nothing but ok', () => {
    const r = diagnose(host());
    assert.equal(r.healthy, true);
    assert.deepEqual([...new Set(r.checks.map((c) => c.verdict))], ['ok']);
  });

  it('fails on forwarding off (IPv6 only when a network has IPv6) and on berth’s tables gone', () => {
    assert.equal(verdicts(host({ sysctls: { ipv4Forward: '0' } }))['forwarding:ipv4'], 'fail');
    assert.equal(verdicts(host({ sysctls: { ipv4Forward: '1', ipv6Forward: '0' } }))['forwarding:ipv6'], undefined);
    assert.equal(verdicts(host({ ipv6: true, sysctls: { ipv4Forward: '1', ipv6Forward: '0' } }))['forwarding:ipv6'], 'fail');
    const r = diagnose(host({ firewall: { enforcing: true, tables: ['inet berth'] } }));
    assert.equal(r.healthy, false);
    assert.equal(r.checks.find((c) => c.id === 'firewall')?.summary, "berth's table bridge berth is missing");
    assert.equal(verdicts(host({ firewall: { enforcing: false, tables: [] } }))['firewall'], 'info', 'off by choice is no failure');
  });

  it('tells other tools’ tables apart: a forward drop fails, firewalld warns, the rest is noted', () => {
    const v = verdicts(host({ foreignTables: [{ family: 'ip', name: 'filter', forwardDrop: true }, { family: 'inet', name: 'firewalld', forwardDrop: false }, { family: 'ip', name: 'nat', forwardDrop: false }] }));
    assert.equal(v['foreign-firewall:ip filter'], 'fail');
    assert.equal(v['foreign-firewall:inet firewalld'], 'warn');
    assert.equal(v['foreign-firewall:ip nat'], 'info');
  });

  it('warns when br_netfilter hands bridged frames to every table', () => {
    assert.equal(verdicts(host({ sysctls: { ipv4Forward: '1', bridgeNfCallIptables: '1' } }))['br_netfilter'], 'warn');
    assert.equal(verdicts(host({ sysctls: { ipv4Forward: '1', bridgeNfCallIptables: '0' } }))['br_netfilter'], 'ok');
  });

  it('names missing kernel features with what they take away', () => {
    const r = diagnose(host({ features: { ...ALL_FEATURES, esp: false, ipvlan: undefined } }));
    const esp = r.checks.find((c) => c.id === 'kernel:esp');
    assert.match(esp?.summary ?? '', /^the kernel lacks IPsec ESP support/);
    assert.equal(esp?.hint, 'encrypted overlay networks (-o encrypted) are refused');
    assert.match(r.checks.find((c) => c.id === 'kernel:ipvlan')?.summary ?? '', /could not be probed/);
    assert.equal(r.healthy, true);
  });

  it('notes pools overlapping host routes, never the default route', () => {
    const v = diagnose(host({ hostRoutes: [{ dst: '172.17.5.0/24', dev: 'eth1' }, { dst: '0.0.0.0/0', dev: 'eth0' }] })).checks.filter((c) => c.id.startsWith('pool:'));
    assert.deepEqual(v.map((c) => c.summary), ['address pool 172.17.0.0/16 overlaps host routes 172.17.5.0/24 (eth1)']);
  });

  it('fails an overlay whose links need more than the underlay carries', () => {
    assert.equal(verdicts(host({ overlays: [{ network: 'ov', linkMtu: 1450, underlayMtu: 1500 }] }))['mtu:ov'], undefined);
    assert.equal(verdicts(host({ overlays: [{ network: 'ov', linkMtu: 1450, underlayMtu: 1400 }] }))['mtu:ov'], 'fail');
    // Routed directly: its links carry routed packets at the underlay's MTU, VXLAN's bytes left to the containers' routes.
    assert.equal(verdicts(host({ overlays: [{ network: 'ov', linkMtu: 1500, underlayMtu: 1500, directRouted: true }] }))['mtu:ov'], undefined);
    assert.equal(verdicts(host({ overlays: [{ network: 'ov', linkMtu: 1500, underlayMtu: 1400, directRouted: true }] }))['mtu:ov'], 'fail');
  });

  it('judges direct routing’s filters: ok with both sides, fail without either, fail on one left redirecting to nothing', () => {
    const net = { network: 'ov', vxlan: 'vx-001001', sending: true, peers: 2, receiving: true, admitting: true };
    const direct = (over: Partial<typeof net>, dead: string[] = []) => host({ direct: { underlay: 'eth0', networks: [{ ...net, ...over }], dead } });
    const ok = diagnose(direct({})).checks.find((c) => c.id === 'direct:ov')!;
    assert.equal(ok.verdict, 'ok');
    assert.match(ok.summary, /2 peers sent by filter from vx-001001, received through eth0/);
    assert.equal(verdicts(direct({ sending: false }))['direct:ov'], 'fail');
    const deaf = diagnose(direct({ receiving: false }));
    assert.equal(deaf.healthy, false);
    assert.match(deaf.checks.find((c) => c.id === 'direct:ov')!.summary, /nothing on eth0 hands its frames to vx-001001/);
    assert.match(diagnose(direct({ admitting: false })).checks.find((c) => c.id === 'direct:ov')!.summary, /vx-001001 has no admission table \(netdev berth_dr_001001\)/);
    const stale = diagnose(direct({}, ['800:0:801'])).checks.find((c) => c.id === 'direct:stale')!;
    assert.equal(stale.verdict, 'fail');
    assert.match(stale.summary, /1 filter on eth0 redirects to a link that is gone \(handle 800:0:801\)/);
    assert.equal(verdicts(host())['direct:stale'], undefined);
  });

  it('finds drift both ways: expected links missing fail, stray berth links warn', () => {
    const v = verdicts(host({ expectedLinks: new Map([['berth0', 'network bridge'], ['veth1', 'web on app']]), ownedLinks: ['berth0', 'stray0'] }));
    assert.equal(v['drift:missing'], 'fail');
    assert.equal(v['drift:extra'], 'warn');
    assert.equal(v['drift'], undefined);
  });

  it("in a swarm: another node's clock beyond doubt more than 1 s apart warns, more than the certificates' minute fails", () => {
    const clock = (offsetMs: number, errorMs = 2): NodeClock => ({ hostname: 'host2', offset: { offsetMs, errorMs } });
    const judge = (clocks: NodeClock[]): Check | undefined => diagnose(host({ swarm: { reachable: true, down: [], clocks } })).checks.find((c) => c.id === 'swarm:clock');
    assert.equal(judge([clock(40)])?.verdict, 'ok');
    assert.equal(judge([clock(1500, 600)])?.verdict, 'ok', 'within the probe error of 1 s');
    assert.equal(judge([clock(-1500)])?.verdict, 'warn');
    assert.match(judge([clock(-1500)])!.summary, /host2 -1\.500 s/);
    assert.equal(judge([clock(90_000)])?.verdict, 'fail');
    assert.equal(judge([{ hostname: 'host3', error: 'connect ECONNREFUSED' }])?.verdict, 'warn');
  });

  it('in a swarm: a store that does not answer fails, down nodes warn', () => {
    assert.equal(verdicts(host({ swarm: { reachable: false, error: 'deadline exceeded', down: [], clocks: [] } }))['swarm:store'], 'fail');
    assert.equal(verdicts(host({ swarm: { reachable: true, down: ['host3'], clocks: [] } }))['swarm:nodes'], 'warn');
  });

  it("checks a data path of its own: its namespace, the address VXLAN leaves from, and a guard holding every node", () => {
    const dp = { netns: '/run/berth/data-path.netns', addr: '10.99.0.111', readable: true, hasAddress: true, guard: ['10.99.0.111', '10.99.0.112'], members: ['10.99.0.111', '10.99.0.112'] };
    const check = (over: Partial<typeof dp>, firewall = true): Check => diagnose(host({ dataPath: { ...dp, ...over }, firewall: { enforcing: firewall, tables: [] } })).checks.find((c) => c.id === 'data-path')!;
    assert.equal(check({}).verdict, 'ok');
    assert.match(check({}).summary, /VXLAN leaves from 10\.99\.0\.111 in a namespace of its own; its guard lets in the swarm's 2 nodes only/);
    assert.deepEqual([check({ readable: false }).verdict, check({ hasAddress: false }).verdict, check({ guard: undefined }).verdict], ['fail', 'fail', 'fail']);
    assert.match(check({ readable: false }).hint ?? '', /restart berthd/);
    assert.equal(check({ guard: undefined }, false).verdict, 'info', 'with the firewall off, an open data path is what was asked for');
    const lacking = check({ guard: ['10.99.0.111'] });
    assert.deepEqual([lacking.verdict, lacking.summary], ['warn', "the data path's guard lacks nodes 10.99.0.112: their VXLAN is dropped"]);
    assert.equal(diagnose(host()).checks.some((c) => c.id === 'data-path'), false, 'no check without a data path of its own');
  });

  it("expects from the model each network's links and each endpoint's host side, and an MTU check for swarm-scope networks only", () => {
    const net = (id: string, name: string, driver: string, links: string[]) => ({ id, name, driver, scope: driver === 'overlay' ? ('swarm' as const) : ('local' as const), links, subnets: [], gateways: [], ipv6: false });
    const e = expected({
      networks: [net('n1', 'app', 'bridge', ['br-app']), net('n2', 'ov', 'overlay', ['vx-001001', 'ov-001001']), net('n3', 'mv', 'macvlan', ['mv-1'])],
      endpoints: [{ containerId: 'c1', name: 'web', networkId: 'n1', ifName: 'eth0', hostIfName: 'veth1', ipv4: undefined, mac: undefined }],
      sandboxes: [],
      published: [],
      remote: [],
      pools: ['172.17.0.0/16'],
      underlayMtu: 9000,
    });
    assert.deepEqual([...e.links], [['br-app', 'network app'], ['vx-001001', 'network ov'], ['ov-001001', 'network ov'], ['mv-1', 'network mv'], ['veth1', 'web on app']]);
    assert.deepEqual(e.overlays, [{ network: 'ov', link: 'vx-001001', underlayMtu: 9000, directRouted: false }]);
    assert.equal(e.ipv6, false);
  });
});
