/**
 * `berth run`: docker's call sequence — create (pulling a missing image), attach unless
 * detached, wait (`next-exit`, or `removed` with --rm) sent before start, start, then
 * stream until the container's output ends; the exit status is the container's.
 * Failures before the container runs exit 125 (126/127 when its command cannot run)
 * with "berth: …" and a pointer to `berth run --help`.
 */
import { out, type CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import type { Hijacked } from '../../client.js';
import { runSession, type SessionEnd } from '../../hijack-stream.js';
import type { CommandSpec } from '../../registry.js';
import { isTerminal } from '../../terminal.js';
import { attachTo, beginWait, checkTty, exitStatusOf, forwardSignals, monitorTtySize } from './attach-helpers.js';
import type { CreateBody } from './config.js';
import { createContainer, prepareCreate, runFailure } from './create.js';
import { CONTAINER_FLAGS, CREATE_FLAGS } from './flags.js';
import { containerPath } from './wire.js';

async function run(ctx: CommandContext): Promise<number> {
  const { body, options } = prepareCreate(ctx, 'run');
  const detach = ctx.flags.bool('detach');
  if (!detach) {
    checkTty(ctx.io, body.AttachStdin, body.Tty);
  } else {
    if (ctx.flags.list('attach').length > 0) throw new CliError('conflicting options: cannot specify both --attach and --detach');
    body.AttachStdin = false;
    body.AttachStdout = false;
    body.AttachStderr = false;
    body.StdinOnce = false;
  }
  let id: string;
  try {
    id = await createContainer(ctx, body, options);
  } catch (e: unknown) {
    throw runFailure(e);
  }
  const stopForwarding = ctx.flags.bool('sig-proxy') ? forwardSignals(ctx.client, id) : (): void => {};
  try {
    return await startAndStream(ctx, id, body);
  } finally {
    stopForwarding();
  }
}

async function startAndStream(ctx: CommandContext, id: string, body: CreateBody): Promise<number> {
  const attached = body.AttachStdin || body.AttachStdout || body.AttachStderr;
  const detachKeys = ctx.flags.string('detach-keys');
  let connection: Hijacked | undefined;
  if (attached) {
    connection = await attachTo(ctx.client, id, { stdin: body.AttachStdin, stdout: body.AttachStdout, stderr: body.AttachStderr, detachKeys });
  }
  const wait = await beginWait(ctx.client, id, body.HostConfig.AutoRemove ? 'removed' : 'next-exit');
  try {
    await ctx.client.send('POST', containerPath(id, '/start'));
  } catch (e: unknown) {
    connection?.socket.destroy();
    // With --rm, docker waits until the daemon has removed the container.
    if (body.HostConfig.AutoRemove) await wait.outcome;
    wait.cancel();
    throw runFailure(e);
  }
  if (!connection) {
    wait.cancel();
    out(ctx, `${id}\n`);
    return 0;
  }
  const stopResize = body.Tty && isTerminal(ctx.io.stdout) ? monitorTtySize(ctx, { kind: 'container', id }) : (): void => {};
  const abort = new AbortController();
  try {
    const session = runSession({
      connection,
      ...(body.AttachStdin ? { stdin: ctx.io.stdin } : {}),
      ...(body.AttachStdout ? { stdout: ctx.io.stdout } : {}),
      ...(body.AttachStderr ? { stderr: body.Tty ? ctx.io.stdout : ctx.io.stderr } : {}),
      tty: body.Tty,
      detachKeys,
      signal: abort.signal,
    });
    const first = await Promise.race([
      session.then((end: SessionEnd) => ({ kind: 'session' as const, end })),
      wait.outcome.then((outcome) => ({ kind: 'exit' as const, outcome })),
    ]);
    if (first.kind === 'session') {
      if (first.end === 'detached') return 0;
      return exitStatusOf(await wait.outcome, ctx.io);
    }
    // The container is gone; keep copying its output unless none was attached.
    if (!body.AttachStdout && !body.AttachStderr) abort.abort();
    await session.catch(() => undefined);
    return exitStatusOf(first.outcome, ctx.io);
  } finally {
    stopResize();
    wait.cancel();
  }
}

export const containerRun: CommandSpec = {
  path: ['container', 'run'],
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create and run a new container from an image',
  flags: [
    ...CONTAINER_FLAGS,
    ...CREATE_FLAGS,
    { name: 'detach', short: 'd', type: 'bool', help: 'Run container in background and print container ID' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { name: 'sig-proxy', type: 'bool', default: true, help: 'Proxy received signals to the process' },
  ],
  args: { min: 1 },
  interspersed: false,
  run,
};
