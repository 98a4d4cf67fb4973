/**
 * `berth import`: a filesystem tarball (a file, `-` for stdin, or a URL the daemon
 * fetches) into a new image, `POST /images/create?fromSrc=…`; prints the progress
 * stream, which ends with the new image's ID.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import { displayJsonMessages } from '../../progress.js';
import { parseImageRef } from '../../reference.js';
import type { CommandSpec } from '../../registry.js';
import { isTerminal } from '../../terminal.js';
import { osErrorText } from '../../kvfile.js';

/** Opens a file for upload, reporting a missing file as Go's os.Open does. */
export async function openFile(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e: unknown) => reject(new CliError(`open ${path}: ${osErrorText(e)}`)));
  });
  return stream;
}

async function run(ctx: CommandContext): Promise<void> {
  const [source, repo] = ctx.args as [string, string | undefined];
  if (repo !== undefined && repo !== '') parseImageRef(repo);
  let body: Readable | NodeJS.ReadableStream | undefined;
  let fromSrc = '-';
  if (source === '-') body = ctx.io.stdin;
  else if (/^https?:\/\//.test(source)) fromSrc = source;
  else body = await openFile(source);
  const query = {
    fromSrc,
    repo: repo || undefined,
    message: ctx.flags.string('message') || undefined,
    platform: ctx.flags.string('platform').toLowerCase() || undefined,
    changes: ctx.flags.list('change'),
  };
  const messages = ctx.client.jsonStream('POST', '/images/create', { query, ...(body === undefined ? {} : { body }) });
  await displayJsonMessages(messages, ctx.io.stdout, { terminal: isTerminal(ctx.io.stdout) });
}

export const imageImport: CommandSpec = {
  path: ['image', 'import'],
  usage: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
  summary: 'Import the contents from a tarball to create a filesystem image',
  flags: [
    { name: 'change', short: 'c', type: 'list', help: 'Apply Dockerfile instruction to the created image' },
    { name: 'message', short: 'm', type: 'string', help: 'Set commit message for imported image' },
    { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
  ],
  args: { min: 1, max: 2 },
  run,
};
