/**
 * A small tar writer: ustar headers, PAX records (or GNU `L`/`K`) for long names, GNU
 * base-256 for big numbers; archives in memory or as chunks for a stream.
 */
import { BLOCK, padding } from './tar.js';

export interface TarWriteEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch. */
  mtime?: number;
  linkpath?: string;
  /** A file's content, in memory; or give `size` and write the body yourself (fileChunks). */
  data?: Buffer;
  /** A file's size when its body is streamed after the header. */
  size?: number;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

export interface WriteTarOptions {
  /** How to store names longer than ustar allows: PAX records (default) or GNU `L`/`K`. */
  longNames?: 'pax' | 'gnu';
}

const TYPEFLAG: Record<TarWriteEntry['type'], string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  directory: '5',
  fifo: '6',
};

function writeString(b: Buffer, start: number, len: number, s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  bytes.copy(b, start, 0, Math.min(len, bytes.length));
}

function writeNumber(b: Buffer, start: number, len: number, v: number): void {
  const octal = Math.floor(v).toString(8);
  if (octal.length <= len - 1) {
    writeString(b, start, len, octal.padStart(len - 1, '0'));
    b[start + len - 1] = 0;
    return;
  }
  // GNU base-256 for values too big for the octal field.
  let rest = Math.floor(v);
  for (let i = start + len - 1; i > start; i--) {
    b[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  b[start] = 0x80;
}

function rawHeader(fields: {
  name: string;
  prefix?: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  writeString(b, 0, 100, fields.name);
  writeNumber(b, 100, 8, fields.mode);
  writeNumber(b, 108, 8, fields.uid);
  writeNumber(b, 116, 8, fields.gid);
  writeNumber(b, 124, 12, fields.size);
  writeNumber(b, 136, 12, fields.mtime);
  b.fill(0x20, 148, 156);
  b.write(fields.typeflag, 156, 'latin1');
  writeString(b, 157, 100, fields.linkname);
  b.write('ustar\x0000', 257, 'latin1');
  writeString(b, 265, 32, fields.uname);
  writeString(b, 297, 32, fields.gname);
  writeNumber(b, 329, 8, fields.devmajor ?? 0);
  writeNumber(b, 337, 8, fields.devminor ?? 0);
  writeString(b, 345, 155, fields.prefix ?? '');
  let sum = 0;
  for (const v of b) sum += v;
  writeString(b, 148, 7, sum.toString(8).padStart(6, '0') + '\0');
  return b;
}

/** ustar name/prefix split, or undefined when the path does not fit. */
function splitUstar(p: string): { name: string; prefix: string } | undefined {
  const len = Buffer.byteLength(p);
  if (len <= 100) return { name: p, prefix: '' };
  for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  return undefined;
}

/** "<len> key=value\n" where len counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let total = bodyLen + String(bodyLen).length;
  if (String(total).length !== String(bodyLen).length) total = bodyLen + String(total).length;
  return `${total}${body}`;
}

/** The zero bytes that pad a body of `size` bytes to a whole block. */
export function bodyPadding(size: number): Buffer {
  return Buffer.alloc(padding(size));
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(BLOCK * 2);

function dataBlocks(data: Buffer): Buffer[] {
  const pad = padding(data.length);
  return pad === 0 ? [data] : [data, Buffer.alloc(pad)];
}

/** The header block(s) for one entry, including any long-name records before it. */
export function encodeHeader(e: TarWriteEntry, opts: WriteTarOptions = {}): Buffer {
  const path = e.type === 'directory' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
  const linkpath = e.linkpath ?? '';
  const size = e.type === 'file' ? (e.data?.length ?? e.size ?? 0) : 0;
  const base = {
    mode: e.mode ?? (e.type === 'directory' ? 0o755 : 0o644),
    uid: e.uid ?? 0,
    gid: e.gid ?? 0,
    size,
    mtime: e.mtime ?? 0,
    typeflag: TYPEFLAG[e.type],
    uname: e.uname ?? '',
    gname: e.gname ?? '',
    devmajor: e.devmajor ?? 0,
    devminor: e.devminor ?? 0,
  };
  const out: Buffer[] = [];
  const split = splitUstar(path);
  const linkFits = Buffer.byteLength(linkpath) <= 100;
  if (opts.longNames === 'gnu') {
    const gnu = (flag: 'L' | 'K', text: string): void => {
      const data = Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]);
      out.push(rawHeader({ ...base, name: '././@LongLink', mode: 0o644, size: data.length, typeflag: flag, linkname: '', mtime: 0 }));
      out.push(...dataBlocks(data));
    };
    if (!linkFits) gnu('K', linkpath);
    if (Buffer.byteLength(path) > 100) gnu('L', path);
    out.push(rawHeader({ ...base, name: path, linkname: linkpath }));
    return Buffer.concat(out);
  }
  if (split === undefined || !linkFits) {
    let records = '';
    if (split === undefined) records += paxRecord('path', path);
    if (!linkFits) records += paxRecord('linkpath', linkpath);
    const data = Buffer.from(records, 'utf8');
    const paxName = `PaxHeaders.0/${path.replace(/\/$/, '').split('/').pop() ?? 'entry'}`.slice(0, 99);
    out.push(rawHeader({ ...base, name: paxName, size: data.length, typeflag: 'x', linkname: '' }));
    out.push(...dataBlocks(data));
  }
  const fitted = split ?? { name: path.slice(0, 100), prefix: '' };
  out.push(rawHeader({ ...base, name: fitted.name, prefix: fitted.prefix, linkname: linkFits ? linkpath : linkpath.slice(0, 100) }));
  return Buffer.concat(out);
}

/** A tar archive as a sequence of chunks (headers, data, padding, end marker). */
export function* tarChunks(entries: Iterable<TarWriteEntry>, opts: WriteTarOptions = {}): Generator<Buffer> {
  for (const e of entries) {
    yield encodeHeader(e, opts);
    if (e.type === 'file' && e.data !== undefined && e.data.length > 0) yield* dataBlocks(e.data);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** A whole tar archive in memory (small archives: synthesized layers, tests). */
export function packTar(entries: Iterable<TarWriteEntry>, opts: WriteTarOptions = {}): Buffer {
  return Buffer.concat([...tarChunks(entries, opts)]);
}
