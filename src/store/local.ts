/**
 * The embedded store: an append-only log on local disk.
 *
 * Layout under <dir>:
 *   berth.db      one transaction per line: "<crc32 hex8> <json [[key, value|null], …]>\n"
 *                 (null deletes the key); the first line may be a full snapshot.
 *   berth.db.tmp  a compaction in progress (renamed over berth.db when complete).
 *
 * A commit is one line, written and fdatasync'ed before it resolves, so it is atomic
 * and durable; a torn last line (crash mid-write) fails its checksum and is cut off at
 * the next open. Commits that arrive while a flush is on the disk go out together in
 * the next one (group commit), in the order they were made, and the write and sync run
 * off the event loop: a synchronous fdatasync under load took 16 s of the daemon's
 * time while 1000 containers started. The whole model lives in memory (a commit shows
 * there once durable); the log is compacted when it grows past a few times the live data.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Json, KvStore, Op } from './kv.js';
import { messageOf, systemError } from '../errors.js';
import { promisify } from 'node:util';

const write = promisify(fs.write);
const fdatasync = promisify(fs.fdatasync);

interface Queued {
  line: string;
  entries: [string, Json | null][];
  resolve: () => void;
  reject: (e: unknown) => void;
}

const FILE = 'berth.db';
const COMPACT_MIN_BYTES = 1 << 20;

function encodeLine(entries: [string, Json | null][]): string {
  const body = JSON.stringify(entries);
  return `${crc32(body).toString(16).padStart(8, '0')} ${body}\n`;
}

function decodeLine(line: string): [string, Json | null][] | undefined {
  const sp = line.indexOf(' ');
  if (sp !== 8) return undefined;
  const body = line.slice(9);
  if (crc32(body).toString(16).padStart(8, '0') !== line.slice(0, 8)) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return Array.isArray(parsed) ? (parsed as [string, Json | null][]) : undefined;
  } catch {
    return undefined;
  }
}

export class LocalStore implements KvStore {
  private readonly data = new Map<string, Json>();
  private fd: number;
  private logBytes = 0;
  /** Size of the live data when last measured: compaction is considered again only at 4x it. */
  private liveBytes = 0;
  /** Commits waiting for the next flush, in order. */
  private queue: Queued[] = [];
  /** The flush on the disk now, if any. */
  private flushing: Promise<void> | undefined;

  private constructor(private readonly file: string) {
    this.fd = -1;
  }

  static open(dir: string): LocalStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new LocalStore(path.join(dir, FILE));
    store.replay();
    return store;
  }

  private replay(): void {
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    let good = 0;
    for (const line of text.split('\n')) {
      if (line === '') break;
      const entries = decodeLine(line);
      if (!entries) break; // a torn tail: everything after it never committed
      for (const [k, v] of entries) this.apply(k, v);
      good += Buffer.byteLength(line) + 1;
    }
    this.fd = fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    if (good !== Buffer.byteLength(text)) fs.ftruncateSync(this.fd, good);
    this.logBytes = good;
  }

  private apply(key: string, value: Json | null): void {
    if (value === null) this.data.delete(key);
    else this.data.set(key, value);
  }

  async list(prefix: string): Promise<Map<string, Json>> {
    const out = new Map<string, Json>();
    for (const [k, v] of this.data) if (k.startsWith(prefix)) out.set(k, structuredClone(v));
    return out;
  }

  async get(key: string): Promise<Json | undefined> {
    const v = this.data.get(key);
    return v === undefined ? undefined : structuredClone(v);
  }

  async commit(ops: readonly Op[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    if (this.fd < 0) return Promise.reject(systemError('store is closed'));
    const entries: [string, Json | null][] = ops.map((op) => ('put' in op ? [op.put, op.value] : [op.del, null]));
    const line = encodeLine(entries);
    return new Promise((resolve, reject) => {
      this.queue.push({ line, entries, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Write and sync the queued commits, a batch at a time, until none are left. */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const bytes = Buffer.from(batch.map((q) => q.line).join(''));
      try {
        let done = 0;
        while (done < bytes.length) done += (await write(this.fd, bytes, done, bytes.length - done, this.logBytes + done)).bytesWritten;
        await fdatasync(this.fd);
      } catch (e: unknown) {
        // The log must end at the last durable commit: cut off whatever part did get written.
        try {
          fs.ftruncateSync(this.fd, this.logBytes);
        } catch {
          /* the next open's checksum drops a torn tail anyway */
        }
        const failure = systemError(`store: cannot write ${this.file}: ${messageOf(e)}`);
        for (const q of batch) q.reject(failure);
        continue;
      }
      this.logBytes += bytes.length;
      for (const q of batch) for (const [k, v] of q.entries) this.apply(k, v);
      if (this.logBytes > Math.max(COMPACT_MIN_BYTES, 4 * this.liveBytes)) this.maybeCompact();
      for (const q of batch) q.resolve();
    }
    this.flushing = undefined;
  }

  /** Rewrite the log as one snapshot line when most of it is history. */
  private maybeCompact(): void {
    const snapshot = encodeLine([...this.data.entries()]);
    this.liveBytes = Buffer.byteLength(snapshot);
    if (this.logBytes < 4 * this.liveBytes) return;
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, snapshot);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    syncDir(path.dirname(this.file));
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, fs.constants.O_RDWR);
    this.logBytes = Buffer.byteLength(snapshot);
  }

  async close(): Promise<void> {
    await this.flushing;
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Make a rename durable: fsync the folder that holds the file. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
