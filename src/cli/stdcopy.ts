/**
 * Docker's multiplexed stream (application/vnd.docker.multiplexed-stream), used by
 * attach, exec and logs when the container has no TTY: frames of an 8-byte header
 * `[stream, 0, 0, 0, size uint32 BE]` and `size` bytes of payload. stdin (0) frames are
 * shown on stdout, as docker's stdcopy does; stream 3 carries a daemon error.
 */

export type FrameStream = 'stdout' | 'stderr' | 'system';

export interface Frame {
  readonly stream: FrameStream;
  readonly payload: Buffer;
}

const HEADER = 8;
const TYPES: readonly FrameStream[] = ['stdout', 'stdout', 'stderr', 'system'];

/** Splits a byte stream into frames; feed it chunks as they arrive. */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  /** Returns the frames completed by `chunk`; throws on a header docker would reject. */
  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= HEADER) {
      const type = this.pending[0] ?? 0;
      const stream = TYPES[type];
      if (stream === undefined) throw new Error(`Unrecognized input header: ${type}`);
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < HEADER + size) break;
      frames.push({ stream, payload: this.pending.subarray(HEADER, HEADER + size) });
      this.pending = this.pending.subarray(HEADER + size);
    }
    return frames;
  }

  /** Bytes of an incomplete frame; docker drops them silently at the end of the stream. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** One frame as the daemon writes it (used by tests and fakes). */
export function encodeFrame(stream: 0 | 1 | 2 | 3, payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(HEADER);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

export interface OutputStreams {
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
}

/**
 * Copies a container's output: raw bytes to stdout when `raw` (a TTY), otherwise
 * demultiplexed frames to stdout/stderr (docker's stdcopy.StdCopy). A stream that is
 * not given is dropped. A daemon error frame rejects with its text. Waits for slow
 * destinations to drain.
 */
export async function copyOutput(source: AsyncIterable<unknown> | Iterable<unknown>, dest: OutputStreams, raw: boolean, head: Buffer = Buffer.alloc(0)): Promise<void> {
  const demux = raw ? undefined : new FrameDemuxer();
  const deliver = async (chunk: Buffer): Promise<void> => {
    if (!demux) {
      if (dest.stdout) await write(dest.stdout, chunk);
      return;
    }
    for (const frame of demux.push(chunk)) {
      if (frame.stream === 'system') throw new Error(frame.payload.toString('utf8'));
      const to = frame.stream === 'stdout' ? dest.stdout : dest.stderr;
      if (to) await write(to, frame.payload);
    }
  };
  if (head.length > 0) await deliver(head);
  for await (const chunk of source) await deliver(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
}

/** Writes and waits for the destination to drain when it asks to. */
async function write(dest: NodeJS.WritableStream, data: Buffer): Promise<void> {
  if (dest.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      dest.off('drain', done);
      dest.off('close', done);
      dest.off('error', done);
      resolve();
    };
    dest.on('drain', done);
    dest.on('close', done);
    dest.on('error', done);
  });
}
