/**
 * Values of docker's option types: filters (`key=value` into the API's filters JSON),
 * key=value maps (`--opt`, `--label`), links. Each validator returns the value to keep
 * or throws with docker's wording.
 */
import { isIP } from 'node:net';

/** docker's filters.ParseFlag: the key is trimmed and lower-cased, the value trimmed. */
export function validateFilter(raw: string): string {
  const eq = raw.indexOf('=');
  if (eq < 0) throw new Error('bad format of filter (expected name=value)');
  return `${raw.slice(0, eq).trim().toLowerCase()}=${raw.slice(eq + 1).trim()}`;
}

/**
 * The `filters` query parameter: `{"driver":{"bridge":true}}`, as docker's client sends
 * it; undefined (parameter left out) when there are no filters.
 */
export function filtersParam(filters: readonly string[]): string | undefined {
  if (filters.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const f of filters) {
    const eq = f.indexOf('=');
    const k = eq < 0 ? f : f.slice(0, eq);
    const v = eq < 0 ? '' : f.slice(eq + 1);
    (out[k] ??= {})[v] = true;
  }
  return JSON.stringify(out);
}

/** docker's ConvertKVStringsToMap: `k=v` pairs, a bare `k` maps to "". Later keys win. */
export function kvMap(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq < 0) out[p] = '';
    else out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** docker's ValidateLabel: a label needs a non-empty name without blanks. */
export function validateLabel(raw: string): string {
  const name = (raw.split('=', 1)[0] ?? '').replace(/^[ \t]+/, '');
  if (name === '') throw new Error(`invalid label '${raw}': empty name`);
  if (/[ \t]/.test(name)) throw new Error(`label '${name}' contains whitespaces`);
  return raw;
}

/** docker's ValidateLink: `name` or `name:alias`. */
export function validateLink(raw: string): string {
  const parts = raw.split(':');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new Error(`bad format for links: ${raw}`);
  return raw;
}

/** docker's ValidateEnv: a name is required; `NAME` alone is looked up later. */
export function validateEnv(raw: string): string {
  const name = raw.split('=', 1)[0] ?? '';
  if (name === '') throw new Error(`invalid environment variable: ${raw}`);
  return raw;
}

/** docker's ValidateIPAddress (surrounding spaces allowed, no brackets). */
export function validateIPAddress(raw: string): string {
  const ip = raw.trim();
  if (isIP(ip) === 0) throw new Error(`IP address is not correctly formatted: ${raw}`);
  return ip;
}

const DOMAIN_RE = /^((?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*)\.?\s*$/;

/** docker's ValidateDNSSearch: a domain, or "." for none. */
export function validateDnsSearch(raw: string): string {
  const v = raw.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = DOMAIN_RE.exec(v);
  if (!/[a-zA-Z]/.test(v) || !m || (m[1] ?? '').length >= 255) throw new Error(`${v} is not a valid domain`);
  return m[1] ?? v;
}

/** docker's ValidateExtraHost: `host:ip`, `host=ip`, `host=[v6]` or `host:host-gateway`, sent as `host:ip`. */
export function validateExtraHost(raw: string): string {
  let sep = raw.indexOf('=');
  if (sep < 0) sep = raw.indexOf(':');
  const name = sep < 0 ? '' : raw.slice(0, sep);
  let addr = sep < 0 ? '' : raw.slice(sep + 1);
  if (sep < 0 || name === '' || name.includes(':')) throw new Error(`bad format for add-host: ${JSON.stringify(raw)}`);
  if (addr !== 'host-gateway') {
    if (addr.length > 2 && addr.startsWith('[') && addr.endsWith(']')) addr = addr.slice(1, -1);
    if (isIP(addr.trim()) === 0) throw new Error(`invalid IP address in add-host: ${JSON.stringify(addr)}`);
  }
  return `${name}:${addr}`;
}

/** Go's encoding/csv for one line: comma-separated fields, double quotes with "" escapes. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let atStart = true;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && atStart) {
      quoted = true;
      atStart = false;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      atStart = true;
    } else {
      field += c;
      atStart = false;
    }
  }
  if (quoted) throw new Error(`parse error on line 1, column ${line.length + 1}: extraneous or missing " in quoted-field`);
  fields.push(field);
  return fields;
}

/** go-units RAMInBytes: "64m", "1.5g", "512KiB" in bytes (binary units). */
export function ramInBytes(raw: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(raw);
  if (!m) throw new Error(`invalid size: '${raw}'`);
  const units: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
  return Math.trunc(Number(m[1]) * (m[2] ? units[m[2].toLowerCase()] ?? 1 : 1));
}
