/** `berth volume create|ls|rm|inspect`. */
import { out, type CommandContext } from '../../context.js';
import { CliError, describeError } from '../../errors.js';
import { renderList, type ListFormat } from '../../format.js';
import { filtersParam, kvMap, validateFilter, validateLabel } from '../../opts.js';
import type { CommandSpec, GroupSpec } from '../../registry.js';
import { isRecord } from '../../../util/template/values.js';
import { LIST_FORMAT_FLAG, naturalCompare, objectFormatFlag } from '../common.js';
import { inspectAll } from '../container/inspect.js';

export const volumeGroup: GroupSpec = { path: ['volume'], summary: 'Manage volumes' };

/** An item of `GET /volumes` (`{"Volumes": [...]}`). */
interface Volume {
  readonly Name: string;
  readonly Driver?: string;
  readonly Scope?: string;
  readonly Mountpoint?: string;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly UsageData?: { readonly Size?: number; readonly RefCount?: number } | null;
}

function isVolume(v: unknown): v is Volume {
  return isRecord(v) && typeof v.Name === 'string';
}

const volumePath = (name: string): string => `/volumes/${encodeURIComponent(name)}`;

export const VOLUME_FORMAT: ListFormat = {
  table: 'table {{.Driver}}\t{{.Name}}',
  quiet: '{{.Name}}',
  raw: 'name: {{.Name}}\\ndriver: {{.Driver}}\\n',
  headers: {
    Name: 'VOLUME NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    Mountpoint: 'MOUNTPOINT',
    Labels: 'LABELS',
    Label: 'LABEL',
    Links: 'LINKS',
    Size: 'SIZE',
    Group: 'GROUP',
    Availability: 'AVAILABILITY',
    Status: 'STATUS',
  },
  methods: ['Label'],
};

/** What `--format` sees for one volume: docker's volumeContext fields. */
export function volumeRow(v: Volume): object {
  const labels = v.Labels ?? {};
  return {
    Availability: 'N/A',
    Driver: v.Driver ?? '',
    Group: 'N/A',
    Label: (name: unknown): string => labels[String(name)] ?? '',
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k] ?? ''}`)
      .join(','),
    Links: v.UsageData ? String(v.UsageData.RefCount ?? 0) : 'N/A',
    Mountpoint: v.Mountpoint ?? '',
    Name: v.Name,
    Scope: v.Scope ?? '',
    Size: v.UsageData ? String(v.UsageData.Size ?? 0) : 'N/A',
    Status: 'N/A',
  };
}

async function create(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  let name = flags.string('name');
  if (ctx.args[0] !== undefined) {
    if (name !== '') throw new CliError('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
    name = ctx.args[0];
  }
  const body = {
    ...(flags.string('driver') === '' ? {} : { Driver: flags.string('driver') }),
    ...(flags.list('opt').length === 0 ? {} : { DriverOpts: kvMap(flags.list('opt')) }),
    ...(flags.list('label').length === 0 ? {} : { Labels: kvMap(flags.list('label')) }),
    ...(name === '' ? {} : { Name: name }),
  };
  const vol = await ctx.client.json<unknown>('POST', '/volumes/create', { body });
  out(ctx, `${isVolume(vol) ? vol.Name : ''}\n`);
}

async function ls(ctx: CommandContext): Promise<void> {
  const res = await ctx.client.json<unknown>('GET', '/volumes', { query: { filters: filtersParam(ctx.flags.list('filter')) } });
  const list = isRecord(res) && Array.isArray(res.Volumes) ? res.Volumes.filter(isVolume) : [];
  list.sort((a, b) => naturalCompare(a.Name, b.Name));
  out(ctx, renderList(list.map(volumeRow), ctx.flags.string('format'), ctx.flags.bool('quiet'), VOLUME_FORMAT));
}

async function rm(ctx: CommandContext): Promise<void> {
  const errors: string[] = [];
  for (const name of ctx.args) {
    try {
      await ctx.client.send('DELETE', volumePath(name), { query: { force: ctx.flags.bool('force') || undefined } });
      out(ctx, `${name}\n`);
    } catch (e: unknown) {
      errors.push(describeError(e));
    }
  }
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

export const volumeCommands: readonly CommandSpec[] = [
  {
    path: ['volume', 'create'],
    usage: '[OPTIONS] [VOLUME]',
    summary: 'Create a volume',
    flags: [
      { name: 'driver', short: 'd', type: 'string', default: 'local', help: 'Specify volume driver name' },
      { name: 'label', type: 'list', help: 'Set metadata for a volume', validate: validateLabel },
      { name: 'name', type: 'string', help: 'Specify volume name', hidden: true },
      { name: 'opt', short: 'o', type: 'list', valueName: 'map', help: 'Set driver specific options' },
    ],
    args: { max: 1 },
    run: create,
  },
  {
    path: ['volume', 'inspect'],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    summary: 'Display detailed information on one or more volumes',
    flags: [objectFormatFlag('f')],
    args: { min: 1 },
    run: (ctx) => inspectAll(ctx, ctx.args, (name) => ctx.client.json('GET', volumePath(name))),
  },
  {
    path: ['volume', 'ls'],
    aliases: [['volume', 'list']],
    usage: '[OPTIONS]',
    summary: 'List volumes',
    flags: [
      { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Provide filter values (e.g. "dangling=true")', validate: validateFilter },
      LIST_FORMAT_FLAG,
      { name: 'quiet', short: 'q', type: 'bool', help: 'Only display volume names' },
    ],
    args: { max: 0 },
    run: ls,
  },
  {
    path: ['volume', 'rm'],
    aliases: [['volume', 'remove']],
    usage: '[OPTIONS] VOLUME [VOLUME...]',
    summary: 'Remove one or more volumes',
    description: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
    flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the removal of one or more volumes' }],
    args: { min: 1 },
    run: rm,
  },
];
