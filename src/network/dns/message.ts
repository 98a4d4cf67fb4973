/**
 * The DNS wire format, as far as an embedded resolver needs it (RFC 1035, RFC 6891):
 * parse a query (header, one question, EDNS OPT), build replies (A, AAAA, PTR and empty
 * or error replies) with name compression and truncation, read the head of an upstream
 * reply, and frame messages for TCP. Pure functions over Buffers; nothing here does I/O.
 *
 * Layout of a message: a 12-byte header (id, flags, four counts), the question section
 * starting at byte 12, then answer, authority and additional records. A reply copies the
 * query's question bytes verbatim (so the asker's letter case survives), and every answer
 * names its owner with a pointer to byte 12.
 */

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Extended RCODE BADVERS (16): its upper 8 bits go in the OPT record, the low 4 in the header. */
export const RCODE_BADVERS = 16;
/** Docker's TTL for the records it answers itself. */
export const ANSWER_TTL = 600;
/** Largest reply over UDP without EDNS, and the EDNS payload size we advertise. */
export const UDP_MIN_SIZE = 512;
export const EDNS_PAYLOAD = 1232;
export const TCP_MAX_SIZE = 65535;
const HEADER = 12;
const MAX_NAME = 255;

const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const FLAG_CD = 0x0010;

export interface Question {
  /** Presentation form, ASCII letters lowercased, no trailing dot ("" is the root). */
  name: string;
  type: number;
  class: number;
}

export interface Edns {
  /** Requested UDP payload size, as sent (may be below 512). */
  udpSize: number;
  version: number;
}

export interface Query {
  id: number;
  /** The header's flags word as received. */
  flags: number;
  question: Question;
  /** The question section is bytes [12, questionEnd) of the query. */
  questionEnd: number;
  edns: Edns | undefined;
}

/**
 * What became of a received packet: a query to answer, a reply to send at once
 * (FORMERR, NOTIMP), or nothing (too short, or not a query: never answer a reply,
 * that is how two resolvers end up ping-ponging).
 */
export type Parsed =
  | { kind: 'query'; query: Query }
  | { kind: 'error'; reply: Buffer }
  | { kind: 'drop' };

/** A record we answer with; the owner is always the question's name. */
export type Answer = { type: typeof TYPE.A | typeof TYPE.AAAA; address: Uint8Array } | { type: typeof TYPE.PTR; target: string };

class Malformed extends Error {}

