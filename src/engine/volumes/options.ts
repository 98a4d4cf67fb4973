/**
 * The local driver's options (docker volume create --opt, compose driver_opts), checked
 * as moby's volume/local does: the keys type, device and o (and size, which needs disk
 * quotas berth has not got); type and device go together, o needs both. A volume with a
 * type and a device is mounted on its _data while containers use it.
 */
import { invalid } from '../../errors.js';

/** A volume's filesystem: what mount(2) is given when the first container using it starts. */
export interface VolumeFilesystem {
  /** The filesystem type (tmpfs, nfs, ext4; "none" with o=bind for a host folder). */
  type: string;
  /** What is mounted: a device, a host folder, "tmpfs", ":/export" for nfs. */
  device: string;
  /** mount's options as fstab writes them ("size=64m,uid=1000", "bind", "addr=10.0.0.1,rw"). */
  options: string;
}

const VALID = ['type', 'o', 'device', 'size'];
/** An option, and those it needs beside it (moby's mandatoryOpts). */
const NEEDS: readonly [string, readonly string[]][] = [
  ['device', ['type']],
  ['type', ['device']],
  ['o', ['device', 'type']],
];

/** Go's %q for the names Docker quotes. */
const quoted = (s: string): string => JSON.stringify(s);

/**
 * Check a create's options; the error names the volume as Docker's volume service does
 * ("create <name>: invalid option: \"foo\""). Nothing is created before this passes.
 */
export function checkVolumeOptions(name: string, opts: Readonly<Record<string, string>>): void {
  const refuse = (msg: string): never => {
    throw invalid(`create ${name}: ${msg}`);
  };
  for (const key of Object.keys(opts)) {
    if (!VALID.includes(key)) refuse(`invalid option: ${quoted(key)}`);
  }
  if (opts.type === 'cifs' && opts.device && cifsUrlHasPort(opts.device)) refuse(`port not allowed in CIFS device URL, include 'port' in 'o='`);
  if (opts.size !== undefined && ramInBytes(opts.size, refuse) > 0) refuse('quota size requested but no quota support');
  for (const [key, needed] of NEEDS) {
    if (opts[key] === undefined) continue;
    for (const n of needed) if (opts[n] === undefined) refuse(`missing required option: ${quoted(n)}`);
  }
}

/** The filesystem to mount for a volume with these (checked) options; none for a plain folder. */
export function volumeFilesystem(opts: Readonly<Record<string, string>>): VolumeFilesystem | undefined {
  // moby's needsMount: a device or a type (the check above makes it both).
  if (!opts.device && !opts.type) return undefined;
  return { type: opts.type ?? '', device: opts.device ?? '', options: opts.o ?? '' };
}

/** "//host:445/share" and "cifs://host:445/share" name a port, which cifs wants in o=port=. */
function cifsUrlHasPort(device: string): boolean {
  return /^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?\/\/(?:[^/@]*@)?(?:\[[^\]]*\]|[^/:]*):\d*(?:\/|$)/.test(device);
}

/** go-units RAMInBytes: "64m", "1.5GiB", "100" (bytes); binary multiples. */
function ramInBytes(s: string, refuse: (msg: string) => never): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?(?:i?[bB])?$/.exec(s);
  if (!m) return refuse(`invalid size: '${s}'`);
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Number(m[1]) * 1024 ** power;
}
