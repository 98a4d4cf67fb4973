import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HealthMonitors, type ProbeOutcome, type ProbeRunner } from '../../src/engine/containers/health-monitor.js';
import type { HealthConfig } from '../../src/engine/containers/health-config.js';
import type { ContainerId, ContainerRecord } from '../../src/engine/containers/model.js';
import { notFound } from '../../src/errors.js';
import { settled } from '../lib/async.js';

const ID = 'c0ffee'.padEnd(64, '0') as ContainerId;

function record(healthcheck: HealthConfig | undefined, over: Partial<ContainerRecord['state']> = {}): ContainerRecord {
  return {
    id: ID,
    spec: { name: 'web', labels: {}, image: { ref: 'busybox', id: 'x' }, ...(healthcheck ? { healthcheck } : {}) },
    state: { status: 'running', startedAt: new Date().toISOString(), health: { status: 'starting', failingStreak: 0, log: [] }, ...over },
    docker: { config: {}, hostConfig: {} },
  } as unknown as ContainerRecord;
}

/** A monitor set over one record kept in memory, with the probes' runs and the events and warnings seen. */
function harness(c: ContainerRecord, run: ProbeRunner) {
  const box = { c: c as ContainerRecord | undefined };
  const events: string[] = [];
  const warnings: string[] = [];
  const monitors = new HealthMonitors({
    run,
    update: async (_id, change) => {
      if (!box.c) throw notFound(`No such container: ${ID}`);
      const next = change(box.c);
      if (next) box.c = next;
    },
    events: { emit: (_t, action) => void events.push(action) },
    log: { info: () => undefined, warn: (m) => void warnings.push(m) },
  });
  return { box, events, warnings, monitors, health: () => box.c!.state.health! };
}

const fast: HealthConfig = { Test: ['CMD', 'check'], Interval: 5e6, Retries: 2 };
const always = (o: ProbeOutcome): ProbeRunner => async () => o;

describe('health monitors', () => {
  it('probes at its interval, records each result, and logs health_status only on a change', async () => {
    const h = harness(record(fast), always({ exitCode: 0, output: 'fine\n' }));
    h.monitors.start(h.box.c!);
    await settled(async () => h.health().log.length, (n) => n >= 3);
    h.monitors.stop(ID);
    assert.equal(h.health().status, 'healthy');
    assert.deepEqual(h.health().log[0]!.output, 'fine\n');
    assert.deepEqual(h.events, ['health_status: healthy']);
  });

  it('turns unhealthy after retries failures; a runner that throws counts as a failure with its message', async () => {
    const h = harness(record(fast), async () => {
      throw new Error('container is not running');
    });
    h.monitors.start(h.box.c!);
    await settled(async () => h.health().status, (s) => s === 'unhealthy');
    h.monitors.close();
    assert.deepEqual(h.health().log[0]!, { ...h.health().log[0]!, exitCode: -1, output: 'container is not running' });
    assert.ok(h.health().failingStreak >= 2);
    assert.deepEqual(h.events, ['health_status: unhealthy']);
  });

  it('never runs two probes at once, and stop kills the probe under way and drops its result', async () => {
    let running = 0;
    let most = 0;
    let aborted = 0;
    const h = harness(record(fast), async (_c, _p, signal) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      if (signal.aborted) aborted++;
      return { exitCode: 0, output: '' };
    });
    h.monitors.start(h.box.c!);
    await settled(async () => h.health().log.length, (n) => n >= 2);
    await settled(async () => running, (n) => n === 1);
    h.monitors.stop(ID);
    const kept = h.health().log.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(most, 1);
    assert.equal(aborted, 1, 'the probe under way saw the abort');
    assert.equal(h.health().log.length, kept, 'no result after the stop');
    assert.equal(h.monitors.size, 0);
  });

  it('a fresh start replaces the monitor; a container that stopped running or went away ends it quietly', async () => {
    let runs = 0;
    const h = harness(record(fast), async () => {
      runs++;
      return { exitCode: 1, output: '' };
    });
    h.monitors.start(h.box.c!);
    h.monitors.start(h.box.c!);
    assert.equal(h.monitors.size, 1);
    await settled(async () => runs, (n) => n >= 1);
    h.box.c = { ...h.box.c!, state: { ...h.box.c!.state, status: 'exited' } };
    const seen = runs;
    await new Promise((r) => setTimeout(r, 40));
    assert.ok(runs <= seen + 1, 'no more probes once it is not running');
    h.monitors.close();

    const gone = harness(record(fast), always({ exitCode: 0, output: '' }));
    gone.box.c = undefined;
    gone.monitors.start(record(fast));
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(gone.warnings.length, 1, gone.warnings.join());
    assert.match(gone.warnings[0]!, /No such container/);
    gone.monitors.close();
  });

  it('runs nothing for NONE, no check or an unknown type (which dockerd warns of)', async () => {
    let runs = 0;
    const count: ProbeRunner = async () => {
      runs++;
      return { exitCode: 0, output: '' };
    };
    for (const hc of [undefined, { Test: ['NONE'] }, { Test: ['HTTP', '/'], Interval: 1e6 }]) {
      const h = harness(record(hc), count);
      h.monitors.start(h.box.c!);
      assert.equal(h.monitors.size, 0);
      assert.deepEqual(h.warnings, hc?.Test[0] === 'HTTP' ? [`Unknown healthcheck type 'HTTP' (expected 'CMD') in container ${ID}`] : []);
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs, 0);
  });

  it('resumes a stored status: a healthy container stays healthy after a daemon restart', async () => {
    const h = harness(record({ ...fast, Retries: 1000 }, { health: { status: 'healthy', failingStreak: 0, log: [] } }), always({ exitCode: 1, output: '' }));
    h.monitors.start(h.box.c!);
    await settled(async () => h.health().log.length, (n) => n >= 1);
    h.monitors.close();
    assert.equal(h.health().status, 'healthy', 'failures count from where it was, not from starting');
    assert.ok(h.health().failingStreak >= 1);
    assert.deepEqual(h.events, []);
  });
});
