import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ingressModel, servicesByNetwork } from '../../src/network/services/derive.js';
import { ingressChangesScript, ingressTableScript, type IngressModel } from '../../src/network/services/ingress-rules.js';
import { chainRules, vipChain, vipChangesScript, vipTableScript, type VipEntry } from '../../src/network/services/vip-rules.js';
import { ServiceBalancer, removedBackends } from '../../src/network/services/balancer.js';
import type { ServiceView, SharedServices, SharedServicesListener } from '../../src/network/services/model.js';
import type { RemoteEndpoint, SharedListener, SharedNetworks } from '../../src/network/shared.js';
import type { EndpointId, EndpointRecord, NetworkId } from '../../src/network/model.js';
import { DnsDirectory } from '../../src/network/dns/directory.js';
import { setServiceNames } from '../../src/network/dns/services.js';
import { TYPE, type Answer } from '../../src/network/dns/message.js';
import { serviceView } from '../../src/cluster/services/view.js';
import { serviceOf } from '../../src/engine/containers/networking.js';
import { FakeKernel } from '../lib/fake-kernel.js';

const NET = 'n'.repeat(25);

function svc(over: Partial<ServiceView> & Pick<ServiceView, 'id' | 'name'>): ServiceView {
  return { endpointMode: 'vip', vips: [{ networkId: NET, addr: '10.0.1.2' }], networks: [{ networkId: NET, aliases: [] }], ports: [], ...over };
}

