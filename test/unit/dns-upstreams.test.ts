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

  it("prefers the container's --dns, then the daemon's, then the host's without loopback", () => {
    assert.deepEqual(chooseUpstreams({ container: ['9.9.9.9'], daemon: ['1.1.1.1'], hostResolvConf: HOST }), ['9.9.9.9']);
    assert.deepEqual(chooseUpstreams({ container: [], daemon: ['1.1.1.1', '2001:4860:4860:0:0:0:0:8888'], hostResolvConf: HOST }), [
      '1.1.1.1',
      '2001:4860:4860::8888',
    ]);
    assert.deepEqual(chooseUpstreams({ container: [], daemon: [], hostResolvConf: HOST }), ['192.168.1.1', 'fe80::1']);
  });

  it('never forwards to itself', () => {
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.11', '8.8.8.8'], daemon: [], hostResolvConf: '' }), ['8.8.8.8']);
    // --dns 127.0.0.11 alone means the embedded resolver: the next source applies.
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.11'], daemon: ['1.1.1.1'], hostResolvConf: '' }), ['1.1.1.1']);
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.11'], daemon: [], hostResolvConf: 'nameserver 127.0.0.11\n' }), []);
  });

  it('keeps a loopback --dns given for the container (its own loopback)', () => {
    assert.deepEqual(chooseUpstreams({ container: ['127.0.0.1'], daemon: [], hostResolvConf: '' }), ['127.0.0.1']);
  });

  it('reads search domains (last line wins)', () => {
    assert.deepEqual(searchDomainsOf(HOST), ['corp.example', 'lan']);
    assert.deepEqual(searchDomainsOf('domain a\nsearch b c\n'), ['b', 'c']);
    assert.deepEqual(searchDomainsOf(''), []);
  });
});
