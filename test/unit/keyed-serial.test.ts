import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyedSerial } from '../../src/util/serial.js';

/** A job that records when it runs and ends when released. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

const tick = async (): Promise<void> => new Promise((r) => setImmediate(r));

describe('KeyedSerial', () => {
  it('runs jobs with no key in common at the same time, and those sharing a key one after another', async () => {
    const s = new KeyedSerial();
    const log: string[] = [];
    const g1 = gate();
    const g2 = gate();
    const a = s.run(['net/a', 'ctr/1'], async () => {
      log.push('a start');
      await g1.opened;
      log.push('a end');
    });
    const b = s.run(['net/b', 'ctr/2'], async () => {
      log.push('b start');
      await g2.opened;
      log.push('b end');
    });
    const c = s.run(['net/a', 'ctr/3'], async () => void log.push('c'));
    await tick();
    assert.deepEqual(log, ['a start', 'b start'], 'b does not wait for a; c waits for a');
    g1.open();
    await a;
    await c;
    assert.deepEqual(log, ['a start', 'b start', 'a end', 'c']);
    g2.open();
    await b;
    assert.equal(s.busy, 0);
  });

  it('does not deadlock on keys asked in opposite orders, and a failed job does not stop the next', async () => {
    const s = new KeyedSerial();
    const order: number[] = [];
    const jobs = [
      s.run(['x', 'y'], async () => void order.push(1)),
      s.run(['y', 'x'], async () => {
        order.push(2);
        throw new Error('boom');
      }),
      s.run(['x'], async () => void order.push(3)),
    ];
    const results = await Promise.allSettled(jobs);
    assert.deepEqual(order, [1, 2, 3]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  });
});
