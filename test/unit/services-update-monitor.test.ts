/** swarmkit's update monitor (pure): failures within UpdateConfig.Monitor, FailureAction pause|continue|rollback with MaxFailureRatio, completion one Monitor after the last task ran. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceRecord, TaskRecord, TaskState, UpdateConfig } from '../../src/cluster/services/model.js';
import { reconcileService, type TaskView } from '../../src/cluster/services/reconcile.js';
import { monitorUpdate } from '../../src/cluster/services/update-monitor.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const OLD = { ContainerSpec: { Image: 'busybox', Args: ['sleep', '1000'] } };
const NEW = { ContainerSpec: { Image: 'busybox', Args: ['false'] } };

function service(update: UpdateConfig = {}, state: 'updating' | 'rollback_started' | 'paused' | 'none' = 'updating'): ServiceRecord {
  return {
    id: 'svc',
    version: 2,
    createdAt: at(-60_000),
    updatedAt: at(0),
    spec: { Name: 'web', TaskTemplate: NEW, Mode: { Replicated: { Replicas: 3 } }, UpdateConfig: update },
    previousSpec: { Name: 'web', TaskTemplate: OLD, Mode: { Replicated: { Replicas: 3 } } },
    virtualIps: [],
    ports: [],
    ...(state !== 'none' ? { updateStatus: { state, message: state === 'updating' ? 'update in progress' : 'x', startedAt: at(0) } } : {}),
  };
}

function view(id: string, slot: number, spec: typeof OLD, createdMs: number, state: TaskState, stateMs: number, desired: TaskRecord['desiredState'] = 'running'): TaskView {
  const record: TaskRecord = { id, version: 1, createdAt: at(createdMs), updatedAt: at(createdMs), serviceId: 'svc', slot, nodeId: 'n1', spec, serviceVersion: 1, desiredState: desired };
  return { record, status: { state, message: state, timestamp: at(stateMs), networks: [] } };
}

/** Slots 2 and 3 still on the old spec; slot 1's old task stopped for the update. */
const oldOnes = [view('o1', 1, OLD, -60_000, 'shutdown', 100, 'shutdown'), view('o2', 2, OLD, -60_000, 'running', -59_000), view('o3', 3, OLD, -60_000, 'running', -59_000)];

