/**
 * Compressing a rotated log file as Docker does: a gzip member whose header carries,
 * in its FEXTRA field, the JSON {"lastTime": <time of the file's last entry>}, so a
 * reader asked for `--since` can skip the file without inflating it. Node's gzip
 * cannot write that field, so the member is framed here around a raw deflate stream.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { crc32, createDeflateRaw } from 'node:zlib';
import { parseRfc3339, rfc3339Nano, type LogTime } from '../message.js';

/** The member's header: magic, deflate, FEXTRA, no mtime, Go's XFL for the default level, OS unknown. */
function header(extra: Buffer): Buffer {
  const h = Buffer.from([0x1f, 0x8b, 8, 0x04, 0, 0, 0, 0, 0, 255, 0, 0]);
  h.writeUInt16LE(extra.length, 10);
  return Buffer.concat([h, extra]);
}

/** Compress `file` into `file.gz` (0640), then remove `file`. On failure the .gz goes and `file` stays. */
export async function compressRotated(file: string, lastTime: LogTime | null): Promise<void> {
  const gz = `${file}.gz`;
  const tmp = `${gz}.tmp`;
  const extra = Buffer.from(JSON.stringify({ lastTime: lastTime ? rfc3339Nano(lastTime) : '0001-01-01T00:00:00Z' }));
  let crc = 0;
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _enc, done) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const frame = new Transform({
    transform(chunk: Buffer, _enc, done) {
      done(null, chunk);
    },
    flush(done) {
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc >>> 0, 0);
      trailer.writeUInt32LE(size >>> 0, 4);
      done(null, trailer);
    },
  });
  frame.push(header(extra));
  try {
    await pipeline(createReadStream(file), measure, createDeflateRaw(), frame, createWriteStream(tmp, { mode: 0o640 }));
    await rename(tmp, gz);
    await rm(file, { force: true });
  } catch (e: unknown) {
    await rm(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // rotated away meanwhile
    throw e;
  }
}

/** The lastTime a compressed file's header carries; null when it has none. */
export async function gzipLastTime(file: string): Promise<LogTime | null> {
  let fh;
  try {
    fh = await open(file, 'r');
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead < 12 || buf[0] !== 0x1f || buf[1] !== 0x8b || (buf[3]! & 0x04) === 0) return null;
    const len = buf.readUInt16LE(10);
    if (12 + len > bytesRead) return null;
    const meta = JSON.parse(buf.toString('utf8', 12, 12 + len)) as { lastTime?: unknown };
    return typeof meta.lastTime === 'string' ? parseRfc3339(meta.lastTime) : null;
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}
