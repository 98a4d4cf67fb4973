/**
 * docker pause / unpause: the container's processes frozen and thawed by the runtime
 * (the cgroup freezer), as dockerd's containerPause and containerUnpause. A paused
 * container is still running (its status says "paused"); the runtime goes first and the
 * record follows, so a crash in between is put right by reconcile from the runtime's state.
 */
import { conflict, isBerthError, messageOf, systemError, type BerthError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import type { Runtime } from '../../runtime/index.js';
import { containerEvent } from './events.js';
import type { ContainerRecord } from './model.js';
import type { EngineLog } from './lifecycle.js';
import type { ContainerRecords } from './records.js';

export interface PauseDeps {
  records: ContainerRecords;
  runtime: Runtime;
  events: EventSink;
  log: EngineLog;
}

export async function pauseContainer(deps: PauseDeps, idOrName: string): Promise<void> {
  const { id } = deps.records.find(idOrName);
  await deps.records.lock(id).run(async () => {
    const c = deps.records.find(id);
    if (c.state.status === 'restarting') throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
    if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
    if (c.state.paused) throw conflict(`Container ${c.id} is already paused`);
    await deps.runtime.pause(c.id).catch((e: unknown) => {
      throw runtimeRefusal(e, c.id, 'cannot pause container');
    });
    await saved(deps, c, true);
    containerEvent(deps.events, c, 'pause');
  });
}

export async function unpauseContainer(deps: PauseDeps, idOrName: string): Promise<void> {
  const { id } = deps.records.find(idOrName);
  await deps.records.lock(id).run(async () => {
    const c = deps.records.find(id);
    // dockerd answers this one with a plain error (500); berth says Conflict, as for pause.
    if (!c.state.paused) throw conflict(`Container ${c.id} is not paused`);
    await deps.runtime.resume(c.id).catch((e: unknown) => {
      throw runtimeRefusal(e, c.id, 'Cannot unpause container');
    });
    await saved(deps, c, false);
    containerEvent(deps.events, c, 'unpause');
  });
}

/** The process exited just now (its exit not handled yet): not running, as dockerd would say a moment later. */
function runtimeRefusal(e: unknown, id: string, what: string): BerthError {
  if (isBerthError(e) && e.kind === 'Conflict') return conflict(`container ${id} is not running`);
  return systemError(`${what} ${id}: ${messageOf(e)}`);
}

async function saved(deps: PauseDeps, c: ContainerRecord, paused: boolean): Promise<void> {
  await deps.records.save({ ...c, state: { ...c.state, paused } });
}

/**
 * A paused container is thawed after a signal meant to end it, so its processes can act
 * on it (dockerd's killWithSignal); a process that outlives the signal runs on unpaused.
 */
export async function thawForExit(deps: PauseDeps, c: ContainerRecord): Promise<void> {
  if (!deps.records.get(c.id)?.state.paused) return;
  try {
    await deps.runtime.resume(c.id);
  } catch (e: unknown) {
    // runc thaws a container itself for SIGKILL: only a container still frozen is worth a word.
    const st = await deps.runtime.state(c.id).catch(() => undefined);
    if (st?.status === 'paused') return deps.log.warn(`cannot unpause container ${c.id}: ${messageOf(e)}`);
  }
  await deps.records.lock(c.id).run(async () => {
    const now = deps.records.get(c.id);
    if (now?.state.paused) await saved(deps, now, false);
  });
}

/** After a daemon restart the runtime's word on the freezer wins (a crash between its pause and the record). */
export async function pausedAsRuntimeSays(records: ContainerRecords, c: ContainerRecord, paused: boolean): Promise<void> {
  if (Boolean(c.state.paused) !== paused) await records.save({ ...c, state: { ...c.state, paused } });
}
