/**
 * Docker's JSON progress messages (one object per line of a pull's or push's answer),
 * as dockerd's streamformatter writes them: a message (`{"status","id"}`), a layer's
 * state (`{"status","progressDetail":{},"id"}`), a bar (`progressDetail` with current
 * and total, and the rendered `progress` older clients print), and aux records.
 */
import { humanSize } from '../../../util/humanize.js';

export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  aux?: unknown;
}

/** Where messages go (the API writes them on the response). */
export type ProgressSink = (m: JsonMessage) => void;

/** The bar Docker renders into `progress`: `[====>   ]  1.2MB/3.4MB`. */
export function progressBar(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const pct = Math.min(Math.floor(Math.floor((current / total) * 100) / 2), 50);
  const box = `[${'='.repeat(pct)}>${' '.repeat(Math.max(50 - pct, 0))}] `;
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return box + numbers;
}

/** A plain message (progress.Message): "Pulling from library/busybox", "Digest: …". */
export function say(sink: ProgressSink, text: string, id?: string): void {
  sink(id === undefined || id === '' ? { status: text } : { status: text, id });
}

/** A layer's state (progress.Update): "Pulling fs layer", "Pull complete". */
export function update(sink: ProgressSink, id: string, action: string): void {
  sink({ status: action, progressDetail: {}, id });
}

/** A bar for one layer's transfer, sent at most every 100 ms except its last step. */
export class Bar {
  private last = 0;

  constructor(
    private readonly sink: ProgressSink,
    private readonly id: string,
    private readonly action: string,
    private readonly total: number,
  ) {}

  at(current: number): void {
    const now = Date.now();
    if (now - this.last < 100 && current < this.total) return;
    this.last = now;
    this.sink({ status: this.action, progressDetail: { current, total: this.total }, progress: progressBar(current, this.total), id: this.id });
  }
}
