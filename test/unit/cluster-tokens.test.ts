import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { caDigestPart, newJoinToken, newSwarmId, parseJoinToken, sameToken } from '../../src/cluster/tokens.js';

const ROOT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('swarm tokens and IDs', () => {
  it('makes IDs of 25 base-36 characters, all different', () => {
    const ids = Array.from({ length: 200 }, newSwarmId);
    for (const id of ids) assert.match(id, /^[0-9a-z]{25}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('makes SWMTKN-1 tokens that pin the root and differ in their secret', () => {
    const a = newJoinToken(ROOT);
    const b = newJoinToken(ROOT);
    assert.match(a, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    assert.equal(parseJoinToken(a).digest, caDigestPart(ROOT));
    assert.equal(parseJoinToken(a).digest, parseJoinToken(b).digest);
    assert.notEqual(parseJoinToken(a).secret, parseJoinToken(b).secret);
    assert.notEqual(caDigestPart(ROOT + ' '), caDigestPart(ROOT));
    assert.ok(sameToken(a, a) && !sameToken(a, b));
  });

  it('refuses anything malformed with Docker’s words', () => {
    for (const t of ['foobaz', 'SWMTKN-1-abc-def', `SWMTKN-2-${'a'.repeat(50)}-${'b'.repeat(25)}`, `SWMTKN-1-${'A'.repeat(50)}-${'b'.repeat(25)}`]) {
      assert.throws(() => parseJoinToken(t), /^BerthError: invalid join token$|invalid join token/);
    }
  });
});
