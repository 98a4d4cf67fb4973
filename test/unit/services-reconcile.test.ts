/** The orchestrator's pure decisions: placement (constraints, spread, swarmkit's reasons) and a service's reconcile (slots, restarts, node loss, updates, history). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeMatches, parseConstraints, place, type PlacementNode } from '../../src/cluster/services/placement.js';
import { reconcileRemoved, reconcileService, upToDate, type ClusterPicture, type TaskView } from '../../src/cluster/services/reconcile.js';
import type { ServiceRecord, TaskRecord } from '../../src/cluster/services/model.js';

const node = (id: string, over: Partial<PlacementNode> = {}): PlacementNode => ({
  id,
  hostname: `host-${id}`,
  role: 'worker',
  labels: {},
  availability: 'active',
  ready: true,
  addr: '10.0.0.1',
  os: 'linux',
  arch: 'x86_64',
  ...over,
});

const T0 = Date.parse('2026-01-01T00:00:00Z');

function service(replicas: number, over: Partial<ServiceRecord['spec']> = {}): ServiceRecord {
  return {
    id: 'svc',
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: { Replicated: { Replicas: replicas } }, ...over },
    virtualIps: [],
    ports: [],
  };
}

function picture(nodes: PlacementNode[], now = T0): ClusterPicture {
  return { nodes, totalLoad: new Map(), heldPorts: new Map(), now, historyLimit: 5 };
}

function task(id: string, slot: number, nodeId: string, s: ServiceRecord, over: Partial<TaskRecord> = {}): TaskRecord {
  return { id, version: 1, createdAt: `2026-01-01T00:00:0${slot}Z`, updatedAt: '2026-01-01T00:00:00Z', serviceId: s.id, slot, nodeId, spec: s.spec.TaskTemplate, serviceVersion: 1, desiredState: 'running', ...over };
}

const running = (r: TaskRecord): TaskView => ({ record: r, status: { state: 'running', message: 'started', timestamp: '2026-01-01T00:00:00Z', networks: [] } });

describe('placement', () => {
  it('parses constraints and refuses what swarmkit refuses', () => {
    assert.deepEqual(parseConstraints(['node.role==manager', 'node.labels.zone != a']), [
      { key: 'node.role', equal: true, value: 'manager' },
      { key: 'node.labels.zone', equal: false, value: 'a' },
    ]);
    assert.throws(() => parseConstraints(['node.role']), /constraint expected one operator from ==, !=/);
    assert.throws(() => parseConstraints(['==x']), /key '' is invalid/);
  });

  it('matches hostnames without case, labels exactly by key, and never an unknown key', () => {
    const n = node('a', { hostname: 'Host1', labels: { zone: 'eu' } });
    assert.ok(nodeMatches(parseConstraints(['node.hostname==host1']), n));
    assert.ok(nodeMatches(parseConstraints(['node.labels.zone==EU']), n));
    assert.ok(!nodeMatches(parseConstraints(['node.labels.Zone==eu']), n));
    assert.ok(nodeMatches(parseConstraints(['node.labels.rack!=1']), n));
    assert.ok(!nodeMatches(parseConstraints(['engine.x==1']), n));
  });

  it('spreads by the service’s tasks, then all tasks', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const ask = { constraints: [], hostPorts: [], totalLoad: new Map([['b', 5]]), heldPorts: new Map(), maxReplicas: 0 };
    assert.deepEqual(place(nodes, { ...ask, serviceLoad: new Map([['a', 1]]) }), { nodeId: 'c' });
  });

  it('explains a failure in swarmkit’s words, most failures first', () => {
    const nodes = [node('a', { availability: 'drain' }), node('b'), node('c', { ready: false })];
    const got = place(nodes, { constraints: parseConstraints(['node.role==manager']), hostPorts: [], serviceLoad: new Map(), totalLoad: new Map(), heldPorts: new Map(), maxReplicas: 0 });
    assert.deepEqual(got, { error: 'no suitable node (2 nodes not available for new tasks; scheduling constraints not satisfied on 1 node)' });
  });
});

describe('reconcile', () => {
  it('makes one task per slot, spread over the nodes', () => {
    const d = reconcileService(service(3), [], picture([node('a'), node('b'), node('c')]), undefined);
    assert.deepEqual(d.create.map((t) => t.slot), [1, 2, 3]);
    assert.deepEqual(d.create.map((t) => t.nodeId).sort(), ['a', 'b', 'c']);
    assert.ok(d.create.every((t) => t.orchestratorStatus?.state === 'assigned'));
  });

  it('keeps a task pending with the reason when no node fits, and places it later', () => {
    const s = service(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.labels.zone==mars'] } } });
    const d = reconcileService(s, [], picture([node('a')]), undefined);
    assert.equal(d.create[0]!.nodeId, '');
    assert.equal(d.create[0]!.orchestratorStatus?.err, 'no suitable node (scheduling constraints not satisfied on 1 node)');
    const later = reconcileService(s, [{ record: d.create[0]! }], picture([node('a', { labels: { zone: 'mars' } })]), undefined);
    assert.equal(later.update[0]!.nodeId, 'a');
    assert.equal(later.create.length, 0);
  });

  it('stops slots above the replicas', () => {
    const s = service(1);
    const d = reconcileService(s, [running(task('t1', 1, 'a', s)), running(task('t2', 2, 'b', s))], picture([node('a'), node('b')]), undefined);
    assert.deepEqual(d.update.map((t) => [t.id, t.desiredState]), [['t2', 'shutdown']]);
    assert.equal(d.create.length, 0);
  });

  it('replaces a Down or drained node’s task at once, elsewhere', () => {
    const s = service(2);
    const d = reconcileService(s, [running(task('t1', 1, 'a', s)), running(task('t2', 2, 'b', s))], picture([node('a', { ready: false }), node('b'), node('c', { availability: 'drain' })]), undefined);
    assert.deepEqual(d.update.map((t) => [t.id, t.desiredState]), [['t1', 'shutdown']]);
    assert.deepEqual(d.create.map((t) => [t.slot, t.nodeId]), [[1, 'b']]);
  });

  it('restarts a failed task after the restart delay, not before; never with Condition none', () => {
    const s = service(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Delay: 2e9 } } });
    const failed: TaskView = { record: task('t1', 1, 'a', s), status: { state: 'failed', message: 'started', err: 'task: non-zero exit (137)', timestamp: new Date(T0).toISOString(), networks: [] } };
    const first = reconcileService(s, [failed], picture([node('a')]), undefined);
    assert.deepEqual(first.update.map((t) => t.desiredState), ['shutdown']);
    assert.equal(first.create.length, 0);
    assert.equal(first.wakeAt, T0 + 2000);
    const stopped: TaskView = { ...failed, record: first.update[0]! };
    assert.equal(reconcileService(s, [stopped], picture([node('a')], T0 + 2000), undefined).create.length, 1);
    const none = service(1, { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: { Condition: 'none' } } });
    const ended: TaskView = { record: task('t1', 1, 'a', none, { desiredState: 'shutdown' }), status: failed.status! };
    assert.equal(reconcileService(none, [ended], picture([node('a')], T0 + 60_000), undefined).create.length, 0);
  });

  it('updates Parallelism tasks at a time', () => {
    const old = service(3);
    const s = { ...service(3, { TaskTemplate: { ContainerSpec: { Image: 'busybox:2' } }, UpdateConfig: { Parallelism: 2 } }), version: 2 };
    const tasks = [1, 2, 3].map((i) => running(task(`t${i}`, i, 'a', old)));
    const d = reconcileService(s, tasks, picture([node('a')]), undefined);
    assert.equal(d.update.filter((t) => t.desiredState === 'shutdown').length, 2);
    assert.equal(d.create.length, 2);
    assert.ok(d.create.every((t) => t.spec.ContainerSpec.Image === 'busybox:2'));
  });

  it('waits UpdateConfig.Delay between batches, and for a batch to run before the next', () => {
    const old = service(2);
    const s = { ...service(2, { TaskTemplate: { ContainerSpec: { Image: 'busybox:2' } }, UpdateConfig: { Parallelism: 1, Delay: 2e9 } }), version: 2 };
    const first = reconcileService(s, [running(task('t1', 1, 'a', old)), running(task('t2', 2, 'a', old))], picture([node('a')]), undefined);
    assert.deepEqual(first.create.map((t) => t.slot), [1]);
    assert.equal(first.lastBatchAt, T0);
    const fresh = first.create[0]!;
    const stopped = first.update.find((t) => t.id === 't1')!;
    const starting = reconcileService(s, [{ record: stopped }, { record: fresh }, running(task('t2', 2, 'a', old))], picture([node('a')], T0 + 3000), T0);
    assert.equal(starting.create.length, 0, 'the batch has not run yet');
    const tasks = [{ record: stopped }, running(fresh), running(task('t2', 2, 'a', old))];
    const early = reconcileService(s, tasks, picture([node('a')], T0 + 1000), T0);
    assert.equal(early.create.length, 0);
    assert.equal(early.wakeAt, T0 + 2000);
    assert.deepEqual(reconcileService(s, tasks, picture([node('a')], T0 + 2000), T0).create.map((t) => t.slot), [2]);
  });

  it('keeps TaskHistoryRetentionLimit ended tasks per slot', () => {
    const s = service(1);
    const ended = (i: number): TaskView => ({ record: task(`old${i}`, 1, 'a', s, { desiredState: 'shutdown', createdAt: `2026-01-01T00:00:1${i}Z` }), status: { state: 'shutdown', message: 'shutdown', timestamp: '2026-01-01T00:00:00Z', networks: [] } });
    const tasks = [...[0, 1, 2, 3, 4, 5, 6].map(ended), running(task('now', 1, 'a', s, { createdAt: '2026-01-01T00:00:30Z' }))];
    assert.deepEqual(reconcileService(s, tasks, picture([node('a')]), undefined).remove, ['old0', 'old1']);
  });

  it('tells a removed service’s tasks to go and forgets those stopped or on Down nodes', () => {
    const s = service(2);
    const d = reconcileRemoved([running(task('t1', 1, 'a', s)), running(task('t2', 2, 'b', s))], [node('a'), node('b', { ready: false })], T0);
    assert.deepEqual(d.update.map((t) => [t.id, t.desiredState]), [['t1', 'remove']]);
    assert.deepEqual(d.remove, ['t2']);
  });

  it('runs a global service once per active node that fits', () => {
    const s = { ...service(0), spec: { ...service(0).spec, Mode: { Global: {} } as const } };
    const d = reconcileService(s, [], picture([node('a'), node('b', { availability: 'pause' }), node('c', { ready: false })]), undefined);
    assert.deepEqual(d.create.map((t) => [t.slot, t.nodeId]), [[undefined, 'a']]);
  });
});

describe('up to date', () => {
  it('takes a spec read back with swarmkit’s defaults, in another key order, as the same', () => {
    const s = service(1);
    const t = task('t1', 1, 'a', s);
    const echoed: ServiceRecord = {
      ...s,
      spec: { ...s.spec, TaskTemplate: { RestartPolicy: { MaxAttempts: 0, Delay: 5e9, Condition: 'any' }, Placement: {}, ForceUpdate: 0, ContainerSpec: { StopGracePeriod: 10e9, Image: 'busybox' } } },
    };
    assert.ok(upToDate(t, echoed));
    assert.ok(!upToDate(t, { ...s, spec: { ...s.spec, TaskTemplate: { ...s.spec.TaskTemplate, ForceUpdate: 1 } } }));
  });
});
