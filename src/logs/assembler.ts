/**
 * conmon's pieces into Docker's messages. conmon writes a piece whenever it read some
 * output (8 KiB at most); Docker's copier reads into a 16 KiB buffer and makes one
 * message of a line shorter than that, else pieces of 16 KiB with partial metadata
 * (a random ID, ordinal from 1, the last piece marked), all with the time of the first.
 * Output that ends without a newline is held until its line ends, the buffer fills or
 * the container exits (then it goes as a piece that is not the last, as in Docker).
 */
import { randomBytes } from 'node:crypto';
import type { LogMessage, LogStream, LogTime } from './message.js';
import type { SpoolCursor, SpoolEntry } from './spool.js';

/** Docker's copier buffer: lines of this many bytes or more are sent in pieces. */
export const MAX_LINE = 16 * 1024;

interface Pending {
  chunks: Buffer[];
  len: number;
  time: LogTime;
  id: string;
  ordinal: number;
  /** Where its first piece starts in the spool: a restart must read it again. */
  from: SpoolCursor;
}

export class LineAssembler {
  private readonly pending = new Map<LogStream, Pending>();

  push(e: SpoolEntry, out: LogMessage[]): void {
    let p = this.pending.get(e.stream);
    if (!p && e.ends && e.body.length < MAX_LINE) {
      out.push({ stream: e.stream, line: e.body, time: e.time });
      return;
    }
    if (!p) {
      p = { chunks: [], len: 0, time: e.time, id: '', ordinal: 0, from: { ino: e.ino, offset: e.start } };
      this.pending.set(e.stream, p);
    }
    p.chunks.push(e.body);
    p.len += e.body.length;
    while (p.len >= MAX_LINE) this.piece(e.stream, p, MAX_LINE, false, out);
    if (!e.ends) return;
    if (p.ordinal === 0) out.push({ stream: e.stream, line: this.take(p, p.len), time: p.time });
    else this.piece(e.stream, p, p.len, true, out);
    this.pending.delete(e.stream);
  }

  /** The container's output ended: what is held goes as a piece that is not the last. */
  flush(out: LogMessage[]): void {
    for (const [stream, p] of this.pending) if (p.len > 0) this.piece(stream, p, p.len, false, out);
    this.pending.clear();
  }

  /** The spool position of the oldest piece still held, if any. */
  heldFrom(): SpoolCursor | null {
    let first: SpoolCursor | null = null;
    for (const p of this.pending.values()) if (!first || (p.from.ino === first.ino && p.from.offset < first.offset)) first = p.from;
    return first;
  }

  private piece(stream: LogStream, p: Pending, size: number, last: boolean, out: LogMessage[]): void {
    if (p.ordinal === 0) p.id = randomBytes(32).toString('hex');
    p.ordinal++;
    out.push({ stream, line: this.take(p, size), time: p.time, partial: { id: p.id, ordinal: p.ordinal, last } });
  }

  /** The first `size` bytes held. */
  private take(p: Pending, size: number): Buffer {
    const all = p.chunks.length === 1 ? p.chunks[0]! : Buffer.concat(p.chunks, p.len);
    const line = all.subarray(0, size);
    const rest = all.subarray(size);
    p.chunks = rest.length > 0 ? [rest] : [];
    p.len = rest.length;
    return line;
  }
}
