/**
 * Docker's image list filters: reference (Go globs against four spellings of each
 * reference), dangling, label, before, since, until. A reference filter also trims the
 * references shown to those that matched, as `docker images busybox` shows no other rows.
 */
import { invalid } from '../../errors.js';
import { familiarName, familiarString, fullName, parseReference, type ImageRecord } from '../../engine/images/index.js';
import { compilePathPattern } from '../../util/path-match.js';
import { parseUntil } from './prune-filters.js';

const KEYS = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);

/** The image as listed (references trimmed by the reference filter), or undefined to leave it out. */
export type ImageListFilter = (img: ImageRecord) => ImageRecord | undefined;

/** `resolve` names the image of a before/since value (NotFound for none). */
export function imageListFilter(raw: Record<string, string[]>, resolve: (ref: string) => ImageRecord): ImageListFilter {
  for (const key of Object.keys(raw)) if (!KEYS.has(key)) throw invalid(`invalid filter '${key}'`);
  const danglingOnly = boolFilter(raw, 'dangling');
  // Several before/until values mean the earliest bound; several since values the latest.
  let before = Infinity;
  let since = -Infinity;
  for (const v of raw.before ?? []) before = Math.min(before, createdMs(resolve(v)) ?? Infinity);
  for (const v of raw.until ?? []) before = Math.min(before, untilMs(v));
  for (const v of raw.since ?? []) since = Math.max(since, createdMs(resolve(v)) ?? -Infinity);
  const bounded = before !== Infinity || since !== -Infinity;
  const patterns = (raw.reference ?? []).map(compilePathPattern);
  const labels = raw.label;
  const refMatches = (r: string): boolean => patterns.length === 0 || referenceTargets(r).some((t) => patterns.some((p) => p.test(t)));
  return (img) => {
    const created = createdMs(img);
    if (bounded && (created === undefined || !(created < before && created > since))) return undefined;
    if (labels !== undefined && !labelsMatch(labels, img.config.config?.Labels ?? {})) return undefined;
    const repoTags = img.repoTags.filter(refMatches);
    const repoDigests = img.repoDigests.filter(refMatches);
    if (repoTags.length === 0 && repoDigests.length === 0) {
      if (danglingOnly === false || patterns.length > 0) return undefined;
    } else if (danglingOnly === true && repoTags.length > 0) {
      return undefined;
    }
    return { ...img, repoTags, repoDigests };
  };
}

/**
 * What a reference pattern is matched against: `busybox:latest`, `busybox`,
 * `docker.io/library/busybox:latest` and `docker.io/library/busybox`.
 */
export function referenceTargets(stored: string): string[] {
  const ref = parseReference(stored);
  const name = fullName(ref);
  const tagged = ref.digest !== undefined ? `${name}@${ref.digest}` : `${name}:${ref.tag ?? 'latest'}`;
  return [familiarString(ref), familiarName(ref), tagged, name];
}

/** Docker's GetBoolOrDefault: exactly one of true/1 or false/0. */
function boolFilter(raw: Record<string, string[]>, key: string): boolean | undefined {
  const values = raw[key];
  if (values === undefined) return undefined;
  if (values.length === 0) throw invalid(`invalid filter '${key}'`);
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw invalid(`invalid filter '${key}=[${values.join(' ')}]'`);
  return isTrue;
}

/** Docker's MatchKVList: every `key` or `key=value` present; no labels never match. */
function labelsMatch(filters: string[], labels: Record<string, string>): boolean {
  if (filters.length === 0) return true;
  if (Object.keys(labels).length === 0) return false;
  return filters.every((f) => {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    return key in labels && (eq < 0 || labels[key] === f.slice(eq + 1));
  });
}

function createdMs(img: ImageRecord): number | undefined {
  const t = img.config.created === undefined ? NaN : Date.parse(img.config.created);
  return Number.isNaN(t) ? undefined : t;
}

function untilMs(v: string): number {
  try {
    return parseUntil(v);
  } catch (e: unknown) {
    throw invalid(`invalid value for 'until' filter: ${e instanceof Error ? e.message : String(e)}`);
  }
}
