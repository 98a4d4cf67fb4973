import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseUpstreams, nameserversOf, searchDomainsOf } from '../../src/network/dns/upstreams.js';

const HOST = `# host
nameserver 127.0.0.53
nameserver 192.168.1.1
nameserver fe80::1%eth0
nameserver ::1
nameserver bogus
search corp.example lan
options edns0 trust-ad
`;

describe('dns upstreams', () => {
  it('reads nameservers, dropping zones and invalid entries', () => {
    assert.deepEqual(nameserversOf(HOST), ['127.0.0.53', '192.168.1.1', 'fe80::1', '::1']);
  });

  const inContainer = (...addresses: string[]) => addresses.map((address) => ({ address, fromHost: false }));

  it("prefers the container's --dns, then the daemon's, then the host's", () => {
    assert.deepEqual(chooseUpstreams({ container: ['9.9.9.9'], daemon: ['1.1.1.1'], hostResolvConf: HOST }), inContainer('9.9.9.9'));
    assert.deepEqual(
      chooseUpstreams({ container: [], daemon: ['1.1.1.1', '2001:4860:4860:0:0:0:0:8888'], hostResolvConf: HOST }),
      inContainer('1.1.1.1', '2001:4860:4860::8888'),
    );
  });

  it("asks the host's loopback nameservers from the daemon's namespace, the others from the container's", () => {
    assert.deepEqual(chooseUpstreams({ container: [], daemon: [], hostResolvConf: HOST }), [
      { address: '127.0.0.53', fromHost: true },
      { address: '192.168.1.1', fromHost: false },
      { address: 'fe80::1', fromHost: false },
      { address: '::1', fromHost: true },
    ]);
    // The host's 127.0.0.11 is not a berth resolver (berth inside a Docker container, say): kept.
    assert.deepEqual(chooseUpstreams({ container: [], daemon: [], hostResolvConf: 'nameserver 127.0.0.11\n' }), [
      { address: '127.0.0.11', fromHost: true },
    ]);
  });

  it("asks a loopback --dns, the container's or the daemon's, in the container's namespace (Docker's override rule)", () => {
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.1'], daemon: [], hostResolvConf: HOST }), inContainer('127.0.0.1'));
    assert.deepEqual(chooseUpstreams({ container: [], daemon: ['127.0.0.53', '::1'], hostResolvConf: HOST }), inContainer('127.0.0.53', '::1'));
  });

  it('never forwards to itself', () => {
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.11', '8.8.8.8'], daemon: [], hostResolvConf: '' }), inContainer('8.8.8.8'));
    // --dns 127.0.0.11 alone means the embedded resolver: the next source applies.
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.11'], daemon: ['1.1.1.1'], hostResolvConf: '' }), inContainer('1.1.1.1'));
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.11'], daemon: ['127.0.0.11'], hostResolvConf: '' }), []);
  });

  it('reads search domains (last line wins)', () => {
    assert.deepEqual(searchDomainsOf(HOST), ['corp.example', 'lan']);
    assert.deepEqual(searchDomainsOf('domain a\nsearch b c\n'), ['b', 'c']);
    assert.deepEqual(searchDomainsOf(''), []);
  });
});
