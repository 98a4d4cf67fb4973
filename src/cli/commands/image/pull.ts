/** `berth pull` and the pull that `create`/`run` do for a missing image. */
import { Writable } from 'node:stream';
import type { ApiClient } from '../../client.js';
import { out, type CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import { displayJsonMessages } from '../../progress.js';
import { parseImageRef, pullQuery, withDefaultTag, type ImageRef } from '../../reference.js';
import type { CommandSpec } from '../../registry.js';
import { isTerminal, ttySize } from '../../terminal.js';

/** base64url("{}"): the empty registry credentials docker sends without a login. */
const NO_AUTH = 'e30=';

export interface PullRequest {
  readonly fromImage: string;
  /** Tag or digest; absent for `--all-tags`. */
  readonly tag?: string;
  readonly platform?: string;
}

/**
 * `POST /images/create?fromImage=…&tag=…`, its progress shown on `display` (nothing
 * shown when undefined). Rejects with the daemon's error or the stream's error message.
 */
export async function pullImage(client: ApiClient, req: PullRequest, display: NodeJS.WritableStream | undefined): Promise<void> {
  const query = { fromImage: req.fromImage, tag: req.tag, platform: req.platform || undefined };
  const messages = client.jsonStream('POST', '/images/create', { query, headers: { 'X-Registry-Auth': NO_AUTH } });
  const sink = display ?? new Writable({ write: (_c, _e, cb) => cb() });
  const width = ttySize(sink).width;
  await displayJsonMessages(messages, sink, { terminal: isTerminal(sink), ...(width > 0 ? { width } : {}) });
}

/** reference.Named.String(): `docker.io/library/busybox:latest`. */
export function fullString(ref: ImageRef): string {
  let s = `${ref.domain}/${ref.path}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

async function run(ctx: CommandContext): Promise<void> {
  const all = ctx.flags.bool('all-tags');
  const quiet = ctx.flags.bool('quiet');
  let ref = parseImageRef(ctx.args[0]!);
  const nameOnly = ref.tag === undefined && ref.digest === undefined;
  if (all && !nameOnly) throw new CliError("tag can't be used with --all-tags/-a");
  if (!all && nameOnly) {
    ref = withDefaultTag(ref);
    if (!quiet) out(ctx, `Using default tag: ${ref.tag ?? 'latest'}\n`);
  }
  const query = pullQuery(ref);
  const platform = ctx.flags.string('platform');
  await pullImage(ctx.client, { fromImage: query.fromImage, ...(all ? {} : { tag: query.tag }), platform }, quiet ? undefined : ctx.io.stdout);
  out(ctx, `${fullString(ref)}\n`);
}

export const imagePull: CommandSpec = {
  path: ['image', 'pull'],
  usage: '[OPTIONS] NAME[:TAG|@DIGEST]',
  summary: 'Download an image from a registry',
  flags: [
    { name: 'all-tags', short: 'a', type: 'bool', help: 'Download all tagged images in the repository' },
    { name: 'platform', type: 'string', help: 'Set platform if server is multi-platform capable' },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Suppress verbose output' },
  ],
  args: { min: 1, max: 1 },
  run,
};

/** Progress of a pull that `create`/`run` start, on stderr so stdout keeps only the ID. */
export async function pullForCreate(ctx: CommandContext, ref: ImageRef, opts: { quiet: boolean; platform: string }): Promise<void> {
  const query = pullQuery(ref);
  await pullImage(ctx.client, { ...query, platform: opts.platform }, opts.quiet ? undefined : ctx.io.stderr);
}
