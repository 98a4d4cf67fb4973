/** Runs async jobs one at a time, in the order they were queued. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  async run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
