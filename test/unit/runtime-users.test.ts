import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readInRoot, resolveUser } from '../../src/runtime/users.js';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
  'app:x:1000:1000::/home/app:/bin/sh',
  'dup:x:2000:2000::/:/bin/sh',
  'dup:x:2001:2001::/:/bin/sh',
].join('\n');

const GROUP = [
  '# comments are skipped in /etc/group',
  'root:x:0:',
  'wheel:x:10:root,app',
  'nogroup:x:65534:',
  'app:x:1000:',
  'staff:x:50:app',
  '',
].join('\n');

describe('resolveUser (runc\'s lookup, as dockerd uses it)', () => {
  it('a name: its passwd ids, and the groups that list it as supplementary ones', () => {
    assert.deepEqual(resolveUser('app', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50] });
    assert.deepEqual(resolveUser('nobody', PASSWD, GROUP), { uid: 65534, gid: 65534, additionalGids: [65534] });
    assert.deepEqual(resolveUser('dup', PASSWD, GROUP), { uid: 2000, gid: 2000, additionalGids: [2000] }, 'the first entry wins');
  });

  it('empty is root, with root\'s groups', () => {
    assert.deepEqual(resolveUser('', PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [0, 10] });
    assert.deepEqual(resolveUser('', null, null), { uid: 0, gid: 0, additionalGids: [0] }, 'no files: plain root');
  });

  it('a number is an id with or without an entry; without one the group stays 0', () => {
    assert.deepEqual(resolveUser('1000', PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [1000, 10, 50] });
    assert.deepEqual(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, additionalGids: [0] });
    assert.deepEqual(resolveUser('4242:4343', null, null), { uid: 4242, gid: 4343, additionalGids: [4343] });
  });

  it('an explicit group replaces the primary one and drops the supplementary ones', () => {
    assert.deepEqual(resolveUser('app:staff', PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [50] });
    assert.deepEqual(resolveUser('app:77', PASSWD, GROUP), { uid: 1000, gid: 77, additionalGids: [77] });
    assert.deepEqual(resolveUser('0:wheel', PASSWD, GROUP), { uid: 0, gid: 10, additionalGids: [10] });
  });

  it('unknown names and ids out of range: runc\'s words', () => {
    assert.throws(() => resolveUser('default', PASSWD, GROUP), { name: 'InvalidParameter', message: 'unable to find user default: no matching entries in passwd file' });
    assert.throws(() => resolveUser('root', null, null), { message: 'unable to find user root: no matching entries in passwd file' }, 'no passwd file: no names');
    assert.throws(() => resolveUser('app:nosuch', PASSWD, GROUP), { message: 'unable to find group nosuch: no matching entries in group file' });
    assert.throws(() => resolveUser('-1', PASSWD, GROUP), { message: 'uids and gids must be in range 0-2147483647' });
    assert.throws(() => resolveUser('1:2147483648', PASSWD, GROUP), { message: 'uids and gids must be in range 0-2147483647' });
  });
});

describe('readInRoot', () => {
  it('follows links as the container sees them, never out of its root', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-users-'));
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
    try {
      fs.mkdirSync(path.join(root, 'etc'));
      fs.mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
      fs.writeFileSync(path.join(root, 'usr/lib/passwd'), 'inside\n');
      fs.writeFileSync(path.join(outside, 'secret'), 'host file\n');
      fs.symlinkSync('/usr/lib/passwd', path.join(root, 'etc/passwd'));
      fs.symlinkSync(`../../../../../../..${outside}/secret`, path.join(root, 'etc/group'));
      fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'etc/shadow'));
      fs.symlinkSync('loop', path.join(root, 'etc/loop'));
      assert.equal(await readInRoot(root, '/etc/passwd'), 'inside\n', 'an absolute link starts at the container\'s /');
      assert.equal(await readInRoot(root, '/etc/group'), null, '.. stops at the container\'s /');
      assert.equal(await readInRoot(root, '/etc/shadow'), null, 'a host path is looked up inside the container');
      assert.equal(await readInRoot(root, '/etc/loop'), null, 'a link loop ends');
      assert.equal(await readInRoot(root, '/etc/none'), null);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
