/**
 * Docker's image list filters: reference (Go globs against four spellings of each
 * reference), dangling, label, before, since, until. A reference filter also trims the
 * references shown to those that matched, as `docker images busybox` shows no other rows.
 */
import { invalid } from '../../errors.js';
import { familiarName, familiarString, fullName, parseReference, type ImageRecord } from '../../engine/images/index.js';
import { compilePathPattern } from '../../util/path-match.js';
import { boolFilter, checkFilterKeys, labelsMatch } from './filter-args.js';
import { parseUntil } from './prune-filters.js';

const KEYS = new Set(['dangling', 'label', 'before', 'since', 'reference', 'until']);

/** The image as listed (references trimmed by the reference filter), or undefined to leave it out. */
export type ImageListFilter = (img: ImageRecord) => ImageRecord | undefined;

/** `resolve` names the image of a before/since value (NotFound for none). */
export function imageListFilter(raw: Record<string, string[]>, resolve: (ref: string) => ImageRecord): ImageListFilter {
  checkFilterKeys(raw, KEYS);
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
