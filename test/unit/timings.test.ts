import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Timings } from '../../src/util/timings.js';

describe('Timings', () => {
  it('counts every sample and keeps the latest ones, oldest first', () => {
    const t = new Timings(3);
    for (const ms of [1, 2, 3, 4, 5]) t.record('attach user', ms);
    t.record('connect', 7.12345);
    assert.deepEqual(t.snapshot(), {
      'attach user': { total: 5, recentMs: [3, 4, 5] },
      connect: { total: 1, recentMs: [7.123] },
    });
  });

  it('hands out copies', () => {
    const t = new Timings();
    t.record('a', 1);
    t.snapshot().a!.recentMs.push(99);
    assert.deepEqual(t.snapshot().a!.recentMs, [1]);
  });
});
