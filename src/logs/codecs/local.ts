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

/** The attributes as LogAttr fields (6), made once per container. */
export function localAttrBytes(attrs: readonly (readonly [string, string])[]): Buffer {
  const w = new ProtoWriter();
  for (const [k, v] of attrs) {
    const a = new ProtoWriter();
    a.string(1, k);
    a.string(2, v);
    w.message(6, a);
  }
  return w.finish();
}

/**
 * One framed entry. Written straight into one buffer (this runs for every line): the
 * fields in number order, proto3's defaults left out, as gogo-protobuf writes them.
 */
export function encodeLocalEntry(m: LogMessage, attrs: Buffer | readonly (readonly [string, string])[]): Buffer {
  const attrBytes = Buffer.isBuffer(attrs) ? attrs : localAttrBytes(attrs);
  const nanos = timeToNanos(m.time);
  const hi = Number(nanos >> 32n);
  const lo = Number(nanos & 0xffffffffn);
  const lineLen = m.line.length;
  const p = m.partial;
  const idLen = p ? Buffer.byteLength(p.id) : 0;
  const metaLen = p ? (p.last ? 2 : 0) + (idLen > 0 ? 1 + varintSize(idLen) + idLen : 0) + (p.ordinal !== 0 ? 1 + varintSize(p.ordinal >>> 0, p.ordinal < 0 ? 0xffffffff : 0) : 0) : 0;
  const size =
    2 + m.stream.length +
    (nanos !== 0n ? 1 + varintSize(lo, hi) : 0) +
    (lineLen > 0 ? 1 + varintSize(lineLen) + lineLen : 0) +
    (p ? 2 + 1 + varintSize(metaLen) + metaLen : 0) +
    attrBytes.length;
  const out = Buffer.allocUnsafe(size + 2 * FRAME);
  out.writeUInt32BE(size, 0);
  let pos = FRAME;
  out[pos++] = 0x0a;
  out[pos++] = m.stream.length;
  pos += out.write(m.stream, pos, 'latin1');
  if (nanos !== 0n) {
    out[pos++] = 0x10;
    pos = putVarint(out, pos, lo, hi);
  }
  if (lineLen > 0) {
    out[pos++] = 0x1a;
    pos = putVarint(out, pos, lineLen, 0);
    pos += m.line.copy(out, pos);
  }
  if (p) {
    out[pos++] = 0x20;
    out[pos++] = 0x01;
    out[pos++] = 0x2a;
    pos = putVarint(out, pos, metaLen, 0);
    if (p.last) {
      out[pos++] = 0x08;
      out[pos++] = 0x01;
    }
    if (idLen > 0) {
      out[pos++] = 0x12;
      pos = putVarint(out, pos, idLen, 0);
      pos += out.write(p.id, pos, 'utf8');
    }
    if (p.ordinal !== 0) {
      out[pos++] = 0x18;
      pos = putVarint(out, pos, p.ordinal >>> 0, p.ordinal < 0 ? 0xffffffff : 0);
    }
  }
  pos += attrBytes.copy(out, pos);
  out.writeUInt32BE(size, pos);
  return out;
}

/** Bytes of the varint of the 64-bit value hi:lo. */
function varintSize(lo: number, hi = 0): number {
  let n = 1;
  while (hi > 0 || lo >= 0x80) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
    n++;
  }
  return n;
}

function putVarint(out: Buffer, pos: number, lo: number, hi: number): number {
  while (hi > 0 || lo >= 0x80) {
    out[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  out[pos++] = lo;
  return pos;
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
