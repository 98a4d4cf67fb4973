/**
 * Sandboxes: each container's network namespace, a file under <exec-root>/netns whose
 * path is kept in the store as sandbox/<container id> (a container may run with no
 * endpoint at all), and the spares made ahead of time that first joins take.
 */
import * as path from 'node:path';
import type { KernelSandboxes } from '../kernel/port.js';
import type { KvStore } from '../store/kv.js';
import { SANDBOXES } from './stored.js';
import { SandboxPool, type SandboxPoolOptions } from './sandbox-pool.js';

export interface SandboxesConfig {
  kernel: KernelSandboxes;
  /** Folder of the namespace files (<exec-root>/netns). */
  dir: string;
  /** Spare sandboxes kept ready (size 0: every start makes its own). */
  pool?: Omit<SandboxPoolOptions, 'dir' | 'log' | 'kernel'>;
  log: (msg: string) => void;
}

export class Sandboxes {
  /** Container ID -> namespace file, for those that have one. */
  private readonly paths = new Map<string, string>();
  private readonly pool: SandboxPool;

  private constructor(
    private readonly store: KvStore,
    private readonly config: SandboxesConfig,
  ) {
    this.pool = new SandboxPool({ size: 0, ...config.pool, kernel: config.kernel, dir: config.dir, log: config.log });
  }

  static async load(store: KvStore, config: SandboxesConfig): Promise<Sandboxes> {
    const s = new Sandboxes(store, config);
    for (const [containerId, p] of await SANDBOXES.load(store)) s.paths.set(containerId, p);
    return s;
  }

  /** The namespace file of a container's sandbox (a spare taken at its first join, or its own). */
  path(containerId: string): string {
    return this.paths.get(containerId) ?? path.join(this.config.dir, containerId.slice(0, 12));
  }

  /** The containers that have a sandbox on record. */
  owners(): string[] {
    return [...this.paths.keys()];
  }

  /**
   * The sandbox a first join uses, recorded before anything is made in it. Spares carry
   * what user networks need ahead of time (the resolver's sockets), so only those joins
   * take one; others make their own.
   */
  async claim(containerId: string, wantSpare: boolean): Promise<string> {
    let p = this.paths.get(containerId);
    if (!p) {
      p = (wantSpare ? this.pool.take() : undefined) ?? path.join(this.config.dir, containerId.slice(0, 12));
      await this.store.commit([SANDBOXES.put(containerId, p)]);
      this.paths.set(containerId, p);
    }
    return p;
  }

  /** Delete the container's namespace and forget it. Idempotent. */
  async remove(containerId: string): Promise<void> {
    await this.config.kernel.delete(this.path(containerId));
    if (this.paths.delete(containerId)) await this.store.commit([SANDBOXES.del(containerId)]);
  }

  /** After a restart: delete every namespace file no live container owns (spares a crash left, too), then refill. */
  async sweep(alive: ReadonlySet<string>): Promise<void> {
    const owned = new Set([...alive].map((id) => this.path(id)));
    for (const file of this.config.kernel.list(this.config.dir)) if (!owned.has(file)) await this.config.kernel.delete(file);
    this.pool.refill();
  }

  /** Delete the spares (daemon shutdown). */
  async close(): Promise<void> {
    await this.pool.close();
  }
}
