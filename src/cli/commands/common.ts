/** Flags shared by many docker commands, worded as docker words them. */
import type { FlagSpec } from '../args.js';
import { validateFilter } from '../opts.js';

const FORMAT_DOCS = 'Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates';

/** `--filter`; `-f` too, except where -f means --force (prune). */
export function filterFlag(example: string, short: 'f' | 'none' = 'f'): FlagSpec {
  return { name: 'filter', ...(short === 'f' && { short }), type: 'list', valueName: 'filter', help: `Provide filter values (e.g. "${example}")`, validate: validateFilter };
}

/** `--format` of list commands (table, json or a template). */
export const LIST_FORMAT_FLAG: FlagSpec = {
  name: 'format',
  type: 'string',
  help: [
    'Format output using a custom template:',
    "'table':            Print output in table format with column headers (default)",
    "'table TEMPLATE':   Print output in table format using the given Go template",
    "'json':             Print in JSON format",
    "'TEMPLATE':         Print output using the given Go template.",
    FORMAT_DOCS,
  ].join('\n'),
};

/** `-f/--format` of inspect and other single-object commands (json or a template). */
export function objectFormatFlag(short?: string): FlagSpec {
  return {
    name: 'format',
    ...(short === undefined ? {} : { short }),
    type: 'string',
    help: [
      'Format output using a custom template:',
      "'json':             Print in JSON format",
      "'TEMPLATE':         Print output using the given Go template.",
      FORMAT_DOCS,
    ].join('\n'),
  };
}

export const NO_TRUNC_FLAG: FlagSpec = { name: 'no-trunc', type: 'bool', help: 'Do not truncate the output' };

export function quietFlag(what: string): FlagSpec {
  return { name: 'quiet', short: 'q', type: 'bool', help: `Only display ${what}` };
}

/** Go's time.Time.String() for an RFC 3339 timestamp from the API, as docker prints `CreatedAt`. */
export function goTimeString(rfc3339: string | undefined): string {
  if (!rfc3339) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(rfc3339);
  if (!m) return rfc3339;
  const frac = (m[3] ?? '').replace(/0+$/, '').replace(/^\.$/, '');
  const zone = m[4] === 'Z' || m[4] === undefined ? '+0000 UTC' : `${m[4].replace(':', '')} ${m[4].replace(':', '')}`;
  return `${m[1]} ${m[2]}${frac} ${zone}`;
}

/** Docker's sortorder.NaturalLess as a comparator: digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
