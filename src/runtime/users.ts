/**
 * Docker's --user ("name", "uid", "name:group", "uid:gid", …) resolved in the
 * container's own /etc/passwd and /etc/group, by the rules of runc's user lookup that
 * dockerd uses (moby/sys/user GetExecUser): a number is an id whether or not an entry
 * names it, a name must have one; without an explicit group the user's passwd group is
 * the primary one and the groups that list the user are the supplementary ones.
 */
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../errors.js';
import type { ProcessUser } from './types.js';

const MAX_ID = 2 ** 31 - 1;
/** As the kernel's limit on symlinks followed while resolving one path. */
const MAX_LINKS = 40;

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * The process user for `spec` given the text of the container's /etc/passwd and
 * /etc/group (null when the file is missing). Pure. InvalidParameter, in runc's words,
 * when a name has no entry or an id is out of range.
 */
export function resolveUser(spec: string, passwd: string | null, group: string | null): ProcessUser {
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = numericId(userArg);
  const gidArg = numericId(groupArg);
  const users = parsePasswd(passwd).filter((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  let uid = 0;
  let gid = 0;
  let matched = '';
  const first = users[0];
  if (first) {
    ({ uid, gid, name: matched } = first);
  } else if (userArg !== '') {
    if (uidArg === undefined) throw invalid(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = uidArg;
  }
  let supplementary: number[] = [];
  if (groupArg !== '' || matched !== '') {
    const groups = parseGroup(group).filter((g) =>
      groupArg === '' ? g.members.includes(matched) : gidArg !== undefined ? g.gid === gidArg : g.name === groupArg,
    );
    if (groupArg !== '') {
      const g = groups[0];
      if (g) gid = g.gid;
      else if (gidArg !== undefined) gid = gidArg;
      else throw invalid(`unable to find group ${groupArg}: no matching entries in group file`);
    } else supplementary = groups.map((g) => g.gid);
  }
  // As dockerd: the primary group is listed among the additional ones too.
  return { uid, gid, additionalGids: [gid, ...supplementary] };
}

/** A decimal id (Go's Atoi: an optional sign), undefined for a name; out of range is an error. */
function numericId(s: string): number | undefined {
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  if (!(n >= 0 && n <= MAX_ID)) throw invalid(`uids and gids must be in range 0-${MAX_ID}`);
  return n;
}

/** Fields that are not numbers count as 0, as runc reads them. */
function idField(s: string | undefined): number {
  return s !== undefined && /^[+-]?\d+$/.test(s) ? Number(s) : 0;
}

function parsePasswd(text: string | null): PasswdEntry[] {
  if (text === null) return [];
  return lines(text, false).map((f) => ({ name: f[0] ?? '', uid: idField(f[2]), gid: idField(f[3]) }));
}

function parseGroup(text: string | null): GroupEntry[] {
  if (text === null) return [];
  return lines(text, true).map((f) => ({ name: f[0] ?? '', gid: idField(f[2]), members: f[3] ? f[3].split(',') : [] }));
}

/** Non-empty lines split into fields (runc skips '#' comments in /etc/group only). */
function lines(text: string, comments: boolean): string[][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !(comments && l.startsWith('#')))
    .map((l) => l.split(':'));
}

/** The container's /etc/passwd and /etc/group, read from its root file system at `root`. */
export async function readUserFiles(root: string): Promise<{ passwd: string | null; group: string | null }> {
  const [passwd, group] = await Promise.all([readInRoot(root, '/etc/passwd'), readInRoot(root, '/etc/group')]);
  return { passwd, group };
}

/**
 * Read `file` as the container sees it: symlinks are followed inside `root` (an absolute
 * target starts again from the container's /, a `..` never climbs above it), and the
 * last component is opened without following a link, so the read stays in the
 * container's files. Null when the file is missing or unreadable, as runc ignores it.
 */
export async function readInRoot(root: string, file: string): Promise<string | null> {
  const pending = file.split('/').filter(Boolean);
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    let target: string | undefined;
    try {
      const st = await lstat(join(root, ...resolved, part));
      if (st.isSymbolicLink()) target = await readlink(join(root, ...resolved, part));
    } catch {
      return null;
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) return null;
    if (target.startsWith('/')) resolved = [];
    pending.unshift(...target.split('/').filter(Boolean));
  }
  try {
    const fh = await open(join(root, ...resolved), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}
