/**
 * The little of protobuf's wire format the `local` log format needs: varints and
 * length-delimited fields, proto3 rules (a field at its default value is not written),
 * fields in number order as gogo-protobuf writes them.
 */

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const FIXED32 = 5;

export class ProtoWriter {
  private readonly parts: Buffer[] = [];
  private len = 0;

  varint(field: number, v: bigint): void {
    if (v === 0n) return;
    this.tag(field, VARINT);
    this.raw(encodeVarint(BigInt.asUintN(64, v)));
  }

  bool(field: number, v: boolean): void {
    if (v) this.varint(field, 1n);
  }

  string(field: number, s: string): void {
    if (s !== '') this.bytes(field, Buffer.from(s, 'utf8'));
  }

  bytes(field: number, b: Buffer): void {
    if (b.length === 0) return;
    this.tag(field, LENGTH);
    this.raw(encodeVarint(BigInt(b.length)));
    this.raw(b);
  }

  /** An embedded message; written even when empty (it is set). */
  message(field: number, m: ProtoWriter): void {
    const b = m.finish();
    this.tag(field, LENGTH);
    this.raw(encodeVarint(BigInt(b.length)));
    this.raw(b);
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.len);
  }

  private tag(field: number, wire: number): void {
    this.raw(encodeVarint(BigInt((field << 3) | wire)));
  }

  private raw(b: Buffer): void {
    this.parts.push(b);
    this.len += b.length;
  }
}

function encodeVarint(v: bigint): Buffer {
  if (v < 0x80n) return Buffer.from([Number(v)]);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export interface ProtoField {
  field: number;
  varint(): bigint;
  bytes(): Uint8Array;
  string(): string;
}

/** Walks the fields of one message; fields of unknown wire types end the walk with an error. */
export class ProtoReader {
  private pos = 0;

  constructor(private readonly b: Uint8Array) {}

  next(): ProtoField | null {
    if (this.pos >= this.b.length) return null;
    const key = this.readVarint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === VARINT) {
      const v = this.readVarint();
      return this.field(field, v, new Uint8Array());
    }
    if (wire === LENGTH) {
      const len = Number(this.readVarint());
      if (this.pos + len > this.b.length) throw new Error('protobuf: truncated field');
      const bytes = this.b.subarray(this.pos, this.pos + len);
      this.pos += len;
      return this.field(field, 0n, bytes);
    }
    if (wire === FIXED64 || wire === FIXED32) {
      this.pos += wire === FIXED64 ? 8 : 4;
      return this.field(field, 0n, new Uint8Array());
    }
    throw new Error(`protobuf: unsupported wire type ${wire}`);
  }

  private field(field: number, v: bigint, bytes: Uint8Array): ProtoField {
    return { field, varint: () => v, bytes: () => bytes, string: () => Buffer.from(bytes).toString('utf8') };
  }

  private readVarint(): bigint {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const c = this.b[this.pos++];
      if (c === undefined) throw new Error('protobuf: truncated varint');
      v |= BigInt(c & 0x7f) << shift;
      if (c < 0x80) return v;
      shift += 7n;
    }
  }
}
