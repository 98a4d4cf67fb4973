/**
 * `-v/--volume` and `--mount`, as docker's CLI turns them into the create request:
 * a `-v` spec with a source (a host path or a volume name) becomes a `Binds` entry,
 * one without becomes an anonymous volume in `Volumes`; `./rel` host paths are made
 * absolute. `--mount` (CSV `key=value` fields) becomes a `HostConfig.Mounts` entry.
 */
import { isAbsolute, resolve } from 'node:path';
import { CliError } from '../../errors.js';
import { parseBool } from '../../args.js';
import { parseCsvLine, ramInBytes } from '../../opts.js';

/** One entry of `HostConfig.Mounts`; empty fields are left out as Go's omitempty does. */
export interface ApiMount {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; ReadOnlyNonRecursive?: boolean; ReadOnlyForceRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; Subpath?: string; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

interface VolumeSpec {
  source: string;
  target: string;
}

/** volumespec.Parse, reduced to what decides bind versus anonymous volume. */
export function parseVolumeSpec(spec: string): VolumeSpec & { type: 'bind' | 'volume' } {
  if (spec === '') throw new CliError('invalid empty volume spec');
  if (spec.length <= 2) return { source: '', target: spec, type: 'volume' };
  const parsed: VolumeSpec = { source: '', target: '' };
  const fields = splitColons(spec);
  fields.forEach((field, i) => {
    const last = i === fields.length - 1;
    if (field === '') throw new CliError(`invalid spec: ${spec}: empty section between colons`);
    if (parsed.source === '' && last) parsed.target = field;
    else if (parsed.source === '') parsed.source = field;
    else if (parsed.target === '') parsed.target = field;
    else if (!last) throw new CliError(`invalid spec: ${spec}: too many colons`);
  });
  return { ...parsed, type: parsed.source !== '' && isFilePath(parsed.source) ? 'bind' : 'volume' };
}

/** Splits on colons, keeping a Windows drive letter ("c:") with its path. */
function splitColons(spec: string): string[] {
  const out: string[] = [];
  let buf = '';
  for (const ch of spec) {
    if (ch === ':' && buf.length === 1 && /\p{L}/u.test(buf)) buf += ch;
    else if (ch === ':') {
      out.push(buf);
      buf = '';
    } else buf += ch;
  }
  out.push(buf);
  return out;
}

function isFilePath(source: string): boolean {
  if ('./~'.includes(source[0] ?? '')) return true;
  return source.startsWith('\\\\') || /^\p{L}:/u.test(source);
}

/** `-v` values split into Binds (in the order given) and anonymous Volumes. */
export function splitVolumes(specs: readonly string[], cwd: string): { binds: string[]; volumes: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of specs) {
    const parsed = parseVolumeSpec(spec);
    if (parsed.source === '') {
      volumes[spec] = {};
      continue;
    }
    let bind = spec;
    const colon = spec.indexOf(':');
    if (parsed.type === 'bind' && colon >= 0) {
      const host = spec.slice(0, colon);
      if (!isAbsolute(host) && host.startsWith('.')) bind = resolve(cwd, host) + spec.slice(colon);
    }
    binds.push(bind);
  }
  return { binds, volumes };
}

/** opts.MountOpt.Set: one `--mount` value. */
export function parseMount(value: string, cwd: string): ApiMount {
  const mount: ApiMount = { Type: 'volume' };
  const volumeOptions = (): NonNullable<ApiMount['VolumeOptions']> => (mount.VolumeOptions ??= { Labels: {}, DriverConfig: {} });
  const bindOptions = (): NonNullable<ApiMount['BindOptions']> => (mount.BindOptions ??= {});
  const tmpfsOptions = (): NonNullable<ApiMount['TmpfsOptions']> => (mount.TmpfsOptions ??= {});
  const bool = (key: string, val: string): boolean => {
    try {
      return parseBool(val);
    } catch {
      throw new Error(`invalid value for ${key}: ${val}`);
    }
  };
  for (const field of parseCsvLine(value)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro') mount.ReadOnly = true;
      else if (key === 'volume-nocopy') volumeOptions().NoCopy = true;
      else if (key === 'bind-nonrecursive') bindOptions().NonRecursive = true;
      else throw new Error(`invalid field '${field}' must be a key=value pair`);
      continue;
    }
    switch (key) {
      case 'type':
        mount.Type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        mount.Source = !isAbsolute(val) && val.startsWith('.') ? resolve(cwd, val) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        mount.Target = val;
        break;
      case 'readonly':
      case 'ro':
        mount.ReadOnly = bool(key, val);
        break;
      case 'consistency':
        mount.Consistency = val.toLowerCase();
        break;
      case 'bind-propagation':
        bindOptions().Propagation = val.toLowerCase();
        break;
      case 'bind-nonrecursive':
        bindOptions().NonRecursive = bool(key, val);
        break;
      case 'volume-subpath':
        volumeOptions().Subpath = val;
        break;
      case 'volume-nocopy':
        volumeOptions().NoCopy = bool(key, val);
        break;
      case 'volume-label':
        setPair((volumeOptions().Labels ??= {}), val);
        break;
      case 'volume-driver':
        (volumeOptions().DriverConfig ??= {}).Name = val;
        break;
      case 'volume-opt':
        setPair(((volumeOptions().DriverConfig ??= {}).Options ??= {}), val);
        break;
      case 'tmpfs-size':
        try {
          tmpfsOptions().SizeBytes = ramInBytes(val);
        } catch {
          throw new Error(`invalid value for ${key}: ${val}`);
        }
        break;
      case 'tmpfs-mode':
        if (!/^[0-7]+$/.test(val)) throw new Error(`invalid value for ${key}: ${val}`);
        tmpfsOptions().Mode = parseInt(val, 8);
        break;
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (mount.Type === '') throw new Error('type is required');
  if (!mount.Target) throw new Error('target is required');
  for (const [opts, type] of [
    [mount.VolumeOptions, 'volume'],
    [mount.BindOptions, 'bind'],
    [mount.TmpfsOptions, 'tmpfs'],
  ] as const) {
    if (opts !== undefined && mount.Type !== type) throw new Error(`cannot mix '${type}-*' options with mount type '${mount.Type}'`);
  }
  return mount;
}

function setPair(target: Record<string, string>, pair: string): void {
  const eq = pair.indexOf('=');
  const k = eq < 0 ? pair : pair.slice(0, eq);
  if (k !== '') target[k] = eq < 0 ? '' : pair.slice(eq + 1);
}
