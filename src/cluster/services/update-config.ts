/**
 * The update (or rollback) settings a service's rolling update goes by, with swarmkit's
 * defaults where the spec leaves them unset: what the reconciler paces the update by and
 * the update monitor judges it by.
 */
import type { ServiceRecord, UpdateConfig } from './model.js';

export const DEFAULT_MONITOR_MS = 5000;

/** The update settings in force: the rollback's during a rollback (swarmkit's defaults where unset). */
export function updateConfigOf(s: ServiceRecord): Required<Pick<UpdateConfig, 'Parallelism' | 'Delay' | 'FailureAction' | 'Monitor' | 'MaxFailureRatio'>> {
  const rolling = s.updateStatus?.state === 'rollback_started';
  const c = (rolling ? s.spec.RollbackConfig : s.spec.UpdateConfig) ?? {};
  return {
    Parallelism: c.Parallelism ?? 1,
    Delay: c.Delay ?? 0,
    // As dockerd converts them: an empty action is pause, a zero Monitor the default.
    FailureAction: c.FailureAction || 'pause',
    Monitor: c.Monitor || DEFAULT_MONITOR_MS * 1e6,
    MaxFailureRatio: c.MaxFailureRatio ?? 0,
  };
}
