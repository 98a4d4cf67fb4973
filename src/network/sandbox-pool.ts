/**
 * Spare sandboxes: network namespaces made ahead of time (loopback up), so a container
 * start takes one instead of creating its own, and whatever else a namespace needs
 * before its container runs (the DNS resolver's sockets) is prepared off the start path.
 * Spares belong to no container; reconcile removes any a crash left behind.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { messageOf } from '../errors.js';
import type { KernelSandboxes } from '../kernel/port.js';

export interface SandboxPoolOptions {
  kernel: KernelSandboxes;
  dir: string;
  size: number;
  /** A spare is ready (e.g. open the resolver's sockets in it). */
  onReady?: (nsPath: string) => void;
  /** A spare is being deleted unused (e.g. close those sockets). */
  onDiscard?: (nsPath: string) => void;
  log: (msg: string) => void;
}

export const SPARE_PREFIX = 'spare-';

/**
 * How long after a take the pool starts refilling. A refill costs a Node start (the
 * resolver's socket helper) and two tool runs; on a small machine that CPU would come
 * out of the very container start that took the spare, so it waits until that is done.
 */
const REFILL_DELAY_MS = 300;

export class SandboxPool {
  private readonly ready: string[] = [];
  private filling: Promise<void> | undefined;
  private refillTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: SandboxPoolOptions) {}

  /** A ready namespace, or undefined when the pool is empty (the caller makes its own). */
  take(): string | undefined {
    const p = this.ready.shift();
    // Starts in a row do not postpone it again, and an empty pool refills at once.
    if (this.ready.length === 0) this.refill();
    else if (!this.refillTimer) {
      this.refillTimer = setTimeout(() => {
        this.refillTimer = undefined;
        this.refill();
      }, REFILL_DELAY_MS);
      this.refillTimer.unref();
    }
    return p;
  }

  /** Top the pool up in the background; one filler at a time. */
  refill(): void {
    if (this.closed || this.filling || this.opts.size <= 0) return;
    this.filling = (async () => {
      while (!this.closed && this.ready.length < this.opts.size) {
        const nsPath = path.join(this.opts.dir, `${SPARE_PREFIX}${randomBytes(6).toString('hex')}`);
        try {
          await this.opts.kernel.ensure(nsPath);
        } catch (e: unknown) {
          this.opts.log(`sandbox pool: ${messageOf(e)}`);
          return;
        }
        if (this.closed) {
          await this.opts.kernel.delete(nsPath);
          return;
        }
        this.ready.push(nsPath);
        this.opts.onReady?.(nsPath);
      }
    })().finally(() => {
      this.filling = undefined;
    });
  }

  /** Delete the spares (daemon shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    await this.filling;
    for (const p of this.ready.splice(0)) {
      this.opts.onDiscard?.(p);
      await this.opts.kernel.delete(p);
    }
  }
}
