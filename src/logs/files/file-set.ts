/**
 * One log file and its rotated predecessors, as the writer and the readers share them:
 *
 *   <path>           the file being written
 *   <path>.1         the newest rotated one (<path>.1.gz once compressed)
 *   <path>.N[.gz]    older ones, up to max-file - 1
 *
 * Rotation renames files: the writer does it under `fsLock`, and a reader takes the same
 * lock to open the current file and list the rotated ones as one consistent snapshot.
 * Readers that follow are woken by `changed()` after every write.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Serial } from '../../util/serial.js';
import type { LogRecord } from '../message.js';
import type { FileHandle } from 'node:fs/promises';

/** How a file format turns bytes into records. */
export interface LogCodec {
  /** Append the whole records at the start of buf to out; return how many bytes they took. */
  decode(buf: Buffer, out: LogRecord[]): number;
  /** Offset of the first of the last n records of a plain file of `size` bytes (0 when fewer). */
  tailOffset(fh: FileHandle, size: number, n: number): Promise<number>;
}

export class LogFileSet {
  readonly fsLock = new Serial();
  private waiters: (() => void)[] = [];
  private writing = false;

  constructor(
    readonly path: string,
    readonly codec: LogCodec,
  ) {}

  /** True while a writer has the file open (a follower keeps following). */
  get live(): boolean {
    return this.writing;
  }

  /** The writer opened or closed the file (closing wakes the followers so they finish). */
  setLive(live: boolean): void {
    this.writing = live;
    this.notify();
  }

  /** Wake the followers: there is more to read, or the file was rotated. */
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at the next write, or after `ms`, or on abort. */
  async changed(ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      this.waiters.push(done);
    });
  }

  /** The rotated files, oldest first: for each number the plain file if it exists, else the .gz. */
  async rotated(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(dirname(this.path));
    } catch {
      return [];
    }
    const base = basename(this.path);
    const byNumber = new Map<number, string>();
    for (const n of names) {
      if (!n.startsWith(`${base}.`)) continue;
      const m = /^(\d+)(\.gz)?$/.exec(n.slice(base.length + 1));
      if (!m) continue;
      const k = Number(m[1]);
      if (!m[2] || !byNumber.has(k)) byNumber.set(k, n);
    }
    return [...byNumber.entries()].sort((a, b) => b[0] - a[0]).map(([, n]) => join(dirname(this.path), n));
  }
}
