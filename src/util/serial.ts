/** Runs async jobs one at a time, in the order they were queued. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  async run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * Serialises jobs by key: a job waits for every earlier job that shares one of its keys,
 * and jobs with no key in common run at the same time. A job waits on promises, never
 * holds one key while asking for another, so no order of keys can deadlock.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(keys: readonly string[], job: () => Promise<T>): Promise<T> {
    const earlier = Promise.all(keys.map(async (k) => this.tails.get(k)));
    const result = earlier.then(job);
    const done = result.catch(() => undefined);
    for (const k of keys) this.tails.set(k, done);
    void done.then(() => {
      for (const k of keys) if (this.tails.get(k) === done) this.tails.delete(k);
    });
    return result;
  }

  /** Keys with work queued or running (for tests). */
  get busy(): number {
    return this.tails.size;
  }
}
