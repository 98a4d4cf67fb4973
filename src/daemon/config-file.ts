/**
 * berthd's configuration file (--config-file, /etc/berth/daemon.json by default), read
 * as dockerd reads daemon.json: the keys are the flags' names (the repeatable ones in
 * dockerd's plural: hosts, dns, default-address-pools, log-opts …), a key that names no
 * option is refused, and so is an option given both as a flag and in the file. The file
 * becomes flags, put before the command line's.
 */
import { readFileSync } from 'node:fs';
import { buildDaemonOptions, type DaemonOptions, type GivenFlag } from './options.js';

type Kind = 'string' | 'number' | 'bool' | 'list' | 'map' | 'pools';

/** Each key: the flag it sets, the JSON it takes, and its Go type (for dockerd's decoding errors). */
const KEYS: Record<string, { flag: string; kind: Kind; go: string }> = {
  hosts: { flag: 'host', kind: 'list', go: '[]string' },
  group: { flag: 'group', kind: 'string', go: 'string' },
  'data-root': { flag: 'data-root', kind: 'string', go: 'string' },
  'exec-root': { flag: 'exec-root', kind: 'string', go: 'string' },
  pidfile: { flag: 'pidfile', kind: 'string', go: 'string' },
  'log-level': { flag: 'log-level', kind: 'string', go: 'string' },
  bridge: { flag: 'bridge', kind: 'string', go: 'string' },
  bip: { flag: 'bip', kind: 'string', go: 'string' },
  'default-address-pools': { flag: 'default-address-pool', kind: 'pools', go: '[]*address.Pool' },
  dns: { flag: 'dns', kind: 'list', go: '[]net.IP' },
  'host-gateway-ips': { flag: 'host-gateway-ip', kind: 'list', go: '[]netip.Addr' },
  mtu: { flag: 'mtu', kind: 'number', go: 'int' },
  iptables: { flag: 'firewall', kind: 'bool', go: 'bool' },
  firewall: { flag: 'firewall', kind: 'bool', go: 'bool' },
  'userland-proxy': { flag: 'userland-proxy', kind: 'bool', go: 'bool' },
  'br-netfilter': { flag: 'br-netfilter', kind: 'bool', go: 'bool' },
  'spare-sandboxes': { flag: 'spare-sandboxes', kind: 'number', go: 'int' },
  'log-driver': { flag: 'log-driver', kind: 'string', go: 'string' },
  'log-opts': { flag: 'log-opt', kind: 'map', go: 'map[string]string' },
  'cluster-store': { flag: 'cluster-store', kind: 'string', go: 'string' },
  'cluster-store-opts': { flag: 'cluster-store-opt', kind: 'map', go: 'map[string]string' },
  'insecure-registries': { flag: 'insecure-registry', kind: 'list', go: '[]string' },
  'registry-mirrors': { flag: 'registry-mirror', kind: 'list', go: '[]string' },
  'max-concurrent-downloads': { flag: 'max-concurrent-downloads', kind: 'number', go: 'int' },
  'max-concurrent-uploads': { flag: 'max-concurrent-uploads', kind: 'number', go: 'int' },
  'max-download-attempts': { flag: 'max-download-attempts', kind: 'number', go: 'int' },
};

/** Values kept whole even when they are objects (dockerd's flatOptions). */
const FLAT = new Set(['log-opts', 'cluster-store-opts']);

/** The file's settings; null when the default file is absent. Throws dockerd's errors, prefixed with the file. */
export function readConfigFile(path: string, explicit: boolean): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return null;
    throw fileError(path, `open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  text = text.replace(/^\uFEFF/, '').trim();
  if (text === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e: unknown) {
    throw fileError(path, `invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fileError(path, 'invalid JSON: json: cannot unmarshal into Go value of type config.Config');
  // dockerd flattens nested sections into one level (configValuesSet).
  const flat: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x !== null && typeof x === 'object' && !Array.isArray(x) && !FLAT.has(k)) Object.assign(flat, x);
    else flat[k] = x;
  }
  return flat;
}

/**
 * The file's settings as flags, checked against the command line's: unknown keys, then
 * keys the command line also sets, refused in dockerd's words.
 */
export function configFlags(path: string, file: Record<string, unknown>, cli: readonly GivenFlag[]): GivenFlag[] {
  const unknown = Object.keys(file).filter((k) => !(k in KEYS));
  if (unknown.length > 0) throw fileError(path, `the following directives don't match any configuration option: ${unknown.join(', ')}`);
  const conflicts: string[] = [];
  const seen = new Set<string>();
  for (const f of cli) {
    if (seen.has(f.name)) continue;
    seen.add(f.name);
    for (const [key, spec] of Object.entries(KEYS)) {
      if (spec.flag !== f.name || !(key in file)) continue;
      const values = cli.filter((g) => g.name === f.name).map((g) => g.value);
      conflicts.push(`${key}: (from flag: ${flagText(spec.kind, values)}, from file: ${goValue(file[key])})`);
    }
  }
  if (conflicts.length > 0) throw fileError(path, `the following directives are specified both as a flag and in the configuration file: ${conflicts.join(', ')}`);
  const out: GivenFlag[] = [];
  try {
    for (const [key, v] of Object.entries(file)) out.push(...toFlags(key, v));
  } catch (e: unknown) {
    throw fileError(path, (e as Error).message);
  }
  return out;
}

function toFlags(key: string, v: unknown): GivenFlag[] {
  const spec = KEYS[key]!;
  const bad = (): Error => new Error(`invalid JSON: json: cannot unmarshal ${jsonType(v)} into Go struct field Config.${key} of type ${spec.go}`);
  const flag = (value: string): GivenFlag => ({ name: spec.flag, value });
  switch (spec.kind) {
    case 'string':
      if (typeof v !== 'string') throw bad();
      return [flag(v)];
    case 'number':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad();
      return [flag(String(v))];
    case 'bool':
      if (typeof v !== 'boolean') throw bad();
      return [flag(String(v))];
    case 'list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad();
      return (v as string[]).map(flag);
    case 'map':
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) throw bad();
      return Object.entries(v as Record<string, string>).map(([k, x]) => flag(`${k}=${x}`));
    case 'pools':
      if (!Array.isArray(v)) throw bad();
      return v.map((p: unknown) => {
        const o = p as { base?: unknown; size?: unknown };
        if (o === null || typeof o !== 'object' || typeof o.base !== 'string' || typeof o.size !== 'number') throw bad();
        return flag(`base=${o.base},size=${o.size}`);
      });
  }
}

/** A flag's value as pflag prints it: lists as [a b], maps as map[k:v]. */
function flagText(kind: Kind, values: string[]): string {
  if (kind === 'list' || kind === 'pools') return `[${values.join(' ')}]`;
  if (kind === 'map') {
    const m = values.map((v) => (v.includes('=') ? v.replace('=', ':') : `${v}:`)).sort();
    return `map[${m.join(' ')}]`;
  }
  return values[values.length - 1]!;
}

/** Go's %v of a decoded JSON value. */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goValue((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return v === null ? '<nil>' : String(v);
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function fileError(path: string, msg: string): Error {
  return new Error(`unable to configure the daemon with file ${path}: ${msg}`);
}

/** The command line's flags over the configuration file's (whose keys may not repeat them). */
export function withConfigFile(cli: readonly GivenFlag[]): DaemonOptions {
  const { configFile, configFileGiven } = buildDaemonOptions(cli);
  const file = readConfigFile(configFile, configFileGiven);
  return buildDaemonOptions(file ? [...configFlags(configFile, file, cli), ...cli] : cli);
}
