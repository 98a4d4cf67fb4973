/**
 * swarmkit's update monitor (pure): what a service's UpdateStatus becomes, given its
 * tasks, when they were first seen running, and the time. orchestrator.ts applies it.
 *
 * - An update starts ("updating") once some task meant to run has an older spec.
 * - A task the update made (of the current spec, made since the update started) that
 *   ends (failed, complete, shut down, rejected) before it ran, or within
 *   UpdateConfig.Monitor (default 5 s) of running, is a failure. Once the failures,
 *   counted per slot, are more than MaxFailureRatio of the service's slots,
 *   FailureAction (default pause) applies: "paused"; "rollback": the previous spec
 *   back, "rollback_started" (a failing rollback is not rolled back, it pauses);
 *   "continue": nothing.
 * - The update completes ("completed", or "rollback_completed") once every task meant to
 *   run is up to date and running, one more Monitor after the last of them ran.
 * - A paused update stays so until the service is updated again (the API clears it).
 */
import { ENDED_STATES, type ServiceRecord, type UpdateStatus } from './model.js';
import { stateOf, upToDate, type TaskView } from './reconcile.js';
import { updateConfigOf } from './update-config.js';


export interface UpdateVerdict {
  /** The UpdateStatus to write, when it changes. */
  status?: UpdateStatus;
  /** Roll back: the previous spec becomes the service's again. */
  rollback?: boolean;
  /** When to look again: the end of the last monitor window. */
  wakeAt?: number;
}

/**
 * The verdict for `s` with `tasks` at `now`. `runningSince` says when the orchestrator
 * first saw each task running (swarmkit's updater keeps the same in memory): a task it
 * never saw running that ends counts as a failure.
 */
export function monitorUpdate(s: ServiceRecord, tasks: readonly TaskView[], runningSince: ReadonlyMap<string, number>, now: number): UpdateVerdict {
  const meant = tasks.filter((t) => t.record.desiredState === 'running');
  const outdated = meant.some((t) => !upToDate(t.record, s));
  const state = s.updateStatus?.state;
  const stamp = new Date(now).toISOString();
  if (state === undefined) return outdated ? { status: { state: 'updating', message: 'update in progress', startedAt: stamp } } : {};
  if (state !== 'updating' && state !== 'rollback_started') return {};

  const config = updateConfigOf(s);
  const monitorMs = config.Monitor / 1e6;
  const since = Date.parse(s.updateStatus!.startedAt);
  const ours = tasks.filter((t) => upToDate(t.record, s) && Date.parse(t.record.createdAt) >= since);
  const failed = ours.filter((t) => {
    if (!ENDED_STATES.has(stateOf(t))) return false;
    const ran = runningSince.get(t.record.id);
    const endedAt = Date.parse(t.status?.timestamp ?? t.record.updatedAt);
    return ran === undefined || endedAt - ran <= monitorMs;
  });
  const slots = new Set(failed.map((t) => String(t.record.slot ?? t.record.nodeId)));
  const total = Math.max(1, new Set(meant.map((t) => String(t.record.slot ?? t.record.nodeId))).size);
  if (slots.size > 0 && slots.size / total > config.MaxFailureRatio && config.FailureAction !== 'continue') {
    const task = failed[0]!.record.id;
    const paused = (message: string): UpdateVerdict => ({ status: { ...s.updateStatus!, state: state === 'rollback_started' ? 'rollback_paused' : 'paused', message } });
    if (config.FailureAction === 'pause') return paused(`update paused due to failure or early termination of task ${task}`);
    if (state === 'rollback_started') return paused(`rollback paused due to failure or early termination of task ${task}`);
    return { rollback: true, status: { ...s.updateStatus!, state: 'rollback_started', message: `update rolled back due to failure or early termination of task ${task}` } };
  }

  if (outdated || !meant.every((t) => stateOf(t) === 'running')) return {};
  const lastRan = Math.max(since, ...ours.filter((t) => t.record.desiredState === 'running').map((t) => runningSince.get(t.record.id) ?? now));
  if (lastRan + monitorMs > now) return { wakeAt: lastRan + monitorMs };
  const done = state === 'rollback_started' ? { state: 'rollback_completed' as const, message: 'rollback completed' } : { state: 'completed' as const, message: 'update completed' };
  return { status: { ...s.updateStatus!, ...done, completedAt: stamp } };
}
