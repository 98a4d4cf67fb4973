/**
 * The classic builder's cache, keyed as moby's image cache keys it: a step's result is
 * an image whose parent is the step's starting image (none for `FROM scratch`) and whose
 * `container_config` equals the config the step probes with: the running config with
 * Cmd replaced by the step's command line (`/bin/sh -c #(nop) ENV a=b`, the RUN command
 * with its build args `|1 A=b /bin/sh -c make`, or `COPY file:<content hash> in /dst`).
 * Of several matches the newest wins. Pure.
 */
import type { Digest, ImageRunConfig } from '../images/config.js';

/** What the cache needs to know of one stored image. */
export interface CacheCandidate {
  /** The image's ID. */
  id: Digest;
  /** The image it was committed on (undefined: none). */
  parent: Digest | undefined;
  /** Its creation time (RFC 3339): the newest match wins. */
  created: string;
  /** The image's `container_config`, when it has one. */
  containerConfig: ImageRunConfig | undefined;
}

function sortedObject<T>(o: Record<string, T> | undefined): [string, T][] {
  return Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The fields moby's cache compares, in a canonical text (empty and absent are the same). */
export function cacheKey(c: ImageRunConfig): string {
  return JSON.stringify([
    c.Cmd ?? [],
    c.Entrypoint ?? [],
    c.Env ?? [],
    sortedObject(c.Labels),
    Object.keys(c.ExposedPorts ?? {}).sort(),
    Object.keys(c.Volumes ?? {}).sort(),
    c.User ?? '',
    c.WorkingDir ?? '',
    c.Shell ?? [],
    c.StopSignal ?? '',
    c.Healthcheck ?? null,
    c.OnBuild ?? [],
  ]);
}

/** The cached result of probing `probe` on top of `parent`, if any. */
export function findCached(candidates: readonly CacheCandidate[], parent: Digest | undefined, probe: ImageRunConfig): Digest | undefined {
  const want = cacheKey(probe);
  let best: CacheCandidate | undefined;
  for (const c of candidates) {
    if (c.parent !== parent || c.containerConfig === undefined) continue;
    if (cacheKey(c.containerConfig) !== want) continue;
    if (best === undefined || c.created > best.created) best = c;
  }
  return best?.id;
}
