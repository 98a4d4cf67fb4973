/**
 * `docker events --filter`: which events a subscriber sees, by dockerd's rules
 * (daemon/events/filter.go). Keys are ANDed; the values of one key are ORed, except
 * label, where every value must hold.
 */
import type { EventMessage } from './types.js';

export type EventFilters = Readonly<Record<string, readonly string[]>>;

/** Types whose filter matches the actor's ID or name by prefix (dockerd's fuzzyMatchName). */
const BY_NAME = ['container', 'daemon', 'plugin', 'volume', 'network', 'node', 'service', 'secret', 'config'] as const;

/**
 * The keys dockerd's filter reads. dockerd ignores any other; berth refuses it (a mistyped
 * key would otherwise pass every event, silently).
 */
export const EVENT_FILTER_KEYS: ReadonlySet<string> = new Set(['type', 'event', 'scope', 'image', 'label', ...BY_NAME]);

/** Actions a filter value without the part after the colon still matches ("exec_start" → "exec_start: sh"). */
const PREFIX_ACTIONS = new Set(['health_status', 'exec_create', 'exec_start']);

export function eventMatches(filters: EventFilters, m: EventMessage): boolean {
  return (
    matchAction(filters, m.Action) &&
    exact(filters, 'type', m.Type) &&
    exact(filters, 'scope', m.scope) &&
    BY_NAME.every((key) => fuzzy(filters, key, m.Actor.ID) || fuzzy(filters, key, m.Actor.Attributes.name ?? '')) &&
    matchImage(filters, m) &&
    matchLabels(filters.label, m.Actor.Attributes)
  );
}

function matchAction(filters: EventFilters, action: string): boolean {
  const values = filters.event ?? [];
  if (values.some((v) => PREFIX_ACTIONS.has(v))) return fuzzy(filters, 'event', action);
  return exact(filters, 'event', action);
}

/** filters.Args ExactMatch: no values for the key passes everything. */
function exact(filters: EventFilters, key: string, source: string): boolean {
  const values = filters[key];
  return values === undefined || values.length === 0 || values.includes(source);
}

/** filters.Args FuzzyMatch: equal to a value or starting with one. */
function fuzzy(filters: EventFilters, key: string, source: string): boolean {
  const values = filters[key];
  return values === undefined || values.length === 0 || values.some((v) => source.startsWith(v));
}

/**
 * An image filter matches an image event's ID or name, or a container event's image,
 * each also without its tag ("busybox" matches "busybox:latest").
 */
function matchImage(filters: EventFilters, m: EventMessage): boolean {
  const name = m.Actor.Attributes[m.Type === 'image' ? 'name' : 'image'] ?? '';
  return [m.Actor.ID, name, familiarName(m.Actor.ID), familiarName(name)].some((s) => exact(filters, 'image', s));
}

/** filters.Args MatchKVList over the actor's attributes: every `key` or `key=value` present. */
function matchLabels(values: readonly string[] | undefined, attributes: Readonly<Record<string, string>>): boolean {
  if (values === undefined || values.length === 0) return true;
  if (Object.keys(attributes).length === 0) return false;
  return values.every((v) => {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    return Object.hasOwn(attributes, key) && (eq < 0 || attributes[key] === v.slice(eq + 1));
  });
}

/** A reference's repository as Docker shows it: no tag or digest, no docker.io/library/ ("busybox"). */
export function familiarName(ref: string): string {
  let name = ref;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  if (name.startsWith('docker.io/')) name = name.slice('docker.io/'.length);
  if (name.startsWith('library/') && name.indexOf('/', 'library/'.length) < 0) name = name.slice('library/'.length);
  return name;
}
