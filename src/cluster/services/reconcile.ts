/**
 * The orchestrator's decisions for one service (pure): which tasks to make, which to
 * stop, which to forget, given the service, its tasks as the store holds them, the nodes
 * and the time. orchestrator.ts applies them; unit tests drive them directly.
 *
 * - Replicated: slots 1…N each have one task meant to run; slots above N are stopped.
 *   Global: one per node that is ready, active and satisfies the constraints.
 * - A task whose node is Down, drained or gone is stopped and replaced at once; one that
 *   failed or completed is stopped and replaced per its restart policy (Condition,
 *   Delay from its end, MaxAttempts), as swarmkit's restart supervisor does.
 * - A task whose spec is not the service's (an update, `--force`) is replaced, at most
 *   UpdateConfig.Parallelism at a time (0: all), UpdateConfig.Delay between batches
 *   (RollbackConfig's while rolling back; nothing while the update is paused).
 * - A task with no node stays pending with swarmkit's reason, and is placed when it can be.
 * - History: the ended tasks of a slot beyond the swarm's TaskHistoryRetentionLimit are
 *   forgotten, oldest first; every task of a removed service is told to go, and forgotten
 *   once its node has stopped it (or is Down).
 */
import { ENDED_STATES, type ServiceRecord, type TaskRecord, type TaskSpec, type TaskState, type TaskStatus } from './model.js';
import { nodeMatches, parseConstraints, place, type PlacementAsk, type PlacementNode } from './placement.js';
import { newSwarmId } from '../tokens.js';
import { updateConfigOf } from './update-config.js';

/** A task with what its agent last said of it. */
export interface TaskView {
  record: TaskRecord;
  status?: TaskStatus;
}

/** What the cluster looks like to one pass. */
export interface ClusterPicture {
  nodes: readonly PlacementNode[];
  /** Tasks meant to run, per node (every service's). */
  totalLoad: Map<string, number>;
  /** Host-mode ports held per node ("tcp/8080"). */
  heldPorts: Map<string, Set<string>>;
  now: number;
  /** The swarm's TaskHistoryRetentionLimit. */
  historyLimit: number;
}

export interface Decisions {
  create: TaskRecord[];
  update: TaskRecord[];
  /** Tasks to forget (their records and statuses). */
  remove: string[];
  /** When a delay (restart, update) ends and the service must be looked at again. */
  wakeAt?: number;
  /** When the last batch of an update started (kept by the caller for the next pass). */
  lastBatchAt?: number;
}

const DEFAULT_RESTART_DELAY_MS = 5000;

/** The state a task is in: its agent's word, else the orchestrator's. */
export function stateOf(t: TaskView): TaskState {
  return t.status?.state ?? t.record.orchestratorStatus?.state ?? 'new';
}

/**
 * Whether a task's spec is the service's (what swarmkit's `_up-to-date` filter asks).
 * Compared as meant, not as written: `service update` sends back the spec it read with
 * swarmkit's defaults inserted, in its own key order, which changes nothing to run.
 */
export function upToDate(task: TaskRecord, service: ServiceRecord): boolean {
  return sameTaskSpec(task.spec, service.spec.TaskTemplate);
}

export function sameTaskSpec(a: TaskSpec, b: TaskSpec): boolean {
  return canonical(withTaskDefaults(a)) === canonical(withTaskDefaults(b));
}

/** swarmkit's defaults for a task spec (defaults.InterpolateService's task part). */
export function withTaskDefaults(t: TaskSpec): TaskSpec {
  return {
    ...t,
    ContainerSpec: { StopGracePeriod: 10_000_000_000, ...t.ContainerSpec },
    RestartPolicy: { Condition: 'any', Delay: DEFAULT_RESTART_DELAY_MS * 1e6, MaxAttempts: 0, ...t.RestartPolicy },
  };
}

/** JSON with sorted keys, Go's empty values (zero, '', false, null, [], {}) left out as omitempty does. */
function canonical(v: unknown): string {
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.length === 0 ? undefined : x.map(strip);
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const s = strip((x as Record<string, unknown>)[k]);
        if (s !== undefined) out[k] = s;
      }
      return Object.keys(out).length === 0 ? undefined : out;
    }
    return x === 0 || x === '' || x === false || x === null ? undefined : x;
  };
  return JSON.stringify(strip(v) ?? null);
}

/** The tasks of a service that is gone: told to go, then forgotten once stopped. */
export function reconcileRemoved(tasks: readonly TaskView[], nodes: readonly PlacementNode[], now: number): Decisions {
  const out: Decisions = { create: [], update: [], remove: [] };
  const ready = new Set(nodes.filter((n) => n.ready).map((n) => n.id));
  for (const t of tasks) {
    const gone = t.record.nodeId === '' || !ready.has(t.record.nodeId) || (ENDED_STATES.has(stateOf(t)) && t.record.desiredState === 'remove');
    if (gone) out.remove.push(t.record.id);
    else if (t.record.desiredState !== 'remove') out.update.push(withDesired(t.record, 'remove', now));
  }
  return out;
}

