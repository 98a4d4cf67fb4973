/**
 * Reading conmon's k8s-file logs. One entry per line of the file:
 *
 *   <RFC3339Nano with offset> <stdout|stderr> <F|P> <bytes>\n
 *
 * F ends a line (its newline was eaten by the format), P is part of a longer line or
 * output that ended without a newline. Entries are returned as the container wrote
 * them: F gets its newline back, P does not.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { LogEntry, LogOptions } from './types.js';
import { startOfLastLines } from '../util/last-lines.js';

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** Parse one line of the file (without its final newline). Null if malformed. */
export function parseLogLine(line: Buffer): LogEntry | null {
  const a = line.indexOf(SPACE);
  const b = a < 0 ? -1 : line.indexOf(SPACE, a + 1);
  const c = b < 0 ? -1 : line.indexOf(SPACE, b + 1);
  if (a < 0 || b < 0) return null;
  const stream = line.toString('latin1', a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return null;
  const tagEnd = c < 0 ? line.length : c;
  const tag = line.toString('latin1', b + 1, tagEnd);
  if (tag !== 'F' && tag !== 'P') return null;
  const time = toUtcNano(line.toString('latin1', 0, a));
  if (!time) return null;
  const body = c < 0 ? Buffer.alloc(0) : line.subarray(c + 1);
  const bytes = tag === 'F' ? Buffer.concat([body, Buffer.from('\n')]) : Buffer.from(body);
  return { stream, line: bytes, time: time.text, timeMs: time.ms };
}

/** "2024-05-01T12:00:00.123456789+02:00" -> UTC "2024-05-01T10:00:00.123456789Z". */
export function toUtcNano(ts: string): { text: string; ms: number } | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|([+-])(\d\d):?(\d\d))$/.exec(ts);
  if (!m) return null;
  const frac = (m[7] ?? '').padEnd(9, '0');
  const sign = m[9] === '-' ? -1 : 1;
  const offsetMin = m[8] === 'Z' ? 0 : sign * (Number(m[10]) * 60 + Number(m[11]));
  const wholeMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMin * 60_000;
  const iso = new Date(wholeMs).toISOString(); // "...T10:00:00.000Z"
  return { text: `${iso.slice(0, 19)}.${frac}Z`, ms: wholeMs + Number(frac.slice(0, 3)) };
}

/**
 * The container's log as an async iterator. With follow, it keeps reading until
 * `exited` resolves (and the rest of the file is read) or opts.signal aborts. A log
 * that does not exist yet is empty (or awaited, with follow).
 */
export async function* readLogs(path: string, opts: LogOptions = {}, exited?: Promise<unknown>): AsyncGenerator<LogEntry> {
  const keep = (e: LogEntry): boolean =>
    (opts.sinceMs === undefined || e.timeMs >= opts.sinceMs) && (opts.untilMs === undefined || e.timeMs <= opts.untilMs);
  let done = false;
  void exited?.then(
    () => (done = true),
    () => (done = true),
  );
  const reader = new LineReader(path);
  try {
    let first = await reader.readAvailable(opts.tail);
    if (opts.tail !== undefined) first = first.slice(Math.max(0, first.length - opts.tail));
    for (const e of first) if (keep(e)) yield e;
    if (!opts.follow) return;
    while (!opts.signal?.aborted) {
      const finished = done; // sample before reading: after exit, one last read gets all
      await reader.changed(opts.signal, exited);
      for (const e of await reader.readAvailable()) if (keep(e)) yield e;
      if (finished) return;
    }
  } finally {
    await reader.close();
  }
}

/** Incremental reader of a growing k8s-file. */
class LineReader {
  private fh: FileHandle | null = null;
  private pos = 0;
  private rest: Buffer = Buffer.alloc(0);
  private watcher: FSWatcher | null = null;

  constructor(private readonly path: string) {}

  /**
   * Parse the complete lines written since the last call. With `tail` on the first
   * call, start far enough from the end to hold that many lines.
   */
  async readAvailable(tail?: number): Promise<LogEntry[]> {
    if (!(await this.ensureOpen())) return [];
    const fh = this.fh!;
    const { size } = await fh.stat();
    if (size < this.pos) {
      this.pos = 0; // truncated (log rotated in place)
      this.rest = Buffer.alloc(0);
    }
    if (tail !== undefined && this.pos === 0) this.pos = await startOfLastLines(fh, size, tail);
    const entries: LogEntry[] = [];
    while (this.pos < size) {
      const chunk = Buffer.alloc(Math.min(1 << 20, size - this.pos));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      let data = this.rest.length ? Buffer.concat([this.rest, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let nl: number;
      while ((nl = data.indexOf(NEWLINE)) >= 0) {
        const e = parseLogLine(data.subarray(0, nl));
        if (e) entries.push(e);
        data = data.subarray(nl + 1);
      }
      this.rest = Buffer.from(data);
    }
    return entries;
  }

  /** Resolve when the file may have grown, the container exited, or after a while. */
  async changed(signal?: AbortSignal, exited?: Promise<unknown>): Promise<void> {
    if (!this.watcher && this.fh) {
      try {
        this.watcher = watch(this.path, { persistent: false });
      } catch {
        this.watcher = null; // polling below still works
      }
    }
    const w = this.watcher;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, 250);
      function finish(): void {
        clearTimeout(timer);
        w?.off('change', finish);
        signal?.removeEventListener('abort', finish);
        resolve();
      }
      w?.on('change', finish);
      signal?.addEventListener('abort', finish);
      void exited?.then(finish, finish);
    });
  }

  async close(): Promise<void> {
    this.watcher?.close();
    await this.fh?.close();
    this.fh = null;
  }

  private async ensureOpen(): Promise<boolean> {
    if (this.fh) return true;
    try {
      this.fh = await open(this.path, 'r');
      return true;
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }
}

