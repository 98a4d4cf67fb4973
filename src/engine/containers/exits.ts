/**
 * What follows a container's exit: the exit is recorded, its network torn down and its
 * waiters woken; then its restart policy either schedules the next start (the container
 * is 'restarting' meanwhile, and a user's stop, kill or removal calls that off) or --rm
 * removes it. Exits are handled under the container's lock.
 */
import { messageOf } from '../../errors.js';
import type { NetworkController } from '../../network/controller.js';
import type { Runtime } from '../../runtime/index.js';
import { nowRfc3339 } from '../../util/ids.js';
import type { EventSink } from '../../events/types.js';
import { containerEvent, volumesUnmounted } from './events.js';
import type { ContainerLogging, EngineLog, LifecycleHooks, WaitCondition } from './lifecycle.js';
import type { ContainerId, ContainerRecord } from './model.js';
import type { ContainerRecords } from './records.js';
import { healthOnStop } from './health.js';
import { restartDelay, restartsAfter } from './restart-policy.js';

export interface ExitDeps {
  records: ContainerRecords;
  runtime: Runtime;
  networks: NetworkController;
  hooks: readonly LifecycleHooks[];
  log: EngineLog;
  events: EventSink;
  /** The log drivers: the rest of an exited container's output is shipped before its exit is recorded. */
  logging?: ContainerLogging;
  /** The policy's start of a container waiting to restart. */
  start(id: ContainerId): Promise<unknown>;
  /** --rm: remove the container (and its anonymous volumes) after its last exit. */
  autoRemove(id: ContainerId): Promise<void>;
}

export class Exits {
  /** Resolves when the exit of the current run has been fully handled. */
  private readonly handling = new Map<ContainerId, Promise<void>>();
  private readonly waiters = new Map<ContainerId, { cond: WaitCondition; resolve: (code: number) => void }[]>();
  /** Containers the user is stopping: their exit does not trigger the restart policy. */
  private readonly stopping = new Set<ContainerId>();
  /** Restarts the policy scheduled, and the last wait of each (it doubles). */
  private readonly restarts = new Map<ContainerId, NodeJS.Timeout>();
  private readonly restartWaits = new Map<ContainerId, number>();

  constructor(private readonly deps: ExitDeps) {}

  /** Handle the exit of the process the runtime runs for `id`, when it comes. */
  watch(id: ContainerId): void {
    const done = this.deps.runtime
      .wait(id)
      .then((code) => this.deps.records.lock(id).run(() => this.handle(id, code)))
      .catch((e: unknown) => this.deps.log.warn(`watching ${id.slice(0, 12)}: ${messageOf(e)}`));
    this.handling.set(id, done);
  }

  /** Resolves once the exit being handled (if any) is done with. */
  async handled(id: ContainerId): Promise<void> {
    await this.handling.get(id);
  }

