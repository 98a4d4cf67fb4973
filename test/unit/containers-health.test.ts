import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  healthOnStart,
  healthOnStop,
  healthSuffix,
  nextProbeDelay,
  ProbeOutput,
  recordResult,
  type HealthResult,
  type HealthState,
} from '../../src/engine/containers/health.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const result = (exitCode: number, ms = 60_000): HealthResult => ({ start: at(ms), end: at(ms + 5), exitCode, output: `${exitCode}` });
const probe = { retries: 3, startPeriodMs: 0 };
const starting: HealthState = { status: 'starting', failingStreak: 0, log: [] };

/** Results applied in turn, from `h`. */
function run(h: HealthState, codes: number[], p = probe, ms = (i: number) => 60_000 + i): HealthState {
  return codes.reduce((s, code, i) => recordResult(s, result(code, ms(i)), p, T0), h);
}

describe('health state machine', () => {
  it('a success makes it healthy and clears the streak; retries failures in a row make it unhealthy', () => {
    assert.equal(run(starting, [0]).status, 'healthy');
    const twice = run(starting, [0, 1, 1]);
    assert.deepEqual([twice.status, twice.failingStreak], ['healthy', 2]);
    const thrice = run(starting, [0, 1, 1, 1]);
    assert.deepEqual([thrice.status, thrice.failingStreak], ['unhealthy', 3]);
    assert.deepEqual([run(thrice, [0]).status, run(thrice, [0]).failingStreak], ['healthy', 0]);
    assert.equal(run(starting, [1, 1, 1]).status, 'unhealthy', 'from starting too');
    assert.equal(run(starting, [1, 1]).status, 'starting');
  });

  it('any exit code but 0 is a failure (2, 137, -1 for a timeout)', () => {
    assert.equal(run(starting, [2, 137, -1]).status, 'unhealthy');
  });

  it('failures inside the start period do not count while starting; a success ends it', () => {
    const p = { retries: 1, startPeriodMs: 10_000 };
    const early = run(starting, [1, 1, 1], p, (i) => 1000 * i);
    assert.deepEqual([early.status, early.failingStreak, early.log.length], ['starting', 0, 3]);
    assert.equal(run(starting, [1], p, () => 10_000).status, 'unhealthy', 'the period is over at its end');
    const healthy = run(starting, [0, 1], p, (i) => 1000 * (i + 1));
    assert.deepEqual([healthy.status, healthy.failingStreak], ['unhealthy', 1], 'after a success, failures count at once');
  });

  it('keeps the last five results, oldest first', () => {
    const h = run(starting, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(h.log.map((r) => r.exitCode), [2, 3, 4, 5, 6]);
  });

  it('a start resets the status and streak and keeps the log; a stop makes it unhealthy', () => {
    const h = run(starting, [1, 1, 1]);
    assert.deepEqual(healthOnStart(h), { status: 'starting', failingStreak: 0, log: h.log });
    assert.deepEqual(healthOnStart(undefined), starting);
    assert.deepEqual(healthOnStop(run(starting, [0])), { ...run(starting, [0]), status: 'unhealthy' });
    assert.equal(healthOnStop(undefined), undefined);
  });

  it('the next probe: the interval, or inside the start period the start interval while starting, never past its end', () => {
    const p = { intervalMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000 };
    assert.equal(nextProbeDelay(p, 'starting', 0), 30_000);
    const sp = { ...p, startPeriodMs: 60_000 };
    assert.equal(nextProbeDelay(sp, 'starting', 0), 5_000);
    assert.equal(nextProbeDelay(sp, 'healthy', 0), 30_000);
    assert.equal(nextProbeDelay(sp, 'healthy', 45_000), 15_000, 'the first probe that counts runs as the period ends');
    assert.equal(nextProbeDelay(sp, 'starting', 58_000), 2_000);
    assert.equal(nextProbeDelay(sp, 'starting', 60_000), 30_000);
  });

  it('docker ps status suffixes', () => {
    assert.equal(healthSuffix(undefined), '');
    assert.equal(healthSuffix(starting), ' (health: starting)');
    assert.equal(healthSuffix({ ...starting, status: 'healthy' }), ' (healthy)');
    assert.equal(healthSuffix({ ...starting, status: 'unhealthy' }), ' (unhealthy)');
  });

  it('probe output: the first 4096 bytes, "..." when more was written', () => {
    const o = new ProbeOutput();
    o.write(Buffer.from('a'.repeat(4000)));
    o.write(Buffer.from('b'.repeat(200)));
    o.write(Buffer.from('c'));
    assert.equal(o.text(), `${'a'.repeat(4000)}${'b'.repeat(96)}...`);
    const small = new ProbeOutput();
    small.write(Buffer.from('ok\n'));
    assert.equal(small.text(), 'ok\n');
  });
});
