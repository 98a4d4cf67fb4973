/**
 * `berth ps` / `container ls`: the container table with docker's columns and cell
 * formats — 12-character IDs, the command quoted and cut to 20 characters, CREATED as
 * "5 seconds ago", the daemon's STATUS, PORTS grouped into ranges, the main name.
 */
import { err, out, type CommandContext } from '../../context.js';
import { renderList, shortId, type ListFormat } from '../../format.js';
import { ellipsis, humanSize, localTimeString, quoteGo, timeAgo } from '../../../util/humanize.js';
import { filtersParam, validateFilter } from '../../opts.js';
import { tryParseImageRef, familiarName } from '../../reference.js';
import type { CommandSpec } from '../../registry.js';
import { LIST_FORMAT_FLAG, NO_TRUNC_FLAG } from '../common.js';
import { displayablePorts } from './ports.js';
import { isContainerSummary, type ContainerSummary } from './wire.js';

const TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
const RAW = `container_id: {{.ID}}
image: {{.Image}}
command: {{.Command}}
created_at: {{.CreatedAt}}
state: {{- pad .State 1 0}}
status: {{- pad .Status 1 0}}
names: {{.Names}}
labels: {{- pad .Labels 1 0}}
ports: {{- pad .Ports 1 0}}
`;

/** The `ps` format; `size` adds the SIZE column as `-s` does. */
export function containerFormat(size: boolean): ListFormat {
  return {
    table: size ? `${TABLE}\t{{.Size}}` : TABLE,
    raw: size ? `${RAW}size: {{.Size}}\n` : RAW,
    headers: {
      ID: 'CONTAINER ID',
      Names: 'NAMES',
      Image: 'IMAGE',
      Command: 'COMMAND',
      CreatedAt: 'CREATED AT',
      RunningFor: 'CREATED',
      Ports: 'PORTS',
      State: 'STATE',
      Status: 'STATUS',
      Size: 'SIZE',
      Labels: 'LABELS',
      Label: 'LABEL',
      Mounts: 'MOUNTS',
      LocalVolumes: 'LOCAL VOLUMES',
      Networks: 'NETWORKS',
      Platform: 'PLATFORM',
    },
    methods: ['Label'],
  };
}

/** What `--format` sees for one container: docker's ContainerContext fields (alphabetical, as its JSON is). */
export function containerRow(c: ContainerSummary, trunc: boolean, nowMs: number): object {
  const labels = c.Labels ?? {};
  const created = c.Created ?? 0;
  return {
    Command: quoteGo(trunc ? ellipsis(c.Command ?? '', 20) : (c.Command ?? '')),
    CreatedAt: localTimeString(created),
    ID: trunc ? shortId(c.Id) : c.Id,
    Image: imageColumn(c, trunc),
    Label: (name: unknown): string => labels[String(name)] ?? '',
    Labels: Object.keys(labels)
      .map((k) => `${k}=${labels[k] ?? ''}`)
      .sort()
      .join(','),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
    Mounts: (c.Mounts ?? [])
      .map((m) => (m.Name ? m.Name : (m.Source ?? '')))
      .map((name) => (trunc ? ellipsis(name, 15) : name))
      .join(','),
    Names: namesColumn(c.Names ?? [], trunc),
    Networks: Object.keys(c.NetworkSettings?.Networks ?? {})
      .sort()
      .join(','),
    Platform: null,
    Ports: displayablePorts(c.Ports ?? []),
    RunningFor: timeAgo(created, nowMs),
    Size: sizeColumn(c),
    State: c.State ?? '',
    Status: c.Status ?? '',
  };
}

/** Names without the leading slash; truncated, only the first that is not a link alias ("/web/db"). */
function namesColumn(names: readonly string[], trunc: boolean): string {
  const stripped = names.map((n) => n.slice(1));
  if (!trunc) return stripped.join(',');
  const own = stripped.find((n) => !n.includes('/'));
  return own !== undefined ? own : stripped.join(',');
}

/** The IMAGE column: a short ID when run by ID, else the familiar name (tag kept, digest dropped). */
function imageColumn(c: ContainerSummary, trunc: boolean): string {
  const image = c.Image ?? '';
  if (image === '') return '<no image>';
  if (!trunc) return image;
  if (shortId(c.ImageID ?? '') === shortId(image)) return shortId(image);
  const ref = tryParseImageRef(image);
  if (!ref) return image;
  return ref.tag !== undefined ? `${familiarName(ref)}:${ref.tag}` : familiarName(ref);
}

function sizeColumn(c: ContainerSummary): string {
  const rw = humanSize(c.SizeRw ?? 0, 3);
  return (c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(c.SizeRootFs ?? 0, 3)})` : rw;
}

async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  let format = flags.string('format');
  const quiet = flags.bool('quiet');
  if (format !== '' && quiet) {
    err(ctx, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    format = '';
  }
  let limit = flags.int('last');
  if (flags.bool('latest') && limit === -1) limit = 1;
  // docker asks for sizes when the template shows them.
  const size = flags.bool('size') || (!quiet && !flags.changed('size') && /\.Size\b/.test(format));
  const query = {
    all: flags.bool('all') || undefined,
    limit: limit > 0 ? limit : undefined,
    size: size || undefined,
    filters: filtersParam(flags.list('filter')),
  };
  const list = await ctx.client.json<unknown>('GET', '/containers/json', { query });
  const now = Date.now();
  const rows = (Array.isArray(list) ? list : []).filter(isContainerSummary).map((c) => containerRow(c, !flags.bool('no-trunc'), now));
  out(ctx, renderList(rows, format, quiet, containerFormat(size)));
}

export const containerLs: CommandSpec = {
  path: ['container', 'ls'],
  aliases: [
    ['container', 'list'],
    ['container', 'ps'],
  ],
  usage: '[OPTIONS]',
  summary: 'List containers',
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided', validate: validateFilter },
    LIST_FORMAT_FLAG,
    { name: 'last', short: 'n', type: 'int', default: -1, help: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', type: 'bool', help: 'Show the latest created container (includes all states)' },
    { ...NO_TRUNC_FLAG, help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only display container IDs' },
    { name: 'size', short: 's', type: 'bool', help: 'Display total file sizes' },
  ],
  args: { max: 0 },
  run,
};
