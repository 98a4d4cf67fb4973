/**
 * The everyday verbs beside the lifecycle, each in its own module: rename (rename.ts),
 * pause and unpause (pause.ts), top (top.ts), stats (stats.ts), update (update.ts). The engine makes one of
 * these with what they share; the API calls them through `engine.ops`.
 */
import type { EventSink } from '../../events/types.js';
import type { NetworkController } from '../../network/controller.js';
import type { Runtime } from '../../runtime/index.js';
import type { EngineLog, LifecycleHooks } from './lifecycle.js';
import type { ContainerId, ContainerRecord } from './model.js';
import { pauseContainer, thawForExit, unpauseContainer, type PauseDeps } from './pause.js';
import type { ContainerRecords } from './records.js';
import { renameContainer } from './rename.js';
import { sampleStats, type StatsSample } from './stats.js';
import { containerTop, type TopResult } from './top.js';
import { updateContainer, type UpdateRequest } from './update.js';

export interface OperationsDeps {
  records: ContainerRecords;
  runtime: Runtime;
  networks: NetworkController;
  hooks: readonly LifecycleHooks[];
  events: EventSink;
  log: EngineLog;
  /** Hold a name against creates and other renames; release it once saved. */
  claimName(name: string, id: ContainerId): void;
  releaseName(name: string): void;
  /** The folder of a container's /etc files. */
  etcDir(c: ContainerRecord): string;
}

export class ContainerOperations {
  constructor(private readonly deps: OperationsDeps) {}

  private get pauseDeps(): PauseDeps {
    return this.deps;
  }

  async rename(idOrName: string, newName: string): Promise<void> {
    await renameContainer(this.deps, idOrName, newName);
  }

  async pause(idOrName: string): Promise<void> {
    await pauseContainer(this.pauseDeps, idOrName);
  }

  async unpause(idOrName: string): Promise<void> {
    await unpauseContainer(this.pauseDeps, idOrName);
  }

  /** Thaw a paused container for the signal that ends it (kill, stop). */
  async thawForExit(c: ContainerRecord): Promise<void> {
    await thawForExit(this.pauseDeps, c);
  }

  async top(idOrName: string, psArgs: string): Promise<TopResult> {
    return containerTop(this.deps, idOrName, psArgs);
  }

  /** docker update; resolves with dockerd's warnings. */
  async update(idOrName: string, req: UpdateRequest): Promise<string[]> {
    return updateContainer(this.deps, idOrName, req);
  }

  /** A sample of a running container; undefined when it is not running. */
  async stats(c: ContainerRecord): Promise<StatsSample | undefined> {
    return sampleStats({ ...this.deps, find: (x) => this.deps.records.find(x) }, c);
  }
}
