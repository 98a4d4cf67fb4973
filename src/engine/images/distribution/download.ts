/**
 * One blob downloaded into a staging file, its sha256 and size checked as the bytes
 * arrive. A connection that breaks is tried again (resuming with a Range request when
 * the registry honours it) up to the daemon's attempts, with Docker's countdown; a
 * digest that does not match is an error at once and nothing is kept.
 */
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { systemError } from '../../../errors.js';
import { randomName } from '../fsutil.js';
import type { Repository } from './client.js';
import { RegistryError } from './errors.js';
import type { Descriptor } from './manifest.js';
import { Bar, update, type ProgressSink } from './progress.js';

export interface DownloadOptions {
  /** Where the staging file goes (the layer store's tmp/). */
  dir: string;
  sink: ProgressSink;
  /** The layer's short ID in progress messages. */
  id: string;
  maxAttempts: number;
  /** Seconds before retry n. */
  retryDelay: (attempt: number) => number;
  signal: AbortSignal;
}

/** Errors not worth another try (dockerd's retryOnError). */
function final(e: unknown): boolean {
  if (e instanceof RegistryError) return ['UNAUTHORIZED', 'UNSUPPORTED', 'DENIED', 'TOOMANYREQUESTS', 'NAME_UNKNOWN', 'BLOB_UNKNOWN'].includes(e.code);
  return e instanceof Error && (e.message.startsWith('error parsing HTTP') || e.message.includes('no space left on device'));
}

async function sleepSeconds(n: number, signal: AbortSignal, tick: (left: number) => void): Promise<void> {
  for (let left = n; left > 0; left--) {
    tick(left);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    if (signal.aborted) throw systemError('download cancelled during retry delay');
  }
}

/**
 * Bytes gathered before one write to the staging file: a socket gives at most 64 KiB at a
 * time, and a write per chunk (a promise and a thread-pool round trip each) cost more CPU
 * than the hashing; 1 MiB writes take a third less CPU per blob (bench/pull.ts).
 */
const WRITE_BATCH = 1 << 20;

/**
 * Received bytes not yet written, copied into one buffer kept for the whole download, so
 * the socket's chunks are garbage at once instead of being held until the batch is written.
 */
class PendingWrites {
  private readonly buf = Buffer.allocUnsafe(WRITE_BATCH);
  bytes = 0;
  /** A write failed: the file no longer holds what was hashed. */
  failed = false;

  constructor(private readonly fh: fs.FileHandle) {}

  /** Take `b`; when the buffer fills, it is written at `at` first. The file's new length. */
  async add(b: Buffer, at: number): Promise<number> {
    let end = at;
    for (let off = 0; off < b.length; ) {
      const n = b.copy(this.buf, this.bytes, off);
      this.bytes += n;
      off += n;
      if (this.bytes === this.buf.length) end = await this.flush(end);
    }
    return end;
  }

  /** Write what is pending at `at`; the file's new length. */
  async flush(at: number): Promise<number> {
    try {
      for (let off = 0; off < this.bytes; ) off += (await this.fh.write(this.buf, off, this.bytes - off, at + off)).bytesWritten;
    } catch (e: unknown) {
      this.failed = true;
      throw e;
    }
    const end = at + this.bytes;
    this.bytes = 0;
    return end;
  }
}

/** Download `blob` from `repo`; the staging file's path (the caller removes it). */
export async function downloadBlob(repo: Repository, blob: Descriptor, opts: DownloadOptions): Promise<string> {
  const file = path.join(opts.dir, `pull-${randomName()}`);
  const fh = await fs.open(file, 'w', 0o600);
  let hash: Hash = createHash('sha256');
  let got = 0;
  const pending = new PendingWrites(fh);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (opts.signal.aborted) throw systemError('download cancelled');
        const { res, partial } = await repo.blob(blob.digest, got);
        if (!partial && got > 0) {
          hash = createHash('sha256');
          got = 0;
          await fh.truncate(0);
        }
        const abort = (): void => void res.body.destroy(new Error('download cancelled'));
        opts.signal.addEventListener('abort', abort, { once: true });
        try {
          const bar = new Bar(opts.sink, opts.id, 'Downloading', blob.size);
          try {
            for await (const chunk of res.body) {
              const b = chunk as Buffer;
              hash.update(b);
              got = await pending.add(b, got);
              bar.at(got + pending.bytes);
            }
          } catch (e: unknown) {
            if (opts.signal.aborted || pending.failed) throw e;
            // What arrived before the break is good: kept, so a retry resumes after it.
            got = await pending.flush(got);
            // The connection broke mid-body (Go's io.ErrUnexpectedEOF).
            throw systemError(`read blob ${blob.digest} from ${repo.host}: unexpected EOF`);
          }
          got = await pending.flush(got);
        } finally {
          opts.signal.removeEventListener('abort', abort);
        }
        break;
      } catch (e: unknown) {
        // A failed write leaves the file behind the hash: no resuming from there.
        if (opts.signal.aborted || pending.failed || final(e) || attempt >= opts.maxAttempts) throw e;
        await sleepSeconds(opts.retryDelay(attempt), opts.signal, (left) => update(opts.sink, opts.id, `Retrying in ${left} second${left === 1 ? '' : 's'}`));
      }
    }
    update(opts.sink, opts.id, 'Verifying Checksum');
    if (`sha256:${hash.digest('hex')}` !== blob.digest || (blob.size >= 0 && got !== blob.size)) {
      throw systemError(`filesystem layer verification failed for digest ${blob.digest}`);
    }
    update(opts.sink, opts.id, 'Download complete');
    await fh.close();
    return file;
  } catch (e: unknown) {
    await fh.close().catch(() => undefined);
    await fs.rm(file, { force: true });
    throw e;
  }
}

/** A small blob (a config) in memory, checked against its digest; `what` words a mismatch. */
export async function fetchSmallBlob(repo: Repository, blob: Descriptor, what: string): Promise<Buffer> {
  const { res } = await repo.blob(blob.digest);
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  if (`sha256:${createHash('sha256').update(raw).digest('hex')}` !== blob.digest) throw systemError(`${what} verification failed for digest ${blob.digest}`);
  return raw;
}
