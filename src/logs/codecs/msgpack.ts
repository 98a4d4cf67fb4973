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
  const out: Buffer[] = [];
  write(v, out);
  return Buffer.concat(out);
}

function write(v: Packable, out: Buffer[]): void {
  if (typeof v === 'string') return str(Buffer.from(v, 'utf8'), out);
  if (Buffer.isBuffer(v)) return str(v, out);
  if (typeof v === 'number') return int(v, out);
  if (v instanceof EventTime) {
    const b = Buffer.alloc(10);
    b[0] = 0xd7; // fixext 8
    b[1] = 0x00; // type 0
    b.writeInt32BE(v.sec | 0, 2);
    b.writeInt32BE(v.nsec, 6);
    out.push(b);
    return;
  }
  if (Array.isArray(v)) {
    out.push(header(v.length, 0x90, 0xdc, 0xdd));
    for (const x of v as readonly Packable[]) write(x, out);
    return;
  }
  const entries = Object.entries(v as { readonly [k: string]: Packable });
  out.push(header(entries.length, 0x80, 0xde, 0xdf));
  for (const [k, x] of entries) {
    str(Buffer.from(k, 'utf8'), out);
    write(x, out);
  }
}

/** fix form (15 entries at most), else 16- or 32-bit length. */
function header(n: number, fix: number, c16: number, c32: number): Buffer {
  if (n < 16) return Buffer.from([fix | n]);
  if (n < 0x10000) return Buffer.from([c16, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = c32;
  b.writeUInt32BE(n, 1);
  return b;
}

function str(bytes: Buffer, out: Buffer[]): void {
  const n = bytes.length;
  if (n < 32) out.push(Buffer.from([0xa0 | n]));
  else if (n < 0x100) out.push(Buffer.from([0xd9, n]));
  else if (n < 0x10000) out.push(Buffer.from([0xda, n >> 8, n & 0xff]));
  else {
    const b = Buffer.alloc(5);
    b[0] = 0xdb;
    b.writeUInt32BE(n, 1);
    out.push(b);
  }
  out.push(bytes);
}

/** msgp's AppendInt64: the smallest of fixint, int8, int16, int32, int64. */
function int(n: number, out: Buffer[]): void {
  if (!Number.isInteger(n)) throw new Error(`msgpack: ${n} is not an integer`);
  if (n >= 0 && n <= 127) return void out.push(Buffer.from([n]));
  if (n < 0 && n >= -32) return void out.push(Buffer.from([0xe0 | (n + 32)]));
  const b = Buffer.alloc(9);
  if (n >= -128 && n <= 127) {
    b[0] = 0xd0;
    b.writeInt8(n, 1);
    return void out.push(b.subarray(0, 2));
  }
  if (n >= -32768 && n <= 32767) {
    b[0] = 0xd1;
    b.writeInt16BE(n, 1);
    return void out.push(b.subarray(0, 3));
  }
  if (n >= -2147483648 && n <= 2147483647) {
    b[0] = 0xd2;
    b.writeInt32BE(n, 1);
    return void out.push(b.subarray(0, 5));
  }
  b[0] = 0xd3;
  b.writeBigInt64BE(BigInt(n), 1);
  out.push(b);
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
