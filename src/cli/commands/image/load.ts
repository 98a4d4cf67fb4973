/**
 * `berth load`: an image archive (`docker save` format) from a file or stdin,
 * `POST /images/load`; shows the daemon's progress and "Loaded image: …" lines.
 */
import { checkStatus, jsonLines } from '../../client.js';
import type { CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import { displayJsonMessages } from '../../progress.js';
import type { CommandSpec } from '../../registry.js';
import { copyOutput } from '../../stdcopy.js';
import { isTerminal } from '../../terminal.js';
import { openFile } from './import.js';

async function run(ctx: CommandContext): Promise<void> {
  const input = ctx.flags.string('input');
  if (input === '' && isTerminal(ctx.io.stdin)) throw new CliError('requested load from stdin, but stdin is empty');
  const body = input === '' ? ctx.io.stdin : await openFile(input);
  // Progress bars only make sense on a terminal; elsewhere docker asks for the quiet form.
  const quiet = ctx.flags.bool('quiet') || !isTerminal(ctx.io.stdout);
  const query = { quiet: quiet ? '1' : '0' };
  const res = await checkStatus(
    await ctx.client.request('POST', '/images/load', { query, body, headers: { 'Content-Type': 'application/x-tar' } }),
  );
  if (res.headers['content-type'] === 'application/json') {
    await displayJsonMessages(jsonLines(res), ctx.io.stdout, { terminal: isTerminal(ctx.io.stdout) });
  } else {
    await copyOutput(res, { stdout: ctx.io.stdout }, true);
  }
}

export const imageLoad: CommandSpec = {
  path: ['image', 'load'],
  usage: '[OPTIONS]',
  summary: 'Load an image from a tar archive or STDIN',
  flags: [
    { name: 'input', short: 'i', type: 'string', help: 'Read from tar archive file, instead of STDIN' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress the load output' },
  ],
  args: { max: 0 },
  run,
};
