/**
 * A small tar reader (ustar, GNU long names `L`/`K`, PAX `x`/`g` headers,
 * GNU base-256 numbers). Enough for image layers and docker-save/OCI archives; no
 * sparse files. The reader streams: an entry's body must be read (or left alone)
 * before asking for the next entry. The writer is tar-write.ts.
 */
import { invalid } from '../../errors.js';

/** A tar block: headers and bodies come in whole blocks. */
export const BLOCK = 512;

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'char'
  | 'block'
  | 'fifo'
  | 'unsupported';

export interface TarHeader {
  /** Path as written in the archive, without a trailing slash. */
  path: string;
  type: TarEntryType;
  /** Permission bits incl. setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch (PAX may give fractions). */
  mtime: number;
  linkpath: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** The raw type flag, for `unsupported` entries. */
  typeflag: string;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's data; read it before advancing the reader, or it is skipped. */
  body: AsyncIterable<Buffer>;
}

// ---------------------------------------------------------------- reading

/**
 * Told how the bytes of an archive divide into metadata (headers, padding, skipped
 * bodies, the end) and the file bodies an extraction writes to disk: what it takes to
 * write the same archive again from the extracted files (see tar-split.ts).
 */
export interface TarSplitSink {
  /** Every entry, before its body (a repeated path makes earlier bodies unreproducible). */
  entry(header: TarHeader): void;
  /** Bytes that are not a file body an extraction keeps. */
  meta(bytes: Buffer): void;
  /** The whole body of the entry just announced was read (it is on disk at its path). */
  body(header: TarHeader, size: number): void;
  /** A body was read only in part: the archive cannot be reproduced. */
  broken(): void;
}

/** Pulls exact byte counts out of an async stream of chunks. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(
    source: AsyncIterable<Buffer | Uint8Array | string>,
    private readonly onMeta?: (b: Buffer) => void,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done === true) {
      this.ended = true;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Exactly n bytes; undefined at a clean end of input; throws on a short read. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      if (!(await this.pull())) {
        if (this.buf.length === 0) return undefined;
        throw invalid('unexpected EOF');
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.onMeta?.(out);
    return out;
  }

  /** Up to n bytes as they arrive, exactly n in total; throws on a short read. Body bytes when `body`. */
  async *stream(n: number, body = false): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.pull())) throw invalid('unexpected EOF');
      const take = Math.min(left, this.buf.length);
      const out = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      left -= take;
      if (!body) this.onMeta?.(out);
      yield out;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) {
      // discard
    }
  }

  async drain(): Promise<void> {
    if (this.buf.length > 0) this.onMeta?.(this.buf);
    this.buf = Buffer.alloc(0);
    while (await this.pull()) {
      this.onMeta?.(this.buf);
      this.buf = Buffer.alloc(0);
    }
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const nul = field.indexOf(0);
  return (nul === -1 ? field : field.subarray(0, nul)).toString('utf8');
}

function parseNumber(b: Buffer, start: number, len: number): number {
  const field = b.subarray(start, start + len);
  const first = field[0] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian two's complement, top bit of the first byte is the marker.
    let v = first & 0x7f;
    for (let i = 1; i < field.length; i++) v = v * 256 + (field[i] ?? 0);
    return v;
  }
  const s = field.toString('latin1').replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw invalid('archive/tar: invalid tar header');
  return parseInt(s, 8);
}

