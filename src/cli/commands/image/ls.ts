/**
 * `berth images` / `image ls`: one row per repository and tag of each image (docker's
 * imageFormat), `<none>` for dangling images, digests with --digests.
 */
import { err, out, type CommandContext } from '../../context.js';
import { renderList, shortId, type ListFormat } from '../../format.js';
import { humanSize, localTimeString, timeAgo } from '../../../util/humanize.js';
import { filtersParam, validateFilter } from '../../opts.js';
import { familiarName, tryParseImageRef } from '../../reference.js';
import type { CommandSpec } from '../../registry.js';
import { LIST_FORMAT_FLAG, NO_TRUNC_FLAG } from '../common.js';
import { isImageSummary, type ImageSummary } from './wire.js';

const TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const TABLE_DIGEST = 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const RAW = 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
const RAW_DIGEST = 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';

export function imageFormat(digests: boolean): ListFormat {
  return {
    table: digests ? TABLE_DIGEST : TABLE,
    raw: digests ? RAW_DIGEST : RAW,
    headers: {
      ID: 'IMAGE ID',
      Repository: 'REPOSITORY',
      Tag: 'TAG',
      Digest: 'DIGEST',
      CreatedSince: 'CREATED',
      CreatedAt: 'CREATED AT',
      Size: 'SIZE',
      Containers: 'CONTAINERS',
      VirtualSize: 'SIZE',
      SharedSize: 'SHARED SIZE',
      UniqueSize: 'UNIQUE SIZE',
    },
  };
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

export interface ImageRowOptions {
  readonly trunc: boolean;
  /** --digests: a row per digest, and untagged digests listed. */
  readonly digests: boolean;
  /** The format shows digests (--digests or `{{.Digest}}` in it). */
  readonly needDigest: boolean;
  readonly now: number;
}

/** The rows of one image (imageFormatTaggedAndDigest). */
export function imageRows(img: ImageSummary, o: ImageRowOptions): object[] {
  const row = (repo: string, tag: string, digest: string): object => imageRow(img, o, repo, tag, digest);
  if (isDangling(img)) return [row('<none>', '<none>', '<none>')];
  const tags = new Map<string, string[]>();
  const digests = new Map<string, string[]>();
  for (const s of img.RepoTags ?? []) {
    const ref = tryParseImageRef(s);
    if (ref?.tag !== undefined) push(tags, familiarName(ref), ref.tag);
  }
  for (const s of img.RepoDigests ?? []) {
    const ref = tryParseImageRef(s);
    if (ref?.digest !== undefined) push(digests, familiarName(ref), ref.digest);
  }
  const rows: object[] = [];
  for (const [repo, repoTags] of tags) {
    const ds = o.needDigest ? (digests.get(repo) ?? []) : [];
    digests.delete(repo);
    for (const tag of repoTags) {
      if (ds.length === 0) rows.push(row(repo, tag, '<none>'));
      else for (const d of ds) rows.push(row(repo, tag, d));
    }
  }
  for (const [repo, ds] of digests) {
    if (o.digests) for (const d of ds) rows.push(row(repo, '<none>', d));
    else rows.push(row(repo, '<none>', ''));
  }
  return rows;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function imageRow(img: ImageSummary, o: ImageRowOptions, repo: string, tag: string, digest: string): object {
  const size = img.Size ?? 0;
  const shared = img.SharedSize ?? -1;
  const containers = img.Containers ?? -1;
  return {
    Containers: containers === -1 ? 'N/A' : String(containers),
    CreatedAt: localTimeString(img.Created ?? 0),
    CreatedSince: timeAgo(img.Created ?? 0, o.now),
    Digest: digest,
    ID: o.trunc ? shortId(img.Id) : img.Id,
    Repository: repo,
    SharedSize: shared === -1 ? 'N/A' : humanSize(shared),
    Size: humanSize(size, 3),
    Tag: tag,
    UniqueSize: size === -1 || shared === -1 ? 'N/A' : humanSize(size - shared),
    VirtualSize: humanSize(size),
  };
}

const AMBIGUOUS = ['build', 'history', 'import', 'inspect', 'list', 'load', 'ls', 'prune', 'pull', 'push', 'rm', 'save', 'tag'];

async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const match = ctx.args[0];
  const filters = [...flags.list('filter'), ...(match === undefined ? [] : [`reference=${match}`])];
  const list = await ctx.client.json<unknown>('GET', '/images/json', { query: { all: flags.bool('all') || undefined, filters: filtersParam(filters) } });
  const images = (Array.isArray(list) ? list : []).filter(isImageSummary);
  const digests = flags.bool('digests');
  let format = flags.string('format');
  if (format.startsWith('table') && format !== 'table' && digests && !format.includes('{{.Digest}}')) format += '\t{{.Digest}}';
  const needDigest = digests || format.includes('{{.Digest}}');
  const now = Date.now();
  const rows = images.flatMap((img) => imageRows(img, { trunc: !flags.bool('no-trunc'), digests, needDigest, now }));
  out(ctx, renderList(rows, format, flags.bool('quiet'), imageFormat(digests)));
  if (match !== undefined && images.length === 0 && ctx.commandPath === 'berth images' && AMBIGUOUS.includes(match)) {
    err(ctx, `\nNo images found matching ${JSON.stringify(match)}: did you mean "berth image ${match}"?\n`);
  }
}

export const imageLs: CommandSpec = {
  path: ['image', 'ls'],
  aliases: [['image', 'list']],
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  summary: 'List images',
  flags: [
    { name: 'all', short: 'a', type: 'bool', help: 'Show all images (default hides intermediate images)' },
    { name: 'digests', type: 'bool', help: 'Show digests' },
    { name: 'filter', short: 'f', type: 'list', valueName: 'filter', help: 'Filter output based on conditions provided', validate: validateFilter },
    LIST_FORMAT_FLAG,
    { ...NO_TRUNC_FLAG, help: "Don't truncate output" },
    { name: 'quiet', short: 'q', type: 'bool', help: 'Only show image IDs' },
  ],
  args: { max: 1 },
  run,
};
