/**
 * Streams of archive bytes: sniff the compression by magic bytes and undo gzip; count
 * and hash what passes through. zstd goes through Debian's zstd.
 */
import { spawn } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { invalid, isBerthError, messageOf } from '../../errors.js';

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

export function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return 'none';
}

function toBuffer(v: Buffer | Uint8Array | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * The uncompressed bytes of `source`: plain tar passes through, gzip and zstd are
 * inflated; bzip2/xz are refused with an InvalidParameter error naming the format.
 */
export async function* decompress(source: AsyncIterable<Buffer | Uint8Array | string>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 6) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    const b = toBuffer(r.value);
    head.push(b);
    headLen += b.length;
  }
  const kind = sniffCompression(Buffer.concat(head));
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield toBuffer(r.value);
    }
  };
  if (kind === 'none') {
    yield* rest();
    return;
  }
  if (kind === 'zstd') {
    yield* unzstd(rest());
    return;
  }
  if (kind !== 'gzip') throw invalid(`unsupported archive compression: ${kind}`);
  // 256 KiB out at a time instead of zlib's 16 KiB: every chunk passes the hash, the tar
  // reader and a file write, each a promise or more (bench/pull.ts: half the CPU per layer).
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  pipeline(Readable.from(rest()), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e: unknown) {
    if (isBerthError(e)) throw e;
    throw invalid(`gzip: ${messageOf(e)}`);
  } finally {
    gunzip.destroy();
  }
}

/**
 * zstd through Debian's `zstd` (Node 20's zlib has none), a streaming filter: it is
 * spawned directly, as its output is read as it comes (kernel/exec's run() collects
 * output whole).
 */
async function* unzstd(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const child = spawn('zstd', ['-dcq'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let failure: Error | undefined;
  let stderr = '';
  child.on('error', (e: NodeJS.ErrnoException) => {
    failure = e.code === 'ENOENT' ? invalid('unsupported archive compression: zstd (install the Debian package zstd)') : e;
  });
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  pipeline(Readable.from(source), child.stdin, (e) => {
    if (e && !failure && (e as NodeJS.ErrnoException).code !== 'EPIPE') failure = e;
  });
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    const code = await closed;
    if (failure !== undefined) throw failure;
    if (code !== 0) throw invalid(`zstd: ${stderr.trim() || `exit status ${code}`}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Passes chunks through, feeding a hash and a byte counter on the way. */
export class Tap {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(private readonly onBytes?: (total: number) => void) {}

  async *wrap(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      this.onBytes?.(this.bytes);
      yield chunk;
    }
  }

  /** "sha256:<hex>" of everything that passed. Call once, after the stream ended. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}
