/**
 * One container run's output on its way: conmon's spool is read as it grows, its pieces
 * made into Docker's messages, written to the container's log files (json-file, local
 * or the cache) and offered to its destination's queue; the spool position is saved
 * after each batch. The file write is awaited (it is what `docker logs` reads); the
 * destination never is. When the container exits, finish() takes the rest of the spool.
 */
import { LineAssembler } from './assembler.js';
import type { Delivery } from './delivery.js';
import type { FileSink } from './drivers/files.js';
import type { LogMessage } from './message.js';
import type { Spool, SpoolCursor } from './spool.js';

/** Ask conmon for a fresh spool once this much of the current one has been taken. */
const REOPEN_AFTER = 1 << 20;
/** Most bytes of spool read in one pass (a daemon back from a pause may find a lot). */
const PASS_BYTES = 4 << 20;
const IDLE_POLL_MS = 250;
/** A pass that found less than this waits a moment for more (fewer, bigger writes), unless someone waits for it. */
const SMALL_PASS = 64 * 1024;
const GATHER_MS = 10;
/** The position is saved at most this often while output flows (a crash then repeats at most that much). */
const SAVE_EVERY_MS = 200;

export interface ShipperParts {
  spool: Spool;
  sink: FileSink | null;
  delivery: Delivery | null;
  /** Ask conmon to start a fresh spool file (may fail once conmon is gone). */
  reopenSpool(): Promise<void>;
  warn(msg: string): void;
}

export class Shipper {
  private readonly assembler = new LineAssembler();
  private finishing = false;
  private stopping = false;
  private syncs: (() => void)[] = [];
  private reopenedFrom = -1;
  private saved: SpoolCursor | null = null;
  private savedAt = 0;
  private writeErrors = 0;
  private readonly done: Promise<void>;

  constructor(private readonly parts: ShipperParts) {
    this.done = this.run();
  }

  /** Resolves once everything conmon had written when it was called has been shipped. */
  async sync(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.syncs.push(resolve);
      this.parts.spool.wake();
    });
  }

  /** The container exited: ship the rest of the spool, close the files. The destination's queue drains on its own. */
  async finish(): Promise<void> {
    this.finishing = true;
    this.parts.spool.wake();
    await this.done;
  }

  /** The daemon is stopping: save the position and stop where it is (a restart resumes from there). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.parts.spool.wake();
    await this.done;
  }

  private async run(): Promise<void> {
    const { spool } = this.parts;
    try {
      await spool.resume();
      for (;;) {
        const last = this.finishing; // sampled first: conmon had written everything by then
        const waiting = this.syncs.splice(0);
        const entries = await spool.read(PASS_BYTES);
        const messages: LogMessage[] = [];
        for (const e of entries) this.assembler.push(e, messages);
        const more = spool.hasMore;
        if (last && !more) this.assembler.flush(messages);
        if (messages.length > 0) await this.ship(messages);
        if (entries.length === 0 || last || Date.now() - this.savedAt >= SAVE_EVERY_MS) await this.savePosition();
        if (this.stopping && !last) {
          await this.savePosition();
          await spool.close();
          return;
        }
        if (more) {
          this.syncs.unshift(...waiting);
          continue;
        }
        for (const w of waiting) w();
        if (last) {
          await spool.remove();
          return;
        }
        if (entries.length === 0) {
          await this.maybeReopen();
          await spool.changed(IDLE_POLL_MS);
        } else if (spool.lastReadBytes < SMALL_PASS) await spool.pause(GATHER_MS);
      }
    } catch (e: unknown) {
      this.parts.warn(`reading the container's output: ${(e as Error).message}`);
      await spool.close();
    } finally {
      for (const w of this.syncs.splice(0)) w();
      await this.parts.sink?.close().catch((e: unknown) => this.parts.warn(`closing the log file: ${(e as Error).message}`));
    }
  }

  private async ship(messages: LogMessage[]): Promise<void> {
    try {
      await this.parts.sink?.write(messages);
    } catch (e: unknown) {
      // A full disk: the messages are lost for `docker logs`; said once per hundred.
      if (this.writeErrors++ % 100 === 0) this.parts.warn(`writing the log file: ${(e as Error).message}`);
    }
    this.parts.delivery?.offer(messages);
  }

  /** What a restarted daemon resumes from: before any piece still held, else where reading stopped. */
  private async savePosition(): Promise<void> {
    const at = this.assembler.heldFrom() ?? this.parts.spool.here();
    if (this.saved && this.saved.ino === at.ino && this.saved.offset === at.offset) return;
    await this.parts.spool.save(at);
    this.saved = at;
    this.savedAt = Date.now();
  }

  /** Idle, all taken, nothing held: a fresh spool frees the disk the old one used. */
  private async maybeReopen(): Promise<void> {
    const { spool } = this.parts;
    const here = spool.here();
    if (spool.consumed < REOPEN_AFTER || this.assembler.heldFrom() || this.reopenedFrom === here.ino) return;
    this.reopenedFrom = here.ino;
    await this.parts.reopenSpool().catch(() => undefined);
  }
}
