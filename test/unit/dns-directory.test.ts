import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DnsDirectory, reverseNameToAddress, type DnsEndpoint, type Resolution } from '../../src/network/dns/directory.js';
import { TYPE } from '../../src/network/dns/message.js';

const ID = (c: string) => c.repeat(64);

function ep(over: Partial<DnsEndpoint> & Pick<DnsEndpoint, 'containerId' | 'name'>): DnsEndpoint {
  return { networkId: 'n1', networkName: 'front', aliases: [], links: [], ...over };
}

/** The answers of a resolution as text, in order ("nodata" / "unknown" otherwise). */
function show(r: Resolution): string[] | string {
  if (r.kind !== 'answer') return r.kind;
  return r.answers.map((a) => {
    if (a.type === TYPE.PTR) return a.target;
    if (a.type === TYPE.A) return [...a.address].join('.');
    return Buffer.from(a.address).toString('hex');
  });
}

const sorted = (r: Resolution) => {
  const s = show(r);
  return Array.isArray(s) ? [...s].sort() : s;
};

/** web (a) and db (b) on "front"; cache (c) on "back"; api (d) on both. */
function world(random?: () => number): DnsDirectory {
  const d = new DnsDirectory(random);
  d.addEndpoint(ep({ containerId: ID('a'), name: 'web', hostname: 'www', aliases: ['Frontend'], ipv4: '10.1.0.2', ipv6: 'fd00:1::2' }));
  d.addEndpoint(ep({ containerId: ID('b'), name: 'db', ipv4: '10.1.0.3' }));
  d.addEndpoint(ep({ containerId: ID('c'), networkId: 'n2', networkName: 'back', name: 'cache', ipv4: '10.2.0.2' }));
  d.addEndpoint(ep({ containerId: ID('d'), name: 'api', ipv4: '10.1.0.4' }));
  d.addEndpoint(ep({ containerId: ID('d'), networkId: 'n2', networkName: 'back', name: 'api', ipv4: '10.2.0.4' }));
  return d;
}

describe('dns directory: names', () => {
  const d = world();
  it('resolves container name, short id, hostname and network alias', () => {
    for (const name of ['web', 'aaaaaaaaaaaa', 'www', 'frontend']) assert.deepEqual(show(d.resolve(ID('b'), name, TYPE.A)), ['10.1.0.2'], name);
  });

  it('does not resolve the full id or a longer prefix', () => {
    assert.equal(show(d.resolve(ID('b'), ID('a'), TYPE.A)), 'unknown');
    assert.equal(show(d.resolve(ID('b'), 'aaaaaaaaaaaaa', TYPE.A)), 'unknown');
  });

  it('is case-insensitive and ignores a trailing dot', () => {
    assert.deepEqual(show(d.resolve(ID('b'), 'FrontEnd.', TYPE.A)), ['10.1.0.2']);
    assert.deepEqual(show(d.resolve(ID('b'), 'WEB', TYPE.A)), ['10.1.0.2']);
  });

  it('answers AAAA, and NODATA for a family the container lacks', () => {
    assert.deepEqual(show(d.resolve(ID('b'), 'web', TYPE.AAAA)), ['fd000001000000000000000000000002']);
    assert.equal(show(d.resolve(ID('a'), 'db', TYPE.AAAA)), 'nodata');
  });

  it('answers NODATA for other types of its names instead of forwarding them', () => {
    for (const t of [TYPE.MX, TYPE.TXT, TYPE.SRV, TYPE.ANY]) assert.equal(show(d.resolve(ID('a'), 'db', t)), 'nodata');
  });

  it('lets a container resolve itself', () => {
    assert.deepEqual(show(d.resolve(ID('a'), 'web', TYPE.A)), ['10.1.0.2']);
  });

  it('knows nothing for an asker it has no endpoint of', () => {
    assert.equal(show(d.resolve(ID('z'), 'web', TYPE.A)), 'unknown');
  });

  it('resolves name.network on that network only', () => {
    assert.deepEqual(show(d.resolve(ID('b'), 'web.front', TYPE.A)), ['10.1.0.2']);
    assert.deepEqual(show(d.resolve(ID('d'), 'api.back', TYPE.A)), ['10.2.0.4']);
    assert.deepEqual(show(d.resolve(ID('d'), 'API.FRONT.', TYPE.A)), ['10.1.0.4']);
    assert.equal(show(d.resolve(ID('d'), 'web.back', TYPE.A)), 'unknown');
    assert.equal(show(d.resolve(ID('b'), 'web.example.com', TYPE.A)), 'unknown');
  });

  it('handles container and network names with dots', () => {
    const x = new DnsDirectory();
    x.addEndpoint(ep({ containerId: ID('e'), networkName: 'corp.lan', name: 'my.app', ipv4: '10.9.0.2' }));
    x.addEndpoint(ep({ containerId: ID('f'), networkName: 'corp.lan', name: 'other', ipv4: '10.9.0.3' }));
    assert.deepEqual(show(x.resolve(ID('f'), 'my.app', TYPE.A)), ['10.9.0.2']);
    assert.deepEqual(show(x.resolve(ID('f'), 'my.app.corp.lan', TYPE.A)), ['10.9.0.2']);
  });
});