/** Read a (possibly compressed) name at `off`; returns it and the offset past it. */
export function readName(buf: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = off;
  let end = -1;
  let length = 1;
  let hops = 0;
  for (;;) {
    if (pos >= buf.length) throw new Malformed('name runs past the end');
    const len = buf[pos]!;
    if (len === 0) {
      if (end < 0) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= buf.length) throw new Malformed('truncated pointer');
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      // Pointers must go backwards, which also rules out loops.
      if (target >= pos || ++hops > 127) throw new Malformed('bad compression pointer');
      if (end < 0) end = pos + 2;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new Malformed('unsupported label type');
    if (pos + 1 + len > buf.length) throw new Malformed('label runs past the end');
    length += len + 1;
    if (length > MAX_NAME) throw new Malformed('name too long');
    labels.push(labelText(buf, pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.join('.'), end };
}

/** A label in presentation form, lowercased; dots, backslashes and odd bytes escaped. */
function labelText(buf: Buffer, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) s += String.fromCharCode(c + 32);
    else if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

/** Skip one resource record starting at `off`; returns its type, class, ttl and bounds. */
function readRecordHead(buf: Buffer, off: number): { type: number; cls: number; ttl: number; name: string; rdata: number; end: number } {
  const { name, end } = readName(buf, off);
  if (end + 10 > buf.length) throw new Malformed('record header runs past the end');
  const rdlen = buf.readUInt16BE(end + 8);
  if (end + 10 + rdlen > buf.length) throw new Malformed('rdata runs past the end');
  return {
    name,
    type: buf.readUInt16BE(end),
    cls: buf.readUInt16BE(end + 2),
    ttl: buf.readUInt32BE(end + 4),
    rdata: end + 10,
    end: end + 10 + rdlen,
  };
}

/** Parse a received packet as a query. Never throws. */
export function parseQuery(buf: Buffer): Parsed {
  if (buf.length < HEADER) return { kind: 'drop' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG_QR) return { kind: 'drop' };
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { kind: 'error', reply: headerOnlyReply(id, flags, RCODE.NOTIMP) };
  const qdcount = buf.readUInt16BE(4);
  if (qdcount !== 1) return { kind: 'error', reply: headerOnlyReply(id, flags, RCODE.FORMERR) };
  try {
    const { name, end } = readName(buf, HEADER);
    if (end + 4 > buf.length) throw new Malformed('question runs past the end');
    const question: Question = { name, type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) };
    const questionEnd = end + 4;
    const edns = readEdns(buf, questionEnd);
    return { kind: 'query', query: { id, flags, question, questionEnd, edns } };
  } catch (e: unknown) {
    if (e instanceof Malformed) return { kind: 'error', reply: headerOnlyReply(id, flags, RCODE.FORMERR) };
    throw e;
  }
}

/** Find the OPT record among the additional records (answer/authority are skipped). */
function readEdns(buf: Buffer, off: number): Edns | undefined {
  const records = buf.readUInt16BE(6) + buf.readUInt16BE(8) + buf.readUInt16BE(10);
  const additionalFrom = buf.readUInt16BE(6) + buf.readUInt16BE(8);
  let edns: Edns | undefined;
  let pos = off;
  for (let i = 0; i < records; i++) {
    const rr = readRecordHead(buf, pos);
    if (i >= additionalFrom && rr.type === TYPE.OPT) {
      if (edns !== undefined || rr.name !== '') throw new Malformed('bad OPT record');
      edns = { udpSize: rr.cls, version: (rr.ttl >>> 16) & 0xff };
    }
    pos = rr.end;
  }
  return edns;
}

function replyFlags(queryFlags: number, rcode: number): number {
  // Echo opcode, RD and CD; recursion is available (we forward); low 4 bits of rcode.
  return FLAG_QR | (queryFlags & (0x7800 | FLAG_RD | FLAG_CD)) | FLAG_RA | (rcode & 0xf);
}

function headerOnlyReply(id: number, queryFlags: number, rcode: number): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(replyFlags(queryFlags, rcode), 2);
  return b;
}

/** The largest reply the asker accepts over this transport. */
export function maxReplySize(query: Query, transport: 'udp' | 'tcp'): number {
  if (transport === 'tcp') return TCP_MAX_SIZE;
  const asked = query.edns?.udpSize ?? 0;
  return Math.min(Math.max(asked, UDP_MIN_SIZE), EDNS_PAYLOAD);
}

export interface ReplyOptions {
  rcode?: number;
  answers?: readonly Answer[];
  /** Byte limit (maxReplySize); answers that do not fit are dropped and TC set (UDP). */
  maxSize: number;
  /** Set TC when answers were dropped (UDP); over TCP they are just dropped. */
  truncatable: boolean;
  authoritative?: boolean;
}

/**
 * A reply to `query` (whose bytes are `raw`). Answers use the question's name by
 * pointer; PTR targets are compressed against names already written. When the query
 * carried EDNS, so does the reply (RFC 6891 §7); an EDNS version above 0 gets BADVERS.
 */