export function reconcileService(service: ServiceRecord, tasks: readonly TaskView[], picture: ClusterPicture, lastBatchAt: number | undefined): Decisions {
  const out: Decisions = { create: [], update: [], remove: [] };
  const spec = service.spec;
  const constraints = parseConstraints(spec.TaskTemplate.Placement?.Constraints ?? []);
  const nodes = new Map(picture.nodes.map((n) => [n.id, n]));
  const serviceLoad = new Map<string, number>();
  for (const t of tasks) if (t.record.desiredState === 'running' && t.record.nodeId !== '') bump(serviceLoad, t.record.nodeId);
  const hostPorts = (service.ports ?? []).filter((p) => p.PublishMode === 'host' && p.PublishedPort).map((p) => `${p.Protocol}/${p.PublishedPort}`);
  const ask = (): PlacementAsk => ({
    constraints,
    hostPorts,
    serviceLoad,
    totalLoad: picture.totalLoad,
    heldPorts: picture.heldPorts,
    maxReplicas: spec.TaskTemplate.Placement?.MaxReplicas ?? 0,
  });
  const wake = (at: number): void => {
    out.wakeAt = out.wakeAt === undefined ? at : Math.min(out.wakeAt, at);
  };
  /** A new task for `slot` (replicated) or `nodeId` (global), placed now if it can be. */
  const fresh = (slot: number | undefined, onNode?: string): void => {
    const target = onNode !== undefined ? placeOn(onNode) : place(picture.nodes, ask());
    const task = newTask(service, slot, picture.now, target);
    if (task.nodeId !== '') {
      bump(serviceLoad, task.nodeId);
      bump(picture.totalLoad, task.nodeId);
      for (const p of hostPorts) holdPort(picture.heldPorts, task.nodeId, p);
    }
    out.create.push(task);
  };
  const placeOn = (nodeId: string): { nodeId: string } => ({ nodeId });

  const groups = new Map<string, TaskView[]>();
  const keyOf = (t: TaskRecord): string => ('Global' in (spec.Mode ?? {}) ? t.nodeId : String(t.slot ?? 0));
  for (const t of tasks) {
    const k = keyOf(t.record);
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  for (const g of groups.values()) g.sort((a, b) => (a.record.createdAt < b.record.createdAt ? -1 : a.record.createdAt > b.record.createdAt ? 1 : 0));

  const global = 'Global' in (spec.Mode ?? {});
  const wanted: string[] = global
    ? picture.nodes.filter((n) => n.ready && n.availability !== 'drain' && nodeMatches(constraints, n)).map((n) => n.id)
    : Array.from({ length: replicasOf(service) }, (_, i) => String(i + 1));
  const wantedSet = new Set(wanted);

  // Stop what should not run; note the slots that need a task and those to update.
  const needs: { key: string; at: number }[] = [];
  const dirty: TaskView[] = [];
  let inFlight = 0;
  for (const key of new Set([...groups.keys(), ...wanted])) {
    const group = groups.get(key) ?? [];
    const live = group.filter((t) => t.record.desiredState === 'running');
    for (const extra of live.slice(0, -1)) out.update.push(withDesired(extra.record, 'shutdown', picture.now));
    const current = live.at(-1);
    if (!wantedSet.has(key)) {
      if (current) out.update.push(withDesired(current.record, 'shutdown', picture.now));
      continue;
    }
    if (current) {
      const state = stateOf(current);
      const node = nodes.get(current.record.nodeId);
      if (current.record.nodeId === '') {
        const placed = place(picture.nodes, ask());
        if ('nodeId' in placed) {
          out.update.push(assign(current.record, placed.nodeId, picture.now));
          bump(serviceLoad, placed.nodeId);
          bump(picture.totalLoad, placed.nodeId);
        } else if (current.record.orchestratorStatus?.err !== placed.error) {
          out.update.push(pending(current.record, placed.error, picture.now));
        }
        continue;
      }
      if (!node || !node.ready || node.availability === 'drain') {
        out.update.push(withDesired(current.record, 'shutdown', picture.now));
        needs.push({ key, at: picture.now });
        continue;
      }
      if (ENDED_STATES.has(state)) {
        out.update.push(withDesired(current.record, 'shutdown', picture.now));
        if (shouldRestart(current, group)) needs.push({ key, at: endedAt(current) + restartDelayMs(current.record.spec) });
        continue;
      }
      if (!upToDate(current.record, service)) dirty.push(current);
      else if (state !== 'running') inFlight++;
      continue;
    }
    // No task meant to run in this slot: make one, unless the last one ended for good or its restart delay runs.
    const last = group.at(-1);
    if (!last) {
      needs.push({ key, at: picture.now });
      continue;
    }
    const lastState = stateOf(last);
    const failed = lastState === 'failed' || lastState === 'complete' || lastState === 'rejected';
    if (failed && upToDate(last.record, service) && !shouldRestart(last, group)) continue;
    needs.push({ key, at: failed ? endedAt(last) + restartDelayMs(last.record.spec) : picture.now });
  }
  for (const n of needs) {
    if (global && nodes.get(n.key)?.availability !== 'active') continue;
    if (n.at > picture.now) {
      wake(n.at);
      continue;
    }
    fresh(global ? undefined : Number(n.key), global ? n.key : undefined);
  }

  // A rolling update: Parallelism tasks at a time, Delay between batches (the rollback's settings while rolling back); none while paused.
  let batchAt = lastBatchAt;
  const paused = service.updateStatus?.state === 'paused' || service.updateStatus?.state === 'rollback_paused';
  if (dirty.length > 0 && !paused) {
    const { Parallelism: parallelism, Delay: delay } = updateConfigOf(service);
    const delayMs = delay / 1e6;
    const room = parallelism === 0 ? dirty.length : Math.max(0, parallelism - inFlight);
    if (room > 0 && batchAt !== undefined && batchAt + delayMs > picture.now && inFlight === 0) {
      wake(batchAt + delayMs);
    } else if (room > 0 && inFlight === 0) {
      batchAt = picture.now;
      for (const t of dirty.slice(0, room)) {
        out.update.push(withDesired(t.record, 'shutdown', picture.now));
        fresh(global ? undefined : t.record.slot, global ? t.record.nodeId : undefined);
      }
    }
  }
  if (batchAt !== undefined) out.lastBatchAt = batchAt;

  // History: per slot, ended tasks beyond the limit, oldest first.
  for (const group of groups.values()) {
    const done = group.filter((t) => t.record.desiredState !== 'running' && (ENDED_STATES.has(stateOf(t)) || !nodes.get(t.record.nodeId)?.ready));
    const excess = done.length - picture.historyLimit;
    for (const t of done.slice(0, Math.max(0, excess))) out.remove.push(t.record.id);
  }
  return out;
}

export function replicasOf(service: ServiceRecord): number {
  const mode = service.spec.Mode ?? { Replicated: {} };
  return 'Replicated' in mode ? (mode.Replicated.Replicas ?? 1) : 0;
}

/** swarmkit's shouldRestart: the condition, then MaxAttempts against the slot's ended tasks. */
export function shouldRestart(t: TaskView, slotTasks: readonly TaskView[]): boolean {
  const policy = t.record.spec.RestartPolicy ?? {};
  const condition = policy.Condition ?? 'any';
  const state = stateOf(t);
  if (condition === 'none') return false;
  if (condition === 'on-failure' && state === 'complete') return false;
  const max = policy.MaxAttempts ?? 0;
  if (max === 0) return true;
  // The first task of this spec in the slot was a start, each later one a restart.
  const restarts = slotTasks.filter((x) => sameTaskSpec(x.record.spec, t.record.spec)).length - 1;
  return restarts < max;
}

function restartDelayMs(spec: TaskSpec): number {
  const d = spec.RestartPolicy?.Delay;
  return d === undefined ? DEFAULT_RESTART_DELAY_MS : d / 1e6;
}

function endedAt(t: TaskView): number {
  const at = Date.parse(t.status?.timestamp ?? t.record.updatedAt);
  return Number.isNaN(at) ? 0 : at;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function holdPort(m: Map<string, Set<string>>, node: string, port: string): void {
  const s = m.get(node) ?? new Set<string>();
  s.add(port);
  m.set(node, s);
}

function stamp(now: number): string {
  return new Date(now).toISOString();
}

function withDesired(t: TaskRecord, desiredState: TaskRecord['desiredState'], now: number): TaskRecord {
  return { ...t, desiredState, version: t.version + 1, updatedAt: stamp(now) };
}

function assign(t: TaskRecord, nodeId: string, now: number): TaskRecord {
  return { ...t, nodeId, version: t.version + 1, updatedAt: stamp(now), orchestratorStatus: { state: 'assigned', message: 'scheduler assigned task to node', timestamp: stamp(now) } };
}

function pending(t: TaskRecord, err: string, now: number): TaskRecord {
  return { ...t, version: t.version + 1, updatedAt: stamp(now), orchestratorStatus: { state: 'pending', message: 'pending task scheduling', err, timestamp: stamp(now) } };
}

function newTask(service: ServiceRecord, slot: number | undefined, now: number, target: { nodeId: string } | { error: string }): TaskRecord {
  const at = stamp(now);
  const base: TaskRecord = {
    id: newSwarmId(),
    version: 1,
    createdAt: at,
    updatedAt: at,
    serviceId: service.id,
    ...(slot !== undefined ? { slot } : {}),
    nodeId: '',
    spec: service.spec.TaskTemplate,
    serviceVersion: service.version,
    desiredState: 'running',
  };
  return 'nodeId' in target ? assign({ ...base, version: 0 }, target.nodeId, now) : pending({ ...base, version: 0 }, target.error, now);
}
