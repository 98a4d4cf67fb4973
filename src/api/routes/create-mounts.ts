/**
 * The mounts of a container create: HostConfig.Binds ("-v"), HostConfig.Mounts
 * ("--mount": bind, volume, tmpfs) and HostConfig.Tmpfs, checked as dockerd checks
 * them. Options berth does not apply (shared or slave propagation, volume drivers other
 * than local, subpaths) are refused, never dropped.
 */
import { posix } from 'node:path';
import { invalid } from '../../errors.js';
import type { MountConfig } from '../../engine/containers/model.js';
import { parseTmpfs, type TmpfsConfig } from '../../engine/containers/tmpfs.js';
import { isZero, unsupported } from '../docker-fields.js';
import { compareVersions } from '../router.js';
import { asObject, field, objectField, optBool, optNumber, optString, stringList, stringMap, type WireObject } from '../wire.js';

/** Propagation berth gives every bind (Docker's default). */
const PRIVATE = ['', 'private', 'rprivate'];

export interface ParsedMounts {
  mounts: MountConfig[];
  tmpfs: TmpfsConfig[];
}

/** Binds, then Mounts, then Tmpfs; one destination each. */
export function parseAllMounts(hc: WireObject, version: string): ParsedMounts {
  const tmpfsSpecs: Record<string, string> = {};
  const mounts = [...stringList(hc, 'Binds').map(parseBind), ...parseMounts(hc, version, tmpfsSpecs)];
  const fromMounts = parseTmpfs(tmpfsSpecs);
  const tmpfs = [...fromMounts, ...parseTmpfs(stringMap(hc, 'Tmpfs'))];
  uniqueDestinations([...mounts, ...tmpfs]);
  return { mounts, tmpfs };
}

/** "/host:/ctr[:ro|rw,…]" or "name:/ctr[:ro]". */
function parseBind(spec: string): MountConfig {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[1]!.startsWith('/')) throw invalid(`invalid volume specification: '${spec}'`);
  const [source, destination, mode = ''] = parts as [string, string, string?];
  if (source === '') throw invalid(`invalid volume specification: '${spec}'`);
  const opts = mode.split(',').filter((x) => x !== '');
  for (const m of opts) if (!['ro', 'rw', 'z', 'Z', 'rprivate', 'private', 'rshared', 'shared', 'rslave', 'slave', 'nocopy'].includes(m)) throw invalid(`invalid mode: ${m}`);
  const propagation = opts.find((o) => /^r?(shared|slave)$/.test(o));
  if (propagation) throw invalid(unsupported('bind propagation', propagation));
  const m = checkMount({ type: source.startsWith('/') ? 'bind' : 'volume', source, destination, readonly: opts.includes('ro') });
  return opts.includes('nocopy') ? { ...m, noCopy: true } : m;
}

/** HostConfig.Mounts; a tmpfs one goes to `tmpfs` as its options ("size=…,mode=…"), as dockerd converts it. */
function parseMounts(hc: WireObject, version: string, tmpfs: Record<string, string>): MountConfig[] {
  const raw = field(hc, 'Mounts');
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw invalid('json: cannot unmarshal into field Mounts of type []mount.Mount');
  const out: MountConfig[] = [];
  for (const item of raw as unknown[]) {
    const o = asObject(item, 'Mounts[]');
    const type = optString(o, 'Type') ?? '';
    checkOptionsFit(o, type, version);
    if (type === 'tmpfs') {
      const target = optString(o, 'Target') ?? '';
      if (optString(o, 'Source')) throw invalid('invalid mount config for type "tmpfs": field Source must not be specified');
      tmpfs[target] = tmpfsData(objectField(o, 'TmpfsOptions'), optBool(o, 'ReadOnly') ?? false);
      continue;
    }
    if (type !== 'bind' && type !== 'volume') throw invalid(`mount type ${type} is not supported`);
    const m = checkMount({ type, source: optString(o, 'Source') ?? '', destination: optString(o, 'Target') ?? '', readonly: optBool(o, 'ReadOnly') ?? false });
    const volume = type === 'volume' ? volumeOptions(objectField(o, 'VolumeOptions')) : {};
    if (type === 'bind') checkBindOptions(objectField(o, 'BindOptions'));
    out.push({ ...m, ...(type === 'volume' && m.source === '' ? { anonymous: true } : {}), ...volume });
  }
  return out;
}