describe('update monitor', () => {
  it('starts an update when a task runs an older spec', () => {
    const v = monitorUpdate(service({}, 'none'), oldOnes.slice(1), new Map(), T0);
    assert.equal(v.status?.state, 'updating');
    assert.equal(v.status?.message, 'update in progress');
  });

  it('pauses by default when a task of the update fails before it ran, with swarmkit’s message', () => {
    const failed = view('n1', 1, NEW, 50, 'failed', 900);
    const v = monitorUpdate(service(), [...oldOnes, failed], new Map(), T0 + 1000);
    assert.deepEqual(v.status, { state: 'paused', message: 'update paused due to failure or early termination of task n1', startedAt: at(0) });
    assert.equal(v.rollback, undefined);
  });

  it('counts a task that ended within Monitor of running, not one that ran longer', () => {
    const ended = view('n1', 1, NEW, 50, 'complete', 7000);
    const s = service({ Monitor: 5e9 });
    assert.equal(monitorUpdate(s, [...oldOnes, ended], new Map([['n1', T0 + 3000]]), T0 + 7000).status?.state, 'paused', '4 s after it ran');
    assert.equal(monitorUpdate(s, [...oldOnes, ended], new Map([['n1', T0 + 1000]]), T0 + 7000).status, undefined, '6 s after it ran');
  });

  it('rolls back with FailureAction rollback, and pauses a failing rollback', () => {
    const failed = view('n1', 1, NEW, 50, 'failed', 900);
    const v = monitorUpdate(service({ FailureAction: 'rollback' }), [...oldOnes, failed], new Map(), T0 + 1000);
    assert.equal(v.rollback, true);
    assert.deepEqual(v.status, { state: 'rollback_started', message: 'update rolled back due to failure or early termination of task n1', startedAt: at(0) });
    // Rolling back to a spec that fails too: the rollback's own task, with the rollback's settings.
    const rolling = { ...service({}, 'rollback_started'), spec: { ...service().spec, RollbackConfig: { FailureAction: 'rollback' as const } } };
    const again = monitorUpdate(rolling, [...oldOnes, view('r1', 1, NEW, 2000, 'failed', 2500)], new Map(), T0 + 3000);
    assert.equal(again.rollback, undefined);
    assert.deepEqual(again.status, { state: 'rollback_paused', message: 'rollback paused due to failure or early termination of task r1', startedAt: at(0) });
  });

  it('goes on with continue, and below MaxFailureRatio', () => {
    const failed = view('n1', 1, NEW, 50, 'failed', 900);
    assert.equal(monitorUpdate(service({ FailureAction: 'continue' }), [...oldOnes, failed], new Map(), T0 + 1000).status, undefined);
    assert.equal(monitorUpdate(service({ MaxFailureRatio: 0.4 }), [...oldOnes, failed], new Map(), T0 + 1000).status, undefined, '1 of 3 slots');
    // A restart of the same slot failing again is still one slot.
    const twice = [...oldOnes, failed, view('n1b', 1, NEW, 6000, 'failed', 6500)];
    assert.equal(monitorUpdate(service({ MaxFailureRatio: 0.4 }), twice, new Map(), T0 + 7000).status, undefined);
    const two = [...oldOnes.slice(0, 2), view('o3x', 3, OLD, -60_000, 'shutdown', 100, 'shutdown'), failed, view('n3', 3, NEW, 50, 'failed', 900)];
    assert.equal(monitorUpdate(service({ MaxFailureRatio: 0.4 }), two, new Map(), T0 + 1000).status?.state, 'paused', '2 of 3 slots');
  });

  it('completes one Monitor after the last task of the update ran, not when the tasks settle', () => {
    const done = [1, 2, 3].map((slot) => view(`n${slot}`, slot, NEW, slot * 1000, 'running', slot * 1000 + 500));
    const ran = new Map(done.map((t, i) => [t.record.id, T0 + (i + 1) * 1000 + 500]));
    const early = monitorUpdate(service(), done, ran, T0 + 4000);
    assert.equal(early.status, undefined);
    assert.equal(early.wakeAt, T0 + 3500 + 5000);
    const v = monitorUpdate(service(), done, ran, T0 + 8500);
    assert.equal(v.status?.state, 'completed');
    assert.equal(v.status?.message, 'update completed');
    assert.equal(monitorUpdate(service({}, 'rollback_started'), done, ran, T0 + 8500).status?.message, 'rollback completed');
  });

  it('leaves a paused update alone, and the reconcile rolls no further batch', () => {
    const failed = view('n1', 1, NEW, 50, 'failed', 900, 'shutdown');
    const paused = service({}, 'paused');
    assert.deepEqual(monitorUpdate(paused, [...oldOnes, failed], new Map(), T0 + 1000), {});
    const nodes = [{ id: 'n1', hostname: 'h', role: 'worker' as const, labels: {}, availability: 'active' as const, ready: true, addr: '10.0.0.1', os: 'linux', arch: 'x86_64' }];
    const picture = { nodes, totalLoad: new Map(), heldPorts: new Map(), now: T0 + 10_000, historyLimit: 5 };
    const d = reconcileService(paused, [...oldOnes, failed], picture, T0);
    assert.deepEqual(d.update.filter((t) => t.id === 'o2' || t.id === 'o3'), [], 'the old tasks keep running');
    const updating = reconcileService(service(), [...oldOnes, failed], picture, T0);
    assert.equal(updating.update.filter((t) => t.id === 'o2' || t.id === 'o3').length, 1, 'while updating, the next batch goes');
  });
});
