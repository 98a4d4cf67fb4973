/**
 * A layer's archive, byte for byte, without keeping it: while a layer is extracted, the
 * bytes that are not file bodies (headers, padding, the end) are recorded in order, and
 * each file body as a reference to the extracted file. Writing the records back with
 * the files' contents gives the archive whose digest is the layer's diff-id, which
 * `docker save` must deliver (a loader checks it). Docker keeps the same thing (tar-split).
 *
 * File format, a sequence of records:
 *   'M' u32 length, the bytes           metadata, verbatim
 *   'F' u32 length, the path (utf8),    a file body: that many bytes of the extracted
 *       u64 size                        file at the path (relative to the layer root)
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { systemError } from '../../errors.js';
import { safeRelative } from './extract.js';
import type { TarHeader, TarSplitSink } from './tar.js';

const FLUSH_AT = 1 << 20;

/** Collects the records of one archive as it is read (readTar's split option). */
export class TarSplitRecorder implements TarSplitSink {
  private readonly records: Buffer[] = [];
  private meta_: Buffer[] = [];
  private metaLength = 0;
  private readonly bodies = new Set<string>();
  private ok = true;
  /** Bytes of the whole archive. */
  size = 0;

  entry(header: TarHeader): void {
    // A later entry at a path whose body was kept replaces that file on disk.
    if (this.bodies.has(normalized(header.path))) this.ok = false;
  }

  meta(bytes: Buffer): void {
    this.meta_.push(Buffer.from(bytes));
    this.metaLength += bytes.length;
    this.size += bytes.length;
    if (this.metaLength >= FLUSH_AT) this.flushMeta();
  }

  body(header: TarHeader, size: number): void {
    this.flushMeta();
    const rel = normalized(header.path);
    this.bodies.add(rel);
    const p = Buffer.from(rel, 'utf8');
    const head = Buffer.alloc(5);
    head.write('F', 0, 'latin1');
    head.writeUInt32BE(p.length, 1);
    const tail = Buffer.alloc(8);
    tail.writeBigUInt64BE(BigInt(size));
    this.records.push(head, p, tail);
    this.size += size;
  }

  broken(): void {
    this.ok = false;
  }

  /** Whether the archive can be reproduced from the extracted files. */
  get reproducible(): boolean {
    return this.ok;
  }

  private flushMeta(): void {
    if (this.metaLength === 0) return;
    const head = Buffer.alloc(5);
    head.write('M', 0, 'latin1');
    head.writeUInt32BE(this.metaLength, 1);
    this.records.push(head, ...this.meta_);
    this.meta_ = [];
    this.metaLength = 0;
  }

  /** The records as the file stores them. */
  encode(): Buffer {
    this.flushMeta();
    return Buffer.concat(this.records);
  }
}

function normalized(p: string): string {
  try {
    return safeRelative(p);
  } catch {
    return p;
  }
}

const CHUNK = 1 << 16;

/**
 * The archive again: the records of `splitFile` with the bodies read from the files
 * under `root`. A file whose size changed fails the stream (the layer was altered).
 */
export async function* reproduceArchive(splitFile: string, root: string): AsyncGenerator<Buffer> {
  const data = await fs.readFile(splitFile);
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > data.length) throw systemError(`layer archive record ${splitFile} is truncated`);
  };
  while (pos < data.length) {
    need(5);
    const kind = String.fromCharCode(data[pos] ?? 0);
    const len = data.readUInt32BE(pos + 1);
    pos += 5;
    need(len);
    if (kind === 'M') {
      yield data.subarray(pos, pos + len);
      pos += len;
      continue;
    }
    if (kind !== 'F') throw systemError(`layer archive record ${splitFile} is corrupt`);
    const rel = data.subarray(pos, pos + len).toString('utf8');
    pos += len;
    need(8);
    const size = Number(data.readBigUInt64BE(pos));
    pos += 8;
    yield* fileBody(path.join(root, safeRelative(rel)), size);
  }
}

async function* fileBody(file: string, size: number): AsyncGenerator<Buffer> {
  const fh = await fs.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.alloc(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) throw systemError(`layer file ${file} is shorter than its archive entry`);
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