class FakeServices implements SharedServices {
  list: ServiceView[] = [];
  stopped = new Set<string>();
  private readonly listeners = new Set<SharedServicesListener>();
  services(): ServiceView[] {
    return this.list;
  }
  taskServing(id: string): boolean {
    return !this.stopped.has(id);
  }
  watch(l: SharedServicesListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  changed(): void {
    for (const l of this.listeners) l.servicesChanged();
  }
}

function remote(ip: string, service?: { id: string; name: string; taskId?: string }): RemoteEndpoint {
  return { networkId: NET, endpointId: `ep-${ip}`, containerId: `c-${ip}`, name: `t-${ip}`, aliases: [], ipv4: ip, mac: '02:00:00:00:00:01', node: '192.168.0.2', ...(service ? { service } : {}) };
}

function local(containerId: string, ip: string, service?: { id: string; name: string }): EndpointRecord {
  return {
    id: `ep-${containerId}` as EndpointId,
    networkId: NET as NetworkId,
    containerId,
    name: containerId,
    ifName: 'eth0',
    hostIfName: 'veth0',
    mac: '02:00:00:00:00:02',
    ipv4: { address: ip, prefixLen: 24, gateway: '10.0.1.1' },
    ipv6: undefined,
    aliases: [],
    gateway: false,
    ...(service ? { service } : {}),
  };
}

describe('service VIP rules', () => {
  it('renders a namespace table: the vmap, the nat output hook, one chain per service', () => {
    const entries: VipEntry[] = [
      { chain: 'svc_a_n', vip: '10.0.1.2', backends: ['10.0.1.5', '10.0.1.6', '10.0.1.7'] },
      { chain: 'svc_b_n', vip: '10.0.1.3', backends: ['10.0.1.9'] },
      { chain: 'svc_c_n', vip: '10.0.1.4', backends: [] },
    ];
    assert.equal(
      vipTableScript(entries),
      `add table ip berth_svc
delete table ip berth_svc
table ip berth_svc {
\tmap vips {
\t\ttype ipv4_addr : verdict
\t\telements = { 10.0.1.2 : goto svc_a_n, 10.0.1.3 : goto svc_b_n, 10.0.1.4 : goto svc_c_n }
\t}
\tset idle {
\t\ttype ipv4_addr
\t\telements = { 10.0.1.4 }
\t}
\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\tip daddr vmap @vips
\t}
\tchain refuse {
\t\ttype filter hook output priority 0; policy accept;
\t\tip daddr @idle meta l4proto tcp reject with tcp reset
\t\tip daddr @idle reject
\t}
\tchain svc_a_n {
\t\tdnat to numgen random mod 3 map { 0 : 10.0.1.5, 1 : 10.0.1.6, 2 : 10.0.1.7 }
\t}
\tchain svc_b_n {
\t\tdnat to 10.0.1.9
\t}
\tchain svc_c_n {
\t}
}
`,
    );
    assert.equal(vipTableScript([]), 'add table ip berth_svc\ndelete table ip berth_svc\n');
  });

  it('a replica change rewrites that service chain only; a new and a removed service touch their element and chain', () => {
    const a: VipEntry = { chain: 'svc_a_n', vip: '10.0.1.2', backends: ['10.0.1.5', '10.0.1.6'] };
    const b: VipEntry = { chain: 'svc_b_n', vip: '10.0.1.3', backends: ['10.0.1.9'] };
    const before = new Map([[a.chain, a], [b.chain, b]]);
    const scaled = new Map([[a.chain, { ...a, backends: ['10.0.1.5'] }], [b.chain, b]]);
    assert.equal(vipChangesScript(before, scaled), 'flush chain ip berth_svc svc_a_n\nadd rule ip berth_svc svc_a_n dnat to 10.0.1.5\n');
    assert.equal(vipChangesScript(before, before), '');
    const none = new Map([[a.chain, { ...a, backends: [] }], [b.chain, b]]);
    assert.equal(vipChangesScript(before, none), 'flush chain ip berth_svc svc_a_n\nadd element ip berth_svc idle { 10.0.1.2 }\n');
    assert.equal(vipChangesScript(none, before), 'flush chain ip berth_svc svc_a_n\nadd rule ip berth_svc svc_a_n dnat to numgen random mod 2 map { 0 : 10.0.1.5, 1 : 10.0.1.6 }\ndelete element ip berth_svc idle { 10.0.1.2 }\n');
    const c: VipEntry = { chain: 'svc_c_n', vip: '10.0.1.4', backends: [] };
    assert.equal(
      vipChangesScript(before, new Map([[a.chain, a], [c.chain, c]])),
      [
        'delete element ip berth_svc vips { 10.0.1.3 }',
        'delete chain ip berth_svc svc_b_n',
        'add chain ip berth_svc svc_c_n',
        'add element ip berth_svc vips { 10.0.1.4 : goto svc_c_n }',
        'add element ip berth_svc idle { 10.0.1.4 }',
        '',
      ].join('\n'),
    );
  });

  it('the size of a change does not grow with the number of services', () => {
    const many = (n: number, backendsOf0: string[]) =>
      new Map(Array.from({ length: n }, (_, i) => [`svc_${i}`, { chain: `svc_${i}`, vip: `10.1.${i >> 8}.${i & 255}`, backends: i === 0 ? backendsOf0 : ['10.2.0.1'] }] as const));
    const size = (n: number) => vipChangesScript(many(n, ['10.3.0.1', '10.3.0.2']), many(n, ['10.3.0.1'])).length;
    assert.equal(size(10), size(500));
  });

  it('chain names are nft identifiers, one per service and network', () => {
    assert.match(vipChain('abc-DEF.123', NET), /^svc_abcDEF123_n{12}$/);
    assert.deepEqual(chainRules(['10.0.0.1', '10.0.0.2']), ['dnat to numgen random mod 2 map { 0 : 10.0.0.1, 1 : 10.0.0.2 }']);
  });
});

describe('services per network (derivation)', () => {
  it('backends are the endpoints tagged with the service on that network, local and remote, sorted; a task being stopped is none', () => {
    const services = new FakeServices();
    services.list = [svc({ id: 's1', name: 'web', networks: [{ networkId: NET, aliases: ['www'] }] }), svc({ id: 's2', name: 'db', endpointMode: 'dnsrr', vips: [] })];
    services.stopped.add('t-gone');
    const got = servicesByNetwork(services, [
      { networkId: NET, ipv4: '10.0.1.10', service: { id: 's1', name: 'web' } },
      { networkId: NET, ipv4: '10.0.1.9', service: { id: 's1', name: 'web', taskId: 't1' } },
      { networkId: NET, ipv4: '10.0.1.11', service: { id: 's1', name: 'web', taskId: 't-gone' } },
      { networkId: 'other', ipv4: '10.9.0.2', service: { id: 's1', name: 'web' } },
      { networkId: NET, ipv4: '10.0.1.20', service: { id: 's2', name: 'db' } },
      { networkId: NET, ipv4: '10.0.1.30' },
    ]);
    assert.deepEqual(got.get(NET), [
      { id: 's2', name: 'db', aliases: [], endpointMode: 'dnsrr', vip: undefined, backends: ['10.0.1.20'] },
      { id: 's1', name: 'web', aliases: ['www'], endpointMode: 'vip', vip: '10.0.1.2', backends: ['10.0.1.9', '10.0.1.10'] },
    ]);
    assert.equal(got.get('other'), undefined);
  });

  it('a service record reads as its view: mode, VIPs without prefix, networks with aliases, ports', () => {
    const view = serviceView({
      id: 's1',
      version: 1,
      createdAt: '',
      updatedAt: '',
      spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: NET, Aliases: ['www'] }] }, EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' }] } },
      virtualIps: [{ networkId: NET, addr: '10.0.1.2/24' }],
      ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 30000, PublishMode: 'ingress' }],
    });
    assert.deepEqual(view, { id: 's1', name: 'web', endpointMode: 'vip', vips: [{ networkId: NET, addr: '10.0.1.2' }], networks: [{ networkId: NET, aliases: ['www'] }], ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 30000, mode: 'ingress' }] });
  });

  it("a task's container names its service by Docker's labels; another container none", () => {
    assert.deepEqual(serviceOf({ 'com.docker.swarm.service.id': 's1', 'com.docker.swarm.service.name': 'web', 'com.docker.swarm.task.id': 't1' }), { id: 's1', name: 'web', taskId: 't1' });
    assert.equal(serviceOf({ a: 'b' }), undefined);
  });
});

