/**
 * The msgpack fluentd's forward protocol needs, written as fluent-logger-golang (msgp)
 * writes it: strings as str (their bytes as they are, UTF-8 or not), integers in the
 * smallest signed form, maps of strings, arrays, and the EventTime extension (type 0:
 * seconds and nanoseconds, big-endian, 32 bits each). `decodeAck` reads a forward
 * server's {"ack": <chunk id>} answer.
 */

export type Packable = string | Buffer | number | readonly Packable[] | { readonly [k: string]: Packable } | EventTime;

/** fluentd's EventTime: the time with nanoseconds. */
export class EventTime {
  constructor(
    readonly sec: number,
    readonly nsec: number,
  ) {}
}

export function pack(v: Packable): Buffer {
  const w = new Writer();
  w.value(v);
  return w.finish();
}

/** Appends to one buffer that grows as needed (a message is packed for every line). */
export class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  value(v: Packable): void {
    if (typeof v === 'string') return this.str(v);
    if (Buffer.isBuffer(v)) return this.bin(v);
    if (typeof v === 'number') return this.int(v);
    if (v instanceof EventTime) {
      this.room(10);
      this.buf[this.pos++] = 0xd7; // fixext 8
      this.buf[this.pos++] = 0x00; // type 0
      this.buf.writeInt32BE(v.sec | 0, this.pos);
      this.buf.writeInt32BE(v.nsec, this.pos + 4);
      this.pos += 8;
      return;
    }
    if (Array.isArray(v)) {
      this.header(v.length, 0x90, 0xdc, 0xdd);
      for (const x of v as readonly Packable[]) this.value(x);
      return;
    }
    const entries = Object.entries(v as { readonly [k: string]: Packable });
    this.header(entries.length, 0x80, 0xde, 0xdf);
    for (const [k, x] of entries) {
      this.str(k);
      this.value(x);
    }
  }

  /** Bytes packed already (a part made once and used for every message). */
  raw(b: Buffer): void {
    this.room(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  /** The header of an array of n items, or of a map of n pairs. */
  arrayHeader(n: number): void {
    this.header(n, 0x90, 0xdc, 0xdd);
  }

  mapHeader(n: number): void {
    this.header(n, 0x80, 0xde, 0xdf);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** fix form (15 entries at most), else 16- or 32-bit length. */
  private header(n: number, fix: number, c16: number, c32: number): void {
    this.room(5);
    if (n < 16) this.buf[this.pos++] = fix | n;
    else if (n < 0x10000) {
      this.buf[this.pos++] = c16;
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = c32;
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  private strHeader(n: number): void {
    this.room(5 + n);
    if (n < 32) this.buf[this.pos++] = 0xa0 | n;
    else if (n < 0x100) {
      this.buf[this.pos++] = 0xd9;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = 0xda;
      this.buf.writeUInt16BE(n, this.pos);
      this.pos += 2;
    } else {
      this.buf[this.pos++] = 0xdb;
      this.buf.writeUInt32BE(n, this.pos);
      this.pos += 4;
    }
  }

  private str(s: string): void {
    const n = Buffer.byteLength(s);
    this.strHeader(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Bytes as str, as msgp writes a Go string whatever its bytes. */
  private bin(b: Buffer): void {
    this.strHeader(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  /** msgp's AppendInt64: the smallest of fixint, int8, int16, int32, int64. */
  private int(n: number): void {
    if (!Number.isInteger(n)) throw new Error(`msgpack: ${n} is not an integer`);
    this.room(9);
    const b = this.buf;
    if (n >= 0 && n <= 127) b[this.pos++] = n;
    else if (n < 0 && n >= -32) b[this.pos++] = 0xe0 | (n + 32);
    else if (n >= -128 && n <= 127) {
      b[this.pos++] = 0xd0;
      this.pos = b.writeInt8(n, this.pos);
    } else if (n >= -32768 && n <= 32767) {
      b[this.pos++] = 0xd1;
      this.pos = b.writeInt16BE(n, this.pos);
    } else if (n >= -2147483648 && n <= 2147483647) {
      b[this.pos++] = 0xd2;
      this.pos = b.writeInt32BE(n, this.pos);
    } else {
      b[this.pos++] = 0xd3;
      this.pos = b.writeBigInt64BE(BigInt(n), this.pos);
    }
  }
}

/**
 * The chunk id of a forward server's ack ({"ack": "<id>"}) at the start of buf, and
 * the bytes it took; null while incomplete. Throws when it is something else.
 */
export function decodeAck(buf: Buffer): { ack: string; used: number } | null {
  let pos = 0;
  const need = (n: number): boolean => buf.length >= pos + n;
  const readStr = (): string | null => {
    if (!need(1)) return null;
    const c = buf[pos]!;
    let len: number;
    let skip: number;
    if ((c & 0xe0) === 0xa0) [len, skip] = [c & 0x1f, 1];
    else if (c === 0xd9 && need(2)) [len, skip] = [buf[pos + 1]!, 2];
    else if (c === 0xda && need(3)) [len, skip] = [buf.readUInt16BE(pos + 1), 3];
    else if (c === 0xd9 || c === 0xda) return null;
    else throw new Error('fluentd: unexpected ack response');
    if (!need(skip + len)) return null;
    const s = buf.toString('utf8', pos + skip, pos + skip + len);
    pos += skip + len;
    return s;
  };
  if (!need(1)) return null;
  const c = buf[pos++]!;
  if ((c & 0xf0) !== 0x80) throw new Error('fluentd: unexpected ack response');
  let ack: string | null = null;
  for (let i = 0; i < (c & 0x0f); i++) {
    const k = readStr();
    if (k === null) return null;
    const v = readStr();
    if (v === null) return null;
    if (k === 'ack') ack = v;
  }
  if (ack === null) throw new Error('fluentd: ack response without an ack');
  return { ack, used: pos };
}
