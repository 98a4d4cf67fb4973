/**
 * Docker's volume list filters (volume service's filtersToBy): dangling (no container
 * refers to the volume, running or not), name (exact or a regular expression found in
 * the name), driver (exact), label (key or key=value, all of them). Docker's list takes
 * no other key, label! included: that one is prune's.
 */
import type { Volume } from '../../engine/volumes/store.js';
import { boolFilter, checkFilterKeys, labelsMatch, regexpFilter } from './filter-args.js';

const KEYS = new Set(['dangling', 'name', 'driver', 'label']);

/** A predicate over volumes; `inUse` tells whether any container refers to a volume. */
export function volumeListFilter(raw: Record<string, string[]>, inUse: (name: string) => boolean): (v: Volume) => boolean {
  checkFilterKeys(raw, KEYS);
  const dangling = boolFilter(raw, 'dangling');
  const name = raw.name === undefined ? undefined : regexpFilter(raw.name);
  const drivers = raw.driver ?? [];
  const labels = raw.label ?? [];
  return (v) =>
    (drivers.length === 0 || drivers.includes(v.driver)) &&
    (name === undefined || name(v.name)) &&
    labelsMatch(labels, v.labels) &&
    (dangling === undefined || inUse(v.name) !== dangling);
}
