/**
 * A container's mounts, decided once at create as Docker's registerMountPoints does: the
 * mounts of the --volumes-from containers, then binds and --mount (which replace those on
 * the same destination), then an anonymous volume for each Config.Volumes path nothing
 * else covers. The volumes are then made, and each empty one is filled from the image.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { invalid, messageOf } from '../../errors.js';
import { copyTree } from '../../kernel/fs.js';
import type { ImageEntry, ImageViews } from '../volumes/image-view.js';
import { volumeFilesystem } from '../volumes/options.js';
import type { VolumeStore } from '../volumes/store.js';
import type { MountSpec } from '../../runtime/index.js';
import type { ContainerRecord, MountConfig } from './model.js';

/** A --volumes-from container's mounts, and whether it was named with ":ro". */
export interface VolumesFromSource {
  mounts: readonly MountConfig[];
  readonly: boolean;
}

/** The mounts to make, in order; anonymous volumes have source '' until prepareMounts names them. */
export function planMounts(from: readonly VolumesFromSource[], requested: readonly MountConfig[], volumePaths: readonly string[]): MountConfig[] {
  const byDestination = new Map<string, MountConfig>();
  for (const src of from) {
    // Shared volumes are never filled again from this container's image.
    for (const m of src.mounts) byDestination.set(m.destination, { ...m, readonly: m.readonly || src.readonly, ...(m.type === 'volume' ? { noCopy: true } : {}) });
  }
  for (const m of requested) byDestination.set(m.destination, m);
  for (const p of volumePaths) {
    if (!byDestination.has(p)) byDestination.set(p, { type: 'volume', source: '', destination: p, readonly: false, anonymous: true });
  }
  return [...byDestination.values()];
}

export interface MountsDeps {
  volumes: VolumeStore;
  views: ImageViews;
}

export interface ContainerImage {
  /** The container's ID: names the image's view while it is read. */
  containerId: string;
  /** The image's layer folders, lowest first. */
  layers: readonly string[];
  /** Where the container's root will be mounted (Docker's error names the path there). */
  rootfs: string;
}

/**
 * Makes the planned volumes (a fresh name for each anonymous one) and fills each empty
 * volume without nocopy from what the image holds at its destination. On failure the
 * anonymous volumes made here are removed.
 */
export async function prepareMounts(deps: MountsDeps, image: ContainerImage, planned: readonly MountConfig[]): Promise<MountConfig[]> {
  const fresh = planned.filter((m) => m.type === 'volume' && m.source === '');
  const read = planned.filter((m) => m.type === 'volume' && (!m.noCopy || m.source === ''));
  const made: string[] = [];
  try {
    return await deps.views.with(image.containerId, image.layers, read.map((m) => m.destination), async (look) => {
      for (const m of fresh) {
        if (look(m.destination)?.isDir === false) throw invalid(`cannot mount volume over existing file, file exists ${path.join(image.rootfs, m.destination)}`);
      }
      const out: MountConfig[] = [];
      for (const m of planned) {
        if (m.type !== 'volume') {
          out.push(m);
          continue;
        }
        const v = deps.volumes.create(m.source, m.create ?? {});
        if (m.source === '') made.push(v.name);
        // A volume with a filesystem of its own is not mounted now: its _data folder is hidden while it runs.
        if (!m.noCopy && !volumeFilesystem(v.options)) await fill(v.mountpoint, look(m.destination));
        out.push({ ...m, source: v.name });
      }
      return out;
    });
  } catch (e: unknown) {
    for (const name of made) deps.volumes.remove(name, [], true);
    throw e;
  }
}

/** Docker copies into a volume only while it is empty, so data a volume holds is kept. */
async function fill(mountpoint: string, entry: ImageEntry | undefined): Promise<void> {
  if (entry?.isDir && fs.readdirSync(mountpoint).length === 0) await copyTree(entry.path, mountpoint);
}

/**
 * rm -v and --rm: the container's anonymous volumes go, unless another container still
 * mounts them (Docker passes over those silently). Named volumes stay.
 */
export function removeAnonymousVolumes(c: ContainerRecord, all: Iterable<ContainerRecord>, volumes: VolumeStore, log: { warn(msg: string): void }): void {
  const others = [...all].filter((o) => o.id !== c.id);
  for (const m of c.spec.mounts) {
    if (m.type !== 'volume' || !m.anonymous || volumeUsers(others, m.source).length > 0) continue;
    try {
      volumes.remove(m.source, [], true);
    } catch (e: unknown) {
      log.warn(`removing volume ${m.source} of ${c.spec.name}: ${messageOf(e)}`);
    }
  }
}

/** The containers that mount a volume (their own or through --volumes-from). */
export function volumeUsers(containers: Iterable<ContainerRecord>, name: string): ContainerRecord[] {
  return [...containers].filter((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name));
}

/** The named and anonymous volumes a container mounts (its own, and those taken from --volumes-from at create). */
export function volumeNames(c: ContainerRecord): string[] {
  return c.spec.mounts.filter((m) => m.type === 'volume' && m.source !== '').map((m) => m.source);
}

/**
 * The mounts in the order to make them: fewer path components first, so /data is
 * mounted before /data/sub (Docker's sortMounts); stable otherwise.
 */
export function mountOrder<M extends { destination: string }>(mounts: readonly M[]): M[] {
  const depth = (m: M): number => m.destination.split('/').filter((c) => c !== '').length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}

/**
 * The volumes and binds a start mounts (runtime paths): a volume gone meanwhile is made
 * again empty, and a missing bind source folder is made, as Docker does.
 */
export function runMounts(c: ContainerRecord, volumes: VolumeStore, find: (idOrName: string) => ContainerRecord): MountSpec[] {
  const mountOf = (type: 'bind' | 'volume', source: string, destination: string, readonly: boolean): MountSpec => {
    if (type === 'volume') return { source: volumes.create(source).mountpoint, destination, readonly };
    if (!fs.existsSync(source)) fs.mkdirSync(source, { recursive: true });
    return { source, destination, readonly };
  };
  const out: MountSpec[] = [];
  // Records written before mounts were decided at create (no `volumes`) take --volumes-from now.
  const legacyFrom = c.spec.volumes === undefined ? c.spec.volumesFrom : [];
  for (const from of legacyFrom) {
    const [ref, mode] = from.split(':');
    for (const m of find(ref!).spec.mounts) out.push(mountOf(m.type, m.source, m.destination, mode === 'ro' || m.readonly));
  }
  for (const m of c.spec.mounts) out.push(mountOf(m.type, m.source, m.destination, m.readonly));
  return out;
}
