import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Router, splitVersion } from '../../src/api/router.js';
import { httpStatusOf } from '../../src/api/errors.js';
import { parseFilters } from '../../src/api/wire.js';
import { parseCreate } from '../../src/api/routes/networks.js';
import { conflict, forbidden, invalid, notFound } from '../../src/errors.js';

describe('API routing', () => {
  it('strips the version prefix and refuses versions out of range', () => {
    assert.deepEqual(splitVersion('/v1.41/networks'), { version: '1.41', path: '/networks' });
    assert.deepEqual(splitVersion('/networks'), { version: '1.44', path: '/networks' });
    assert.throws(() => splitVersion('/v1.50/networks'), /client version 1.50 is too new. Maximum supported API version is 1.44/);
    assert.throws(() => splitVersion('/v1.12/networks'), /too old/);
  });

  it('matches params and tells a wrong method from a missing path', () => {
    const r = new Router();
    const h = async () => ({ status: 200 });
    r.add('GET', '/networks/{id}', h).add('GET', '/images/{name}/json', h);
    const m = r.match('GET', '/networks/abc');
    assert.ok(typeof m === 'object');
    assert.deepEqual(m.params, { id: 'abc' });
    const img = r.match('GET', '/images/library/busybox:1.36/json');
    assert.ok(typeof img === 'object');
    assert.equal(img.params.name, 'library/busybox:1.36');
    assert.equal(r.match('PUT', '/networks/abc'), 'bad-method');
    assert.equal(r.match('GET', '/nope'), 'not-found');
    assert.ok(typeof r.match('HEAD', '/networks/abc') === 'object');
  });

  it('maps error kinds to HTTP statuses in one place', () => {
    assert.equal(httpStatusOf(invalid('x')), 400);
    assert.equal(httpStatusOf(forbidden('x')), 403);
    assert.equal(httpStatusOf(notFound('x')), 404);
    assert.equal(httpStatusOf(conflict('x')), 409);
    assert.equal(httpStatusOf(new Error('bug')), 500);
  });

  it('reads both filter encodings', () => {
    assert.deepEqual(parseFilters('{"name":{"a":true,"b":true}}'), { name: ['a', 'b'] });
    assert.deepEqual(parseFilters('{"name":["a"]}'), { name: ['a'] });
    assert.deepEqual(parseFilters(null), {});
    assert.throws(() => parseFilters('{'), /invalid filter/);
  });

  it('converts a network create body and checks its types', () => {
    const req = parseCreate({
      Name: 'n',
      IPAM: { Config: [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1', AuxiliaryAddresses: { a: '10.0.0.5' } }] },
      Options: { 'com.docker.network.driver.mtu': '1400' },
      Labels: { x: 'y' },
      Internal: true,
    });
    assert.equal(req.driver, 'bridge');
    assert.equal(req.internal, true);
    assert.deepEqual(req.subnets, [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1', auxAddresses: { a: '10.0.0.5' } }]);
    assert.throws(() => parseCreate({ Name: 'n', Internal: 'yes' }), /cannot unmarshal string into field Internal of type bool/);
    assert.throws(() => parseCreate({ Name: 'n', Labels: { a: 1 } }), /Labels.a/);
    assert.throws(() => parseCreate([]), /expected a JSON object/);
  });
});
