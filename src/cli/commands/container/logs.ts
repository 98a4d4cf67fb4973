/**
 * `berth logs`: the container's log stream, stdout and stderr to their own streams
 * (demultiplexed), or copied raw when the container has a TTY (`Config.Tty`).
 */
import { checkStatus } from '../../client.js';
import type { CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import type { CommandSpec } from '../../registry.js';
import { copyOutput } from '../../stdcopy.js';
import { getTimestamp } from '../../timestamps.js';
import { inspectContainer } from './attach-helpers.js';
import { containerPath } from './wire.js';

async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const c = await inspectContainer(ctx.client, ctx.args[0]!);
  const now = Date.now();
  const time = (v: string): string | undefined => {
    if (v === '') return undefined;
    try {
      return getTimestamp(v, now);
    } catch (e: unknown) {
      throw new CliError(e instanceof Error ? e.message : String(e));
    }
  };
  const query = {
    stdout: true,
    stderr: true,
    since: time(flags.string('since')),
    timestamps: flags.bool('timestamps') || undefined,
    details: flags.bool('details') || undefined,
    follow: flags.bool('follow') || undefined,
    tail: flags.string('tail'),
    until: time(flags.string('until')),
  };
  const res = await checkStatus(await ctx.client.request('GET', containerPath(c.Id, '/logs'), { query }));
  await copyOutput(res, { stdout: ctx.io.stdout, stderr: ctx.io.stderr }, c.Config?.Tty ?? false);
}

export const containerLogs: CommandSpec = {
  path: ['container', 'logs'],
  usage: '[OPTIONS] CONTAINER',
  summary: 'Fetch the logs of a container',
  flags: [
    { name: 'details', type: 'bool', help: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', type: 'bool', help: 'Follow log output' },
    { name: 'since', type: 'string', help: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
    { name: 'tail', short: 'n', type: 'string', default: 'all', help: 'Number of lines to show from the end of the logs' },
    { name: 'timestamps', short: 't', type: 'bool', help: 'Show timestamps' },
    { name: 'until', type: 'string', help: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)' },
  ],
  args: { min: 1, max: 1 },
  run,
};