export function buildReply(raw: Buffer, query: Query, opts: ReplyOptions): Buffer {
  let rcode = opts.rcode ?? RCODE.NOERROR;
  let answers = opts.answers ?? [];
  if (query.edns !== undefined && query.edns.version > 0) {
    rcode = RCODE_BADVERS;
    answers = [];
  }
  const out = Buffer.allocUnsafe(replyCapacity(query, answers));
  raw.copy(out, HEADER, HEADER, query.questionEnd);
  const names = new NameTable();
  names.seed(raw, HEADER, query.questionEnd - 4);
  const optLen = query.edns === undefined ? 0 : 11;
  let pos = query.questionEnd;
  let written = 0;
  let truncated = false;
  for (const a of answers) {
    const next = writeAnswer(out, pos, a, names, opts.maxSize - optLen);
    if (next < 0) {
      truncated = true;
      break;
    }
    pos = next;
    written++;
  }
  if (query.edns !== undefined) {
    out[pos] = 0;
    out.writeUInt16BE(TYPE.OPT, pos + 1);
    out.writeUInt16BE(EDNS_PAYLOAD, pos + 3);
    out.writeUInt32BE(((rcode >> 4) & 0xff) << 24, pos + 5);
    out.writeUInt16BE(0, pos + 9);
    pos += 11;
  }
  out.writeUInt16BE(query.id, 0);
  let flags = replyFlags(query.flags, rcode);
  if (truncated && opts.truncatable) flags |= FLAG_TC;
  if (opts.authoritative) flags |= FLAG_AA;
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(written, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(query.edns === undefined ? 0 : 1, 10);
  return out.subarray(0, pos);
}

/** An upper bound of the reply's size (escapes only make PTR targets shorter). */
function replyCapacity(query: Query, answers: readonly Answer[]): number {
  let n = query.questionEnd + 11;
  for (const a of answers) n += 12 + (a.type === TYPE.PTR ? a.target.length + 2 : a.address.length);
  return n;
}

/** Write one answer at `pos`; -1 when it would end past `limit`. */
function writeAnswer(out: Buffer, pos: number, a: Answer, names: NameTable, limit: number): number {
  const rdata = pos + 12;
  let end: number;
  if (a.type === TYPE.PTR) {
    end = names.write(out, rdata, a.target);
  } else {
    end = rdata + a.address.length;
    if (end > limit) return -1;
    out.set(a.address, rdata);
  }
  if (end > limit) return -1;
  out.writeUInt16BE(0xc000 | HEADER, pos);
  out.writeUInt16BE(a.type, pos + 2);
  out.writeUInt16BE(CLASS_IN, pos + 4);
  out.writeUInt32BE(ANSWER_TTL, pos + 6);
  out.writeUInt16BE(end - rdata, pos + 10);
  if (a.type === TYPE.PTR) names.commit();
  return end;
}

/**
 * Suffixes of names already in the message (lowercased presentation form) and their
 * offsets, for compression. Offsets must stay below 0x4000 to be pointed at.
 */
class NameTable {
  private readonly offsets = new Map<string, number>();
  private pending: Array<[string, number]> = [];

  /** Remember the suffixes of the uncompressed name at [from, to) of a message. */
  seed(buf: Buffer, from: number, to: number): void {
    const starts: number[] = [];
    let pos = from;
    while (pos < to) {
      const len = buf[pos]!;
      if (len === 0 || (len & 0xc0) !== 0) break;
      starts.push(pos);
      pos += 1 + len;
    }
    if (pos >= to || buf[pos] !== 0) return; // a compressed question: do not seed
    for (const s of starts) this.offsets.set(readName(buf, s).name, s);
  }

  /** Write `name` at `pos` (pointer to the longest known suffix); returns the end. */
  write(out: Buffer, pos: number, name: string): number {
    this.pending = [];
    const labels = splitName(name);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const known = this.offsets.get(suffix);
      if (known !== undefined) {
        out.writeUInt16BE(0xc000 | known, pos);
        return pos + 2;
      }
      if (pos < 0x4000) this.pending.push([suffix, pos]);
      const bytes = labelBytes(labels[i]!);
      out[pos] = bytes.length;
      out.set(bytes, pos + 1);
      pos += 1 + bytes.length;
    }
    out[pos] = 0;
    return pos + 1;
  }

  /** Keep the suffixes of the last written name (once its record is known to fit). */
  commit(): void {
    for (const [s, o] of this.pending) this.offsets.set(s, o);
    this.pending = [];
  }
}

