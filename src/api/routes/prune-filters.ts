/** The filters every prune endpoint takes: until, label, label!. */
import { invalid } from '../../errors.js';

export interface Prunable {
  created: string;
  labels: Record<string, string>;
}

/** A predicate: true for objects the filters allow pruning. */
export function parsePruneFilters(raw: Record<string, string[]>): (o: Prunable) => boolean {
  const tests: ((o: Prunable) => boolean)[] = [];
  for (const [key, values] of Object.entries(raw)) {
    switch (key) {
      case 'until': {
        const limits = values.map(parseUntil);
        tests.push((o) => limits.every((t) => Date.parse(o.created) < t));
        break;
      }
      case 'label':
        tests.push((o) => values.every((l) => labelMatches(o.labels, l)));
        break;
      case 'label!':
        tests.push((o) => values.every((l) => !labelMatches(o.labels, l)));
        break;
      default:
        throw invalid(`invalid filter '${key}'`);
    }
  }
  return (o) => tests.every((t) => t(o));
}

function labelMatches(labels: Record<string, string>, l: string): boolean {
  const eq = l.indexOf('=');
  return eq < 0 ? l in labels : labels[l.slice(0, eq)] === l.slice(eq + 1);
}

/** A unix timestamp, an RFC 3339 time, or a Go duration before now ("24h", "90m"), in ms. */
export function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(v);
  if (dur) {
    const unit = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 }[dur[2] as 'h'];
    return Date.now() - Number(dur[1]) * unit;
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw invalid(`failed to parse value as time or duration: "${v}"`);
  return t;
}
