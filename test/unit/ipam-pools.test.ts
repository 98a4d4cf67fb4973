import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type ErrorKind } from '../../src/errors.js';
import {
  allocateSubnet,
  checkNoOverlap,
  DEFAULT_ADDRESS_POOLS,
  DEFAULT_ADDRESS_POOLS_V6,
  formatNetwork,
  normalizePools,
  parseAddressPoolSpec,
  parseCidr,
  predefinedPool,
  type Cidr,
  type PredefinedPool,
} from '../../src/network/ipam/index.js';

function throwsKind(fn: () => unknown, kind: ErrorKind, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e), 'a BerthError');
    assert.equal(e.kind, kind);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

const cidrs = (...s: string[]): Cidr[] => s.map(parseCidr);
const NO_POOL_V4 = 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network';

/** Allocates like the daemon does for successive `network create`s: each result becomes taken. */
function allocateMany(pools: readonly PredefinedPool[], taken: Cidr[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const s = allocateSubnet(pools, taken);
    taken.push(s);
    out.push(formatNetwork(s));
  }
  return out;
}

describe('default address pools', () => {
  it('hand out 172.17-31.0.0/16, then 192.168.0.0/16 in /20s — 31 networks in all', () => {
    const got = allocateMany(DEFAULT_ADDRESS_POOLS, [], 31);
    const want = [
      ...Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16`),
      ...Array.from({ length: 16 }, (_, i) => `192.168.${i * 16}.0/20`),
    ];
    assert.deepEqual(got, want);
  });

  it("fail with Docker's message once exhausted", () => {
    const taken: Cidr[] = [];
    allocateMany(DEFAULT_ADDRESS_POOLS, taken, 31);
    throwsKind(() => allocateSubnet(DEFAULT_ADDRESS_POOLS, taken), 'InvalidParameter', NO_POOL_V4);
  });

  it('skip subnets taken by networks and by host routes, and reuse freed ones', () => {
    // docker0 holds 172.17/16; a host route covers 172.18.5.0/24; a VPN route covers 172.20.0.0/14.
    const taken = cidrs('172.17.0.0/16', '172.18.5.0/24', '172.20.0.0/14');
    assert.equal(formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS, taken)), '172.19.0.0/16');
    taken.push(parseCidr('172.19.0.0/16'));
    assert.equal(formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS, taken)), '172.24.0.0/16');
    // Freed: 172.19 is available again.
    taken.splice(taken.findIndex((c) => formatNetwork(c) === '172.19.0.0/16'), 1);
    assert.equal(formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS, taken)), '172.19.0.0/16');
  });

  it('treat a covering route (172.16.0.0/12) as taking every 172 pool', () => {
    const got = allocateSubnet(DEFAULT_ADDRESS_POOLS, cidrs('172.16.0.0/12', '192.168.0.0/24'));
    assert.equal(formatNetwork(got), '192.168.16.0/20');
  });

  it('ignore taken prefixes of the other family, and allocate IPv6 /64s from fd00::/48', () => {
    assert.equal(formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS, cidrs('fd00::/8'))), '172.17.0.0/16');
    assert.equal(formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS_V6, cidrs('172.16.0.0/12'), 6)), 'fd00::/64');
    assert.equal(
      formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS_V6, cidrs('fd00::/64', 'fd00:0:0:2::/63'), 6)),
      'fd00:0:0:1::/64',
    );
    assert.equal(
      formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS_V6, cidrs('fd00::/63', 'fd00:0:0:2::/63'), 6)),
      'fd00:0:0:4::/64',
    );
    throwsKind(
      () => allocateSubnet(DEFAULT_ADDRESS_POOLS, [], 6),
      'InvalidParameter',
      /non-overlapping IPv6 address pool/,
    );
  });
});

describe('user address pools (--default-address-pool)', () => {
  it('parse base and size, case-insensitively, masking the base', () => {
    const p = parseAddressPoolSpec('base=10.10.0.0/16,size=24');
    assert.equal(formatNetwork(p.base), '10.10.0.0/16');
    assert.equal(p.size, 24);
    const q = parseAddressPoolSpec('SIZE=20,Base=10.10.1.1/16');
    assert.equal(formatNetwork(q.base), '10.10.0.0/16');
    assert.equal(q.size, 20);
    assert.equal(formatNetwork(parseAddressPoolSpec('base=FD00:AB::/48,size=64').base), 'fd00:ab::/48');
  });

  it('refuse malformed specs with clear messages', () => {
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16,24'), 'InvalidParameter', "invalid field '24' must be a key=value pair");
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16,size=abc'), 'InvalidParameter', 'invalid size value: "abc" (must be integer)');
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16,size=-1'), 'InvalidParameter', 'invalid size value: "-1" (must be integer)');
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16,scope=local'), 'InvalidParameter', "unexpected key 'scope' in 'scope=local'");
    throwsKind(() => parseAddressPoolSpec('size=24'), 'InvalidParameter', "invalid default address pool 'size=24': base is required");
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16'), 'InvalidParameter', /size is required/);
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/33,size=24'), 'InvalidParameter', 'invalid base pool "10.10.0.0/33": invalid CIDR address: 10.10.0.0/33');
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16,size=8'), 'InvalidParameter', /^invalid pools size: 8 /);
    throwsKind(() => parseAddressPoolSpec('base=10.10.0.0/16,size=33'), 'InvalidParameter', /^invalid pools size: 33 /);
    assert.equal(predefinedPool('fd00::/48', 128).size, 128);
  });

  it('split the base into subnets of the given size, in address order', () => {
    const pools = [parseAddressPoolSpec('base=10.10.0.0/16,size=24')];
    assert.deepEqual(allocateMany(pools, [], 3), ['10.10.0.0/24', '10.10.1.0/24', '10.10.2.0/24']);
  });

  it('skip over a large taken block in one step and still find the next free subnet', () => {
    const pools = [parseAddressPoolSpec('base=10.0.0.0/8,size=24')];
    const taken = cidrs('10.0.0.0/9', '10.128.0.0/24', '10.128.1.0/25');
    assert.equal(formatNetwork(allocateSubnet(pools, taken)), '10.128.2.0/24');
    // 65536 candidates, all taken by one route: fails fast.
    const start = process.hrtime.bigint();
    throwsKind(() => allocateSubnet(pools, cidrs('10.0.0.0/8')), 'InvalidParameter', NO_POOL_V4);
    assert.ok(process.hrtime.bigint() - start < 50_000_000n, 'no enumeration of every /24');
  });

  it('use several pools, sorted and without overlapping duplicates, as moby does', () => {
    const pools = [
      parseAddressPoolSpec('base=10.20.0.0/16,size=24'),
      parseAddressPoolSpec('base=10.10.0.0/30,size=31'),
      parseAddressPoolSpec('base=10.20.5.0/24,size=28'),
    ];
    assert.deepEqual(
      normalizePools(pools).map((p) => `${formatNetwork(p.base)}:${p.size}`),
      ['10.10.0.0/30:31', '10.20.0.0/16:24'],
    );
    assert.deepEqual(allocateMany(pools, [], 3), ['10.10.0.0/31', '10.10.0.2/31', '10.20.0.0/24']);
  });

  it('allocate nothing from an IPv6 pool when IPv4 is asked', () => {
    const pools = [parseAddressPoolSpec('base=fd00::/48,size=64')];
    throwsKind(() => allocateSubnet(pools, []), 'InvalidParameter', NO_POOL_V4);
  });
});

describe('checkNoOverlap', () => {
  it('accepts disjoint subnets and refuses overlapping ones with a Forbidden error', () => {
    checkNoOverlap(parseCidr('10.1.0.0/16'), cidrs('10.2.0.0/16', 'fd00::/64'));
    const msg = 'invalid pool request: Pool overlaps with other one on this address space';
    throwsKind(() => checkNoOverlap(parseCidr('10.1.2.0/24'), cidrs('10.1.0.0/16')), 'Forbidden', msg);
    throwsKind(() => checkNoOverlap(parseCidr('10.0.0.0/8'), cidrs('10.1.0.0/16')), 'Forbidden', msg);
    throwsKind(() => checkNoOverlap(parseCidr('fd00::/64'), cidrs('fd00::/48')), 'Forbidden', msg);
  });
});