  /** The process is gone: record the exit, tear down, then restart or remove as asked. Under the lock. */
  async handle(id: ContainerId, code: number): Promise<void> {
    const { records, runtime, networks, log } = this.deps;
    const c = records.get(id);
    if (!c || c.state.status !== 'running') return;
    for (const h of this.deps.hooks) await h.stopped?.(c).catch((e: unknown) => log.warn(messageOf(e)));
    // Before the exit is recorded: a `docker logs` after `docker wait` sees every line.
    await this.deps.logging?.exited(c).catch((e: unknown) => log.warn(`logs of ${c.spec.name}: ${messageOf(e)}`));
    // conmon's record of the exit: right for a container that exited while berthd was down.
    const finishedAt = (await runtime.exitedAt(id)) ?? nowRfc3339();
    await runtime.delete(id).catch((e: unknown) => log.warn(`runtime delete ${id}: ${messageOf(e)}`));
    await networks.removeSandbox(id).catch((e: unknown) => log.warn(`network teardown ${id}: ${messageOf(e)}`));
    const health = healthOnStop(c.state.health);
    const exited: ContainerRecord = { ...c, state: { ...c.state, status: 'exited', paused: false, pid: 0, exitCode: code, finishedAt, ...(health ? { health } : {}) } };
    await records.save(exited);
    volumesUnmounted(this.deps.events, c);
    containerEvent(this.deps.events, c, 'die', { exitCode: String(code), execDuration: String(Math.floor((Date.parse(finishedAt) - Date.parse(c.state.startedAt)) / 1000)) });
    this.notify(id, code, (w) => w !== 'removed');
    const userStopped = this.stopping.delete(id);
    if (restartsAfter(c.spec.restartPolicy, { code, userStopped, restartCount: c.restartCount })) {
      const wait = restartDelay(this.restartWaits.get(id), Date.parse(finishedAt) - Date.parse(c.state.startedAt));
      this.restartWaits.set(id, wait);
      await records.save({ ...exited, state: { ...exited.state, status: 'restarting' }, restartCount: exited.restartCount + 1 });
      this.scheduleRestart(id, wait);
      return;
    }
    this.restartWaits.delete(id);
    if (c.spec.autoRemove) {
      setImmediate(() => void this.deps.autoRemove(id).catch((e: unknown) => log.warn(`auto-remove ${id}: ${messageOf(e)}`)));
    }
  }

  /** Resolves with the exit code when the condition is met. */
  async wait(c: ContainerRecord, cond: WaitCondition): Promise<number> {
    if (cond === 'not-running' && c.state.status !== 'running') return c.state.exitCode;
    return new Promise((resolve) => {
      const list = this.waiters.get(c.id) ?? [];
      list.push({ cond, resolve });
      this.waiters.set(c.id, list);
    });
  }

  /** The user is stopping the container: its exit will not restart it. */
  userStopping(id: ContainerId): void {
    this.stopping.add(id);
  }

  /** The user's stop did not happen after all (the signal failed). */
  userStopFailed(id: ContainerId): void {
    this.stopping.delete(id);
  }

  /**
   * The policy's start, `delayMs` from now. A timer that fires for a container that is
   * no longer waiting (started, stopped or removed meanwhile) does nothing.
   */
  scheduleRestart(id: ContainerId, delayMs: number): void {
    this.cancelRestart(id);
    const timer = setTimeout(() => {
      this.restarts.delete(id);
      const c = this.deps.records.get(id);
      if (!c || (c.state.status !== 'restarting' && c.state.status !== 'exited')) return;
      this.deps.start(id).catch((e: unknown) => this.deps.log.warn(`restart of ${c.spec.name}: ${messageOf(e)}`));
    }, delayMs);
    this.restarts.set(id, timer);
  }

  /** Drop a scheduled restart (a user's start does now what it would have done later). */
  cancelRestart(id: ContainerId): void {
    clearTimeout(this.restarts.get(id));
    this.restarts.delete(id);
  }

  /**
   * A user's stop, kill or forced removal of a container waiting to restart: it stays
   * exited (the policy gives up, as Docker's restart manager is cancelled). False when
   * it was not waiting to restart.
   */
  async callOffRestart(id: ContainerId): Promise<boolean> {
    const { records } = this.deps;
    return records.lock(id).run(async () => {
      const c = records.get(id);
      if (!c || c.state.status !== 'restarting') return false;
      this.cancelRestart(id);
      this.restartWaits.delete(id);
      await records.save({ ...c, state: { ...c.state, status: 'exited' } });
      return true;
    });
  }

  /** The container was removed: wake every waiter and forget it. */
  removed(c: ContainerRecord): void {
    this.notify(c.id, c.state.exitCode, () => true);
    this.waiters.delete(c.id);
    this.handling.delete(c.id);
    this.cancelRestart(c.id);
    this.restartWaits.delete(c.id);
  }

  private notify(id: ContainerId, code: number, which: (cond: WaitCondition) => boolean): void {
    const list = this.waiters.get(id) ?? [];
    const keep = list.filter((w) => {
      if (!which(w.cond)) return true;
      w.resolve(code);
      return false;
    });
    this.waiters.set(id, keep);
  }
}
