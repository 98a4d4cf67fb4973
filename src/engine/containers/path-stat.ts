/**
 * The pieces of `docker cp` that are Docker's conventions, pure: a path as the archive
 * endpoints take it (moby's PreserveTrailingDotOrSeparator), Go's filepath.Base, Go's
 * os.FileMode bits, RFC 3339 times with nanoseconds, the stat header's JSON, and
 * Config.User resolved against the container's /etc/passwd and /etc/group.
 */
import * as path from 'node:path';
import { invalid } from '../../errors.js';

/** What X-Docker-Container-Path-Stat carries (base64 of this JSON). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode: permission bits and Go's type bits (ModeDir = 1<<31 …). */
  mode: number;
  mtime: string;
  /** The symlink's target fully resolved inside the container; '' for anything else. */
  linkTarget: string;
}

/** Whether the path asserts a folder: it ends in "/" or "/." (or is "."). */
export function assertsDirectory(p: string): boolean {
  return p.endsWith('/') || p === '.' || p.endsWith('/.');
}

/** The path taken from the container's root, cleaned, keeping a trailing "/" or "/.". */
export function archivePath(p: string): string {
  let cleaned = path.posix.join('/', p);
  if (cleaned !== '/' && cleaned.endsWith('/')) cleaned = cleaned.slice(0, -1);
  if (p === '.' || p.endsWith('/.')) return `${cleaned === '/' ? '' : cleaned}/.`;
  if (p.endsWith('/') && cleaned !== '/') return `${cleaned}/`;
  return cleaned;
}

/** Go's filepath.Base: the last element, trailing slashes dropped; "/" for the root. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

const S_IFMT = 0o170000;
const TYPE_BITS: Record<number, number> = {
  [0o040000]: 2 ** 31, // directory
  [0o120000]: 2 ** 27, // symlink
  [0o060000]: 2 ** 26, // block device
  [0o020000]: 2 ** 26 + 2 ** 21, // char device: device | char device
  [0o010000]: 2 ** 25, // named pipe
  [0o140000]: 2 ** 24, // socket
};

/** A stat mode as Go's os.FileMode (what Docker's stat header carries). */
export function goFileMode(mode: number): number {
  let m = (mode & 0o777) + (TYPE_BITS[mode & S_IFMT] ?? 0);
  if (mode & 0o4000) m += 2 ** 23; // setuid
  if (mode & 0o2000) m += 2 ** 22; // setgid
  if (mode & 0o1000) m += 2 ** 20; // sticky
  return m;
}

/** Is a Go FileMode a folder's? */
export function isGoDir(mode: number): boolean {
  return mode >= 2 ** 31;
}

/** Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros. */
export function rfc3339Nano(ns: bigint): string {
  const secs = ns / 1_000_000_000n;
  const frac = ns % 1_000_000_000n;
  const base = new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  const digits = frac === 0n ? '' : `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  return `${base}${digits}Z`;
}

/** The header value: base64 of the stat's JSON. */
export function encodePathStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

interface Entry {
  name: string;
  id: number;
  gid: number;
}

function parseDb(text: string, idField: number, gidField: number): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.split(':');
    const id = Number(f[idField]);
    const gid = Number(f[gidField]);
    if (f[0] === undefined || f[0] === '' || !Number.isInteger(id)) continue;
    out.push({ name: f[0], id, gid: Number.isInteger(gid) ? gid : 0 });
  }
  return out;
}

function numeric(s: string): number | undefined {
  return /^\d+$/.test(s) && Number(s) <= 2 ** 31 - 1 ? Number(s) : undefined;
}

/**
 * Config.User ("name", "uid", "name:group", "uid:gid" …) as numbers, looked up in the
 * container's passwd and group files as dockerd's getUIDGID does: an unknown uid is
 * kept with gid 0, an unknown name is an error.
 */
export function resolveUser(user: string, passwd: string, group: string): { uid: number; gid: number } {
  const sep = user.indexOf(':');
  const u = sep < 0 ? user : user.slice(0, sep);
  const g = sep < 0 ? '' : user.slice(sep + 1);
  let uid = 0;
  let gid = 0;
  if (u !== '') {
    const users = parseDb(passwd, 2, 3);
    const n = numeric(u);
    const hit = n === undefined ? users.find((e) => e.name === u) : users.find((e) => e.id === n);
    if (hit === undefined && n === undefined) throw invalid(`failed to look up user ${JSON.stringify(u)} in container: no matching entries in passwd file`);
    uid = hit?.id ?? n ?? 0;
    gid = hit?.gid ?? 0;
  }
  if (g !== '') {
    const n = numeric(g);
    if (n !== undefined) gid = n;
    else {
      const hit = parseDb(group, 2, 2).find((e) => e.name === g);
      if (hit === undefined) throw invalid(`failed to look up group ${JSON.stringify(g)} in container: no matching entries in group file`);
      gid = hit.id;
    }
  }
  return { uid, gid };
}