describe('dns directory: scope', () => {
  const d = world();
  it('does not resolve a container on a network the asker is not on', () => {
    assert.equal(show(d.resolve(ID('a'), 'cache', TYPE.A)), 'unknown');
    assert.equal(show(d.resolve(ID('c'), 'web', TYPE.A)), 'unknown');
    assert.equal(show(d.resolve(ID('c'), 'frontend', TYPE.A)), 'unknown');
  });

  it('resolves names on every network of a container on two', () => {
    assert.deepEqual(show(d.resolve(ID('d'), 'web', TYPE.A)), ['10.1.0.2']);
    assert.deepEqual(show(d.resolve(ID('d'), 'cache', TYPE.A)), ['10.2.0.2']);
  });

  it("answers with the address on the asker's network", () => {
    assert.deepEqual(show(d.resolve(ID('a'), 'api', TYPE.A)), ['10.1.0.4']);
    assert.deepEqual(show(d.resolve(ID('c'), 'api', TYPE.A)), ['10.2.0.4']);
  });

  it('prefers the network joined first when a name is on two', () => {
    // api is on front (joined first) and back: it sees itself on front.
    assert.deepEqual(show(d.resolve(ID('d'), 'api', TYPE.A)), ['10.1.0.4']);
  });

  it('keeps aliases network-scoped', () => {
    const x = world();
    x.addEndpoint(ep({ containerId: ID('c'), networkId: 'n2', networkName: 'back', name: 'cache', aliases: ['store'], ipv4: '10.2.0.2' }));
    assert.deepEqual(show(x.resolve(ID('d'), 'store', TYPE.A)), ['10.2.0.2']);
    assert.equal(show(x.resolve(ID('a'), 'store', TYPE.A)), 'unknown');
  });
});

describe('dns directory: round robin', () => {
  function many(random?: () => number): DnsDirectory {
    const d = new DnsDirectory(random);
    for (const [c, ip] of [['a', '10.1.0.2'], ['b', '10.1.0.3'], ['c', '10.1.0.4']] as const) {
      d.addEndpoint(ep({ containerId: ID(c), name: `svc-${c}`, aliases: ['svc'], ipv4: ip }));
    }
    d.addEndpoint(ep({ containerId: ID('z'), name: 'client', ipv4: '10.1.0.9' }));
    return d;
  }

  it('returns every address behind an alias', () => {
    assert.deepEqual(sorted(many().resolve(ID('z'), 'svc', TYPE.A)), ['10.1.0.2', '10.1.0.3', '10.1.0.4']);
  });

  it('shuffles the order (Fisher-Yates with the given random source)', () => {
    assert.deepEqual(show(many(() => 0.999).resolve(ID('z'), 'svc', TYPE.A)), ['10.1.0.2', '10.1.0.3', '10.1.0.4']);
    assert.deepEqual(show(many(() => 0).resolve(ID('z'), 'svc', TYPE.A)), ['10.1.0.3', '10.1.0.4', '10.1.0.2']);
  });

  it('gives different first addresses over repeated queries', () => {
    const d = many();
    const firsts = new Set<string>();
    for (let i = 0; i < 200; i++) firsts.add(String(show(d.resolve(ID('z'), 'svc', TYPE.A))[0]));
    assert.equal(firsts.size, 3);
  });

  it('leaves out members without an address of the asked family', () => {
    const d = many();
    d.addEndpoint(ep({ containerId: ID('y'), name: 'six', aliases: ['svc'], ipv6: 'fd00::9' }));
    assert.deepEqual(sorted(d.resolve(ID('z'), 'svc', TYPE.A)), ['10.1.0.2', '10.1.0.3', '10.1.0.4']);
    assert.deepEqual(show(d.resolve(ID('z'), 'svc', TYPE.AAAA)), ['fd000000000000000000000000000009']);
  });
});

describe('dns directory: links', () => {
  it("resolves a --link alias for the linking container only", () => {
    const d = world();
    d.addEndpoint(ep({ containerId: ID('a'), name: 'web', links: [{ target: 'db', alias: 'Database' }], ipv4: '10.1.0.2' }));
    assert.deepEqual(show(d.resolve(ID('a'), 'database', TYPE.A)), ['10.1.0.3']);
    assert.equal(show(d.resolve(ID('d'), 'database', TYPE.A)), 'unknown');
  });

  it('prefers a link alias over a container of that name', () => {
    const d = world();
    d.addEndpoint(ep({ containerId: ID('a'), name: 'web', links: [{ target: 'db', alias: 'api' }], ipv4: '10.1.0.2' }));
    assert.deepEqual(show(d.resolve(ID('a'), 'api', TYPE.A)), ['10.1.0.3']);
  });

  it('does not reach across networks through a link', () => {
    const d = world();
    d.addEndpoint(ep({ containerId: ID('a'), name: 'web', links: [{ target: 'cache', alias: 'c' }], ipv4: '10.1.0.2' }));
    assert.equal(show(d.resolve(ID('a'), 'c', TYPE.A)), 'unknown');
  });
});

