/**
 * What `docker system df` reports, measured on disk: each layer's size as stored with it,
 * each container's writable layer (its overlay upper folder) and each volume's folder.
 * Folder walks are the expensive part: concurrent requests share one measurement.
 */
import * as path from 'node:path';
import { directorySize } from '../util/dir-size.js';
import type { ContainerRecord } from './containers/model.js';
import type { Digest, ImageRecord, ImageStore } from './images/index.js';
import type { Volume, VolumeStore } from './volumes/store.js';

export interface DiskUsageDeps {
  images: ImageStore;
  volumes: VolumeStore;
  /** Every container. */
  containers(): ContainerRecord[];
  /** A container's folder (its writable layer is upper/ in it). */
  containerDir(id: string): string;
  /** The containers that mount a volume. */
  volumeUsers(name: string): string[];
}

export interface ImageUsage {
  image: ImageRecord;
  /** Containers created from it, running or not. */
  containers: number;
  /** Bytes of its layers that other images use too. */
  sharedSize: number;
}

export interface ContainerUsage {
  container: ContainerRecord;
  /** Bytes of its writable layer. */
  sizeRw: number;
  /** Its writable layer and its image's layers. */
  sizeRootFs: number;
}

export interface VolumeUsage {
  volume: Volume;
  size: number;
  /** Containers that mount it. */
  refCount: number;
}

export interface DiskUsageReport {
  layersSize?: number;
  images?: ImageUsage[];
  containers?: ContainerUsage[];
  volumes?: VolumeUsage[];
}

export interface DiskUsageQuery {
  images: boolean;
  containers: boolean;
  volumes: boolean;
}

export class DiskUsage {
  private readonly inFlight = new Map<string, Promise<DiskUsageReport>>();

  constructor(private readonly deps: DiskUsageDeps) {}

  /** The asked parts; a measurement already under way for the same parts is shared. */
  async measure(q: DiskUsageQuery): Promise<DiskUsageReport> {
    const key = `${q.images}/${q.containers}/${q.volumes}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.measureNow(q).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  /** Bytes of a container's writable layer (what removing it gives back). */
  async containerSize(c: ContainerRecord): Promise<number> {
    return directorySize(path.join(this.deps.containerDir(c.id), 'upper'));
  }

  private async measureNow(q: DiskUsageQuery): Promise<DiskUsageReport> {
    const [containers, volumes] = await Promise.all([q.containers ? this.containerUsage() : undefined, q.volumes ? this.volumeUsage() : undefined]);
    return {
      ...(q.images ? { layersSize: this.deps.images.layersSize(), images: this.imageUsage() } : {}),
      ...(containers ? { containers } : {}),
      ...(volumes ? { volumes } : {}),
    };
  }

  private imageUsage(): ImageUsage[] {
    const { images } = this.deps;
    const all = images.list();
    const layerUsers = new Map<Digest, number>();
    for (const img of all) for (const d of new Set(img.config.rootfs.diff_ids)) layerUsers.set(d, (layerUsers.get(d) ?? 0) + 1);
    const users = new Map<string, number>();
    for (const c of this.deps.containers()) users.set(c.spec.image.id, (users.get(c.spec.image.id) ?? 0) + 1);
    return all.map((image) => ({
      image,
      containers: users.get(image.id) ?? 0,
      sharedSize: [...new Set(image.config.rootfs.diff_ids)].reduce((n, d) => n + ((layerUsers.get(d) ?? 0) > 1 ? images.layerSize(d) : 0), 0),
    }));
  }

  private async containerUsage(): Promise<ContainerUsage[]> {
    return Promise.all(
      this.deps.containers().map(async (container) => {
        const sizeRw = await this.containerSize(container);
        return { container, sizeRw, sizeRootFs: sizeRw + (this.deps.images.get(container.spec.image.id as Digest)?.size ?? 0) };
      }),
    );
  }

  private async volumeUsage(): Promise<VolumeUsage[]> {
    return Promise.all(
      this.deps.volumes.list().map(async (volume) => ({
        volume,
        size: await directorySize(volume.mountpoint),
        refCount: this.deps.volumeUsers(volume.name).length,
      })),
    );
  }
}
