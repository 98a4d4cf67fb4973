/**
 * `berth attach`: connects the terminal to a running container's main process and
 * exits with its status when it stops (or reports "read escape sequence" on detach).
 */
import type { CommandContext } from '../../context.js';
import { CliError, describeError } from '../../errors.js';
import { runSession } from '../../hijack-stream.js';
import type { CommandSpec } from '../../registry.js';
import { isTerminal } from '../../terminal.js';
import { attachTo, beginWait, checkTty, forwardSignals, inspectContainer, monitorTtySize } from './attach-helpers.js';
import type { ContainerInspect } from './wire.js';

async function runningContainer(ctx: CommandContext, ref: string): Promise<ContainerInspect> {
  const c = await inspectContainer(ctx.client, ref);
  if (!c.State?.Running) throw new CliError('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new CliError('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new CliError('You cannot attach to a restarting container, wait until it is running');
  return c;
}

async function run(ctx: CommandContext): Promise<number> {
  const ref = ctx.args[0]!;
  const wait = await beginWait(ctx.client, ref);
  try {
    const c = await runningContainer(ctx, ref);
    const tty = c.Config?.Tty ?? false;
    const noStdin = ctx.flags.bool('no-stdin');
    checkTty(ctx.io, !noStdin, tty);
    const stdin = !noStdin && (c.Config?.OpenStdin ?? false);
    const detachKeys = ctx.flags.string('detach-keys');
    const stopForwarding = ctx.flags.bool('sig-proxy') && !tty ? forwardSignals(ctx.client, ref) : (): void => {};
    try {
      const connection = await attachTo(ctx.client, ref, { stdin, stdout: true, stderr: true, detachKeys });
      try {
        await runningContainer(ctx, ref);
      } catch (e: unknown) {
        connection.socket.destroy();
        throw e;
      }
      const stopResize = tty && isTerminal(ctx.io.stdout) ? monitorTtySize(ctx, { kind: 'container', id: ref }, { nudge: true }) : (): void => {};
      try {
        const end = await runSession({ connection, ...(stdin ? { stdin: ctx.io.stdin } : {}), stdout: ctx.io.stdout, stderr: ctx.io.stderr, tty, detachKeys });
        if (end === 'detached') throw new CliError('read escape sequence');
      } finally {
        stopResize();
      }
    } finally {
      stopForwarding();
    }
    const outcome = await wait.outcome;
    if (outcome.kind === 'failed') throw new CliError(describeError(outcome.error));
    if (outcome.error !== undefined) throw new CliError(outcome.error);
    return outcome.status;
  } finally {
    wait.cancel();
  }
}

export const containerAttach: CommandSpec = {
  path: ['container', 'attach'],
  usage: '[OPTIONS] CONTAINER',
  summary: 'Attach local standard input, output, and error streams to a running container',
  flags: [
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { name: 'no-stdin', type: 'bool', help: 'Do not attach STDIN' },
    { name: 'sig-proxy', type: 'bool', default: true, help: 'Proxy all received signals to the process' },
  ],
  args: { min: 1, max: 1 },
  run,
};