describe('dns directory: PTR', () => {
  const d = world();
  it('answers name.network for container addresses, both families', () => {
    assert.deepEqual(show(d.resolve(ID('b'), '2.0.1.10.in-addr.arpa', TYPE.PTR)), ['web.front']);
    const v6 = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa';
    assert.deepEqual(show(d.resolve(ID('b'), v6, TYPE.PTR)), ['web.front']);
  });

  it('does not answer for addresses on networks the asker is not on', () => {
    assert.equal(show(d.resolve(ID('a'), '2.0.2.10.in-addr.arpa', TYPE.PTR)), 'unknown');
    assert.deepEqual(show(d.resolve(ID('d'), '2.0.2.10.in-addr.arpa', TYPE.PTR)), ['cache.back']);
  });

  it('forwards unknown addresses', () => {
    assert.equal(show(d.resolve(ID('a'), '8.8.8.8.in-addr.arpa', TYPE.PTR)), 'unknown');
  });

  it('parses reverse names strictly', () => {
    assert.equal(reverseNameToAddress('4.3.2.1.in-addr.arpa'), '1.2.3.4');
    assert.equal(reverseNameToAddress('3.2.1.in-addr.arpa'), undefined);
    assert.equal(reverseNameToAddress('04.3.2.1.in-addr.arpa'), undefined);
    assert.equal(reverseNameToAddress('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa'), '::1');
    assert.equal(reverseNameToAddress('x.0.ip6.arpa'), undefined);
    assert.equal(reverseNameToAddress('web'), undefined);
  });
});

describe('dns directory: changes', () => {
  it('withdraws names as endpoints go', () => {
    const d = world();
    d.removeEndpoint(ID('a'), 'n1');
    for (const name of ['web', 'www', 'frontend', 'aaaaaaaaaaaa']) assert.equal(show(d.resolve(ID('b'), name, TYPE.A)), 'unknown', name);
    assert.equal(show(d.resolve(ID('b'), '2.0.1.10.in-addr.arpa', TYPE.PTR)), 'unknown');
    d.removeEndpoint(ID('a'), 'n1');
  });

  it('withdraws a disconnected network but keeps the other', () => {
    const d = world();
    d.removeEndpoint(ID('d'), 'n1');
    assert.equal(show(d.resolve(ID('d'), 'web', TYPE.A)), 'unknown');
    assert.deepEqual(show(d.resolve(ID('d'), 'cache', TYPE.A)), ['10.2.0.2']);
    assert.deepEqual(show(d.resolve(ID('a'), 'api', TYPE.A)), 'unknown');
    assert.deepEqual(d.endpointsOf(ID('d')).map((e) => e.networkId), ['n2']);
  });

  it('withdraws all endpoints of a container', () => {
    const d = world();
    d.removeContainer(ID('d'));
    assert.equal(show(d.resolve(ID('a'), 'api', TYPE.A)), 'unknown');
    assert.equal(show(d.resolve(ID('c'), 'api', TYPE.A)), 'unknown');
    assert.deepEqual(d.endpointsOf(ID('d')), []);
  });

  it('replaces an endpoint added again (new address, aliases)', () => {
    const d = world();
    d.addEndpoint(ep({ containerId: ID('b'), name: 'db', aliases: ['primary'], ipv4: '10.1.0.30' }));
    assert.deepEqual(show(d.resolve(ID('a'), 'db', TYPE.A)), ['10.1.0.30']);
    assert.deepEqual(show(d.resolve(ID('a'), 'primary', TYPE.A)), ['10.1.0.30']);
    assert.equal(show(d.resolve(ID('a'), '3.0.1.10.in-addr.arpa', TYPE.PTR)), 'unknown');
  });

  it('keeps the other members of an alias when one goes', () => {
    const d = new DnsDirectory();
    d.addEndpoint(ep({ containerId: ID('a'), name: 'a', aliases: ['svc'], ipv4: '10.0.0.2' }));
    d.addEndpoint(ep({ containerId: ID('b'), name: 'b', aliases: ['svc'], ipv4: '10.0.0.3' }));
    d.removeContainer(ID('a'));
    assert.deepEqual(show(d.resolve(ID('b'), 'svc', TYPE.A)), ['10.0.0.3']);
  });
});
