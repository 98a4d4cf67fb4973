/** Samples of one measured operation, and their summary (median, min, max). */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
  failed: number;
}

/** The values of one row; failures are counted, and their first messages kept. */
export class Samples {
  readonly values: number[] = [];
  failed = 0;
  readonly errors: string[] = [];

  add(value: number): void {
    this.values.push(value);
  }

  fail(message: string): void {
    this.failed += 1;
    if (this.errors.length < 3) this.errors.push(message);
  }

  summary(): Summary | undefined {
    if (this.values.length === 0) return this.failed > 0 ? { median: NaN, min: NaN, max: NaN, n: 0, failed: this.failed } : undefined;
    const sorted = [...this.values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length, failed: this.failed };
  }
}

/** Three significant figures at most, never scientific: 0.53, 7.21, 43.9, 312, 1234. */
/** Add what `op` measured (when `record`; warm-ups are not), or its failure. */
export async function timed(s: Samples, record: boolean, op: () => Promise<number>): Promise<void> {
  try {
    const ms = await op();
    if (record) s.add(ms);
  } catch (e: unknown) {
    s.fail(e instanceof Error ? e.message : String(e));
  }
}

export function num(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "43.9 (41.0–52.3, n=30)", with "+k failed" when some samples failed. */
export function cell(s: Summary | undefined): string {
  if (!s) return '–';
  const failed = s.failed > 0 ? `, +${s.failed} failed` : '';
  if (s.n === 0) return `all ${s.failed} failed`;
  return `${num(s.median)} (${num(s.min)}–${num(s.max)}, n=${s.n}${failed})`;
}

/** Aligned plain-text table: first column left, the others right. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const width = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join('  ').trimEnd();
  return [line(header), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
