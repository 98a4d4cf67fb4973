/**
 * `--chown=user[:group]` resolved as the classic builder resolves it: numbers as they
 * are, names from the image's /etc/passwd and /etc/group; a user alone gives its
 * primary group (a numeric user alone: the same number as group).
 */
import { invalid } from '../../errors.js';
import type { Owner } from './fs-copy.js';
import type { ImageTree } from './image-tree.js';

function findId(file: string | undefined, name: string, field: number): number | undefined {
  for (const line of (file ?? '').split('\n')) {
    const parts = line.split(':');
    if (parts[0] === name && parts[field] !== undefined && /^\d+$/.test(parts[field])) return Number(parts[field]);
  }
  return undefined;
}

function primaryGroup(passwd: string | undefined, name: string): number | undefined {
  return findId(passwd, name, 3);
}

/** The owner `--chown` names, or undefined without the flag. */
export async function resolveChown(spec: string | undefined, image: ImageTree): Promise<Owner> {
  if (spec === undefined || spec === '') return undefined;
  const [user = '', group] = spec.split(':');
  const failure = (what: string, name: string): Error =>
    invalid(`unable to convert uid/gid chown string to host mapping: can't find ${what} for ${what === 'uid' ? 'user' : 'group'} ${name}: no such ${what === 'uid' ? 'user' : 'group'}: ${name}`);
  const numeric = /^\d+$/;
  let passwd: string | undefined;
  let uid: number;
  if (numeric.test(user)) uid = Number(user);
  else {
    passwd = await image.read('etc/passwd');
    const found = findId(passwd, user, 2);
    if (found === undefined) throw failure('uid', user);
    uid = found;
  }
  let gid: number;
  if (group === undefined || group === '') {
    gid = numeric.test(user) ? uid : (primaryGroup(passwd, user) ?? uid);
  } else if (numeric.test(group)) gid = Number(group);
  else {
    const found = findId(await image.read('etc/group'), group, 2);
    if (found === undefined) throw failure('gid', group);
    gid = found;
  }
  return { uid, gid };
}
