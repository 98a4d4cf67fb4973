/** docker cp's pure parts: paths resolved inside a container's root and mounts, Docker's path and stat conventions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ContainerFs, containerPath } from '../../src/engine/containers/container-fs.js';
import { archivePath, assertsDirectory, goBase, goFileMode, isGoDir, resolveUser, rfc3339Nano } from '../../src/engine/containers/path-stat.js';
import { isBerthError } from '../../src/errors.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cfs-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A container root with links that try to leave it, and a volume with one too. */
function fixture(t: { after: (fn: () => void) => void }): { cfs: ContainerFs; root: string; vol: string; outside: string } {
  const dir = tmp(t);
  const root = path.join(dir, 'root');
  const vol = path.join(dir, 'vol');
  const outside = path.join(dir, 'outside');
  for (const d of [root, vol, outside, path.join(root, 'etc'), path.join(root, 'tmp'), path.join(root, 'data')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret'), 'host');
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'container');
  fs.symlinkSync('../../../../../../../etc', path.join(root, 'tmp', 'up')); // relative, climbing out
  fs.symlinkSync(outside, path.join(root, 'abs')); // absolute host path: a container path
  fs.symlinkSync('/etc/passwd', path.join(root, 'pw'));
  fs.symlinkSync('/', path.join(vol, 'root')); // inside the volume, back to the container's root
  fs.symlinkSync('loop2', path.join(root, 'loop1'));
  fs.symlinkSync('loop1', path.join(root, 'loop2'));
  fs.writeFileSync(path.join(vol, 'f'), 'volume');
  const cfs = new ContainerFs(root, [{ destination: '/data', source: vol, readonly: false, userMount: true }]);
  return { cfs, root, vol, outside };
}

test('symlinks resolve inside the container: relative ones stop at its root, absolute ones start there', (t) => {
  const { cfs, root } = fixture(t);
  assert.equal(cfs.resolve('/tmp/up/passwd', false).host, path.join(root, 'etc', 'passwd'));
  assert.equal(containerPath(cfs.resolve('/tmp/up/passwd', false).parts), '/etc/passwd');
  // The host's directory behind an absolute link is never reached: the path stays in the root.
  assert.equal(cfs.resolve('/abs/secret', false).host.startsWith(root), true);
  assert.equal(cfs.resolve('/../../../etc/passwd', false).host, path.join(root, 'etc', 'passwd'));
  // The last component is followed only when asked.
  assert.equal(cfs.resolve('/pw', false).host, path.join(root, 'pw'));
  assert.equal(cfs.resolve('/pw', true).host, path.join(root, 'etc', 'passwd'));
});

test('mounts: a path below a mount point is in its source; a link in it leads back to the container root', (t) => {
  const { cfs, root, vol } = fixture(t);
  assert.equal(cfs.resolve('/data/f', false).host, path.join(vol, 'f'));
  assert.equal(cfs.mountOf(['data', 'f'])?.source, vol);
  assert.equal(cfs.mountOf(['etc']), undefined);
  assert.equal(cfs.resolve('/data/root/etc/passwd', false).host, path.join(root, 'etc', 'passwd'));
  assert.deepEqual(cfs.mountPointsIn([]), ['data']);
});

test('a symlink loop is refused, a missing component keeps the rest as written', (t) => {
  const { cfs, root } = fixture(t);
  assert.throws(() => cfs.resolve('/loop1', true), (e: unknown) => isBerthError(e) && /too many links/.test(e.message));
  assert.equal(cfs.resolve('/nope/../etc/x', true).host, path.join(root, 'etc', 'x'));
});

test("archive paths keep a trailing slash or dot as Docker's PreserveTrailingDotOrSeparator", () => {
  assert.equal(archivePath('etc'), '/etc');
  assert.equal(archivePath('/etc/'), '/etc/');
  assert.equal(archivePath('/etc/.'), '/etc/.');
  assert.equal(archivePath('.'), '/.');
  assert.equal(archivePath('/'), '/');
  assert.equal(archivePath('a/../b/'), '/b/');
  assert.equal(assertsDirectory('/etc/'), true);
  assert.equal(assertsDirectory('/etc/.'), true);
  assert.equal(assertsDirectory('/etc'), false);
  assert.equal(goBase('/etc/'), 'etc');
  assert.equal(goBase('/etc/.'), '.');
  assert.equal(goBase('/'), '/');
});

test("stat modes are Go's os.FileMode bits", () => {
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o040755), 2 ** 31 + 0o755);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o020666), 2 ** 26 + 2 ** 21 + 0o666);
  assert.equal(goFileMode(0o060660), 2 ** 26 + 0o660);
  assert.equal(goFileMode(0o010644), 2 ** 25 + 0o644);
  assert.equal(goFileMode(0o140755), 2 ** 24 + 0o755);
  assert.equal(goFileMode(0o104755), 2 ** 23 + 0o755);
  assert.equal(goFileMode(0o102755), 2 ** 22 + 0o755);
  assert.equal(goFileMode(0o041777), 2 ** 31 + 2 ** 20 + 0o777);
  assert.equal(isGoDir(goFileMode(0o040755)), true);
  assert.equal(isGoDir(goFileMode(0o100755)), false);
});

test('mtimes are RFC 3339 with nanoseconds, trailing zeros dropped', () => {
  assert.equal(rfc3339Nano(1_700_000_000_000_000_000n), '2023-11-14T22:13:20Z');
  assert.equal(rfc3339Nano(1_700_000_000_120_000_000n), '2023-11-14T22:13:20.12Z');
  assert.equal(rfc3339Nano(1_700_000_000_000_000_001n), '2023-11-14T22:13:20.000000001Z');
});

test("copyUIDGID's user is looked up in the container's own files, as dockerd's getUIDGID", () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\nwww:x:33:34::/var/www:/bin/false\n';
  const group = 'root:x:0:\nstaff:x:50:\n';
  assert.deepEqual(resolveUser('www', passwd, group), { uid: 33, gid: 34 });
  assert.deepEqual(resolveUser('33', passwd, group), { uid: 33, gid: 34 });
  assert.deepEqual(resolveUser('1234', passwd, group), { uid: 1234, gid: 0 });
  assert.deepEqual(resolveUser('www:staff', passwd, group), { uid: 33, gid: 50 });
  assert.deepEqual(resolveUser('1:2', passwd, group), { uid: 1, gid: 2 });
  assert.deepEqual(resolveUser(':7', passwd, group), { uid: 0, gid: 7 });
  assert.throws(() => resolveUser('nobody', passwd, group), /failed to look up user "nobody" in container/);
  assert.throws(() => resolveUser('www:nogroup', passwd, group), /failed to look up group "nogroup" in container/);
});