/** A SharedNetworks with only what the balancer reads. */
function sharedWith(services: FakeServices, remotes: RemoteEndpoint[]): SharedNetworks & { tell(c: Parameters<SharedListener['remoteChanged']>[0]): void; remotes: RemoteEndpoint[] } {
  const listeners = new Set<SharedListener>();
  const s = {
    services,
    remotes,
    remoteEndpoints: () => s.remotes,
    watch: (l: SharedListener) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    tell: (c: Parameters<SharedListener['remoteChanged']>[0]) => {
      for (const l of listeners) l.remoteChanged(c);
    },
  };
  return s as unknown as SharedNetworks & typeof s;
}

describe('service balancer', () => {
  const setup = () => {
    const kernel = new FakeKernel();
    const services = new FakeServices();
    services.list = [svc({ id: 's1', name: 'web' })];
    const shared = sharedWith(services, [remote('10.0.1.5', { id: 's1', name: 'web' }), remote('10.0.1.6', { id: 's1', name: 'web' })]);
    const locals = [local('client', '10.0.1.20'), local('task', '10.0.1.7', { id: 's1', name: 'web' })];
    const names = new Map<string, string[]>();
    const balancer = () =>
      new ServiceBalancer({
        kernel,
        localEndpoints: () => locals,
        sandboxPath: (id) => `/ns/${id}`,
        derived: (by) => by.forEach((l, n) => names.set(n, l.map((s) => `${s.name}:${s.backends.join(',')}`))),
        log: () => undefined,
      });
    return { kernel, services, shared, locals, names, balancer };
  };

  it('programs every local namespace on the network with the whole table first, then only what changes, and forgets a removed backend’s UDP flows', async () => {
    const { kernel, shared, names, balancer } = setup();
    const b = balancer();
    await b.attach(shared);
    const chain = vipChain('s1', NET);
    assert.deepEqual(kernel.nsNftScripts.map((s) => s.netns).sort(), ['/ns/client', '/ns/task']);
    assert.match(kernel.nsNftScripts[0]!.script, /^add table ip berth_svc\ndelete table ip berth_svc\ntable ip berth_svc \{/);
    assert.match(kernel.nsNftScripts[0]!.script, /numgen random mod 3 map \{ 0 : 10\.0\.1\.5, 1 : 10\.0\.1\.6, 2 : 10\.0\.1\.7 \}/);
    assert.deepEqual(names.get(NET), ['web:10.0.1.5,10.0.1.6,10.0.1.7']);
    kernel.nsNftScripts.length = 0;
    const gone = shared.remotes.shift()!;
    shared.tell({ kind: 'removed', endpoint: gone });
    await b.sync();
    assert.deepEqual(
      kernel.nsNftScripts.map((s) => s.script),
      [`flush chain ip berth_svc ${chain}\nadd rule ip berth_svc ${chain} dnat to numgen random mod 2 map { 0 : 10.0.1.6, 1 : 10.0.1.7 }\n`, `flush chain ip berth_svc ${chain}\nadd rule ip berth_svc ${chain} dnat to numgen random mod 2 map { 0 : 10.0.1.6, 1 : 10.0.1.7 }\n`],
    );
    assert.deepEqual(kernel.forgottenFlows.map((f) => [f.netns, f.proto, f.replySources]).sort(), [['/ns/client', 'udp', ['10.0.1.5']], ['/ns/task', 'udp', ['10.0.1.5']]]);
    kernel.nsNftScripts.length = 0;
    await b.sync();
    assert.deepEqual(kernel.nsNftScripts, [], 'nothing changed, nothing applied');
  });

  it('a local task that stops stops being a backend before its endpoints go; its own namespace is left alone', async () => {
    const { kernel, shared, balancer } = setup();
    const b = balancer();
    await b.attach(shared);
    kernel.nsNftScripts.length = 0;
    await b.stopped('task');
    assert.deepEqual(kernel.nsNftScripts.map((s) => s.netns), ['/ns/client']);
    assert.match(kernel.nsNftScripts[0]!.script, /mod 2 map \{ 0 : 10\.0\.1\.5, 1 : 10\.0\.1\.6 \}/);
  });

  it('after a restart every namespace is replaced whole (nothing left over, nothing doubled); a service removed goes from every table', async () => {
    const { kernel, services, shared, balancer } = setup();
    const first = balancer();
    await first.attach(shared);
    first.detach(); // the daemon that stopped
    kernel.nsNftScripts.length = 0;
    const again = balancer();
    await again.attach(shared);
    assert.equal(kernel.nsNftScripts.length, 2);
    for (const s of kernel.nsNftScripts) assert.match(s.script, /^add table ip berth_svc\ndelete table ip berth_svc\ntable/);
    kernel.nsNftScripts.length = 0;
    services.list = [];
    services.changed();
    await again.sync();
    assert.deepEqual(kernel.nsNftScripts.map((s) => s.script), ['add table ip berth_svc\ndelete table ip berth_svc\n', 'add table ip berth_svc\ndelete table ip berth_svc\n']);
  });

  it('names the backends a change removed', () => {
    const e = (backends: string[]): Map<string, VipEntry> => new Map([['c', { chain: 'c', vip: '10.0.0.2', backends }]]);
    assert.deepEqual(removedBackends(e(['10.0.0.5', '10.0.0.6']), e(['10.0.0.6', '10.0.0.7'])), ['10.0.0.5']);
    assert.deepEqual(removedBackends(undefined, e([])), []);
  });
});

describe('service names in the embedded DNS', () => {
  const ask = (d: DnsDirectory, name: string): string[] | string => {
    const r = d.resolve('client', name, TYPE.A);
    return r.kind === 'answer' ? r.answers.map((a: Answer) => (a.type === TYPE.A ? [...a.address].join('.') : '')).sort() : r.kind;
  };
  const directory = () => {
    const d = new DnsDirectory();
    d.addEndpoint({ containerId: 'client', networkId: NET, networkName: 'ov', name: 'client', aliases: [], links: [], ipv4: '10.0.1.20' });
    setServiceNames(
      d,
      new Map([
        [
          NET,
          [
            { id: 's1', name: 'web', aliases: ['www'], endpointMode: 'vip' as const, vip: '10.0.1.2', backends: ['10.0.1.5', '10.0.1.6'] },
            { id: 's2', name: 'db', aliases: [], endpointMode: 'dnsrr' as const, vip: undefined, backends: ['10.0.1.8', '10.0.1.9'] },
          ],
        ],
      ]),
      () => 'ov',
    );
    return d;
  };

  it('answers a VIP service with its VIP, a dnsrr one with its tasks, tasks.<name> with the tasks, aliases too, and name.network', () => {
    const d = directory();
    assert.deepEqual(ask(d, 'web'), ['10.0.1.2']);
    assert.deepEqual(ask(d, 'WWW.'), ['10.0.1.2']);
    assert.deepEqual(ask(d, 'web.ov'), ['10.0.1.2']);
    assert.deepEqual(ask(d, 'tasks.web'), ['10.0.1.5', '10.0.1.6']);
    assert.deepEqual(ask(d, 'db'), ['10.0.1.8', '10.0.1.9']);
    assert.deepEqual(ask(d, 'tasks.db'), ['10.0.1.8', '10.0.1.9']);
    assert.equal(ask(d, 'nothing'), 'unknown');
  });

  it('only containers on the network see the names; a service gone leaves none', () => {
    const d = directory();
    d.addEndpoint({ containerId: 'elsewhere', networkId: 'other', networkName: 'other', name: 'elsewhere', aliases: [], links: [], ipv4: '10.9.0.2' });
    assert.equal(d.resolve('elsewhere', 'web', TYPE.A).kind, 'unknown');
    setServiceNames(d, new Map(), () => 'ov');
    assert.equal(ask(d, 'web'), 'unknown');
    assert.equal(ask(d, 'tasks.web'), 'unknown');
  });
});

describe('ingress routing mesh (rules and derivation)', () => {
  const m = (backends: string[], remote: string[]): IngressModel => ({
    ports: [{ proto: 'tcp', port: 30080, backends: backends.map((ip) => ({ ip, port: 80 })) }],
    local: { link: 'ov-001000', address: '10.255.0.2' },
    remote,
  });

  it('renders the node table: the ports vmap from prerouting and output for local addresses, SNAT toward remote tasks only, one chain per port', () => {
    assert.equal(
      ingressTableScript(m(['10.255.0.5', '10.255.0.6'], ['10.255.0.6'])),
      `add table ip berth_ingress
delete table ip berth_ingress
table ip berth_ingress {
\tmap ports {
\t\ttype inet_proto . inet_service : verdict
\t\telements = { tcp . 30080 : goto ing_tcp_30080 }
\t}
\tset remote {
\t\ttype ipv4_addr
\t\telements = { 10.255.0.6 }
\t}
\tchain prerouting {
\t\ttype nat hook prerouting priority -100; policy accept;
\t\tfib daddr type local meta l4proto . th dport vmap @ports
\t}
\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\tfib daddr type local meta l4proto . th dport vmap @ports
\t}
\tchain postrouting {
\t\ttype nat hook postrouting priority 100; policy accept;
\t\toifname "ov-001000" ct status dnat ip daddr @remote snat to 10.255.0.2
\t}
\tchain ing_tcp_30080 {
\t\tmeta l4proto tcp dnat to numgen random mod 2 map { 0 : 10.255.0.5 . 80, 1 : 10.255.0.6 . 80 }
\t}
}
`,
    );
    assert.equal(ingressTableScript({ ports: [], local: undefined, remote: [] }), 'add table ip berth_ingress\ndelete table ip berth_ingress\n');
  });

  it('a replica change is that port chain and the remote elements that changed', () => {
    assert.equal(
      ingressChangesScript(m(['10.255.0.5', '10.255.0.6'], ['10.255.0.6']), m(['10.255.0.5', '10.255.0.7'], ['10.255.0.7'])),
      'flush chain ip berth_ingress ing_tcp_30080\nadd rule ip berth_ingress ing_tcp_30080 meta l4proto tcp dnat to numgen random mod 2 map { 0 : 10.255.0.5 . 80, 1 : 10.255.0.7 . 80 }\nadd element ip berth_ingress remote { 10.255.0.7 }\ndelete element ip berth_ingress remote { 10.255.0.6 }\n',
    );
    assert.equal(ingressChangesScript(m(['10.255.0.5'], []), m(['10.255.0.5'], [])), '');
  });

  it('derives every ingress port of every service over its wanted tasks on the ingress network, remote ones marked', () => {
    const services = new FakeServices();
    services.list = [
      svc({ id: 's1', name: 'web', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 30080, mode: 'ingress' }, { protocol: 'udp', targetPort: 53, publishedPort: 30053, mode: 'ingress' }, { protocol: 'tcp', targetPort: 22, publishedPort: 2222, mode: 'host' }] }),
    ];
    services.stopped.add('t3');
    const got = ingressModel(
      services,
      [
        { networkId: 'ing', ipv4: '10.255.0.6', remote: true, service: { id: 's1', name: 'web', taskId: 't1' } },
        { networkId: 'ing', ipv4: '10.255.0.5', remote: false, service: { id: 's1', name: 'web', taskId: 't2' } },
        { networkId: 'ing', ipv4: '10.255.0.7', remote: true, service: { id: 's1', name: 'web', taskId: 't3' } },
        { networkId: NET, ipv4: '10.0.1.5', remote: false, service: { id: 's1', name: 'web' } },
      ],
      { networkId: 'ing', link: 'ov-001000', address: '10.255.0.2' },
    );
    assert.deepEqual(got, {
      ports: [
        { proto: 'udp', port: 30053, backends: [{ ip: '10.255.0.5', port: 53 }, { ip: '10.255.0.6', port: 53 }] },
        { proto: 'tcp', port: 30080, backends: [{ ip: '10.255.0.5', port: 80 }, { ip: '10.255.0.6', port: 80 }] },
      ],
      local: { link: 'ov-001000', address: '10.255.0.2' },
      remote: ['10.255.0.6'],
    });
    assert.deepEqual(ingressModel(services, [], undefined), { ports: [], local: undefined, remote: [] });
  });

  it('the balancer keeps the node table and holds every published port; leaving the swarm takes both', async () => {
    const kernel = new FakeKernel();
    const services = new FakeServices();
    services.list = [svc({ id: 's1', name: 'web', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 30080, mode: 'ingress' }, { protocol: 'udp', targetPort: 53, publishedPort: 30053, mode: 'ingress' }] })];
    const shared = sharedWith(services, [{ ...remote('10.255.0.6', { id: 's1', name: 'web' }), networkId: 'ing' }, { ...remote('10.255.0.7', { id: 's1', name: 'web' }), networkId: 'ing' }]);
    const made: string[] = [];
    const b = new ServiceBalancer({
      kernel,
      localEndpoints: () => [],
      sandboxPath: (id) => id,
      ingressEndpoint: async (previous) => {
        made.push(`made at ${previous ?? 'any'}`);
        return { networkId: 'ing', link: 'ov-001000', address: '10.255.0.2' };
      },
      dropIngressEndpoint: async (p) => void made.push(`dropped ${p.address}`),
      log: () => undefined,
    });
    await b.attach(shared);
    assert.match(kernel.nftScripts.join(''), /tcp \. 30080 : goto ing_tcp_30080[\s\S]*dnat to numgen random mod 2 map \{ 0 : 10\.255\.0\.6 \. 80, 1 : 10\.255\.0\.7 \. 80 \}/);
    assert.ok([...kernel.held].some((h) => h.includes('30080')), [...kernel.held].join());
    const gone = shared.remotes.pop()!;
    shared.tell({ kind: 'removed', endpoint: gone });
    await b.sync();
    assert.match(kernel.nftScripts.at(-1)!, /^flush chain ip berth_ingress ing_udp_30053\n/);
    assert.deepEqual(kernel.forgottenFlows, [{ netns: undefined, proto: 'udp', replySources: ['10.255.0.7'] }]);
    await b.attach(shared);
    assert.deepEqual(made, ['made at any', 'made at 10.255.0.2'], 'made again after a reconnect, at its address');
    services.list = [svc({ id: 's1', name: 'web' })];
    services.changed();
    await b.sync();
    assert.deepEqual(made.at(-1), 'dropped 10.255.0.2', 'no published port: no ingress endpoint');
    assert.equal(kernel.held.size, 0);
    services.list = [svc({ id: 's1', name: 'web', ports: [{ protocol: 'tcp', targetPort: 80, publishedPort: 30080, mode: 'ingress' }] })];
    services.changed();
    await b.sync();
    await b.leave();
    assert.equal(kernel.held.size, 0);
    assert.match(kernel.nftScripts.at(-1)!, /^add table ip berth_ingress\ndelete table ip berth_ingress\n$/);
  });
});
