/**
 * Durations of the daemon's own work, by name (a container's network attach, say),
 * measured inside berthd where no client overhead blurs them. Benchmarks read them
 * through `GET /berth/timings`: the total count and the most recent samples, so a
 * reader takes the samples of its own loop as the difference of two reads.
 */
export interface TimingSeries {
  /** Samples recorded since the daemon started. */
  total: number;
  /** The latest samples (at most `keep`), oldest first, in milliseconds. */
  recentMs: number[];
}

export class Timings {
  private readonly series = new Map<string, TimingSeries>();

  constructor(private readonly keep = 1000) {}

  record(name: string, ms: number): void {
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = { total: 0, recentMs: [] }));
    s.total++;
    s.recentMs.push(Math.round(ms * 1000) / 1000);
    if (s.recentMs.length > this.keep) s.recentMs.splice(0, s.recentMs.length - this.keep);
  }

  snapshot(): Record<string, TimingSeries> {
    return Object.fromEntries([...this.series].map(([name, s]) => [name, { total: s.total, recentMs: [...s.recentMs] }]));
  }
}