/** Split a presentation-form name into its labels (escapes kept). */
function splitName(name: string): string[] {
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '\\') {
      cur += c + (name[i + 1] ?? '');
      i++;
    } else if (c === '.') {
      labels.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur !== '') labels.push(cur);
  return labels.filter((l) => l !== '');
}

/** The bytes of one label written in presentation form (\. and \DDD escapes). */
function labelBytes(label: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < label.length && bytes.length < 63; i++) {
    const c = label.charCodeAt(i);
    if (c === 0x5c && /^[0-9]{3}$/.test(label.slice(i + 1, i + 4))) {
      bytes.push(Number(label.slice(i + 1, i + 4)) & 0xff);
      i += 3;
    } else if (c === 0x5c && i + 1 < label.length) {
      bytes.push(label.charCodeAt(++i) & 0xff);
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

/** Encode a name without compression (for tests and hand-built messages). */
export function encodeName(name: string): Buffer {
  const parts = splitName(name).map(labelBytes);
  const out = Buffer.alloc(parts.reduce((n, p) => n + p.length + 1, 1));
  let pos = 0;
  for (const p of parts) {
    out[pos] = p.length;
    out.set(p, pos + 1);
    pos += 1 + p.length;
  }
  out[pos] = 0;
  return out;
}

/** A reply carrying only an rcode (SERVFAIL, REFUSED, NXDOMAIN) for a parsed query. */
export function rcodeReply(raw: Buffer, query: Query, rcode: number): Buffer {
  return buildReply(raw, query, { rcode, maxSize: TCP_MAX_SIZE, truncatable: false });
}

/** What the forwarder checks in an upstream's reply before relaying it. */
export interface ReplyHead {
  id: number;
  rcode: number;
  truncated: boolean;
  authoritative: boolean;
  question: Question | undefined;
}

/** Read the header and question of a reply; undefined when it is no reply at all. */
export function parseReplyHead(buf: Buffer): ReplyHead | undefined {
  if (buf.length < HEADER) return undefined;
  const flags = buf.readUInt16BE(2);
  if (!(flags & FLAG_QR)) return undefined;
  let question: Question | undefined;
  if (buf.readUInt16BE(4) === 1) {
    try {
      const { name, end } = readName(buf, HEADER);
      if (end + 4 <= buf.length) question = { name, type: buf.readUInt16BE(end), class: buf.readUInt16BE(end + 2) };
    } catch (e: unknown) {
      if (!(e instanceof Malformed)) throw e;
    }
  }
  return {
    id: buf.readUInt16BE(0),
    rcode: flags & 0xf,
    truncated: (flags & FLAG_TC) !== 0,
    authoritative: (flags & FLAG_AA) !== 0,
    question,
  };
}

/** A copy of a message with another id. */
export function withId(buf: Buffer, id: number): Buffer {
  const copy = Buffer.from(buf);
  copy.writeUInt16BE(id, 0);
  return copy;
}

/** Prefix a message with its 2-byte length for TCP (RFC 1035 §4.2.2). */
export function frameTcp(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 2);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/** Splits a TCP byte stream into length-prefixed messages. */
export class TcpFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** Feed bytes; returns the messages completed by them, in order. */
  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    let pos = 0;
    while (this.buffered.length - pos >= 2) {
      const len = this.buffered.readUInt16BE(pos);
      if (this.buffered.length - pos - 2 < len) break;
      out.push(this.buffered.subarray(pos + 2, pos + 2 + len));
      pos += 2 + len;
    }
    this.buffered = pos === 0 ? this.buffered : Buffer.from(this.buffered.subarray(pos));
    return out;
  }

  /** Bytes waiting for the rest of their message. */
  get pending(): number {
    return this.buffered.length;
  }
}
