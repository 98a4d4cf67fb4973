/**
 * `berth create`, and what `run` shares with it: building the request from the flags
 * (errors exit 125 with a pointer to the help), `POST /containers/create` with a pull
 * when the image is missing (`--pull missing`, the default) or always (`--pull always`),
 * and the create warnings on stderr.
 */
import { readFileSync } from 'node:fs';
import type { ApiClient } from '../../client.js';
import { err, out, type CommandContext } from '../../context.js';
import { DaemonError, describeError, StatusError } from '../../errors.js';
import { familiarString, isImageId, parseImageRef, withDefaultTag, type ImageRef } from '../../reference.js';
import type { CommandSpec } from '../../registry.js';
import { ttySize } from '../../terminal.js';
import { pullForCreate } from '../image/pull.js';
import { buildCreateBody, type CreateBody } from './config.js';
import { CONTAINER_FLAGS, CREATE_FLAGS, readContainerOptions } from './flags.js';
import { isIP } from 'node:net';

/** docker's withHelp: the message, then where to read about the flags. */
export function withHelp(message: string, command: string): string {
  return `berth: ${message}\n\nRun 'berth ${command} --help' for more information`;
}

/** A create or start failure of `run`: 127 when the command is missing, 126 when it cannot run, else 125. */
export function runFailure(e: unknown): StatusError {
  const message = describeError(e);
  let status = 125;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(message)) status = 127;
  else if (/permission denied|is a directory/.test(message)) status = 126;
  return new StatusError(status, withHelp(message, 'run'));
}

export type PullPolicy = 'always' | 'missing' | 'never';

export interface CreateOptions {
  readonly name: string;
  readonly pull: PullPolicy;
  readonly quiet: boolean;
  readonly platform: string;
}

/** Reads the create flags into a request body and options; bad input exits 125 with help. */
export function prepareCreate(ctx: CommandContext, command: 'run' | 'create'): { body: CreateBody; options: CreateOptions } {
  const pull = ctx.flags.string('pull');
  try {
    if (!['always', 'missing', 'never', ''].includes(pull)) {
      throw new Error(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
    }
    const size = ttySize(ctx.io.stdout);
    const body = buildCreateBody(readContainerOptions(ctx.flags, ctx.args), {
      lookupEnv: (name) => ctx.env[name],
      readFile: (path) => readFileSync(path, 'utf8'),
      cwd: process.cwd(),
      consoleSize: [size.height, size.width],
    });
    const options = {
      name: ctx.flags.string('name'),
      pull: (pull === '' ? 'missing' : pull) as PullPolicy,
      quiet: ctx.flags.bool('quiet'),
      platform: ctx.flags.string('platform'),
    };
    return { body, options };
  } catch (e: unknown) {
    throw new StatusError(125, withHelp(describeError(e), command));
  }
}

/**
 * Creates the container and returns its ID. A 404 from the daemon (no such image) pulls
 * the image and tries once more, printing "Unable to find image … locally" first.
 */
export async function createContainer(ctx: CommandContext, body: CreateBody, opts: CreateOptions): Promise<string> {
  // ParseAnyReference: an image ID is not a name and is never pulled.
  const named: ImageRef | undefined = isImageId(body.Image) ? undefined : withDefaultTag(parseImageRef(body.Image));
  const pull = async (ref: ImageRef): Promise<void> => pullForCreate(ctx, ref, { quiet: opts.quiet, platform: opts.platform });
  if (opts.pull === 'always' && named) await pull(named);
  let id: string;
  let warnings: string[];
  try {
    ({ id, warnings } = await postCreate(ctx.client, body, opts));
  } catch (e: unknown) {
    if (!(e instanceof DaemonError && e.statusCode === 404 && named && opts.pull === 'missing')) throw e;
    if (!opts.quiet) err(ctx, `Unable to find image '${familiarString(named)}' locally\n`);
    await pull(named);
    ({ id, warnings } = await postCreate(ctx.client, body, opts));
  }
  const dnsWarning = localhostDnsWarning(body.HostConfig.Dns);
  for (const w of dnsWarning ? [...warnings, dnsWarning] : warnings) err(ctx, `WARNING: ${w}\n`);
  return id;
}

async function postCreate(client: ApiClient, body: CreateBody, opts: CreateOptions): Promise<{ id: string; warnings: string[] }> {
  const query = { platform: opts.platform || undefined, name: opts.name || undefined };
  const res = await client.json<{ Id?: unknown; Warnings?: unknown }>('POST', '/containers/create', { query, body });
  const warnings = Array.isArray(res?.Warnings) ? res.Warnings.map(String) : [];
  return { id: typeof res?.Id === 'string' ? res.Id : '', warnings };
}

/** docker warns when a --dns server is a loopback address. */
function localhostDnsWarning(dns: readonly string[]): string | undefined {
  const loopback = dns.find((ip) => (isIP(ip) === 4 && ip.startsWith('127.')) || ip === '::1');
  return loopback === undefined ? undefined : `Localhost DNS (${loopback}) may fail in containers.`;
}

async function run(ctx: CommandContext): Promise<void> {
  const { body, options } = prepareCreate(ctx, 'create');
  out(ctx, `${await createContainer(ctx, body, options)}\n`);
}

export const containerCreate: CommandSpec = {
  path: ['container', 'create'],
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  summary: 'Create a new container',
  flags: [...CONTAINER_FLAGS, ...CREATE_FLAGS],
  args: { min: 1 },
  interspersed: false,
  run,
};
