/**
 * What a container's OCI config needs from the host and from its own root filesystem
 * at start, found just before the config is written: device numbers of --device and
 * of blkio throttles, the groups of --group-add (the container's /etc/group, as
 * Docker reads it), the init binary of --init. Read-only: nothing is changed.
 */
import { constants } from 'node:fs';
import { access, lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { delimiter, join, posix } from 'node:path';
import { invalid, unavailable } from '../errors.js';
import type { DeviceMapping, DeviceRate, ProcessUser, RunSpec } from './types.js';
import { readUserFiles, resolveUser } from './users.js';

export interface OciDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface OciDeviceRate {
  major: number;
  minor: number;
  rate: number;
}

export interface HostLookups {
  /** The process's user: --user looked up in the container's /etc/passwd and /etc/group (root when absent). */
  user?: ProcessUser;
  /** --device nodes, with their container paths. */
  devices: (OciDevice & { permissions: string })[];
  /** Supplementary groups: the user's in /etc/group, then --group-add's (the primary one goes first in the config). */
  additionalGids: number[];
  /** The init binary on the host, when --init asks for one. */
  initPath?: string;
  blkio: { readBps: OciDeviceRate[]; writeBps: OciDeviceRate[]; readIops: OciDeviceRate[]; writeIops: OciDeviceRate[] };
}

/** Docker's init is tini, shipped as docker-init; Debian's tini package has a static one. */
const INIT_BINARIES = ['docker-init', 'tini-static'];

/** Look up what `spec` needs; its rootfs must be mounted. Errors use Docker's words. */
export async function hostLookups(spec: RunSpec): Promise<HostLookups> {
  const o = spec.options ?? {};
  const r = o.resources ?? {};
  const files = await readUserFiles(spec.rootfs.merged);
  const user = resolveUser(spec.process.user ?? '', files.passwd, files.group);
  const [devices, additionalGids, initPath, readBps, writeBps, readIops, writeIops] = await Promise.all([
    Promise.all((o.devices ?? []).map(devicesFromPath)).then((l) => l.flat()),
    groupsOf(spec, user, files),
    o.init ? findInit() : Promise.resolve(undefined),
    rates(r.blkioReadBps),
    rates(r.blkioWriteBps),
    rates(r.blkioReadIops),
    rates(r.blkioWriteIops),
  ]);
  return { user, devices, additionalGids, ...(initPath ? { initPath } : {}), blkio: { readBps, writeBps, readIops, writeIops } };
}

/** A device node, or every device node under a directory (moby's DevicesFromPath). */
async function devicesFromPath(d: DeviceMapping): Promise<(OciDevice & { permissions: string })[]> {
  const fail = (why: string): never => {
    throw invalid(`error gathering device information while adding custom device "${d.pathOnHost}": ${why}`);
  };
  let st;
  try {
    st = await stat(d.pathOnHost, { bigint: true });
  } catch (e: unknown) {
    return fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String((e as Error).message));
  }
  const one = deviceOf(d.pathInContainer, st);
  if (one) return [{ ...one, permissions: d.permissions }];
  if (!st.isDirectory()) return fail('not a device node');
  const found: (OciDevice & { permissions: string })[] = [];
  for (const entry of await readdir(d.pathOnHost, { recursive: true })) {
    const child = await stat(join(d.pathOnHost, entry), { bigint: true }).catch(() => undefined);
    const dev = child && deviceOf(posix.join(d.pathInContainer, entry), child);
    if (dev) found.push({ ...dev, permissions: d.permissions });
  }
  return found.length > 0 ? found : fail('not a device node');
}

function deviceOf(path: string, st: import('node:fs').BigIntStats): OciDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
  if (!type) return undefined;
  const { major, minor } = splitDev(st.rdev);
  return { path, type, major, minor, fileMode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid) };
}

/** Linux's dev_t encoding (new_decode_dev). */
export function splitDev(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

async function rates(list: DeviceRate[] | undefined): Promise<OciDeviceRate[]> {
  return Promise.all(
    (list ?? []).map(async ({ path, rate }) => {
      const st = await stat(path, { bigint: true }).catch(() => {
        throw invalid(`stat ${path}: no such file or directory`);
      });
      if (!st.isBlockDevice() && !st.isCharacterDevice()) throw invalid(`${path} is not a device`);
      return { ...splitDev(st.rdev), rate };
    }),
  );
}

async function findInit(): Promise<string> {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    for (const name of INIT_BINARIES) {
      const p = join(dir, name);
      if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
    }
  }
  throw unavailable('--init needs an init binary on the daemon\'s PATH: docker-init or tini-static (Debian package tini)');
}

/**
 * The user's supplementary groups, as Docker's GetExecUser finds them (groups listing
 * the user's name, when it runs with its own primary group), then --group-add's: names
 * looked up in the container's /etc/group, numbers taken as they are.
 */
async function groupsOf(spec: RunSpec, user: ProcessUser, files: { passwd: string | null; group: string | null }): Promise<number[]> {
  const add = spec.options?.groupAdd ?? [];
  const { passwd, group } = files;
  const groups = parseGroups(group ?? '');
  const entry = parsePasswd(passwd ?? '').find((u) => u.uid === user.uid);
  const own = entry && entry.gid === user.gid ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  const supplementary = (user.additionalGids ?? []).filter((g) => g !== user.gid); // the primary goes first in the config
  return [...new Set([...supplementary, ...own, ...additionalGroups(add, groups)])];
}

/** moby/sys/user GetAdditionalGroups: by name or gid in the group file, else a number in range. */
export function additionalGroups(wanted: readonly string[], groups: readonly { name: string; gid: number }[]): number[] {
  return wanted.map((ag) => {
    const g = groups.find((x) => x.name === ag || String(x.gid) === ag);
    if (g) return g.gid;
    if (!/^-?\d+$/.test(ag)) throw invalid(`Unable to find group ${ag}: no matching entries in group file`);
    const gid = Number(ag);
    if (gid < 0 || gid > 2147483647) throw invalid('uids and gids must be in range 0-2147483647');
    return gid;
  });
}

export function parseGroups(text: string): { name: string; gid: number; members: string[] }[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(':'))
    .filter((f) => f.length >= 3 && f[0] !== '' && !f[0]!.startsWith('#') && /^\d+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter((m) => m !== '') }));
}

function parsePasswd(text: string): { name: string; uid: number; gid: number }[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(':'))
    .filter((f) => f.length >= 4 && f[0] !== '' && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
}

/**
 * A file of the container's root, its symlinks followed as inside the container (an
 * absolute target starts again at the root, `..` stops there), so an image cannot
 * make berth read a host file. Undefined when it is missing.
 */
export async function readInRoot(root: string, file: string): Promise<string | undefined> {
  let rest = file.split('/').filter((c) => c !== '');
  const at: string[] = [];
  for (let hops = 0; rest.length > 0; ) {
    const name = rest.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      at.pop();
      continue;
    }
    const p = join(root, ...at, name);
    const st = await lstat(p).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      if (++hops > 40) return undefined;
      const target = await readlink(p);
      if (target.startsWith('/')) at.length = 0;
      rest = [...target.split('/').filter((c) => c !== ''), ...rest];
      continue;
    }
    at.push(name);
  }
  return readFile(join(root, ...at), 'utf8').catch(() => undefined);
}
