/**
 * `berth container inspect` and the top-level `berth inspect`, which tries each object
 * type in docker's order (container, image, network, volume) unless `--type` names one.
 */
import { err, out, type CommandContext } from '../../context.js';
import { CliError, DaemonError, describeError, StatusError } from '../../errors.js';
import { renderInspect } from '../../format.js';
import type { CommandSpec } from '../../registry.js';
import { objectFormatFlag } from '../common.js';
import { imagePath } from '../image/wire.js';
import { containerPath } from './wire.js';

/** One object's raw JSON, fetched by name or ID. */
export type Fetch = (ref: string) => Promise<unknown>;

/**
 * inspect.Inspect: prints the found objects (a JSON array, or the template per object),
 * then every failure, and exits 1 if there was any.
 */
export async function inspectAll(ctx: CommandContext, refs: readonly string[], fetch: Fetch): Promise<void> {
  const found: unknown[] = [];
  const failures: string[] = [];
  for (const ref of refs) {
    try {
      found.push(await fetch(ref));
    } catch (e: unknown) {
      failures.push(describeError(e));
    }
  }
  out(ctx, renderInspect(found, ctx.flags.string('format')));
  if (failures.length > 0) {
    err(ctx, `${failures.join('\n')}\n`);
    throw new StatusError(1);
  }
}

export const FETCHERS = {
  container: (ctx: CommandContext, size: boolean): Fetch => (ref) => ctx.client.json('GET', containerPath(ref, '/json'), { query: { size: size || undefined } }),
  image: (ctx: CommandContext): Fetch => (ref) => ctx.client.json('GET', imagePath(ref, '/json')),
  network: (ctx: CommandContext): Fetch => (ref) => ctx.client.json('GET', `/networks/${encodeURIComponent(ref)}`),
  volume: (ctx: CommandContext): Fetch => (ref) => ctx.client.json('GET', `/volumes/${encodeURIComponent(ref)}`),
} as const;

const ALL_TYPES = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];
type Kind = keyof typeof FETCHERS;
const KINDS: readonly Kind[] = ['container', 'image', 'network', 'volume'];

/** isErrSkippable: try the next type after a 404 or an unsupported reference. */
function skippable(e: unknown): boolean {
  if (e instanceof DaemonError && e.statusCode === 404) return true;
  const m = describeError(e);
  return m.includes('not supported') || m.includes('invalid reference format');
}

async function inspectAny(ctx: CommandContext): Promise<void> {
  const type = ctx.flags.string('type');
  if (ctx.flags.changed('type') && type === '') throw new CliError(`type is empty: must be one of "${ALL_TYPES.join('", "')}"`);
  if (type !== '' && !ALL_TYPES.includes(type)) throw new CliError(`unknown type: ${JSON.stringify(type)}: must be one of "${ALL_TYPES.join('", "')}"`);
  const size = ctx.flags.bool('size');
  const kinds = KINDS.filter((k) => type === '' || k === type);
  await inspectAll(ctx, ctx.args, async (ref) => {
    for (const kind of kinds) {
      try {
        const v = kind === 'container' ? await FETCHERS.container(ctx, size)(ref) : await FETCHERS[kind](ctx)(ref);
        if (size && kind !== 'container') err(ctx, `WARNING: --size ignored for ${kind}\n`);
        return v;
      } catch (e: unknown) {
        if (type === '' && skippable(e)) continue;
        throw e;
      }
    }
    throw new CliError(`Error: No such object: ${ref}`);
  });
}

export const containerInspect: CommandSpec = {
  path: ['container', 'inspect'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Display detailed information on one or more containers',
  flags: [objectFormatFlag('f'), { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' }],
  args: { min: 1 },
  run: (ctx) => inspectAll(ctx, ctx.args, FETCHERS.container(ctx, ctx.flags.bool('size'))),
};

export const inspect: CommandSpec = {
  path: ['inspect'],
  usage: '[OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on Docker objects',
  flags: [
    objectFormatFlag('f'),
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes if the type is container' },
    { name: 'type', type: 'string', help: 'Only inspect objects of the given type' },
  ],
  args: { min: 1 },
  run: inspectAny,
};
