/**
 * `berth start`: starts each container and prints its name; with `-a`/`-i` it attaches
 * to one container first and streams it like `run` does, exiting with its status.
 */
import { err, out, type CommandContext } from '../../context.js';
import { CliError, describeError } from '../../errors.js';
import { runSession } from '../../hijack-stream.js';
import type { CommandSpec } from '../../registry.js';
import { isTerminal } from '../../terminal.js';
import { attachTo, beginWait, exitStatusOf, forwardSignals, inspectContainer, monitorTtySize } from './attach-helpers.js';
import { containerPath } from './wire.js';

async function startAttached(ctx: CommandContext): Promise<number> {
  if (ctx.args.length > 1) throw new CliError('you cannot start and attach multiple containers at once');
  const c = await inspectContainer(ctx.client, ctx.args[0]!);
  const tty = c.Config?.Tty ?? false;
  const autoRemove = c.HostConfig?.AutoRemove ?? false;
  const stdin = ctx.flags.bool('interactive') && (c.Config?.OpenStdin ?? false);
  const detachKeys = ctx.flags.string('detach-keys');
  const stopForwarding = tty ? (): void => {} : forwardSignals(ctx.client, c.Id);
  try {
    const connection = await attachTo(ctx.client, c.Id, { stdin, stdout: true, stderr: true, detachKeys });
    const wait = await beginWait(ctx.client, c.Id, autoRemove ? 'removed' : 'next-exit');
    try {
      try {
        await ctx.client.send('POST', containerPath(c.Id, '/start'));
      } catch (e: unknown) {
        connection.socket.destroy();
        if (autoRemove) await wait.outcome;
        throw e;
      }
      const stopResize = tty && isTerminal(ctx.io.stdout) ? monitorTtySize(ctx, { kind: 'container', id: c.Id }) : (): void => {};
      try {
        const end = await runSession({
          connection,
          ...(stdin ? { stdin: ctx.io.stdin } : {}),
          stdout: ctx.io.stdout,
          stderr: ctx.io.stderr,
          tty,
          detachKeys,
        });
        if (end === 'detached') return 0;
        return exitStatusOf(await wait.outcome, ctx.io);
      } finally {
        stopResize();
      }
    } finally {
      wait.cancel();
    }
  } finally {
    stopForwarding();
  }
}

async function run(ctx: CommandContext): Promise<number> {
  if (ctx.flags.bool('attach') || ctx.flags.bool('interactive')) return startAttached(ctx);
  const failed: string[] = [];
  for (const name of ctx.args) {
    try {
      await ctx.client.send('POST', containerPath(name, '/start'));
      out(ctx, `${name}\n`);
    } catch (e: unknown) {
      err(ctx, `${describeError(e)}\n`);
      failed.push(name);
    }
  }
  if (failed.length > 0) throw new CliError(`Error: failed to start containers: ${failed.join(', ')}`);
  return 0;
}

export const containerStart: CommandSpec = {
  path: ['container', 'start'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Start one or more stopped containers',
  flags: [
    { name: 'attach', short: 'a', type: 'bool', help: 'Attach STDOUT/STDERR and forward signals' },
    { name: 'detach-keys', type: 'string', help: 'Override the key sequence for detaching a container' },
    { name: 'interactive', short: 'i', type: 'bool', help: "Attach container's STDIN" },
  ],
  args: { min: 1 },
  run,
};
