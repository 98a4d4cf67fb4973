/** The local volume driver's options (type, device, o): tmpfs and bind volumes, mounted while used, with Docker's errors. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { World } from '../lib/world.js';
import { mountPointsUnder } from '../../src/kernel/mount.js';

describe('local volume options', () => {
  let w: World;
  const data = (name: string): string => path.join(w.dataRoot, 'volumes', name, '_data');
  const mounted = (name: string): boolean => mountPointsUnder(data(name)).length > 0;
  /** The unmount follows the exit's handling, which a stop may return just before. */
  async function eventually(what: string, cond: () => boolean): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!cond()) {
      if (Date.now() > deadline) assert.fail(`not so after 5 s: ${what}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  it('mounts a tmpfs volume for its first user, shares it while any runs, and unmounts it after the last', async () => {
    await w.dockerOk('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=64m,uid=1000', 'fast');
    assert.deepEqual(JSON.parse(await w.dockerOk('volume', 'inspect', '-f', '{{json .Options}}', 'fast')), { device: 'tmpfs', o: 'size=64m,uid=1000', type: 'tmpfs' });
    assert.equal(mounted('fast'), false, 'mounted before any container uses it');
    await w.dockerOk('run', '-d', '--name', 'ua', '-v', 'fast:/data', 'busybox', 'sleep', '300');
    assert.equal(mounted('fast'), true);
    await w.dockerOk('exec', 'ua', 'sh', '-c', 'echo shared > /data/f');
    await w.dockerOk('run', '-d', '--name', 'ub', '-v', 'fast:/data', 'busybox', 'sleep', '300');
    assert.equal(await w.dockerOk('exec', 'ub', 'cat', '/data/f'), 'shared');
    const df = (await w.dockerOk('exec', 'ub', 'df', '-k', '/data')).split('\n')[1]!.split(/\s+/);
    assert.equal(df[0], 'tmpfs');
    assert.equal(df[1], String(64 * 1024));
    assert.equal(await w.dockerOk('exec', 'ub', 'stat', '-c', '%u', '/data'), '1000');
    await w.dockerOk('stop', '-t', '0', 'ua');
    assert.equal(mounted('fast'), true, 'unmounted while ub still uses it');
    assert.equal(await w.dockerOk('exec', 'ub', 'cat', '/data/f'), 'shared');
    const busy = await w.docker('volume', 'rm', 'fast');
    assert.match(busy.stderr, /volume is in use/);
    await w.dockerOk('stop', '-t', '0', 'ub');
    await eventually('fast unmounted after its last user stopped', () => !mounted('fast'));
    assert.deepEqual(fs.readdirSync(data('fast')), [], 'the tmpfs contents stayed in _data');
    // A new first user gets a fresh filesystem.
    await w.dockerOk('start', 'ua');
    assert.equal(mounted('fast'), true);
    assert.equal((await w.docker('exec', 'ua', 'cat', '/data/f')).code, 1);
    await w.dockerOk('rm', '-f', 'ua', 'ub');
    await eventually('fast unmounted after its users were removed', () => !mounted('fast'));
    await w.dockerOk('volume', 'rm', 'fast');
  });

  it('binds a host folder with type=none, o=bind, device=<dir> (compose driver_opts), and volume rm leaves the folder', async () => {
    const host = path.join(w.dir, 'host-share');
    fs.mkdirSync(host);
    fs.writeFileSync(path.join(host, 'from-host'), 'hello\n');
    await w.dockerOk('volume', 'create', '--driver', 'local', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${host}`, 'hb');
    assert.equal(await w.dockerOk('run', '--rm', '-v', 'hb:/h', 'busybox', 'sh', '-c', 'cat /h/from-host; echo back > /h/from-container'), 'hello');
    assert.equal(fs.readFileSync(path.join(host, 'from-container'), 'utf8'), 'back\n');
    await eventually('hb unmounted after --rm', () => !mounted('hb'));
    assert.deepEqual(fs.readdirSync(data('hb')), []);
    await w.dockerOk('volume', 'rm', 'hb');
    assert.deepEqual(fs.readdirSync(host).sort(), ['from-container', 'from-host']);
  });

  it('makes a missing volume with --mount volume-opt and volume-label, as Docker does at create', async () => {
    const mount = 'type=volume,source=mv,target=/m,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=8m,volume-label=team=a';
    const df = (await w.dockerOk('run', '--rm', '--mount', mount, 'busybox', 'df', '-k', '/m')).split('\n')[1]!.split(/\s+/);
    assert.deepEqual(df.slice(0, 2), ['tmpfs', '8192']);
    const v = JSON.parse(await w.dockerOk('volume', 'inspect', '-f', '{{json .}}', 'mv')) as { Options: object; Labels: object };
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=8m' });
    assert.deepEqual(v.Labels, { team: 'a' });
    await eventually('mv unmounted after --rm', () => !mounted('mv'));
    await w.dockerOk('volume', 'rm', 'mv');
    const bad = await w.docker('create', '--name', 'badopt', '--mount', 'type=volume,source=mv2,target=/m,volume-opt=foo=bar', 'busybox');
    assert.match(bad.stderr, /Error response from daemon: create mv2: invalid option: "foo"/);
    assert.equal((await w.docker('inspect', 'badopt')).code, 1);
    assert.equal((await w.docker('volume', 'inspect', 'mv2')).code, 1);
  });

  it("refuses an unknown option and a type without a device in Docker's words, creating nothing", async () => {
    const unknown = await w.docker('volume', 'create', '--opt', 'foo=bar', 'bad');
    assert.notEqual(unknown.code, 0);
    assert.equal(unknown.stderr.trim(), 'Error response from daemon: create bad: invalid option: "foo"');
    const half = await w.docker('volume', 'create', '--opt', 'type=tmpfs', 'bad');
    assert.equal(half.stderr.trim(), 'Error response from daemon: create bad: missing required option: "device"');
    const quota = await w.docker('volume', 'create', '--opt', 'size=10m', 'bad');
    assert.equal(quota.stderr.trim(), 'Error response from daemon: create bad: quota size requested but no quota support');
    assert.equal((await w.docker('volume', 'inspect', 'bad')).code, 1);
    assert.equal(fs.existsSync(path.join(w.dataRoot, 'volumes', 'bad')), false);
  });

  it("fails the start of a container whose volume cannot be mounted, with moby's error, leaving nothing mounted", async () => {
    await w.dockerOk('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'good');
    await w.dockerOk('volume', 'create', '--opt', 'type=none', '--opt', 'o=bind', '--opt', `device=${path.join(w.dir, 'missing')}`, 'broken');
    await w.dockerOk('create', '--name', 'fails', '-v', 'good:/a', '-v', 'broken:/b', 'busybox', 'true');
    const r = await w.docker('start', 'fails');
    assert.notEqual(r.code, 0);
    const want = `error while mounting volume '${data('broken')}': failed to mount local volume: mount ${path.join(w.dir, 'missing')}:${data('broken')}, flags: 0x1000: no such file or directory`;
    assert.ok(r.stderr.includes(`Error response from daemon: ${want}`), r.stderr);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Running}} {{.State.Error}}', 'fails'), `false ${want}`);
    assert.equal(mounted('good'), false, 'the volume mounted before the failure is left mounted');
    assert.equal(mounted('broken'), false);
    // The same volume works once its folder exists; the failure counted no user.
    fs.mkdirSync(path.join(w.dir, 'missing'));
    await w.dockerOk('start', '-a', 'fails');
    await eventually('both unmounted after fails exited', () => !mounted('good') && !mounted('broken'));
    await w.dockerOk('rm', 'fails');
    await w.dockerOk('volume', 'rm', 'good', 'broken');
  });

  it('keeps a running container\'s volume mounted across a daemon crash, and unmounts one whose user died meanwhile', async () => {
    await w.dockerOk('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'kept');
    await w.dockerOk('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', 'orphan');
    await w.dockerOk('run', '-d', '--name', 'keeper', '-v', 'kept:/data', 'busybox', 'sh', '-c', 'echo here > /data/f; sleep 300');
    await w.dockerOk('run', '-d', '--name', 'goner', '-v', 'orphan:/data', 'busybox', 'sleep', '300');
    const pid = Number(await w.dockerOk('inspect', '-f', '{{.State.Pid}}', 'goner'));
    await w.stop('SIGKILL');
    process.kill(pid, 'SIGKILL');
    await w.start();
    await eventually('orphan unmounted at reconcile', () => !mounted('orphan'));
    assert.equal(mounted('kept'), true);
    assert.equal(await w.dockerOk('exec', 'keeper', 'cat', '/data/f'), 'here');
    // The count was rebuilt: the one user's stop unmounts it.
    await w.dockerOk('stop', '-t', '0', 'keeper');
    await eventually('kept unmounted after its user stopped', () => !mounted('kept'));
    await w.dockerOk('rm', 'keeper', 'goner');
  });
});
