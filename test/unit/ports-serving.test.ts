/** Who serves each host address of a published port: the kernel's DNAT, the daemon's relay, or nobody (refused). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../src/errors.js';
import { bindAddresses, checkServable, socketsFor, unservable, type PortSpec, type RelayScope } from '../../src/network/ports/index.js';

const V4 = { ipv4: '172.17.0.2' };
const DUAL = { ipv4: '172.18.0.2', ipv6: 'fd00:aa::2' };
const map = (hostIp: string, proto: PortSpec['proto'] = 'tcp', h = 8090, c = 80): PortSpec => ({
  proto,
  hostIp,
  hostPorts: { start: h, end: h },
  containerPorts: { start: c, end: c },
});
const sockets = (m: PortSpec, target: typeof DUAL | typeof V4, scope: RelayScope = 'kernel'): string[] =>
  socketsFor([m], target, scope).map((s) => `${s.proto} ${s.address}:${s.port}${s.forward ? ` -> ${s.forward.address}:${s.forward.port}` : ''}`);

describe('bindAddresses', () => {
  it('binds an IPv6 host address of an IPv4-only container too (the relay carries it to IPv4)', () => {
    assert.deepEqual(bindAddresses('::1', V4), ['::1']);
    assert.deepEqual(bindAddresses('::', V4), ['::']);
    assert.deepEqual(bindAddresses('', V4), ['0.0.0.0']);
    assert.deepEqual(bindAddresses('127.0.0.1', { ipv6: 'fd00:aa::2' }), []);
  });
});

describe('socketsFor: which sockets relay', () => {
  it('an IPv6 host address of an IPv4-only container relays TCP and UDP to the IPv4 address', () => {
    assert.deepEqual(sockets(map('::1'), V4), ['tcp ::1:8090 -> 172.17.0.2:80']);
    assert.deepEqual(sockets(map('::', 'udp', 5353, 53), V4), ['udp :::5353 -> 172.17.0.2:53']);
  });

  it('IPv6 sockets of an IPv6 container relay ::1 (the only traffic the DNAT leaves them), proxy or not', () => {
    assert.deepEqual(sockets(map(''), DUAL), ['tcp 0.0.0.0:8090', 'tcp :::8090 -> fd00:aa::2:80']);
    assert.deepEqual(sockets(map('::1', 'udp'), DUAL), ['udp ::1:8090 -> fd00:aa::2:80']);
  });

  it('IPv4 sockets relay only TCP, only with --userland-proxy', () => {
    assert.deepEqual(sockets(map('', 'tcp'), V4, 'loopback'), ['tcp 0.0.0.0:8090 -> 172.17.0.2:80']);
    assert.deepEqual(sockets(map('', 'udp'), V4, 'loopback'), ['udp 0.0.0.0:8090']);
    assert.deepEqual(sockets(map('127.0.0.1', 'tcp'), V4), ['tcp 127.0.0.1:8090']);
  });

  it('without a firewall every socket relays, TCP and UDP (there is no DNAT)', () => {
    assert.deepEqual(sockets(map('', 'udp', 5353, 53), DUAL, 'all'), ['udp 0.0.0.0:5353 -> 172.18.0.2:53', 'udp :::5353 -> fd00:aa::2:53']);
    assert.equal(unservable(map('', 'sctp'), V4, 'all'), 'cannot publish 8090:80/sctp: berth writes no firewall rules (--firewall=false) and its relay has no SCTP');
  });
});

describe('unservable', () => {
  it('refuses SCTP that only the relay could serve, with a message naming the mapping', () => {
    assert.equal(unservable(map('::1', 'sctp'), DUAL), "cannot publish [::1]:8090:80/sctp: the kernel cannot forward from ::1 and berth's relay has no SCTP");
    assert.equal(
      unservable({ ...map('::', 'sctp'), hostPorts: { start: 0, end: 0 } }, V4),
      "cannot publish [::]::80/sctp: the container has no IPv6 address and berth's relay, which would carry it to IPv4, has no SCTP",
    );
    assert.equal(unservable(map('127.0.0.1'), { ipv6: 'fd00:aa::2' }), 'cannot publish 127.0.0.1:8090:80/tcp: the container has no IPv4 address');
  });

  it('accepts what the kernel or the relay serves', () => {
    for (const m of [map('::1'), map('::1', 'udp'), map('::', 'udp'), map('', 'sctp'), map('::', 'sctp'), map('fd00:1::5', 'sctp')]) {
      assert.equal(unservable(m, DUAL), undefined, JSON.stringify(m));
    }
    for (const m of [map('::1'), map('::', 'udp'), map('', 'sctp'), map('0.0.0.0', 'sctp')]) assert.equal(unservable(m, V4), undefined, JSON.stringify(m));
  });

  it('checkServable throws InvalidParameter', () => {
    assert.throws(
      () => checkServable([map(''), map('::1', 'sctp')], V4),
      (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter' && /\[::1\]:8090:80\/sctp/.test(e.message),
    );
    checkServable([map(''), map('::1')], V4);
  });
});
