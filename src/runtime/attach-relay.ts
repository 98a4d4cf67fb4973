/**
 * A byte-stream bridge to conmon's attach socket.
 *
 * Why a relay: conmon serves attach on an AF_UNIX SOCK_SEQPACKET socket, each packet
 * from conmon being one byte naming the stream (2 stdout, 3 stderr) followed by the
 * data, and each packet to conmon being stdin bytes (read(2) of at most 32 KiB; an
 * orderly shutdown closes the container's stdin). Node cannot open SEQPACKET sockets.
 * The alternatives were worse: following the log file gives output but no stdin and no
 * pty input; receiving a pty fd over SCM_RIGHTS needs native code; socat/python are not
 * guaranteed on the host. Perl is (perl-base is Essential in Debian and ships Socket),
 * so a 40-line Perl loop converts the socket into a framed stream on its stdout:
 *
 *   frame := u32be length, packet        (first frame: length 0 = connected)
 *
 * and copies its own stdin into packets when asked to. It exits when conmon closes the
 * socket (the process exited) or when we kill it (detach).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BerthError } from '../errors.js';
import { guardStdio } from '../util/streams.js';
import { libexecPath } from '../util/libexec.js';


/** Stream ids conmon puts in front of each output packet. */
export const STDOUT_PACKET = 2;
export const STDERR_PACKET = 3;

export type Frame = { kind: 'connected' } | { kind: 'data'; stream: 'stdout' | 'stderr'; data: Buffer };

/** Splits the relay's stdout into frames. Pure; fed chunk by chunk. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + len) break;
      const packet = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      if (len === 0) frames.push({ kind: 'connected' });
      else if (packet[0] === STDOUT_PACKET || packet[0] === STDERR_PACKET) {
        const stream = packet[0] === STDOUT_PACKET ? 'stdout' : 'stderr';
        frames.push({ kind: 'data', stream, data: Buffer.from(packet.subarray(1)) });
      }
    }
    return frames;
  }
}

export interface Relay {
  child: ChildProcess;
  decoder: FrameDecoder;
}

/**
 * Start the relay on `<dir>/<name>` (connecting relative to dir, so long paths work)
 * and resolve once it is connected. With forwardStdin the relay's stdin becomes the
 * process's stdin. Rejects with Conflict when nobody listens (the process has exited).
 */
export async function startRelay(dir: string, name: string, forwardStdin: boolean): Promise<Relay & { early: Frame[] }> {
  const child = spawn('perl', [libexecPath('attach-relay.pl'), dir, name, forwardStdin ? 'stdin' : 'none'], {
    stdio: [forwardStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  guardStdio(child);
  const decoder = new FrameDecoder();
  return new Promise((resolve, reject) => {
    let stderr = '';
    const early: Frame[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => (stderr += s));
    const onData = (chunk: Buffer): void => {
      const frames = decoder.push(chunk);
      const i = frames.findIndex((f) => f.kind === 'connected');
      if (i < 0) return;
      child.stdout?.off('data', onData);
      child.stdout?.pause();
      child.off('close', onClose);
      early.push(...frames.slice(i + 1));
      resolve({ child, decoder, early });
    };
    const onClose = (): void => {
      const why = stderr.trim() || 'relay exited';
      const refused = /connect .*(Connection refused|No such file or directory)/.test(why);
      reject(new BerthError(refused ? 'Conflict' : 'System', refused ? 'container is not running' : `attach: ${why}`));
    };
    child.on('error', (e: Error) => reject(new BerthError('Unavailable', `attach needs perl: ${e.message}`)));
    child.stdout?.on('data', onData);
    child.once('close', onClose);
  });
}
