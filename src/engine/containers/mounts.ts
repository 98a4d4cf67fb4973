/**
 * A container's mounts, decided once at create as Docker's registerMountPoints does: the
 * mounts of the --volumes-from containers, then binds and --mount (which replace those on
 * the same destination), then an anonymous volume for each Config.Volumes path nothing
 * else covers. The volumes are then made.
 */
import type { VolumeStore } from '../volumes/store.js';
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
    for (const m of src.mounts) byDestination.set(m.destination, { ...m, readonly: m.readonly || src.readonly });
  }
  for (const m of requested) byDestination.set(m.destination, m);
  for (const p of volumePaths) {
    if (!byDestination.has(p)) byDestination.set(p, { type: 'volume', source: '', destination: p, readonly: false, anonymous: true });
  }
  return [...byDestination.values()];
}

/** Makes the planned volumes: a fresh name for each anonymous one. */
export function prepareMounts(volumes: VolumeStore, planned: readonly MountConfig[]): MountConfig[] {
  return planned.map((m) => (m.type === 'volume' ? { ...m, source: volumes.create(m.source).name } : m));
}

/** The containers that mount a volume (their own or through --volumes-from). */
export function volumeUsers(containers: Iterable<ContainerRecord>, name: string): ContainerRecord[] {
  return [...containers].filter((c) => c.spec.mounts.some((m) => m.type === 'volume' && m.source === name));
}

/**
 * The mounts in the order to make them: fewer path components first, so /data is
 * mounted before /data/sub (Docker's sortMounts); stable otherwise.
 */
export function mountOrder<M extends { destination: string }>(mounts: readonly M[]): M[] {
  const depth = (m: M): number => m.destination.split('/').filter((c) => c !== '').length;
  return [...mounts].sort((a, b) => depth(a) - depth(b));
}