/** dockerd (API 1.42 on): each options block only on its own mount type. */
function checkOptionsFit(o: WireObject, type: string, version: string): void {
  if (compareVersions(version, '1.42') < 0) return;
  for (const [block, own] of [['VolumeOptions', 'volume'], ['BindOptions', 'bind'], ['TmpfsOptions', 'tmpfs']] as const) {
    const v = field(o, block);
    if (v !== undefined && v !== null && type !== own) throw invalid(`${block} must not be specified on mount type "${type}"`);
  }
}

function checkBindOptions(b: WireObject): void {
  const propagation = optString(b, 'Propagation') ?? '';
  if (!PRIVATE.includes(propagation)) throw invalid(unsupported('BindOptions.Propagation', propagation));
  for (const flag of ['NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']) {
    if (optBool(b, flag)) throw invalid(unsupported(`BindOptions.${flag}`, true));
  }
}

/**
 * A volume mount's VolumeOptions: NoCopy, and the local driver's options and labels to
 * create the volume with when it does not exist yet (dockerd passes them to its volume
 * create; they are checked there). Another driver and Subpath are refused.
 */
function volumeOptions(v: WireObject): Pick<MountConfig, 'noCopy' | 'create'> {
  const driver = objectField(v, 'DriverConfig');
  const name = optString(driver, 'Name') ?? '';
  if (name !== '' && name !== 'local') throw invalid(unsupported('VolumeOptions.DriverConfig.Name', name));
  const subpath = optString(v, 'Subpath') ?? '';
  if (subpath !== '') throw invalid(unsupported('VolumeOptions.Subpath', subpath));
  const options = stringMap(driver, 'Options');
  const labels = stringMap(v, 'Labels');
  const create = { ...(isZero(options) ? {} : { options }), ...(isZero(labels) ? {} : { labels }) };
  return { ...(optBool(v, 'NoCopy') ? { noCopy: true } : {}), ...(isZero(create) ? {} : { create }) };
}

/** moby's ConvertTmpfsOptions: the size with the largest unit that divides it, the mode in octal. */
function tmpfsData(t: WireObject, readonly: boolean): string {
  const out: string[] = [];
  const size = optNumber(t, 'SizeBytes') ?? 0;
  if (size < 0) throw invalid(`invalid mount config for type "tmpfs": invalid tmpfs size ${size}`);
  if (size > 0) {
    const unit = [['g', 1 << 30], ['m', 1 << 20], ['k', 1 << 10]].find(([, n]) => size % (n as number) === 0) as [string, number] | undefined;
    out.push(unit ? `size=${size / unit[1]}${unit[0]}` : `size=${size}`);
  }
  const mode = optNumber(t, 'Mode') ?? 0;
  if (mode !== 0) out.push(`mode=${mode.toString(8)}`);
  if (readonly) out.push('ro');
  return out.join(',');
}

/** Docker refuses two binds or mounts on one destination. */
function uniqueDestinations(mounts: readonly (MountConfig | TmpfsConfig)[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.destination)) throw invalid(`Duplicate mount point: ${m.destination}`);
    seen.add(m.destination);
  }
}

/** Validated, with the destination cleaned as Go's path.Clean does ("/data/" is "/data"). */
function checkMount(m: MountConfig): MountConfig {
  if (!m.destination.startsWith('/') || m.destination.split('/').includes('..')) throw invalid(`invalid mount config: invalid mount path: '${m.destination}' mount path must be absolute`);
  if (m.type === 'bind' && (!m.source.startsWith('/') || m.source.split('/').includes('..'))) throw invalid(`invalid mount config: invalid bind source '${m.source}'`);
  if (m.type === 'volume' && m.source !== '' && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(m.source)) {
    throw invalid(`create ${m.source}: "${m.source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  return { ...m, destination: posix.resolve(m.destination) };
}
