import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type ErrorKind } from '../../src/errors.js';
import {
  allocate,
  allocateInNetwork,
  createPool,
  createPools,
  isAllocated,
  poolContains,
  poolFamily,
  release,
  releaseInNetwork,
  validatePoolConfigs,
  type PoolState,
} from '../../src/network/ipam/index.js';

function throwsKind(fn: () => unknown, kind: ErrorKind, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e), `a BerthError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

/** Allocates `n` dynamic addresses in a row; returns them and the final state. */
function take(pool: PoolState, n: number): { pool: PoolState; addresses: string[] } {
  const addresses: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = allocate(pool);
    pool = r.pool;
    addresses.push(r.address);
  }
  return { pool, addresses };
}

const IN_USE = 'Address already in use';
const EXHAUSTED = 'no available addresses on this pool';
const roundTrip = (p: PoolState): PoolState => JSON.parse(JSON.stringify(p)) as PoolState;

describe('createPool', () => {
  it('defaults the gateway to the first usable address and starts empty', () => {
    const p = createPool({ subnet: '172.18.0.0/16' });
    assert.deepEqual(roundTrip(p), { subnet: '172.18.0.0/16', gateway: '172.18.0.1', auxAddresses: {}, allocated: [] });
    assert.equal(createPool({ subnet: 'fd00:1::/64' }).gateway, 'fd00:1::1');
    assert.equal(poolFamily(p), 4);
    assert.equal(poolFamily(createPool({ subnet: 'fd00:1::/64' })), 6);
  });

  it('keeps a given gateway and auxiliary addresses in canonical form', () => {
    const p = createPool({
      subnet: 'FD00:AB::/64',
      ipRange: 'fd00:ab::100/120',
      gateway: 'fd00:ab:0:0::fe',
      auxAddresses: { router: 'FD00:AB::0005' },
    });
    assert.deepEqual(roundTrip(p), {
      subnet: 'fd00:ab::/64',
      ipRange: 'fd00:ab::100/120',
      gateway: 'fd00:ab::fe',
      auxAddresses: { router: 'fd00:ab::5' },
      allocated: [],
    });
  });

  it("rejects config errors with moby's ValidateIPAM wording", () => {
    const cases: Array<[Parameters<typeof createPool>[0], string]> = [
      [{ subnet: '10.0.0.0/33' }, 'invalid subnet 10.0.0.0/33: invalid CIDR block notation'],
      [{ subnet: 'bogus' }, 'invalid subnet bogus: invalid CIDR block notation'],
      [{ subnet: '10.1.2.3/16' }, 'invalid subnet 10.1.2.3/16: it should be 10.1.0.0/16'],
      [{ subnet: '10.1.0.0/16', gateway: '10.2.0.1' }, "invalid gateway 10.2.0.1: parent subnet 10.1.0.0/16 doesn't contain this address"],
      [{ subnet: '10.1.0.0/16', gateway: 'nope' }, 'invalid gateway nope: invalid address'],
      [{ subnet: '10.1.0.0/16', gateway: 'fd00::1' }, 'invalid gateway fd00::1: parent subnet is an IPv4 block'],
      [{ subnet: '10.1.0.0/16', ipRange: '10.2.0.0/24' }, "invalid ip-range 10.2.0.0/24: parent subnet 10.1.0.0/16 doesn't contain ip-range"],
      [{ subnet: '10.1.0.0/16', ipRange: '10.1.0.0/33' }, 'invalid ip-range 10.1.0.0/33: invalid CIDR block notation'],
      [{ subnet: '10.1.0.0/16', ipRange: 'fd00::/64' }, 'invalid ip-range fd00::/64: parent subnet is an IPv4 block'],
      [{ subnet: '10.1.0.0/16', ipRange: '10.1.5.7/24' }, 'invalid ip-range 10.1.5.7/24: it should be 10.1.5.0/24'],
      [{ subnet: '10.1.0.0/16', ipRange: '10.0.0.0/8' }, 'invalid ip-range 10.0.0.0/8: CIDR block is bigger than its parent subnet 10.1.0.0/16'],
      [{ subnet: '10.1.0.0/16', auxAddresses: { db: '10.9.0.5' } }, "invalid auxiliary address db: parent subnet 10.1.0.0/16 doesn't contain this address"],
      [{ subnet: 'fd00::/64', auxAddresses: { db: '10.9.0.5' } }, 'invalid auxiliary address db: parent subnet is an IPv6 block'],
    ];
    for (const [cfg, msg] of cases) {
      throwsKind(() => createPool(cfg), 'InvalidParameter', `invalid network config:\n${msg}`);
    }
  });

  it('reports every problem at once', () => {
    throwsKind(
      () => createPool({ subnet: '10.1.2.3/16', gateway: '10.2.0.1', auxAddresses: { a: '1.1.1.1' } }),
      'InvalidParameter',
      'invalid network config:\n' +
        '* invalid subnet 10.1.2.3/16: it should be 10.1.0.0/16\n' +
        "* invalid gateway 10.2.0.1: parent subnet 10.1.2.3/16 doesn't contain this address\n" +
        "* invalid auxiliary address a: parent subnet 10.1.2.3/16 doesn't contain this address",
    );
    assert.deepEqual(validatePoolConfigs([{ subnet: '10.0.0.0/8' }, { subnet: 'fd00::/64' }]), []);
    assert.equal(validatePoolConfigs([{ subnet: 'x' }, { subnet: '10.0.0.0/8', gateway: '11.0.0.1' }]).length, 2);
    assert.deepEqual(validatePoolConfigs([{ subnet: '10.0.0.0/8' }, { subnet: 'fd00::/64' }], false), [
      'invalid subnet fd00::/64: IPv6 has not been enabled for this network',
    ]);
  });

  it('refuses a gateway on the network or broadcast address', () => {
    throwsKind(() => createPool({ subnet: '10.1.0.0/16', gateway: '10.1.0.0' }), 'InvalidParameter',
      `failed to allocate gateway (10.1.0.0): ${IN_USE}`);
    throwsKind(() => createPool({ subnet: '10.1.0.0/16', gateway: '10.1.255.255' }), 'InvalidParameter',
      `failed to allocate gateway (10.1.255.255): ${IN_USE}`);
    throwsKind(() => createPool({ subnet: 'fd00::/64', gateway: 'fd00::' }), 'InvalidParameter',
      `failed to allocate gateway (fd00::): ${IN_USE}`);
    // IPv6 has no broadcast address.
    assert.equal(createPool({ subnet: 'fd00::/64', gateway: 'fd00::ffff:ffff:ffff:ffff' }).gateway, 'fd00::ffff:ffff:ffff:ffff');
  });

  it('refuses an auxiliary address on a reserved address', () => {
    throwsKind(() => createPool({ subnet: '10.1.0.0/16', auxAddresses: { db: '10.1.0.1' } }), 'InvalidParameter',
      `failed to allocate secondary ip address (db:10.1.0.1): ${IN_USE}`);
    throwsKind(() => createPool({ subnet: '10.1.0.0/16', auxAddresses: { a: '10.1.0.9', b: '10.1.0.9' } }), 'InvalidParameter',
      `failed to allocate secondary ip address (b:10.1.0.9): ${IN_USE}`);
    throwsKind(() => createPool({ subnet: '10.1.0.0/24', auxAddresses: { bc: '10.1.0.255' } }), 'InvalidParameter',
      `failed to allocate secondary ip address (bc:10.1.0.255): ${IN_USE}`);
  });

  it('takes the default gateway from the ip-range, as moby does', () => {
    assert.equal(createPool({ subnet: '10.1.0.0/16', ipRange: '10.1.5.0/24' }).gateway, '10.1.5.0');
    assert.equal(createPool({ subnet: '10.1.0.0/24', ipRange: '10.1.0.0/28' }).gateway, '10.1.0.1');
  });

  it('returns frozen state, and notices an allocated list changed behind its back', () => {
    const p = createPool({ subnet: '10.1.0.0/24', auxAddresses: { a: '10.1.0.9' } });
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.auxAddresses));
    assert.throws(() => {
      (p as { gateway: string }).gateway = '10.1.0.2';
    }, TypeError);
    (p.allocated as string[]).push('10.1.0.2');
    assert.equal(allocate(p).address, '10.1.0.3');
  });
});

describe('createPools', () => {
  it('creates one pool per config, in order', () => {
    const pools = createPools([{ subnet: '10.1.0.0/24' }, { subnet: 'fd00::/64' }, { subnet: '10.2.0.0/24' }]);
    assert.deepEqual(pools.map((p) => p.gateway), ['10.1.0.1', 'fd00::1', '10.2.0.1']);
  });

  it('refuses subnets overlapping each other', () => {
    throwsKind(() => createPools([{ subnet: '10.1.0.0/16' }, { subnet: '10.1.2.0/24' }]), 'Forbidden',
      'invalid pool request: Pool overlaps with other one on this address space');
  });

  it('reports the problems of all configs together', () => {
    throwsKind(() => createPools([{ subnet: '10.1.0.0/33' }, { subnet: '10.2.0.0/16', gateway: '10.3.0.1' }]), 'InvalidParameter',
      'invalid network config:\n* invalid subnet 10.1.0.0/33: invalid CIDR block notation\n' +
        "* invalid gateway 10.3.0.1: parent subnet 10.2.0.0/16 doesn't contain this address");
  });
});

describe('allocate (dynamic)', () => {
  it('hands out the lowest free address, skipping network, gateway and aux addresses', () => {
    const p = createPool({ subnet: '172.18.0.0/16', auxAddresses: { db: '172.18.0.3', x: '172.18.0.5' } });
    const { pool, addresses } = take(p, 4);
    assert.deepEqual(addresses, ['172.18.0.2', '172.18.0.4', '172.18.0.6', '172.18.0.7']);
    assert.deepEqual(pool.allocated, addresses);
    assert.ok(isAllocated(pool, '172.18.0.2'));
    assert.ok(!isAllocated(pool, '172.18.0.1'), 'the gateway is reserved, not allocated');
    assert.ok(!isAllocated(pool, '172.18.0.3'), 'aux addresses are reserved, not allocated');
  });

  it('uses addresses below a gateway placed at the top', () => {
    const { addresses } = take(createPool({ subnet: '10.0.0.0/24', gateway: '10.0.0.254' }), 3);
    assert.deepEqual(addresses, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('exhausts a /30 after one endpoint and a /29 after five', () => {
    const p30 = take(createPool({ subnet: '10.0.0.0/30' }), 1);
    assert.deepEqual(p30.addresses, ['10.0.0.2']);
    throwsKind(() => allocate(p30.pool), 'Unavailable', EXHAUSTED);

    const p29 = take(createPool({ subnet: '10.0.0.8/29' }), 5);
    assert.deepEqual(p29.addresses, ['10.0.0.10', '10.0.0.11', '10.0.0.12', '10.0.0.13', '10.0.0.14']);
    throwsKind(() => allocate(p29.pool), 'Unavailable', EXHAUSTED);
    throwsKind(() => allocate(p29.pool, '10.0.0.15'), 'Forbidden', IN_USE);
  });

  it('uses both addresses of a /31 (RFC 3021) and the only one of a /32 for the gateway', () => {
    const p31 = createPool({ subnet: '10.0.0.4/31' });
    assert.equal(p31.gateway, '10.0.0.4');
    const r = allocate(p31);
    assert.equal(r.address, '10.0.0.5');
    throwsKind(() => allocate(r.pool), 'Unavailable', EXHAUSTED);
    const p32 = createPool({ subnet: '10.0.0.9/32' });
    assert.equal(p32.gateway, '10.0.0.9');
    throwsKind(() => allocate(p32), 'Unavailable', EXHAUSTED);
    throwsKind(() => createPool({ subnet: '10.0.0.9/32', auxAddresses: { a: '10.0.0.9' } }), 'InvalidParameter', /Address already in use/);
  });

  it("stays inside the ip-range; its edges are usable unless they are the subnet's network or broadcast", () => {
    const p = createPool({ subnet: '10.1.0.0/16', ipRange: '10.1.5.0/30', gateway: '10.1.0.1' });
    const { pool, addresses } = take(p, 4);
    assert.deepEqual(addresses, ['10.1.5.0', '10.1.5.1', '10.1.5.2', '10.1.5.3']);
    throwsKind(() => allocate(pool), 'Unavailable', EXHAUSTED);

    const q = createPool({ subnet: '10.1.0.0/24', ipRange: '10.1.0.252/30' });
    assert.equal(q.gateway, '10.1.0.252');
    const t = take(q, 2);
    assert.deepEqual(t.addresses, ['10.1.0.253', '10.1.0.254'], 'the broadcast address stays reserved');
    throwsKind(() => allocate(t.pool), 'Unavailable', EXHAUSTED);

    const r = createPool({ subnet: '10.1.0.0/24', ipRange: '10.1.0.0/30' });
    assert.equal(r.gateway, '10.1.0.1');
    const u = take(r, 2);
    assert.deepEqual(u.addresses, ['10.1.0.2', '10.1.0.3']);
    throwsKind(() => allocate(u.pool), 'Unavailable', EXHAUSTED);
  });

  it('hands out IPv6 addresses from a /64 without a broadcast address', () => {
    const p = createPool({ subnet: 'fd00:1::/64' });
    const { pool, addresses } = take(p, 3);
    assert.deepEqual(addresses, ['fd00:1::2', 'fd00:1::3', 'fd00:1::4']);
    const top = allocate(pool, 'fd00:1::ffff:ffff:ffff:ffff');
    assert.equal(top.address, 'fd00:1::ffff:ffff:ffff:ffff');
    throwsKind(() => allocate(pool, 'fd00:1::'), 'Forbidden', IN_USE);
  });

  it('reserves the subnet-router anycast address even in an IPv6 /127', () => {
    const p = createPool({ subnet: 'fd00::/127' });
    assert.equal(p.gateway, 'fd00::1');
    throwsKind(() => allocate(p), 'Unavailable', EXHAUSTED);
    throwsKind(() => allocate(p, 'fd00::'), 'Forbidden', IN_USE);
  });

  it('exhausts a tiny IPv6 range', () => {
    const p = createPool({ subnet: 'fd00::/126' });
    const { pool, addresses } = take(p, 2);
    assert.deepEqual(addresses, ['fd00::2', 'fd00::3']);
    throwsKind(() => allocate(pool), 'Unavailable', EXHAUSTED);
  });
});

describe('allocate (static --ip)', () => {
  const base = createPool({ subnet: '10.5.0.0/24', auxAddresses: { db: '10.5.0.9' } });

  it('grants a free address in the subnet, even outside the ip-range', () => {
    const r = allocate(base, '10.5.0.100');
    assert.equal(r.address, '10.5.0.100');
    assert.deepEqual(r.pool.allocated, ['10.5.0.100']);
    const ranged = createPool({ subnet: '10.6.0.0/16', ipRange: '10.6.1.0/24' });
    assert.equal(allocate(ranged, '10.6.200.7').address, '10.6.200.7');
  });

  it('returns the canonical text of the address', () => {
    assert.equal(allocate(createPool({ subnet: 'fd00::/64' }), 'FD00:0::00AB').address, 'fd00::ab');
  });

  it('refuses an address already in use, the gateway, aux, network and broadcast addresses', () => {
    const { pool } = allocate(base, '10.5.0.100');
    for (const ip of ['10.5.0.100', '10.5.0.1', '10.5.0.9', '10.5.0.0', '10.5.0.255']) {
      throwsKind(() => allocate(pool, ip), 'Forbidden', IN_USE);
    }
  });

  it('refuses an address outside the subnet or not an address at all', () => {
    throwsKind(() => allocate(base, '10.6.0.2'), 'InvalidParameter', 'requested address is out of range');
    throwsKind(() => allocate(base, 'fd00::2'), 'InvalidParameter', 'requested address is out of range');
    throwsKind(() => allocate(base, '10.5.0.256'), 'InvalidParameter', 'invalid IP address: 10.5.0.256');
  });

  it('is skipped by later dynamic allocations', () => {
    let pool = allocate(base, '10.5.0.2').pool;
    pool = allocate(pool, '10.5.0.4').pool;
    const { addresses, pool: after } = take(pool, 3);
    assert.deepEqual(addresses, ['10.5.0.3', '10.5.0.5', '10.5.0.6']);
    assert.deepEqual(after.allocated, ['10.5.0.2', '10.5.0.3', '10.5.0.4', '10.5.0.5', '10.5.0.6']);
  });

  it('keeps `allocated` in numeric, not text, order', () => {
    let pool = createPool({ subnet: '10.7.0.0/16' });
    for (const ip of ['10.7.0.100', '10.7.0.20', '10.7.3.0', '10.7.0.3']) pool = allocate(pool, ip).pool;
    assert.deepEqual(pool.allocated, ['10.7.0.3', '10.7.0.20', '10.7.0.100', '10.7.3.0']);
  });
});

describe('release', () => {
  it('frees an address for reuse, lowest first', () => {
    const { pool, addresses } = take(createPool({ subnet: '10.8.0.0/24' }), 4);
    assert.deepEqual(addresses, ['10.8.0.2', '10.8.0.3', '10.8.0.4', '10.8.0.5']);
    let p = release(pool, '10.8.0.4');
    p = release(p, '10.8.0.3');
    assert.deepEqual(p.allocated, ['10.8.0.2', '10.8.0.5']);
    const again = take(p, 3);
    assert.deepEqual(again.addresses, ['10.8.0.3', '10.8.0.4', '10.8.0.6']);
  });

  it('is idempotent and ignores addresses it does not hold', () => {
    const { pool } = take(createPool({ subnet: '10.8.0.0/24', auxAddresses: { a: '10.8.0.50' } }), 1);
    const once = release(pool, '10.8.0.2');
    assert.deepEqual(once.allocated, []);
    assert.equal(release(once, '10.8.0.2'), once);
    for (const ip of ['10.8.0.1', '10.8.0.50', '10.9.0.2', 'fd00::2', 'garbage']) assert.equal(release(once, ip), once);
    // The gateway stays reserved after a release attempt.
    throwsKind(() => allocate(release(once, '10.8.0.1'), '10.8.0.1'), 'Forbidden', IN_USE);
  });

  it('matches a non-canonical spelling of an IPv6 address', () => {
    const { pool } = allocate(createPool({ subnet: 'fd00::/64' }), 'fd00::a');
    assert.deepEqual(release(pool, 'FD00:0:0::000A').allocated, []);
  });

  it('lets a released static address outside the ip-range be requested again', () => {
    const ranged = createPool({ subnet: '10.6.0.0/16', ipRange: '10.6.1.0/24' });
    const { pool } = allocate(ranged, '10.6.200.7');
    const freed = release(pool, '10.6.200.7');
    assert.equal(allocate(freed, '10.6.200.7').address, '10.6.200.7');
    assert.equal(allocate(freed).address, '10.6.1.1');
  });
});

describe('state handling', () => {
  it('leaves the input state untouched; an old state still allocates by its own content', () => {
    const s0 = createPool({ subnet: '10.9.0.0/24' });
    const s1 = allocate(s0, undefined);
    assert.equal(s1.address, '10.9.0.2');
    assert.deepEqual(s0.allocated, []);
    const again = allocate(s0);
    assert.equal(again.address, '10.9.0.2', 's0 does not know 10.9.0.2 is taken');
    assert.equal(allocate(s1.pool).address, '10.9.0.3');
  });

  it('round-trips through JSON and keeps allocating correctly', () => {
    let pool = createPool({ subnet: '10.10.0.0/24', ipRange: '10.10.0.0/28', gateway: '10.10.0.3', auxAddresses: { a: '10.10.0.5' } });
    pool = take(pool, 2).pool; // .1 .2
    pool = allocate(pool, '10.10.0.200').pool;
    const restored = roundTrip(pool);
    assert.notEqual(restored, pool);
    assert.deepEqual(restored, roundTrip(pool));
    assert.deepEqual(restored.allocated, ['10.10.0.1', '10.10.0.2', '10.10.0.200']);
    const { addresses, pool: after } = take(restored, 3);
    assert.deepEqual(addresses, ['10.10.0.4', '10.10.0.6', '10.10.0.7']);
    throwsKind(() => allocate(after, '10.10.0.200'), 'Forbidden', IN_USE);
    throwsKind(() => allocate(roundTrip(after), '10.10.0.5'), 'Forbidden', IN_USE);
    assert.deepEqual(roundTrip(release(roundTrip(after), '10.10.0.6')).allocated, ['10.10.0.1', '10.10.0.2', '10.10.0.4', '10.10.0.7', '10.10.0.200']);
  });

  it('refuses corrupt persisted state', () => {
    const good = roundTrip(createPool({ subnet: '10.11.0.0/24' }));
    throwsKind(() => allocate({ ...good, allocated: ['10.11.0.1'] }), 'InvalidParameter', /corrupt IPAM state.*10\.11\.0\.1/);
    throwsKind(() => allocate({ ...good, allocated: ['10.12.0.1'] }), 'InvalidParameter', /corrupt IPAM state/);
    throwsKind(() => allocate({ ...good, allocated: ['10.11.0.7', '10.11.0.7'] }), 'InvalidParameter', /corrupt IPAM state/);
    throwsKind(() => allocate({ ...good, gateway: '10.11.0.0' }), 'InvalidParameter', /corrupt IPAM state.*gateway/);
    throwsKind(() => allocate({ ...good, subnet: '10.11.0.0/33' }), 'InvalidParameter', /invalid subnet/);
  });

  it('answers containment', () => {
    const p = createPool({ subnet: '10.12.0.0/16', ipRange: '10.12.1.0/24' });
    assert.ok(poolContains(p, '10.12.200.1'));
    assert.ok(!poolContains(p, '10.13.0.1'));
    assert.ok(!poolContains(p, 'fd00::1'));
    assert.ok(!poolContains(p, 'nonsense'));
  });
});

describe('performance', () => {
  it('fills thousands of addresses of a /16 and reuses the lowest released ones quickly', () => {
    const start = Date.now();
    let { pool } = take(createPool({ subnet: '10.20.0.0/16' }), 5000);
    assert.equal(pool.allocated.length, 5000);
    assert.equal(pool.allocated[4999], '10.20.19.137'); // 2 + 4999 = 5001 = 19*256 + 137
    pool = release(pool, '10.20.0.77');
    pool = release(pool, '10.20.10.10');
    const a = allocate(pool);
    assert.equal(a.address, '10.20.0.77');
    const b = allocate(a.pool);
    assert.equal(b.address, '10.20.10.10');
    assert.equal(allocate(b.pool).address, '10.20.19.138');
    // A state read back from the store is indexed once, then allocations are cheap again.
    let restored = roundTrip(b.pool);
    for (let i = 0; i < 500; i++) restored = allocate(restored).pool;
    assert.equal(restored.allocated.length, 5500);
    assert.ok(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
  });

  it('allocates in an IPv6 /64 without enumerating it', () => {
    const start = Date.now();
    let pool = createPool({ subnet: 'fd00:2::/64', ipRange: 'fd00:2::/64' });
    pool = allocate(pool, 'fd00:2::ffff:ffff:ffff:fffe').pool;
    const { addresses } = take(pool, 1000);
    assert.equal(addresses[999], 'fd00:2::3e9');
    assert.ok(Date.now() - start < 2000);
  });
});

describe('allocateInNetwork', () => {
  const network = (): PoolState[] =>
    createPools([{ subnet: '10.30.0.0/30' }, { subnet: 'fd00:30::/64' }, { subnet: '10.31.0.0/24' }]);

  it('takes dynamic addresses from the first pool of the family with room', () => {
    let pools = network();
    const first = allocateInNetwork(pools, { family: 4 });
    assert.ok(first);
    assert.deepEqual([first.index, first.address], [0, '10.30.0.2']);
    pools = first.pools;
    const second = allocateInNetwork(pools, { family: 4 });
    assert.ok(second);
    assert.deepEqual([second.index, second.address], [2, '10.31.0.2']);
    assert.deepEqual(second.pools[0], pools[0], 'the full pool is unchanged');
    const v6 = allocateInNetwork(second.pools, { family: 6 });
    assert.ok(v6);
    assert.deepEqual([v6.index, v6.address], [1, 'fd00:30::2']);
    assert.deepEqual(v6.pools.map((p) => p.allocated), [['10.30.0.2'], ['fd00:30::2'], ['10.31.0.2']]);
  });

  it('serves a requested address from the pool containing it', () => {
    const r = allocateInNetwork(network(), { family: 4, requested: '10.31.0.77' });
    assert.ok(r);
    assert.deepEqual([r.index, r.address], [2, '10.31.0.77']);
    throwsKind(() => allocateInNetwork(r.pools, { family: 4, requested: '10.31.0.77' }), 'Forbidden', IN_USE);
    throwsKind(() => allocateInNetwork(r.pools, { family: 4, requested: '10.31.0.1' }), 'Forbidden', IN_USE);
  });

  it("refuses a requested address outside every subnet with Docker's message", () => {
    const msg = "invalid address 10.99.0.5: It does not belong to any of this network's subnets";
    throwsKind(() => allocateInNetwork(network(), { family: 4, requested: '10.99.0.5' }), 'InvalidParameter', msg);
    const v4only = createPools([{ subnet: '10.40.0.0/24' }]);
    throwsKind(() => allocateInNetwork(v4only, { family: 6, requested: 'fd00::5' }), 'InvalidParameter',
      "invalid address fd00::5: It does not belong to any of this network's subnets");
    throwsKind(() => allocateInNetwork(v4only, { family: 4, requested: 'x' }), 'InvalidParameter', 'invalid IP address: x');
  });

  it('gives no address of a family the network has no pool for', () => {
    assert.equal(allocateInNetwork(createPools([{ subnet: '10.40.0.0/24' }]), { family: 6 }), undefined);
  });

  it('names the network when all its pools are full', () => {
    let pools = createPools([{ subnet: '10.50.0.0/30' }, { subnet: '10.51.0.0/30' }]);
    for (let i = 0; i < 2; i++) {
      const r = allocateInNetwork(pools, { family: 4 });
      assert.ok(r);
      pools = r.pools;
    }
    throwsKind(() => allocateInNetwork(pools, { family: 4, networkName: 'web', networkId: 'abc123' }), 'Unavailable',
      "no available IPv4 addresses on this network's address pools: web (abc123)");
  });

  it('releases from whichever pool holds the address', () => {
    const r = allocateInNetwork(network(), { family: 6 });
    assert.ok(r);
    const freed = releaseInNetwork(r.pools, 'fd00:30::2');
    assert.deepEqual(freed.map((p) => p.allocated), [[], [], []]);
    assert.deepEqual(releaseInNetwork(freed, 'fd00:30::2'), freed);
  });
});
