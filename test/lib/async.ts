/** Small async helpers shared by the tests' and benchmarks' worlds. */

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** Run `fn` over `items` with at most `limit` at a time. */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Read `probe` every `everyMs` until `done` accepts its value or `ms` pass; returns the
 * last value (for the caller's assert). For state berthd changes after it answered: the
 * firewall deletions and link removals it does not wait for, the spares it refills.
 */
export async function settled<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 3000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(everyMs);
  }
}
