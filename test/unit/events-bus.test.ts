import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/events/bus.js';
import type { EventMessage } from '../../src/events/types.js';

/** A bus on a clock the test moves: each emit at the next whole second unless told. */
function busAt(capacity = 4): { bus: EventBus; at(sec: number): void } {
  let now = 1_000n;
  return { bus: new EventBus(capacity, () => now * 1_000_000_000n), at: (sec) => void (now = BigInt(sec)) };
}

const actions = (list: EventMessage[]) => list.map((m) => m.Action);

describe('EventBus', () => {
  it('keeps the most recent events up to its capacity, oldest first', () => {
    const { bus, at } = busAt(3);
    for (const [i, a] of ['create', 'start', 'die', 'destroy'].entries()) {
      at(100 + i);
      bus.emit('container', a, 'c1');
    }
    assert.deepEqual(actions(bus.kept()), ['start', 'die', 'destroy']);
  });

  it('stamps events in Docker’s shape, times strictly increasing', () => {
    const { bus } = busAt();
    bus.emit('network', 'create', 'n1', { name: 'app', type: 'bridge' });
    bus.emit('network', 'destroy', 'n1', { name: 'app', type: 'bridge' });
    const [a, b] = bus.kept();
    assert.deepEqual({ ...a, timeNano: undefined }, {
      Type: 'network', Action: 'create', Actor: { ID: 'n1', Attributes: { name: 'app', type: 'bridge' } }, scope: 'local', time: 1000, timeNano: undefined,
    });
    assert.equal(a!.timeNano, 1_000_000_000_000n);
    assert.equal(b!.timeNano, 1_000_000_000_001n, 'same clock reading: one nanosecond later');
  });

  it('replays nothing without since or until, and the kept events between them otherwise', () => {
    const { bus, at } = busAt(10);
    for (const s of [10, 20, 30, 40]) {
      at(s);
      bus.emit('volume', `v${s}`, 'x');
    }
    const sub = (since?: number, until?: number) =>
      actions(bus.subscribe({ ...(since !== undefined ? { since: BigInt(since) * 1_000_000_000n } : {}), ...(until !== undefined ? { until: BigInt(until) * 1_000_000_000n } : {}), match: () => true, onEvent: () => undefined }).replay);
    assert.deepEqual(sub(), []);
    assert.deepEqual(sub(20), ['v20', 'v30', 'v40']);
    assert.deepEqual(sub(undefined, 20), ['v10', 'v20']);
    assert.deepEqual(sub(15, 35), ['v20', 'v30']);
  });

  it('feeds live subscribers what they match, and stops at cancel', () => {
    const { bus } = busAt();
    const seen: string[] = [];
    const sub = bus.subscribe({ match: (m) => m.Type === 'network', onEvent: (m) => seen.push(m.Action) });
    assert.equal(bus.listeners, 1);
    bus.emit('network', 'connect', 'n');
    bus.emit('container', 'start', 'c');
    sub.cancel();
    bus.emit('network', 'disconnect', 'n');
    assert.deepEqual(seen, ['connect']);
    assert.equal(bus.listeners, 0);
  });

  it('never throws into the emitter: a failing subscriber or filter is dropped or skipped', () => {
    const { bus } = busAt();
    const seen: string[] = [];
    bus.subscribe({ match: () => true, onEvent: () => { throw new Error('client gone'); } });
    bus.subscribe({ match: () => { throw new Error('bad filter'); }, onEvent: () => seen.push('never') });
    bus.subscribe({ match: () => true, onEvent: (m) => seen.push(m.Action) });
    assert.doesNotThrow(() => bus.emit('image', 'tag', 'sha256:x'));
    assert.doesNotThrow(() => bus.emit('image', 'untag', 'sha256:x'));
    assert.deepEqual(seen, ['tag', 'untag']);
    assert.equal(bus.listeners, 2, 'the throwing subscriber is gone');
  });

  it('copies the attributes it is given', () => {
    const { bus } = busAt();
    const attrs = { name: 'a' };
    bus.emit('container', 'create', 'c', attrs);
    attrs.name = 'changed';
    assert.equal(bus.kept()[0]!.Actor.Attributes.name, 'a');
  });
});
