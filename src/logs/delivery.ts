/**
 * The bounded queue in front of a destination (journald, syslog, gelf, fluentd). The
 * shipper offers messages and never waits; one worker sends them in order. What does
 * not fit (max-buffer-size bytes, Docker's 1 MB by default, or the driver's own message
 * count) is dropped and counted, so a destination that is down or slow costs the
 * container nothing and the cache still gets every line. Counts go to the daemon's log
 * every few seconds while they grow.
 */
import type { Destination } from './driver.js';
import type { LogMessage } from './message.js';

export interface DeliveryLimits {
  /** Bytes of lines that may wait. */
  bytes: number;
  /** Messages that may wait (fluentd-buffer-limit); none by default. */
  messages?: number;
}

export interface DeliveryStats {
  sent: number;
  /** Dropped because the queue was full. */
  dropped: number;
  /** Lost because the destination refused them or could not be reached. */
  failed: number;
  lastError: string;
}

const BATCH = 256;
const REPORT_MS = 5000;

export class Delivery {
  private queue: LogMessage[] = [];
  private head = 0;
  private queuedBytes = 0;
  private pumping: Promise<void> | null = null;
  private closed = false;
  private idle: (() => void)[] = [];
  readonly stats: DeliveryStats = { sent: 0, dropped: 0, failed: 0, lastError: '' };
  private reported = { dropped: 0, failed: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dest: Destination,
    private readonly limits: DeliveryLimits,
    private readonly report: (msg: string) => void,
  ) {
    this.timer = setInterval(() => this.reportLosses(), REPORT_MS);
    this.timer.unref();
  }

  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Queue what fits; never waits. */
  offer(batch: readonly LogMessage[]): void {
    if (this.closed) return;
    for (const m of batch) {
      const full = this.queuedBytes + m.line.length > this.limits.bytes || (this.limits.messages !== undefined && this.waiting >= this.limits.messages);
      if (full && this.waiting > 0) {
        this.stats.dropped++;
        continue;
      }
      // A copy: the line is a view into a whole read of the spool, which it would keep alive.
      this.queue.push({ ...m, line: Buffer.from(m.line) });
      this.queuedBytes += m.line.length;
    }
    this.pumping ??= this.pump();
  }

  /** Wait up to `ms` for the queue to empty, then close the destination; what is left is counted as dropped. */
  async close(ms: number): Promise<void> {
    if (this.waiting > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
      clearTimeout(timer);
    }
    this.closed = true;
    this.stats.dropped += this.waiting;
    this.queue = [];
    this.head = 0;
    clearInterval(this.timer);
    await this.dest.close().catch(() => undefined);
    this.reportLosses();
  }

  private async pump(): Promise<void> {
    try {
      while (this.waiting > 0 && !this.closed) {
        const batch = this.queue.slice(this.head, this.head + BATCH);
        try {
          await this.dest.send(batch);
          this.stats.sent += batch.length;
        } catch (e: unknown) {
          this.stats.failed += batch.length;
          this.stats.lastError = (e as Error).message;
        }
        this.head += batch.length;
        for (const m of batch) this.queuedBytes -= m.line.length;
        if (this.head > 4096 && this.head * 2 > this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
      }
    } finally {
      this.pumping = null;
      for (const r of this.idle.splice(0)) r();
    }
  }

  private reportLosses(): void {
    const { dropped, failed, lastError } = this.stats;
    if (dropped === this.reported.dropped && failed === this.reported.failed) return;
    const parts: string[] = [];
    if (dropped > this.reported.dropped) parts.push(`${dropped - this.reported.dropped} dropped (destination slow or down)`);
    if (failed > this.reported.failed) parts.push(`${failed - this.reported.failed} not delivered (${lastError})`);
    this.reported = { dropped, failed };
    this.report(`${parts.join(', ')}; ${dropped} dropped and ${failed} not delivered so far`);
  }
}
