/** At most N tasks at once, the rest queued in order (dockerd's transfer manager limits). */
export class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private limit: number) {}

  /** Change the limit (a daemon reload); queued tasks start if it grew. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, limit);
    this.drain();
  }

  /** Run `task` when a slot is free; `onQueued` is called when it has to wait for one. */
  async run<T>(task: () => Promise<T>, onQueued?: () => void): Promise<T> {
    if (this.active >= this.limit) {
      onQueued?.();
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.drain();
    }
  }

  private drain(): void {
    while (this.active < this.limit && this.queue.length > 0) {
      this.active++;
      this.queue.shift()!();
    }
  }
}
