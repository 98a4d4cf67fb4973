import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../src/errors.js';
import {
  addToIp,
  canonicalCidr,
  cidrContains,
  cidrContainsCidr,
  cidrSize,
  cidrsOverlap,
  compareCidr,
  compareIp,
  firstAddress,
  formatCidr,
  formatIp,
  formatNetwork,
  isCanonical,
  lastAddress,
  macFromIPv4,
  makeCidr,
  nthAddress,
  parseCidr,
  parseIp,
  tryParseCidr,
  tryParseIp,
} from '../../src/network/ipam/index.js';

function throwsInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e), 'a BerthError');
    assert.equal(e.kind, 'InvalidParameter');
    assert.equal(e.message, message);
    return true;
  });
}

const fmt = (s: string): string => formatIp(parseIp(s));

describe('IPv4 parsing and formatting', () => {
  it('parses dotted quads into 32-bit values', () => {
    assert.deepEqual(parseIp('0.0.0.0'), { family: 4, value: 0n });
    assert.deepEqual(parseIp('255.255.255.255'), { family: 4, value: 0xffffffffn });
    assert.deepEqual(parseIp('172.17.0.2'), { family: 4, value: 0xac110002n });
    assert.equal(fmt('10.1.2.3'), '10.1.2.3');
  });

  it('rejects malformed addresses with Go/Docker wording', () => {
    throwsInvalid(() => parseIp('300.1.1.1'), 'invalid IP address: 300.1.1.1');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '1.2.3.', '.1.2.3', '1..2.3', '01.2.3.4', '1.2.3.04', 'a.b.c.d',
      '1.2.3.4 ', ' 1.2.3.4', '256.0.0.0', '1.2.3.-1', '1.2.3.4/24', '1.2.3.0x1', '+1.2.3.4']) {
      assert.equal(tryParseIp(bad), undefined, `"${bad}" must not parse`);
    }
  });
});

