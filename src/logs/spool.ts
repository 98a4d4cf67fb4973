/**
 * conmon's log file as the log drivers' source. conmon writes every chunk of the
 * container's output to it at once (k8s-file lines: time, stream, F for a line's end or
 * P for a piece, bytes), so the container never waits for a driver; the daemon tails it:
 *
 *   <container dir>/container.log       conmon's file (the spool)
 *   <container dir>/container.log.pos   {"ino":…,"offset":…}: how far the drivers got
 *
 * Once the drivers have taken a good part of it, the daemon asks conmon to start a
 * fresh file (conmon renames an empty file over it); the old one is read to its end
 * through the descriptor still open, then dropped. While no daemon runs, conmon keeps
 * at most its --log-size-max bytes. The position is saved after each batch, so a
 * restarted daemon goes on where the last one stopped.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { parseRfc3339, type LogStream, type LogTime } from './message.js';

/** One k8s-file line. */
export interface SpoolEntry {
  stream: LogStream;
  /** F: the piece ends a line; P: more of the line follows (or the output stopped there). */
  ends: boolean;
  body: Buffer;
  time: LogTime;
  /** Offsets of this line and just past it in the file it came from. */
  start: number;
  end: number;
  /** That file's inode. */
  ino: number;
}

export interface SpoolCursor {
  ino: number;
  offset: number;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const CHUNK = 1 << 20;

export class Spool {
  private fh: FileHandle | null = null;
  private ino = 0;
  private pos = 0;
  private rest: Buffer = Buffer.alloc(0);
  private watcher: FSWatcher | null = null;
  private waiters: (() => void)[] = [];
  private lastStamp = '';
  private lastTime: LogTime = { sec: 0, nsec: 0 };

  constructor(readonly path: string) {}

  get cursorPath(): string {
    return `${this.path}.pos`;
  }

  /** Bytes of the current file read so far (how much a fresh file would free). */
  get consumed(): number {
    return this.pos;
  }

  /** Start where the saved position says (the same file), else at the start of the file. */
  async resume(): Promise<void> {
    const saved = await readCursor(this.cursorPath);
    if (!(await this.reopen())) return;
    if (saved && saved.ino === this.ino) this.pos = saved.offset;
  }

  /** The last read stopped at its byte budget: more is there already. */
  hasMore = false;
  /** Bytes the last read took. */
  lastReadBytes = 0;

  /**
   * The complete lines written since the last call (up to about `budget` bytes), across
   * a fresh file conmon put in place (the old file is read to its end first).
   */
  async read(budget = Infinity): Promise<SpoolEntry[]> {
    const out: SpoolEntry[] = [];
    this.hasMore = false;
    this.lastReadBytes = 0;
    if (!this.fh && !(await this.reopen())) return out;
    const pathIno = await inodeOf(this.path); // sampled first: if it moved on, the old file is final
    let left = await this.readToEnd(out, budget);
    if (left > 0 && pathIno !== undefined && pathIno !== this.ino) {
      await this.reopen();
      left = await this.readToEnd(out, left);
    }
    this.hasMore = left <= 0;
    return out;
  }

  /** Save how far the drivers got (atomically). */
  async save(cursor: SpoolCursor): Promise<void> {
    const tmp = `${this.cursorPath}.tmp`;
    await writeFile(tmp, JSON.stringify(cursor));
    await rename(tmp, this.cursorPath);
  }

  /** Where the reader is now. */
  here(): SpoolCursor {
    return { ino: this.ino, offset: this.pos - this.rest.length };
  }

  /** Resolves when conmon may have written more, after `ms` at the latest. */
  async changed(ms: number): Promise<void> {
    await this.wait(ms, this.waiters);
  }

  /** Resolves after `ms`, or at once when someone needs everything now (wake()): lets output gather into bigger batches. */
  async pause(ms: number): Promise<void> {
    await this.wait(ms, this.urgent);
  }

  /** Wake a waiting reader now (the container exited, a sync was asked). */
  wake(): void {
    this.notify();
    for (const f of this.urgent.splice(0)) f();
  }

  private readonly urgent: (() => void)[] = [];

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async wait(ms: number, list: (() => void)[]): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      list.push(done);
    });
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = null;
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  /** Remove the file and the saved position (the container is gone, or its output all delivered and it stopped). */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
    await rm(this.cursorPath, { force: true });
  }

  private async reopen(): Promise<boolean> {
    await this.close();
    try {
      this.fh = await open(this.path, 'r');
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    this.ino = (await this.fh.stat()).ino;
    this.pos = 0;
    this.rest = Buffer.alloc(0);
    try {
      this.watcher = watch(this.path, { persistent: false }, () => this.notify());
      this.watcher.on('error', () => undefined);
    } catch {
      this.watcher = null; // the timed wait still works
    }
    return true;
  }

  /** Read on to the end of the file or the budget; returns what is left of the budget (0 or less: stopped early). */
  private async readToEnd(out: SpoolEntry[], budget: number): Promise<number> {
    const fh = this.fh;
    if (!fh) return budget;
    const { size } = await fh.stat();
    while (this.pos < size) {
      if (budget <= 0) return 0;
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - this.pos));
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, this.pos);
      if (bytesRead === 0) break;
      budget -= bytesRead;
      this.lastReadBytes += bytesRead;
      const base = this.pos - this.rest.length;
      this.pos += bytesRead;
      const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      let start = 0;
      let nl: number;
      while ((nl = data.indexOf(NEWLINE, start)) >= 0) {
        const e = this.parse(data.subarray(start, nl), base + start, base + nl + 1);
        if (e) out.push(e);
        start = nl + 1;
      }
      this.rest = Buffer.from(data.subarray(start));
    }
    return Math.max(budget, 1);
  }

  /** One line without its newline; null when it is not a k8s-file line. */
  private parse(line: Buffer, start: number, end: number): SpoolEntry | null {
    const a = line.indexOf(SPACE);
    if (a < 0) return null;
    const b = line.indexOf(SPACE, a + 1);
    if (b < 0) return null;
    const streamLen = b - a - 1;
    const stream: LogStream | null = streamLen === 6 && line[a + 4] === 0x6f ? 'stdout' : streamLen === 6 && line[a + 4] === 0x65 ? 'stderr' : null;
    const tag = line[b + 1];
    if (!stream || (tag !== 0x46 && tag !== 0x50) || (line.length > b + 2 && line[b + 2] !== SPACE)) return null;
    // conmon stamps every line of one read with the same time: parse each stamp once.
    const stamp = line.toString('latin1', 0, a);
    if (stamp !== this.lastStamp) {
      const t = parseRfc3339(stamp);
      if (!t) return null;
      this.lastStamp = stamp;
      this.lastTime = t;
    }
    // A view, not a copy: every read fills a buffer of its own.
    return { stream, ends: tag === 0x46, body: line.subarray(Math.min(line.length, b + 3)), time: this.lastTime, start, end, ino: this.ino };
  }
}

async function readCursor(path: string): Promise<SpoolCursor | null> {
  try {
    const v = JSON.parse(await readFile(path, 'utf8')) as Partial<SpoolCursor>;
    return typeof v.ino === 'number' && typeof v.offset === 'number' ? { ino: v.ino, offset: v.offset } : null;
  } catch {
    return null;
  }
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}
