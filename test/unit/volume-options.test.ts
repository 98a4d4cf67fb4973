import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkVolumeOptions, volumeFilesystem } from '../../src/engine/volumes/options.js';
import { VolumeStore } from '../../src/engine/volumes/store.js';
import { withoutPassword } from '../../src/engine/volumes/mounts.js';
import { parseMountOptions } from '../../src/kernel/mount.js';
import { isBerthError } from '../../src/errors.js';

function refusal(opts: Record<string, string>): string {
  try {
    checkVolumeOptions('v', opts);
  } catch (e: unknown) {
    assert.ok(isBerthError(e) && e.kind === 'InvalidParameter', String(e));
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(opts)}`);
}

test('the local driver takes type, device and o together, and none at all', () => {
  checkVolumeOptions('v', {});
  checkVolumeOptions('v', { type: 'tmpfs', device: 'tmpfs' });
  checkVolumeOptions('v', { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' });
  checkVolumeOptions('v', { type: 'none', device: '/srv/data', o: 'bind' });
  checkVolumeOptions('v', { type: 'nfs', device: ':/export', o: 'addr=10.0.0.1,rw' });
  checkVolumeOptions('v', { size: '0' });
});

test('an unknown key is refused in Docker words, naming the volume', () => {
  assert.equal(refusal({ foo: 'bar' }), 'create v: invalid option: "foo"');
  assert.equal(refusal({ type: 'tmpfs', device: 'tmpfs', Size: '1m' }), 'create v: invalid option: "Size"');
});

test('type and device need each other; o needs both', () => {
  assert.equal(refusal({ type: 'tmpfs' }), 'create v: missing required option: "device"');
  assert.equal(refusal({ device: '/dev/sdb1' }), 'create v: missing required option: "type"');
  assert.match(refusal({ o: 'size=1m' }), /^create v: missing required option: "(device|type)"$/);
  assert.equal(refusal({ o: 'bind', type: 'none' }), 'create v: missing required option: "device"');
});

test('size asks for a disk quota, which berth has not got; a bad size is refused as go-units does', () => {
  assert.equal(refusal({ size: '10m' }), 'create v: quota size requested but no quota support');
  assert.equal(refusal({ size: 'lots' }), "create v: invalid size: 'lots'");
});

test('a cifs device URL may not carry a port', () => {
  assert.equal(refusal({ type: 'cifs', device: '//server:445/share' }), "create v: port not allowed in CIFS device URL, include 'port' in 'o='");
  checkVolumeOptions('v', { type: 'cifs', device: '//server/share', o: 'port=445' });
});

test('a filesystem is mounted only where type and device are given', () => {
  assert.equal(volumeFilesystem({}), undefined);
  assert.equal(volumeFilesystem({ size: '0' }), undefined);
  assert.deepEqual(volumeFilesystem({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m' }), { type: 'tmpfs', device: 'tmpfs', options: 'size=1m' });
  assert.deepEqual(volumeFilesystem({ type: 'none', device: '/srv' }), { type: 'none', device: '/srv', options: '' });
});

test("mount options split into mount(2)'s flags and the filesystem's data, as moby/sys/mount does", () => {
  assert.deepEqual(parseMountOptions('size=64m,uid=1000'), { flags: 0, data: 'size=64m,uid=1000' });
  assert.deepEqual(parseMountOptions('bind'), { flags: 0x1000, data: '' });
  assert.deepEqual(parseMountOptions('rbind,ro'), { flags: 0x5001, data: '' });
  assert.deepEqual(parseMountOptions('ro,rw,nosuid,addr=10.0.0.1'), { flags: 0x2, data: 'addr=10.0.0.1' });
  assert.deepEqual(parseMountOptions('defaults,noexec'), { flags: 0x8, data: 'defaults' });
  assert.deepEqual(parseMountOptions(''), { flags: 0, data: '' });
});

test('a volume keeps its options (inspect shows them); refused options create nothing', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-volopts-'));
  try {
    const store = new VolumeStore(root);
    const opts = { type: 'tmpfs', device: 'tmpfs', o: 'size=64m,uid=1000' };
    assert.deepEqual(store.create('fast', { options: opts }).options, opts);
    assert.deepEqual(new VolumeStore(root).get('fast').options, opts);
    assert.deepEqual(store.create('plain').options, {});
    assert.throws(() => store.create('bad', { options: { foo: 'bar' } }), /create bad: invalid option: "foo"/);
    assert.throws(() => store.get('bad'), /no such volume/);
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')).sort(), ['fast', 'plain']);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a mount error never shows a cifs password', () => {
  assert.equal(withoutPassword('mount //s/share:/v/_data, data: username=u,password=s3cret,vers=3.0: permission denied'), 'mount //s/share:/v/_data, data: username=u,password=********,vers=3.0: permission denied');
});
