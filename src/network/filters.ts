/**
 * Docker's network list filters, as typed data (the API edge parses the JSON).
 * name and id: substring (Docker matches them as unanchored patterns); driver: exact; label: key or key=value;
 * type: custom|builtin; scope; dangling: without endpoints.
 */
import { invalid } from '../errors.js';
import type { NetworkId, NetworkRecord } from './model.js';

export interface NetworkFilters {
  name?: string[];
  id?: string[];
  driver?: string[];
  label?: string[];
  type?: ('custom' | 'builtin')[];
  scope?: string[];
  dangling?: boolean;
}

const KEYS = new Set(['name', 'id', 'driver', 'label', 'type', 'scope', 'dangling']);

/** Docker's `filters` query value: {"key": {"value": true}} or {"key": ["value"]}. */
export function parseNetworkFilters(raw: Record<string, string[]>): NetworkFilters {
  const f: NetworkFilters = {};
  for (const [key, values] of Object.entries(raw)) {
    if (!KEYS.has(key)) throw invalid(`invalid filter '${key}'`);
    switch (key) {
      case 'type':
        for (const v of values) if (v !== 'custom' && v !== 'builtin') throw invalid(`invalid filter: 'type'='${v}'`);
        f.type = values as ('custom' | 'builtin')[];
        break;
      case 'dangling': {
        const v = values[0];
        if (values.length !== 1 || !['true', 'false', '1', '0'].includes(v ?? '')) {
          throw invalid(`invalid filter 'dangling=${values.join(',')}'`);
        }
        f.dangling = v === 'true' || v === '1';
        break;
      }
      default:
        f[key as 'name' | 'id' | 'driver' | 'label' | 'scope'] = values;
    }
  }
  return f;
}

export function filterNetworks<T extends { record: NetworkRecord; capabilities: { scope: string } }>(
  nets: T[],
  f: NetworkFilters,
  endpointCount: (id: NetworkId) => number,
): T[] {
  const any = (values: string[] | undefined, test: (v: string) => boolean): boolean =>
    values === undefined || values.length === 0 || values.some(test);
  return nets.filter(({ record: r, capabilities }) =>
    any(f.name, (v) => r.name.includes(v)) &&
    any(f.id, (v) => r.id.includes(v)) &&
    any(f.driver, (v) => r.driver === v) &&
    any(f.scope, (v) => v === capabilities.scope) &&
    any(f.type, (v) => (v === 'builtin') === r.predefined) &&
    (f.label ?? []).every((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? l in r.labels : r.labels[l.slice(0, eq)] === l.slice(eq + 1);
    }) &&
    (f.dangling === undefined || f.dangling === (endpointCount(r.id) === 0 && !r.predefined)),
  );
}
