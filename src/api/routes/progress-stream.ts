/** Docker's JSON progress stream on a response (pull, push, load, import). */
import type { ServerResponse } from 'node:http';
import { messageOf } from '../../errors.js';

/** A JSON progress stream (one object per line); errors after the first line go in-band. */
export class ProgressStream {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  send(msg: Record<string, unknown>): void {
    if (!this.started) {
      this.res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.44' });
      this.started = true;
    }
    this.res.write(JSON.stringify(msg) + '\n');
  }

  /** An error: as an HTTP error when nothing was sent yet, else in the stream. */
  fail(e: unknown): void {
    if (!this.started) throw e;
    this.sendError(e);
  }

  /** An error in the stream, whatever was sent before (dockerd's streamformatter.FormatError). */
  sendError(e: unknown): void {
    this.send({ errorDetail: { message: messageOf(e) }, error: messageOf(e) });
  }

  /** Ends the stream; `placeholder` is sent when nothing was (pull's empty status). */
  end(placeholder: Record<string, unknown> | undefined = { status: '' }): void {
    if (!this.started && placeholder !== undefined) this.send(placeholder);
    if (!this.started) this.res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.44' });
    this.res.end();
  }
}
