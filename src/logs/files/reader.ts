/**
 * Reading a log file and its rotated predecessors for `docker logs`: all of them in
 * order, or only the last `tail` records (scanning back from the end, into older files
 * as needed), `since` and `until` applied as Docker applies them (after the tail; the
 * first record past `until` ends the read), and with `follow` the records written
 * later, across rotations, until the writer closes the file.
 */
import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { compareTimes, type LogRecord, type LogTime } from '../message.js';
import { gzipLastTime } from './gzip.js';
import type { LogCodec, LogFileSet } from './file-set.js';

export interface ReadOptions {
  /** Only the last n records of what is there (0: none). */
  tail?: number;
  since?: LogTime;
  until?: LogTime;
  /** Keep reading what is written later, until the writer closes the file or the signal aborts. */
  follow?: boolean;
  /**
   * With follow: go on until this resolves (the container's run ended, its output in the
   * file by then) instead of stopping at once when no writer has the file open (a
   * container that has not started yet).
   */
  ends?: Promise<unknown>;
  signal?: AbortSignal;
}

const CHUNK = 1 << 20;

export async function* readLogFiles(set: LogFileSet, opts: ReadOptions = {}): AsyncGenerator<LogRecord> {
  const { since, until } = opts;
  const before = (r: LogRecord): boolean => since !== undefined && compareTimes(r.time, since) < 0;
  const past = (r: LogRecord): boolean => until !== undefined && compareTimes(r.time, until) > 0;
  let ended = opts.ends === undefined;
  void opts.ends?.then(
    () => (ended = true),
    () => (ended = true),
  );
  const snap = await set.fsLock.run(async () => ({ current: await openIfThere(set.path), rotated: await set.rotated() }));
  let current = snap.current;
  try {
    const initial = opts.tail !== undefined ? await lastRecords(set.codec, snap.rotated, current, opts.tail) : null;
    if (initial) {
      for (const r of initial.records) {
        if (past(r)) return;
        if (!before(r)) yield r;
      }
    } else {
      for (const file of snap.rotated) {
        if (since !== undefined && file.endsWith('.gz')) {
          const last = await gzipLastTime(file);
          if (last && compareTimes(last, since) < 0) continue;
        }
        for await (const batch of wholeFile(set.codec, file)) {
          for (const r of batch) {
            if (past(r)) return;
            if (!before(r)) yield r;
          }
        }
      }
    }
    let tail = new Tailer(set.codec, current, initial?.end ?? 0);
    for (;;) {
      // Sampled before reading: a read that starts after the writer closed or rotated
      // the file gets everything that file will ever hold.
      const live = set.live || !ended;
      const inode = await inodeOf(set.path);
      for (const r of await tail.readAvailable()) {
        if (past(r)) return;
        if (!before(r)) yield r;
      }
      if (!opts.follow || opts.signal?.aborted) return;
      if (inode !== undefined && inode !== tail.inode) {
        await tail.close();
        current = await openIfThere(set.path);
        tail = new Tailer(set.codec, current, 0);
        continue;
      }
      if (!live) return;
      await set.changed(250, opts.signal);
    }
  } finally {
    await current?.close().catch(() => undefined);
  }
}

/** A plain file read from an offset on, as it grows. */
class Tailer {
  private rest: Buffer = Buffer.alloc(0);
  inode: number | undefined;

  constructor(
    private readonly codec: LogCodec,
    private readonly fh: FileHandle | null,
    private pos: number,
  ) {}

  async readAvailable(): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    if (!this.fh) return out;
    const st = await this.fh.stat();
    this.inode = st.ino;
    if (st.size < this.pos) {
      this.pos = 0; // truncated in place
      this.rest = Buffer.alloc(0);
    }
    while (this.pos < st.size) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, st.size - this.pos));
      const { bytesRead } = await this.fh.read(chunk, 0, chunk.length, this.pos);
      if (bytesRead === 0) break;
      this.pos += bytesRead;
      const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
      const used = this.codec.decode(data, out);
      this.rest = Buffer.from(data.subarray(used));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh?.close().catch(() => undefined);
  }
}

/** Every record of a rotated file (plain or gzipped), in batches. */
async function* wholeFile(codec: LogCodec, file: string): AsyncGenerator<LogRecord[]> {
  let rest: Buffer = Buffer.alloc(0);
  try {
    const input = createReadStream(file);
    const stream = file.endsWith('.gz') ? input.pipe(createGunzip()) : input;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      const out: LogRecord[] = [];
      const used = codec.decode(data, out);
      rest = Buffer.from(data.subarray(used));
      if (out.length > 0) yield out;
    }
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // rotated away meanwhile
  }
}

/** The last n records across the files (newest file first until there are enough), and where the current file ends. */
async function lastRecords(codec: LogCodec, rotated: readonly string[], current: FileHandle | null, n: number): Promise<{ records: LogRecord[]; end: number }> {
  const parts: LogRecord[][] = [];
  let have = 0;
  let end = 0;
  if (current) {
    const { size } = await current.stat();
    end = size;
    const from = n > 0 ? await codec.tailOffset(current, size, n) : size;
    const recs = await readRange(codec, current, from, size);
    parts.unshift(recs.slice(Math.max(0, recs.length - n)));
    have += parts[0]!.length;
  }
  for (let i = rotated.length - 1; i >= 0 && have < n; i--) {
    const need = n - have;
    const file = rotated[i]!;
    let recs: LogRecord[] = [];
    if (file.endsWith('.gz')) {
      for await (const batch of wholeFile(codec, file)) {
        recs.push(...batch);
        if (recs.length > need * 2) recs = recs.slice(recs.length - need);
      }
    } else {
      const fh = await openIfThere(file);
      if (!fh) continue;
      try {
        const { size } = await fh.stat();
        recs = await readRange(codec, fh, await codec.tailOffset(fh, size, need), size);
      } finally {
        await fh.close();
      }
    }
    const picked = recs.slice(Math.max(0, recs.length - need));
    parts.unshift(picked);
    have += picked.length;
  }
  return { records: parts.flat(), end };
}

async function readRange(codec: LogCodec, fh: FileHandle, from: number, to: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let pos = from;
  let rest: Buffer = Buffer.alloc(0);
  while (pos < to) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK, to - pos));
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    const data = rest.length > 0 ? Buffer.concat([rest, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    rest = Buffer.from(data.subarray(codec.decode(data, out)));
  }
  return out;
}

async function openIfThere(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch {
    return undefined;
  }
}
