import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LEASE_TTL_S, leaseTtlFor } from '../../src/cluster/session.js';

describe("a node's lease TTL", () => {
  it('is one heartbeat period of the swarm, 5 s by default, 2 s at least', () => {
    assert.equal(LEASE_TTL_S, 5);
    assert.equal(leaseTtlFor(5_000_000_000), 5);
    assert.equal(leaseTtlFor(2_000_000_000), 2);
    assert.equal(leaseTtlFor(7_500_000_000), 8);
    assert.equal(leaseTtlFor(10_000_000_000), 10);
    assert.equal(leaseTtlFor(500_000_000), 2);
  });
});
