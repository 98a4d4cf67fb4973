/**
 * The pieces `run`, `start -a`, `attach` and `exec` put together around a hijacked
 * session: the wait request (sent before start, answered at exit), the attach
 * connection, keeping the container's TTY the size of the user's terminal, and
 * forwarding the CLI's signals to the container.
 */
import { checkStatus, readAll, type ApiClient, type Hijacked } from '../../client.js';
import type { CliIO, CommandContext } from '../../context.js';
import { CliError, describeError } from '../../errors.js';
import { isTerminal, onResize, ttySize } from '../../terminal.js';
import { containerPath, isContainerInspect, isWaitResponse, type ContainerInspect } from './wire.js';

export type WaitCondition = 'next-exit' | 'removed' | 'not-running';

/** How a wait ended: the container's exit (maybe with the daemon's error), or a failed request. */
export type WaitOutcome =
  | { readonly kind: 'exited'; readonly status: number; readonly error?: string }
  | { readonly kind: 'failed'; readonly error: unknown };

export interface PendingWait {
  /** Never rejects. */
  readonly outcome: Promise<WaitOutcome>;
  /** Drops the request (detached, or nobody needs the status any more). Idempotent. */
  cancel(): void;
}

/**
 * Sends `POST /containers/{id}/wait` and resolves once the daemon has answered with
 * headers, so a following start cannot race past it; the body arrives at exit.
 */
export async function beginWait(client: ApiClient, id: string, condition?: WaitCondition): Promise<PendingWait> {
  const abort = new AbortController();
  const cancel = (): void => abort.abort();
  try {
    const res = await checkStatus(await client.request('POST', containerPath(id, '/wait'), { query: { condition }, signal: abort.signal }));
    const outcome = readAll(res).then(
      (bytes): WaitOutcome => {
        const parsed: unknown = JSON.parse(bytes.toString('utf8'));
        if (!isWaitResponse(parsed)) return { kind: 'failed', error: new Error(`unexpected wait response: ${bytes.toString('utf8')}`) };
        const message = parsed.Error?.Message;
        return message ? { kind: 'exited', status: parsed.StatusCode, error: message } : { kind: 'exited', status: parsed.StatusCode };
      },
      (e: unknown): WaitOutcome => ({ kind: 'failed', error: e }),
    );
    return { outcome, cancel };
  } catch (e: unknown) {
    return { outcome: Promise.resolve({ kind: 'failed', error: e }), cancel };
  }
}

/** The exit status `run` and `start -a` report: 125 (with a note on stderr) when waiting failed. */
export function exitStatusOf(outcome: WaitOutcome, io: CliIO): number {
  if (outcome.kind === 'failed') {
    io.stderr.write(`error waiting for container: ${describeError(outcome.error)}\n`);
    return 125;
  }
  if (outcome.error !== undefined) {
    io.stderr.write(`Error waiting for container: ${outcome.error}\n`);
    return 125;
  }
  return outcome.status;
}

export interface AttachStreams {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly detachKeys?: string;
}

/** `POST /containers/{id}/attach?stream=1&…` upgraded to a raw connection. */
export async function attachTo(client: ApiClient, id: string, s: AttachStreams): Promise<Hijacked> {
  const query = {
    stream: true,
    stdin: s.stdin || undefined,
    stdout: s.stdout || undefined,
    stderr: s.stderr || undefined,
    detachKeys: s.detachKeys || undefined,
  };
  return client.hijack('POST', containerPath(id, '/attach'), { query, headers: { 'Content-Type': 'text/plain' } });
}

/** In.CheckTty: `-t` with stdin attached needs stdin to be a terminal. */
export function checkTty(io: CliIO, attachStdin: boolean, tty: boolean): void {
  if (tty && attachStdin && !isTerminal(io.stdin)) throw new CliError('the input device is not a TTY');
}

export async function inspectContainer(client: ApiClient, nameOrId: string): Promise<ContainerInspect> {
  const c = await client.json<unknown>('GET', containerPath(nameOrId, '/json'));
  if (!isContainerInspect(c)) throw new Error(`unexpected answer inspecting container ${nameOrId}`);
  return c;
}

/** Which TTY to resize: a container's or an exec's. */
export type TtyTarget = { readonly kind: 'container' | 'exec'; readonly id: string };

function resizePath(t: TtyTarget): string {
  return t.kind === 'exec' ? `/exec/${encodeURIComponent(t.id)}/resize` : containerPath(t.id, '/resize');
}

async function resizeTo(client: ApiClient, target: TtyTarget, height: number, width: number): Promise<void> {
  if (height === 0 && width === 0) return;
  await client.send('POST', resizePath(target), { query: { h: height, w: width } });
}

/**
 * MonitorTtySize: sets the remote TTY to the terminal's size now (retrying a few times,
 * as the process may not have its TTY yet) and again on every SIGWINCH. Returns the
 * function that stops watching.
 */
export function monitorTtySize(ctx: CommandContext, target: TtyTarget, opts: { nudge?: boolean } = {}): () => void {
  const { stdout, stderr } = ctx.io;
  let stopped = false;
  const resize = (): Promise<void> => {
    const { height, width } = ttySize(stdout);
    return resizeTo(ctx.client, target, height, width);
  };
  const initial = async (): Promise<void> => {
    if (opts.nudge) {
      // docker attach: a different size first makes the shell redraw its prompt.
      const { height, width } = ttySize(stdout);
      await resizeTo(ctx.client, target, height + 1, width + 1).catch(() => undefined);
    }
    for (let attempt = 0; attempt <= 10 && !stopped; attempt++) {
      try {
        await resize();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, (attempt + 1) * 10));
      }
    }
    if (!stopped) stderr.write('failed to resize tty, using default size\n');
  };
  void initial();
  const unsubscribe = onResize(stdout, () => void resize().catch(() => undefined));
  return () => {
    stopped = true;
    unsubscribe();
  };
}

/** Signals the CLI passes on to the container while attached (docker's --sig-proxy). */
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

/** ForwardAllSignals: each signal becomes `POST /containers/{id}/kill?signal=NAME`. Returns the undo. */
export function forwardSignals(client: ApiClient, id: string): () => void {
  const handlers = FORWARDED.map((sig) => {
    const handler = (): void => {
      client.send('POST', containerPath(id, '/kill'), { query: { signal: sig.slice(3) } }).catch(() => undefined);
    };
    process.on(sig, handler);
    return { sig, handler };
  });
  return () => {
    for (const { sig, handler } of handlers) process.off(sig, handler);
  };
}
