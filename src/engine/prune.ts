/**
 * container, image and volume prune, with dockerd's rules: running containers, images a
 * container uses and volumes a container mounts are never removed; what cannot be removed
 * is skipped, not an error; each prune reports what it removed and the bytes that freed,
 * and logs a `prune` event with them. One prune of a kind at a time.
 */
import { conflict, isBerthError, messageOf } from '../errors.js';
import type { EventSink } from '../events/types.js';
import type { ContainerEngine } from './containers/engine.js';
import type { EngineLog } from './containers/lifecycle.js';
import type { ContainerRecord } from './containers/model.js';
import type { DiskUsage } from './disk-usage.js';
import { chainIds } from './images/config.js';
import type { Digest, ImageDeleteItem, ImageRecord, ImageStore } from './images/index.js';
import { directorySize } from '../util/dir-size.js';
import type { Volume, VolumeStore } from './volumes/store.js';

export interface PruneDeps {
  engine: ContainerEngine;
  images: ImageStore;
  volumes: VolumeStore;
  usage: DiskUsage;
  events: EventSink;
  log: EngineLog;
}

export interface PruneReport<T> {
  deleted: T[];
  reclaimed: number;
}

export interface ImagePruneOptions {
  /** Only images without a tag (dockerd's default, dangling=true). */
  danglingOnly: boolean;
  select(img: ImageRecord): boolean;
}

export class Pruner {
  private readonly running = new Set<string>();

  constructor(private readonly deps: PruneDeps) {}

  /** Remove the stopped containers `select` accepts (never their volumes, as dockerd). */
  async containers(select: (c: ContainerRecord) => boolean): Promise<PruneReport<string>> {
    return this.once('container', async () => {
      const { engine, usage, log } = this.deps;
      const report: PruneReport<string> = { deleted: [], reclaimed: 0 };
      for (const c of engine.list(true)) {
        if (['running', 'restarting', 'removing'].includes(c.state.status) || !select(c)) continue;
        const size = await usage.containerSize(c);
        try {
          await engine.remove(c.id);
        } catch (e: unknown) {
          log.warn(`failed to prune container ${c.id}: ${messageOf(e)}`);
          continue;
        }
        report.deleted.push(c.id);
        report.reclaimed += size;
      }
      return report;
    });
  }

  /**
   * Remove images no container uses: untagged ones, or with danglingOnly false every one
   * `select` accepts (each of its references in turn, as dockerd, so an image a container
   * uses keeps its last reference). Reports the deleted layers' bytes.
   */
  async images(opts: ImagePruneOptions): Promise<PruneReport<ImageDeleteItem>> {
    return this.once('image', async () => {
      const { images, log } = this.deps;
      const layerBytes = new Map<string, number>();
      for (const img of images.list()) {
        const diffIds = img.config.rootfs.diff_ids;
        chainIds(diffIds).forEach((chain, i) => layerBytes.set(chain, images.layerSize(diffIds[i] as Digest)));
      }
      const report: PruneReport<ImageDeleteItem> = { deleted: [], reclaimed: 0 };
      for (const img of images.list().filter(opts.select)) {
        const refs = [...img.repoTags, ...img.repoDigests];
        if (refs.length > 0 && opts.danglingOnly && img.repoTags.length > 0) continue;
        for (const target of refs.length > 0 ? refs : [img.id.slice('sha256:'.length)]) {
          try {
            report.deleted.push(...(await images.remove(target)));
          } catch (e: unknown) {
            if (!(isBerthError(e) && (e.kind === 'Conflict' || e.kind === 'NotFound'))) log.warn(`failed to prune image ${target}: ${messageOf(e)}`);
          }
        }
      }
      for (const d of report.deleted) if ('Deleted' in d) report.reclaimed += layerBytes.get(d.Deleted) ?? 0;
      // Images removed with force while a container used them can go now too.
      await images.gc().catch((e: unknown) => log.warn(`image gc: ${messageOf(e)}`));
      return report;
    });
  }

  /** Remove the volumes no container mounts that `select` accepts. */
  async volumes(select: (v: Volume) => boolean): Promise<PruneReport<string>> {
    return this.once('volume', async () => {
      const { volumes, engine, log } = this.deps;
      const report: PruneReport<string> = { deleted: [], reclaimed: 0 };
      for (const v of volumes.list()) {
        if (engine.volumeUsers(v.name).length > 0 || !select(v)) continue;
        const size = await directorySize(v.mountpoint);
        try {
          volumes.remove(v.name, engine.volumeUsers(v.name));
        } catch (e: unknown) {
          log.warn(`could not remove volume ${v.name}: ${messageOf(e)}`);
          continue;
        }
        report.deleted.push(v.name);
        report.reclaimed += size;
      }
      return report;
    });
  }

  private async once<T>(kind: 'container' | 'image' | 'volume', work: () => Promise<PruneReport<T>>): Promise<PruneReport<T>> {
    if (this.running.has(kind)) throw conflict('a prune operation is already running');
    this.running.add(kind);
    try {
      const report = await work();
      this.deps.events.emit(kind, 'prune', '', { reclaimed: String(report.reclaimed) });
      return report;
    } finally {
      this.running.delete(kind);
    }
  }
}