describe('IPv6 parsing and formatting (RFC 5952)', () => {
  it('parses full and compressed forms', () => {
    assert.equal(parseIp('::').value, 0n);
    assert.equal(parseIp('::1').value, 1n);
    assert.equal(parseIp('2001:db8::').value, 0x20010db8n << 96n);
    assert.equal(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001').value, (0x20010db8n << 96n) | 1n);
    assert.equal(parseIp('FD00::ABCD').family, 6);
    assert.equal(parseIp('1:2:3:4:5:6:7::').value & 0xffffn, 0n);
    assert.equal(parseIp('::2:3:4:5:6:7:8').value >> 112n, 0n);
  });

  it('formats canonically: lowercase, no leading zeros, longest zero run compressed', () => {
    assert.equal(fmt('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(fmt('0:0:0:0:0:0:0:0'), '::');
    assert.equal(fmt('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(fmt('fd00:0:0:0:0:0:0:0'), 'fd00::');
    // A single zero group is not compressed.
    assert.equal(fmt('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    // The longest run wins; on a tie, the first.
    assert.equal(fmt('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
    assert.equal(fmt('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(fmt('1:0:0:0:0:0:0:8'), '1::8');
    assert.equal(fmt('fd00:1:2:3:4:5:6:0'), 'fd00:1:2:3:4:5:6:0');
  });

  it('accepts a trailing dotted quad and keeps it for IPv4-mapped addresses', () => {
    assert.equal(parseIp('::ffff:1.2.3.4').value, (0xffffn << 32n) | 0x01020304n);
    assert.equal(fmt('::ffff:1.2.3.4'), '::ffff:1.2.3.4');
    assert.equal(fmt('0:0:0:0:0:ffff:0a00:0001'), '::ffff:10.0.0.1');
    assert.equal(fmt('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
  });

  it('rejects malformed IPv6', () => {
    for (const bad of [':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1',
      '1:2:3:4:5:6:7:8::', '::1.2.3', '1.2.3.4::', 'fe80::1%eth0', ':1::', '1::2:', '::ffff:1.2.3.4:1']) {
      assert.equal(tryParseIp(bad), undefined, `"${bad}" must not parse`);
    }
    throwsInvalid(() => parseIp('1::2::3'), 'invalid IP address: 1::2::3');
  });
});

describe('CIDR prefixes', () => {
  it('keeps the given address and knows its network', () => {
    const c = parseCidr('10.1.2.3/16');
    assert.equal(c.family, 4);
    assert.equal(c.prefix, 16);
    assert.equal(formatIp(c.address), '10.1.2.3');
    assert.equal(formatIp(c.network), '10.1.0.0');
    assert.equal(formatCidr(c), '10.1.2.3/16');
    assert.equal(formatNetwork(c), '10.1.0.0/16');
    assert.equal(isCanonical(c), false);
    assert.equal(isCanonical(canonicalCidr(c)), true);
    assert.equal(formatCidr(canonicalCidr(c)), '10.1.0.0/16');
    assert.equal(formatNetwork(parseCidr('2001:DB8::1234/64')), '2001:db8::/64');
  });

  it('accepts the extremes /0 and /32, /128', () => {
    assert.equal(formatNetwork(parseCidr('1.2.3.4/0')), '0.0.0.0/0');
    assert.equal(formatNetwork(parseCidr('1.2.3.4/32')), '1.2.3.4/32');
    assert.equal(formatNetwork(parseCidr('::1/128')), '::1/128');
    assert.equal(formatNetwork(parseCidr('fd00::1/0')), '::/0');
  });

  it('rejects bad prefixes with Go/Docker wording', () => {
    throwsInvalid(() => parseCidr('10.0.0.0/33'), 'invalid CIDR address: 10.0.0.0/33');
    throwsInvalid(() => parseCidr('10.0.0.0'), 'invalid CIDR address: 10.0.0.0');
    for (const bad of ['10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/08', '10.0.0.0/8/8', '10.0.0.0/ 8', '::/129',
      '300.0.0.0/8', '/8', '10.0.0.0/x']) {
      assert.equal(tryParseCidr(bad), undefined, `"${bad}" must not parse`);
    }
    throwsInvalid(() => makeCidr(parseIp('10.0.0.0'), 33), 'invalid CIDR address: 10.0.0.0/33');
  });

  it('knows first, last, nth address and size', () => {
    const c = parseCidr('172.17.0.0/16');
    assert.equal(formatIp(firstAddress(c)), '172.17.0.0');
    assert.equal(formatIp(lastAddress(c)), '172.17.255.255');
    assert.equal(formatIp(nthAddress(c, 2n)), '172.17.0.2');
    assert.equal(formatIp(nthAddress(c, 65535n)), '172.17.255.255');
    assert.throws(() => nthAddress(c, 65536n), /outside 172\.17\.0\.0\/16/);
    assert.throws(() => nthAddress(c, -1n));
    assert.equal(cidrSize(c), 65536n);
    assert.equal(cidrSize(parseCidr('10.0.0.1/32')), 1n);
    const v6 = parseCidr('fd00:1::/64');
    assert.equal(cidrSize(v6), 1n << 64n);
    assert.equal(formatIp(lastAddress(v6)), 'fd00:1::ffff:ffff:ffff:ffff');
    assert.equal(formatIp(nthAddress(v6, 1n)), 'fd00:1::1');
    // last address from a non-canonical prefix is still the broadcast of its network
    assert.equal(formatIp(lastAddress(parseCidr('192.168.1.77/24'))), '192.168.1.255');
  });

  it('adds to addresses within the family only', () => {
    assert.equal(formatIp(addToIp(parseIp('10.0.0.255'), 1n)), '10.0.1.0');
    assert.throws(() => addToIp(parseIp('255.255.255.255'), 1n));
    assert.equal(formatIp(addToIp(parseIp('::ffff'), 1n)), '::1:0');
  });

  it('tests containment and overlap, never across families', () => {
    const a = parseCidr('10.0.0.0/8');
    const b = parseCidr('10.1.0.0/16');
    const c = parseCidr('11.0.0.0/8');
    assert.ok(cidrContains(a, parseIp('10.255.255.255')));
    assert.ok(!cidrContains(a, parseIp('11.0.0.0')));
    assert.ok(!cidrContains(a, parseIp('::a00:1')));
    assert.ok(cidrContains(parseCidr('10.1.2.3/16'), parseIp('10.1.0.0')), 'uses the network, not the given address');
    assert.ok(cidrContainsCidr(a, b));
    assert.ok(!cidrContainsCidr(b, a));
    assert.ok(cidrsOverlap(a, b) && cidrsOverlap(b, a));
    assert.ok(!cidrsOverlap(a, c));
    assert.ok(!cidrsOverlap(parseCidr('10.0.0.0/31'), parseCidr('10.0.0.2/31')));
    assert.ok(cidrsOverlap(parseCidr('0.0.0.0/0'), parseCidr('192.168.1.0/24')));
    assert.ok(!cidrsOverlap(parseCidr('0.0.0.0/0'), parseCidr('::/0')));
    assert.ok(cidrsOverlap(parseCidr('fd00::/48'), parseCidr('fd00:0:0:5::/64')));
  });

  it('orders addresses and prefixes', () => {
    assert.ok(compareIp(parseIp('10.0.0.2'), parseIp('10.0.0.10')) < 0);
    assert.ok(compareIp(parseIp('255.255.255.255'), parseIp('::')) < 0, 'IPv4 first');
    assert.equal(compareIp(parseIp('::1'), parseIp('0::1')), 0);
    assert.ok(compareCidr(parseCidr('10.0.0.0/8'), parseCidr('10.0.0.0/16')) < 0, 'shorter prefix first');
    assert.ok(compareCidr(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16')) < 0);
  });
});

describe('macFromIPv4', () => {
  it("derives Docker's 02:42 MAC from an IPv4 address", () => {
    assert.equal(macFromIPv4(parseIp('172.17.0.2')), '02:42:ac:11:00:02');
    assert.equal(macFromIPv4(parseIp('10.0.0.1')), '02:42:0a:00:00:01');
    assert.equal(macFromIPv4(parseIp('255.255.255.255')), '02:42:ff:ff:ff:ff');
  });

  it('refuses IPv6', () => {
    assert.throws(() => macFromIPv4(parseIp('fd00::1')), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter');
  });
});
