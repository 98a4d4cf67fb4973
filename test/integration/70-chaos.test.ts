/**
 * Crash safety (issue 7): a small seeded kill -9 chaos run (bench/chaos.ts) — berthd is
 * SIGKILLed at 8 seeded moments amid about 60 API operations and restarted, and after
 * each restart the API, the store file, the kernel and the client's ledger of
 * acknowledged calls must agree (test/reliability/invariants.ts). Any violation fails
 * the test with the run's report; `bench/chaos --seed 1 --kills 8` replays it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULTS, formatReport, runChaos } from '../../bench/chaos.js';

describe('kill -9 chaos', () => {
  it('keeps every invariant through 8 seeded kill points', { timeout: 8 * 60_000 }, async () => {
    const verbose = process.env.BERTH_CHAOS_VERBOSE === '1';
    const result = await runChaos({
      ...DEFAULTS,
      seed: 1,
      kills: 8,
      opsPerKill: 8,
      ...(verbose ? { progress: (m: string) => void process.stderr.write(`# chaos: ${m}\n`) } : {}),
    });
    assert.equal(result.killPoints, 8, formatReport(result));
    assert.ok(result.ops.done >= 20, `too few operations acknowledged to mean anything:\n${formatReport(result)}`);
    assert.equal(result.violations.length, 0, formatReport(result));
  });
});
