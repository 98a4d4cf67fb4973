import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { restartDelay, restartsAfter } from '../../src/engine/containers/restart-policy.js';

describe('restart policy', () => {
  const exit = (code: number, restartCount = 0, userStopped = false) => ({ code, restartCount, userStopped });

  it('decides as Docker: always and unless-stopped restart, on-failure only a failure within its count', () => {
    assert.equal(restartsAfter({ name: 'always', maximumRetryCount: 0 }, exit(0)), true);
    assert.equal(restartsAfter({ name: 'unless-stopped', maximumRetryCount: 0 }, exit(0)), true);
    assert.equal(restartsAfter({ name: 'no', maximumRetryCount: 0 }, exit(1)), false);
    assert.equal(restartsAfter({ name: 'on-failure', maximumRetryCount: 0 }, exit(0)), false);
    assert.equal(restartsAfter({ name: 'on-failure', maximumRetryCount: 0 }, exit(1, 99)), true);
    assert.equal(restartsAfter({ name: 'on-failure', maximumRetryCount: 2 }, exit(1, 1)), true);
    assert.equal(restartsAfter({ name: 'on-failure', maximumRetryCount: 2 }, exit(1, 2)), false);
  });

  it('never restarts what the user stopped', () => {
    for (const name of ['always', 'unless-stopped', 'on-failure'] as const) {
      assert.equal(restartsAfter({ name, maximumRetryCount: 0 }, exit(137, 0, true)), false);
    }
  });

  it('waits 100 ms, doubling to a minute, and starts over after a run of 10 s', () => {
    const waits: number[] = [];
    let w: number | undefined;
    for (let i = 0; i < 12; i++) waits.push((w = restartDelay(w, 50)));
    assert.deepEqual(waits.slice(0, 4), [100, 200, 400, 800]);
    assert.equal(waits.at(-1), 60_000);
    assert.equal(restartDelay(60_000, 10_000), 100);
  });
});
