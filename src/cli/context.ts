/**
 * What a command handler gets: its parsed flags and arguments, the API client and the
 * standard streams. Handlers write through `io` (never `process.*`) so tests can run
 * them against in-memory streams.
 */
import type { ParsedFlags } from './args.js';
import type { ApiClient } from './client.js';

export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
}

export interface CommandContext {
  readonly flags: ParsedFlags;
  /** Positional arguments after the command words and flags. */
  readonly args: readonly string[];
  /** "berth network ls", for messages. */
  readonly commandPath: string;
  readonly client: ApiClient;
  readonly io: CliIO;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Global `-D/--debug`. */
  readonly debug: boolean;
}

export function out(ctx: { readonly io: CliIO }, text: string): void {
  ctx.io.stdout.write(text);
}

export function err(ctx: { readonly io: CliIO }, text: string): void {
  ctx.io.stderr.write(text);
}

/**
 * Docker's confirmation prompt: prints `message [y/N] ` and reads one line; only "y"
 * or "Y" is a yes. End of input is a no.
 */
export async function confirm(io: CliIO, message: string): Promise<boolean> {
  io.stdout.write(`${message} [y/N] `);
  const line = await readLine(io.stdin);
  const answer = line.trim();
  return answer === 'y' || answer === 'Y';
}

async function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const finish = (): void => {
      stream.off('data', onData);
      stream.off('end', finish);
      stream.off('error', finish);
      stream.pause();
      resolve(buf);
    };
    const onData = (chunk: Buffer | string): void => {
      buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        buf = buf.slice(0, nl);
        finish();
      }
    };
    stream.on('data', onData);
    stream.on('end', finish);
    stream.on('error', finish);
    stream.resume();
  });
}