function checksumOk(b: Buffer): boolean {
  const stored = parseNumber(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (b[i] ?? 0);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp === -1) break;
    const len = parseInt(data.subarray(pos, sp).toString('latin1'), 10);
    if (!Number.isFinite(len) || len <= sp - pos || pos + len > data.length) {
      throw invalid('archive/tar: invalid PAX header');
    }
    const record = data.subarray(sp + 1, pos + len - 1).toString('utf8'); // drop trailing \n
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

function stripSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function applyPax(h: TarHeader, pax: Map<string, string>): void {
  for (const [k, v] of pax) {
    switch (k) {
      case 'path':
        if (h.type === 'file' && h.typeflag !== '7' && v.endsWith('/')) h.type = 'directory';
        h.path = stripSlash(v);
        break;
      case 'linkpath':
        h.linkpath = v;
        break;
      case 'size':
        h.size = Number(v);
        break;
      case 'uid':
        h.uid = Number(v);
        break;
      case 'gid':
        h.gid = Number(v);
        break;
      case 'mtime':
        h.mtime = Number(v);
        break;
      case 'uname':
        h.uname = v;
        break;
      case 'gname':
        h.gname = v;
        break;
      default:
        break;
    }
  }
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw invalid('archive/tar: invalid PAX size');
}

function decodeHeader(b: Buffer): TarHeader {
  if (!checksumOk(b)) throw invalid('archive/tar: invalid tar header');
  const typeflag = String.fromCharCode(b[156] ?? 0);
  let name = cString(b, 0, 100);
  const magic = b.subarray(257, 263).toString('latin1');
  if (magic === 'ustar\0') {
    const prefix = cString(b, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  let type = TYPES[typeflag] ?? 'unsupported';
  if (type === 'file' && typeflag !== '7' && name.endsWith('/')) type = 'directory';
  return {
    path: stripSlash(name),
    type,
    mode: parseNumber(b, 100, 8) & 0o7777,
    uid: parseNumber(b, 108, 8),
    gid: parseNumber(b, 116, 8),
    size: parseNumber(b, 124, 12),
    mtime: parseNumber(b, 136, 12),
    linkpath: cString(b, 157, 100),
    uname: cString(b, 265, 32),
    gname: cString(b, 297, 32),
    devmajor: parseNumber(b, 329, 8),
    devminor: parseNumber(b, 337, 8),
    typeflag,
  };
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

async function readAll(src: ByteSource, size: number): Promise<Buffer> {
  if (size > 64 << 20) throw invalid('archive/tar: metadata header too large');
  const b = (await src.read(size)) ?? Buffer.alloc(0);
  if (b.length !== size) throw invalid('unexpected EOF');
  await src.skip(padding(size));
  return Buffer.from(b);
}

export interface ReadTarOptions {
  /** Read the input to its end after the end-of-archive marker (default true), so a
   *  digest computed over the input covers the trailing padding too. */
  drain?: boolean;
  /** Told which bytes are file bodies (to reproduce the archive later). */
  split?: TarSplitSink;
}

/** The entries of a tar stream (already decompressed). Metadata entries are folded in. */
export async function* readTar(
  source: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEntry> {
  const split = opts.split;
  const src = new ByteSource(source, split === undefined ? undefined : (b) => split.meta(b));
  const globalPax = new Map<string, string>();
  let pax: Map<string, string> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await src.read(BLOCK);
    if (block === undefined) break;
    if (block.every((v) => v === 0)) {
      // End of archive: one or two zero blocks.
      break;
    }
    const h = decodeHeader(block);
    if (h.typeflag === 'x' || h.typeflag === 'g') {
      const records = parsePax(await readAll(src, h.size));
      if (h.typeflag === 'g') for (const [k, v] of records) globalPax.set(k, v);
      else pax = records;
      continue;
    }
    if (h.typeflag === 'L' || h.typeflag === 'K') {
      const data = await readAll(src, h.size);
      const nul = data.indexOf(0);
      const text = (nul === -1 ? data : data.subarray(0, nul)).toString('utf8');
      if (h.typeflag === 'L') longName = text;
      else longLink = text;
      continue;
    }
    if (longName !== undefined) {
      if (h.type === 'file' && h.typeflag !== '7' && longName.endsWith('/')) h.type = 'directory';
      h.path = stripSlash(longName);
    }
    if (longLink !== undefined) h.linkpath = longLink;
    if (globalPax.size > 0) applyPax(h, globalPax);
    if (pax !== undefined) applyPax(h, pax);
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    // Links and directories carry no data whatever their size field says.
    const dataSize = h.type === 'hardlink' || h.type === 'symlink' || h.type === 'directory' ? 0 : h.size;
    let consumed = 0;
    let started = false;
    split?.entry(h);
    const body: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => {
        if (started) throw invalid('archive/tar: entry body read twice');
        started = true;
        const inner = src.stream(dataSize, split !== undefined);
        return {
          next: async (): Promise<IteratorResult<Buffer>> => {
            const r = await inner.next();
            if (r.done !== true) consumed += r.value.length;
            return r;
          },
        };
      },
    };
    yield { header: h, body };
    if (split !== undefined && started) {
      if (consumed === dataSize) split.body(h, dataSize);
      else split.broken();
    }
    await src.skip(dataSize - consumed + padding(dataSize));
  }
  if (opts.drain !== false) await src.drain();
}
