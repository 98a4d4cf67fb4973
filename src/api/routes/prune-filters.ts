/**
 * The filters of the prune endpoints, checked and applied as dockerd does (daemon/prune.go,
 * images/image_prune.go, volume/service): only the keys an endpoint accepts, one `until`
 * (a time or a Go duration before now; created at or before it is pruned), `label` (every
 * one must hold) and `label!` (pruned unless every one holds). Parsed once into a predicate.
 */
import { invalid } from '../../errors.js';

export interface Prunable {
  /** RFC 3339; undefined for an image without a creation time (never pruned with until). */
  created: string | undefined;
  labels: Readonly<Record<string, string>>;
}

/** Keys containers and networks accept; images add dangling, volumes take all instead of until. */
export const PRUNE_KEYS: ReadonlySet<string> = new Set(['until', 'label', 'label!']);

/** A predicate: true for objects the filters allow pruning. Throws dockerd's 400s for bad filters. */
export function parsePruneFilters(raw: Record<string, string[]>, accepted: ReadonlySet<string> = PRUNE_KEYS): (o: Prunable) => boolean {
  for (const key of Object.keys(raw)) if (!accepted.has(key)) throw invalid(`invalid filter '${key}'`);
  const untilValues = raw.until ?? [];
  if (untilValues.length > 1) throw invalid('more than one until filter specified');
  const until = untilValues[0] === undefined ? undefined : parseUntil(untilValues[0]);
  const label = raw.label;
  const notLabel = raw['label!'];
  return (o) => {
    if (until !== undefined) {
      const created = o.created === undefined ? NaN : Date.parse(o.created);
      if (Number.isNaN(created) || created > until) return false;
    }
    if (label !== undefined && !labelsMatch(label, o.labels)) return false;
    return notLabel === undefined || !labelsMatch(notLabel, o.labels);
  };
}

/** filters.Args MatchKVList: every `key` or `key=value` present; with values, no labels never match. */
export function labelsMatch(values: readonly string[], labels: Readonly<Record<string, string>>): boolean {
  if (values.length === 0) return true;
  if (Object.keys(labels).length === 0) return false;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    return Object.hasOwn(labels, key) && (eq < 0 || labels[key] === v.slice(eq + 1));
  });
}

/** filters.Args GetBoolOrDefault (image prune's dangling): exactly one of true/1 or false/0. */
export function boolFilter(raw: Record<string, string[]>, key: string, fallback: boolean): boolean {
  const values = raw[key];
  if (values === undefined) return fallback;
  if (values.length === 0) throw invalid(`invalid filter '${key}'`);
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw invalid(`invalid filter '${key}=[${values.join(' ')}]'`);
  return isTrue;
}

/** Go's strconv.ParseBool (volume prune's all). */
export function goBool(key: string, v: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw invalid(`invalid filter '${key}': strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/**
 * A time as the CLI's and dockerd's GetTimestamp read it, in ms: a Go duration before now
 * ("24h", "1h30m"), an RFC 3339 time or date, or Unix seconds with an optional fraction.
 */
export function parseUntil(v: string): number {
  const d = goDurationMs(v);
  if (d !== undefined && v !== '0') return Date.now() - d;
  if (/^[+-]?\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = /[-T]/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw invalid(`failed to parse value as time or duration: "${v}"`);
  return t;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };

/** Go's time.ParseDuration, in ms; undefined where Go would refuse it. */
export function goDurationMs(v: string): number | undefined {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(v);
  if (!m) return undefined;
  let total = 0;
  for (const part of (m[2] ?? '').matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? 0);
  return m[1] === '-' ? -total : total;
}
