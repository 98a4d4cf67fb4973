/**
 * The root folder of a container that is not running: its image's layers with its
 * writable layer over them, mounted read-write at <dataRoot>/container-views/<id> for
 * one call (cp, export), as Docker mounts a stopped container's layer for them. The
 * caller holds the container's lock, so no start mounts the same writable layer
 * meanwhile. A crash can leave such a mount behind; sweep() removes it at the next
 * start. A running container's root is the runtime's own mount.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMounted, mountOverlay, sweepMountPoints, withMountAt } from '../../kernel/mount.js';

export interface ContainerLayers {
  id: string;
  /** The image's layer folders, lowest first. */
  layers: readonly string[];
  /** The container's folder: upper/, work/ and merged/ are in it. */
  dir: string;
}

export class RootfsViews {
  constructor(private readonly root: string) {}

  /**
   * Runs fn with the container's root folder: merged/ when the runtime has it mounted
   * (running), else a view mounted for the call.
   */
  async with<T>(c: ContainerLayers, fn: (root: string) => Promise<T>): Promise<T> {
    const merged = path.join(c.dir, 'merged');
    if (await isMounted(merged)) return fn(merged);
    const upper = path.join(c.dir, 'upper');
    const work = path.join(c.dir, 'work');
    for (const d of [upper, work]) fs.mkdirSync(d, { recursive: true });
    return withMountAt(path.join(this.root, c.id), async (target) => mountOverlay({ lower: c.layers, upper, work, target }), fn);
  }

  /** Unmounts and removes the views a crash left. Idempotent. */
  async sweep(): Promise<void> {
    await sweepMountPoints(this.root);
  }
}
