/**
 * Writing a log file with Docker's rotation (loggerutils.LogFile): before an entry is
 * written, a file that has reached max-size is rotated — <path>.N-1 → <path>.N … <path>
 * → <path>.1 (with max-file 1 it is simply started afresh) — and with compress the new
 * <path>.1 is gzipped in the background; the next rotation waits for that.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { LogTime } from '../message.js';
import { compressRotated } from './gzip.js';
import type { LogFileSet } from './file-set.js';

export interface RotationPolicy {
  /** Bytes a file may reach before the next entry starts a new one; -1: no limit. */
  maxSize: number;
  /** Files kept, the current one included (1: no rotated files). */
  maxFiles: number;
  /** gzip rotated files. */
  compress: boolean;
}

export interface EncodedEntry {
  /** Text is made into bytes once per write, many entries together. */
  bytes: Buffer | string;
  time: LogTime;
}

export class RotatingWriter {
  private compressing: Promise<void> = Promise.resolve();
  private lastTime: LogTime | null = null;

  private constructor(
    private readonly set: LogFileSet,
    private readonly policy: RotationPolicy,
    private fh: FileHandle,
    private size: number,
    private readonly warn: (msg: string) => void,
  ) {}

  static async open(set: LogFileSet, policy: RotationPolicy, warn: (msg: string) => void): Promise<RotatingWriter> {
    const fh = await open(set.path, 'a', 0o640);
    const { size } = await fh.stat();
    set.setLive(true);
    return new RotatingWriter(set, policy, fh, size, warn);
  }

  /** Append the entries, rotating where the policy says; wakes the followers. */
  async write(entries: readonly EncodedEntry[]): Promise<void> {
    const { maxSize } = this.policy;
    let chunk: (Buffer | string)[] = [];
    let chunkLen = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      await this.fh.writev(toBuffers(chunk));
      this.size += chunkLen;
      chunk = [];
      chunkLen = 0;
    };
    for (const e of entries) {
      if (maxSize !== -1 && this.size + chunkLen >= maxSize) {
        await flush();
        await this.rotate();
      }
      chunk.push(e.bytes);
      chunkLen += typeof e.bytes === 'string' ? Buffer.byteLength(e.bytes) : e.bytes.length;
      this.lastTime = e.time;
    }
    await flush();
    this.set.notify();
  }

  /** Close the file; waits for a compression under way. Followers then finish. */
  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await this.compressing;
    this.set.setLive(false);
  }

  private async rotate(): Promise<void> {
    await this.compressing;
    const { maxFiles, compress } = this.policy;
    const path = this.set.path;
    await this.set.fsLock.run(async () => {
      await this.fh.close();
      try {
        if (maxFiles < 2) await rm(path, { force: true });
        else {
          const ext = compress ? '.gz' : '';
          await rm(`${path}.${maxFiles - 1}${ext}`, { force: true });
          for (let i = maxFiles - 1; i > 1; i--) await renameIfThere(`${path}.${i - 1}${ext}`, `${path}.${i}${ext}`);
          await renameIfThere(path, `${path}.1`);
        }
      } catch (e: unknown) {
        this.warn(`rotating ${path}: ${(e as Error).message}; log data may have been lost`);
      }
      // Truncate anyway, in case the rotation did not work out.
      this.fh = await open(path, 'w', 0o640);
      this.size = 0;
    });
    this.set.notify();
    if (compress && maxFiles >= 2) {
      this.compressing = compressRotated(`${path}.1`, this.lastTime).catch((e: unknown) =>
        this.warn(`compressing ${path}.1 after rotation: ${(e as Error).message}`),
      );
    }
  }
}

/** Runs of text joined into one buffer each. */
function toBuffers(chunk: readonly (Buffer | string)[]): Buffer[] {
  const out: Buffer[] = [];
  let text: string[] = [];
  for (const c of chunk) {
    if (typeof c === 'string') text.push(c);
    else {
      if (text.length > 0) out.push(Buffer.from(text.join(''), 'utf8'));
      text = [];
      out.push(c);
    }
  }
  if (text.length > 0) out.push(Buffer.from(text.join(''), 'utf8'));
  return out;
}

async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
