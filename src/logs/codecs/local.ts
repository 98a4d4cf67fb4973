/**
 * Docker's `local` format (daemon/logger/local): each entry is a protobuf LogEntry
 * framed by its length, big-endian, before and after — [len][entry][len] — so a reader
 * can walk the file forwards or backwards (tail):
 *
 *   message LogEntry { string source = 1; int64 time_nano = 2; bytes line = 3;
 *     bool partial = 4; PartialLogEntryMetadata partial_log_metadata = 5;
 *     repeated LogAttr attrs = 6; }
 *   message PartialLogEntryMetadata { bool last = 1; string id = 2; int32 ordinal = 3; }
 *   message LogAttr { string key = 1; string value = 2; }
 *
 * The line is stored without its newline; a reader gives it back unless the entry is a
 * piece of a longer line.
 */
import type { FileHandle } from 'node:fs/promises';
import { timeFromNanos, timeToNanos, type LogMessage, type LogRecord, type PartialMeta } from '../message.js';
import type { LogCodec } from '../files/file-set.js';
import { ProtoReader, ProtoWriter } from './protobuf.js';

const FRAME = 4;
/** Docker refuses entries larger than this when reading (a corrupt length). */
const MAX_ENTRY = 1e6;

/** The attributes, sorted as Docker sorts them (by key, then value). */
export function localAttrs(attrs: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(attrs).sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
}

export function encodeLocalEntry(m: LogMessage, attrs: readonly (readonly [string, string])[]): Buffer {
  const w = new ProtoWriter();
  w.string(1, m.stream);
  w.varint(2, timeToNanos(m.time));
  w.bytes(3, m.line);
  if (m.partial) {
    w.bool(4, true);
    const p = new ProtoWriter();
    p.bool(1, m.partial.last);
    p.string(2, m.partial.id);
    p.varint(3, BigInt(m.partial.ordinal));
    w.message(5, p);
  }
  for (const [k, v] of attrs) {
    const a = new ProtoWriter();
    a.string(1, k);
    a.string(2, v);
    w.message(6, a);
  }
  const body = w.finish();
  const out = Buffer.allocUnsafe(body.length + 2 * FRAME);
  out.writeUInt32BE(body.length, 0);
  body.copy(out, FRAME);
  out.writeUInt32BE(body.length, FRAME + body.length);
  return out;
}

export const localCodec: LogCodec = {
  decode(buf: Buffer, out: LogRecord[]): number {
    let pos = 0;
    while (buf.length - pos >= 2 * FRAME) {
      const len = buf.readUInt32BE(pos);
      if (len > MAX_ENTRY) throw new Error(`log message is too large (${len} > ${MAX_ENTRY})`);
      if (buf.length - pos < len + 2 * FRAME) break;
      out.push(decodeEntry(buf.subarray(pos + FRAME, pos + FRAME + len)));
      pos += len + 2 * FRAME;
    }
    return pos;
  },
  async tailOffset(fh: FileHandle, size: number, n: number): Promise<number> {
    let offset = size;
    const buf = Buffer.alloc(FRAME);
    for (let found = 0; found < n && offset >= 2 * FRAME; found++) {
      await fh.read(buf, 0, FRAME, offset - FRAME);
      const len = buf.readUInt32BE(0);
      const start = offset - len - 2 * FRAME;
      if (start < 0) break;
      await fh.read(buf, 0, FRAME, start);
      if (buf.readUInt32BE(0) !== len) throw new Error('log message header and footer indicate different message sizes');
      offset = start;
    }
    return offset;
  },
};

function decodeEntry(b: Buffer): LogRecord {
  let stream = 'stdout';
  let nanos = 0n;
  let line: Buffer = Buffer.alloc(0);
  let partial: PartialMeta | undefined;
  const attrs: [string, string][] = [];
  const r = new ProtoReader(b);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) stream = f.string();
    else if (f.field === 2) nanos = f.varint();
    else if (f.field === 3) line = Buffer.from(f.bytes());
    else if (f.field === 4) partial ??= { id: '', ordinal: 0, last: false };
    else if (f.field === 5) partial = decodePartial(f.bytes());
    else if (f.field === 6) {
      const a = new ProtoReader(f.bytes());
      let key = '';
      let value = '';
      for (let g = a.next(); g; g = a.next()) {
        if (g.field === 1) key = g.string();
        else if (g.field === 2) value = g.string();
      }
      attrs.push([key, value]);
    }
  }
  const whole = !partial || partial.last;
  return {
    stream: stream === 'stderr' ? 'stderr' : 'stdout',
    line: whole ? Buffer.concat([line, Buffer.from('\n')]) : line,
    time: timeFromNanos(nanos),
    attrs,
  };
}

function decodePartial(b: Uint8Array): PartialMeta {
  const p: PartialMeta = { id: '', ordinal: 0, last: false };
  const r = new ProtoReader(b);
  for (let f = r.next(); f; f = r.next()) {
    if (f.field === 1) p.last = f.varint() !== 0n;
    else if (f.field === 2) p.id = f.string();
    else if (f.field === 3) p.ordinal = Number(BigInt.asIntN(32, f.varint()));
  }
  return p;
}
