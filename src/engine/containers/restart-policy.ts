/**
 * Docker's restart manager, as pure decisions: whether an exit restarts the container,
 * and how long it waits first (100 ms, doubling up to a minute; back to 100 ms after a
 * run of 10 s or more).
 */
import type { ContainerSpec } from './model.js';

type RestartPolicy = ContainerSpec['restartPolicy'];

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run at least this long counts as healthy: the next delay starts over. */
const RESET_AFTER_MS = 10_000;

/** Whether the container starts again after this exit; a user's stop or kill never restarts it. */
export function restartsAfter(policy: RestartPolicy, exit: { code: number; userStopped: boolean; restartCount: number }): boolean {
  if (exit.userStopped) return false;
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exit.code !== 0 && (policy.maximumRetryCount === 0 || exit.restartCount < policy.maximumRetryCount);
    case 'no':
      return false;
  }
}

/** The wait before the next start, given the previous wait (none yet) and how long the last run lasted. */
export function restartDelay(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= RESET_AFTER_MS) return FIRST_DELAY_MS;
  return Math.min(previousMs * 2, MAX_DELAY_MS);
}
