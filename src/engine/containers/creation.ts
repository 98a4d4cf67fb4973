/**
 * docker create: what is decided before anything runs and saved at once — the name
 * (reserved while the create is under way), the endpoint settings checked, the image's
 * config merged in, and the mounts (volumes made and filled from the image).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conflict, invalid, joinProblems, messageOf } from '../../errors.js';
import type { NetworkController } from '../../network/controller.js';
import type { Json } from '../../store/kv.js';
import { newId, nowRfc3339 } from '../../util/ids.js';
import type { ImageViews } from '../volumes/image-view.js';
import type { VolumeStore } from '../volumes/store.js';
import { mergeDockerConfig, mergeSpecWithImage } from './config-merge.js';
import type { EventSink } from '../../events/types.js';
import { containerEvent } from './events.js';
import type { EngineImages, EngineLog } from './lifecycle.js';
import { ZERO_TIME, type ContainerId, type ContainerRecord, type ContainerSpec, type EndpointConfig } from './model.js';
import { planMounts, prepareMounts, removeAnonymousVolumes } from './mounts.js';
import { generateName, validateName } from './names.js';
import { joinRequest } from './networking.js';
import type { ContainerRecords } from './records.js';

export interface CreationDeps {
  records: ContainerRecords;
  networks: NetworkController;
  images: EngineImages;
  volumes: VolumeStore;
  views: ImageViews;
  log: EngineLog;
  events: EventSink;
  /** The container's folder. */
  dir(id: string): string;
}

export class ContainerCreation {
  /** Names of containers being created (name -> ID): taken before the record is saved. */
  private readonly reservedNames = new Map<string, ContainerId>();

  constructor(private readonly deps: CreationDeps) {}

  async create(spec: Omit<ContainerSpec, 'name'> & { name: string | undefined }, docker: ContainerRecord['docker']): Promise<ContainerRecord> {
    const name = spec.name ? validateName(spec.name) : this.freshName();
    this.checkNameFree(name);
    const sources = spec.volumesFrom.map((from) => {
      const [ref, mode] = from.split(':');
      return { mounts: this.deps.records.find(ref!).spec.mounts, readonly: mode === 'ro' };
    });
    this.checkNetworkingConfig(name, spec.networks);
    const id = newId() as ContainerId;
    const image = this.deps.images.resolve(spec.image.id).config.config;
    const merged = mergeSpecWithImage({ ...spec, name }, image);
    this.reservedNames.set(name, id);
    try {
      const mounts = await prepareMounts(
        { volumes: this.deps.volumes, views: this.deps.views },
        { containerId: id, layers: this.deps.images.layerDirs(spec.image.id), rootfs: path.join(this.deps.dir(id), 'merged') },
        planMounts(sources, merged.mounts, merged.volumes),
      );
      const record: ContainerRecord = {
        id,
        created: nowRfc3339(),
        spec: { ...merged, mounts },
        state: { status: 'created', pid: 0, exitCode: 0, error: '', startedAt: ZERO_TIME, finishedAt: ZERO_TIME },
        restartCount: 0,
        docker: { ...docker, config: mergeDockerConfig(asJsonObject(docker.config), image) },
      };
      try {
        fs.mkdirSync(this.deps.dir(id), { recursive: true, mode: 0o710 });
        await this.deps.records.save(record);
      } catch (e: unknown) {
        removeAnonymousVolumes(record, this.deps.records.all(), this.deps.volumes, this.deps.log);
        throw e;
      }
      containerEvent(this.deps.events, record, 'create');
      return record;
    } finally {
      this.reservedNames.delete(name);
    }
  }

  /** Every network's endpoint settings at once, each problem under its network's name (Docker's create). */
  private checkNetworkingConfig(name: string, networks: Record<string, EndpointConfig>): void {
    const problems: string[] = [];
    for (const [net, cfg] of Object.entries(networks)) {
      try {
        this.deps.networks.checkEndpointConfig(net, joinRequest('', name, cfg));
      } catch (e: unknown) {
        problems.push(`invalid config for network ${net}: ${messageOf(e)}`);
      }
    }
    if (problems.length > 0) throw invalid(joinProblems(problems));
  }

  /**
   * Hold a name while a rename saves it; Docker's conflict when a container has it or a
   * create or rename under way holds it. Release it once the record carries it.
   */
  claimName(name: string, id: ContainerId): void {
    this.checkNameFree(name);
    this.reservedNames.set(name, id);
  }

  releaseName(name: string): void {
    this.reservedNames.delete(name);
  }

  private checkNameFree(name: string): void {
    const clash = this.deps.records.named(name) ?? this.reservedNames.get(name);
    if (clash) {
      throw conflict(`Conflict. The container name "/${name}" is already in use by container "${clash}". You have to remove (or rename) that container to be able to reuse that name.`);
    }
  }

  private freshName(): string {
    for (let i = 0; ; i++) {
      const n = generateName(i);
      if (!this.reservedNames.has(n) && this.deps.records.named(n) === undefined) return n;
    }
  }

}

function asJsonObject(v: Json): { [key: string]: Json } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
}
