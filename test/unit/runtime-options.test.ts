/** The OCI config of Docker's run options (limits, devices, groups, namespaces), and what is looked up for them. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INIT_PATH, ociConfig, parseDeviceRule } from '../../src/runtime/oci.js';
import { additionalGroups, hostLookups, parseGroups, readInRoot, splitDev, type HostLookups } from '../../src/runtime/host-lookups.js';
import type { RunOptions, RunSpec } from '../../src/runtime/types.js';

const ID = 'b'.repeat(64);
const HOST = { cgroupParent: 'berth', nofileHard: 1048576 };
const NONE: HostLookups = { devices: [], additionalGids: [], blkio: { readBps: [], writeBps: [], readIops: [], writeIops: [] } };

function spec(options: RunOptions, over: Partial<RunSpec> = {}): RunSpec {
  return {
    id: ID,
    rootfs: { layers: ['/l/0'], upper: '/c/upper', work: '/c/work', merged: '/c/merged' },
    process: { args: ['sh'], env: [], cwd: '/', tty: false, openStdin: false, stdinOnce: false },
    hostname: 'h',
    network: { kind: 'new' },
    mounts: [],
    privileged: false,
    capAdd: [],
    capDrop: [],
    logPath: null,
    options,
    ...over,
  };
}

describe('ociConfig with run options', () => {
  test('cgroup limits go to linux.resources as runc takes them', () => {
    const c = ociConfig(
      spec({ resources: { memory: 104857600, memorySwap: 209715200, memoryReservation: 52428800, memorySwappiness: 10, oomKillDisable: true, cpuShares: 512, cpuQuota: 150000, cpuPeriod: 100000, cpusetCpus: '0', pidsLimit: 50 } }),
      HOST,
    );
    assert.deepEqual(c.linux.resources.memory, { limit: 104857600, reservation: 52428800, swap: 209715200, swappiness: 10, disableOOMKiller: true });
    assert.deepEqual(c.linux.resources.cpu, { shares: 512, quota: 150000, period: 100000, cpus: '0' });
    assert.deepEqual(c.linux.resources.pids, { limit: 50 });
    // Unlimited swap (-1) is runc's default: nothing to write.
    assert.equal(ociConfig(spec({ resources: { memory: 104857600, memorySwap: -1 } }), HOST).linux.resources.memory?.swap, undefined);
    // A blkio weight docker update recorded.
    assert.deepEqual(ociConfig(spec({ resources: { blkioWeight: 300 } }), HOST).linux.resources.blockIO, { weight: 300 });
    const plain = ociConfig(spec({}), HOST).linux.resources;
    assert.deepEqual(plain, { devices: [{ allow: false, access: 'rwm' }] });
  });

  test('devices and device cgroup rules after the deny-all', () => {
    const found: HostLookups = { ...NONE, devices: [{ path: '/dev/xfuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0, permissions: 'rw' }] };
    const c = ociConfig(spec({ deviceCgroupRules: ['c 7:128 rwm', 'a *:* m'] }), HOST, found);
    assert.deepEqual(c.linux.resources.devices, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'c', major: 7, minor: 128, access: 'rwm' },
      { allow: true, type: 'a', access: 'm' },
    ]);
    assert.deepEqual(c.linux.devices, [{ path: '/dev/xfuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }]);
    assert.throws(() => parseDeviceRule('c 7 rwm'), /invalid device cgroup rule format/);
  });

  test('ulimits: nofile replaces the default; others join it', () => {
    assert.deepEqual(ociConfig(spec({ ulimits: [{ name: 'nofile', soft: 10, hard: 20 }] }), HOST).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20, soft: 10 }]);
    assert.deepEqual(ociConfig(spec({ ulimits: [{ name: 'nproc', soft: 5, hard: 5 }] }), HOST).process.rlimits, [
      { type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 },
      { type: 'RLIMIT_NPROC', hard: 5, soft: 5 },
    ]);
  });

  test('groups: the primary first, then the looked-up ones', () => {
    const c = ociConfig(spec({ groupAdd: ['audio'] }), HOST, { ...NONE, additionalGids: [10, 29] });
    assert.deepEqual(c.process.user, { uid: 0, gid: 0, additionalGids: [0, 10, 29] });
    assert.deepEqual(ociConfig(spec({}), HOST).process.user, { uid: 0, gid: 0 });
  });

  test('shm size, IPC and PID of the host, no IPC, a cgroup namespace', () => {
    const shm = (o: RunOptions) => ociConfig(spec(o), HOST).mounts.find((m) => m.destination === '/dev/shm');
    assert.ok(shm({})?.options.includes('size=67108864'));
    assert.ok(shm({ shmSize: 1048576 })?.options.includes('size=1048576'));
    assert.deepEqual(shm({ ipc: 'host' }), { destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
    assert.equal(shm({ ipc: 'none' }), undefined);
    const types = (o: RunOptions) => ociConfig(spec(o), HOST).linux.namespaces.map((n) => n.type);
    assert.deepEqual(types({}), ['pid', 'ipc', 'uts', 'mount', 'network']);
    assert.deepEqual(types({ ipc: 'host', pidHost: true, cgroupnsPrivate: true }), ['uts', 'mount', 'network', 'cgroup']);
  });

  test('init, oom score, no-new-privileges, paths, annotations, sysctls, console size', () => {
    const c = ociConfig(
      spec(
        { init: true, oomScoreAdj: 300, noNewPrivileges: true, maskedPaths: [], readonlyPaths: ['/proc/sys'], annotations: { a: 'b' }, sysctls: { 'kernel.shmmax': '1' }, consoleSize: { rows: 30, cols: 100 } },
        { process: { args: ['sleep', '1'], env: [], cwd: '/', tty: true, openStdin: false, stdinOnce: false } },
      ),
      HOST,
      { ...NONE, initPath: '/usr/bin/tini-static' },
    );
    assert.deepEqual(c.process.args, [INIT_PATH, '--', 'sleep', '1']);
    assert.deepEqual(c.mounts.find((m) => m.destination === INIT_PATH), { destination: INIT_PATH, type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
    assert.equal(c.process.oomScoreAdj, 300);
    assert.equal(c.process.noNewPrivileges, true);
    assert.deepEqual(c.linux.maskedPaths, []);
    assert.deepEqual(c.linux.readonlyPaths, ['/proc/sys']);
    assert.deepEqual(c.annotations, { a: 'b' });
    assert.equal(c.linux.sysctl['kernel.shmmax'], '1');
    assert.deepEqual(c.process.consoleSize, { height: 30, width: 100 });
  });
});

describe('host lookups', () => {
  test('groups by name or number, as moby/sys/user, with its errors', () => {
    const groups = parseGroups('root:x:0:\nwheel:x:10:root,ann\n# comment\naudio:x:29:\n');
    assert.deepEqual(groups.map((g) => g.name), ['root', 'wheel', 'audio']);
    assert.deepEqual(groups[1]?.members, ['root', 'ann']);
    assert.deepEqual(additionalGroups(['audio', '10', '1234'], groups), [29, 10, 1234]);
    assert.throws(() => additionalGroups(['video'], groups), /Unable to find group video: no matching entries in group file/);
    assert.throws(() => additionalGroups(['4294967296'], groups), /uids and gids must be in range 0-2147483647/);
  });

  test('a rootfs file is read inside the root: symlinks cannot leave it', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-root-'));
    try {
      await mkdir(join(root, 'etc'));
      await writeFile(join(root, 'real-group'), 'staff:x:50:\n');
      await symlink('/real-group', join(root, 'etc/group'));
      await symlink('../../../../../../etc/hostname', join(root, 'etc/passwd'));
      assert.equal(await readInRoot(root, '/etc/group'), 'staff:x:50:\n');
      assert.equal(await readInRoot(root, '/etc/passwd'), undefined);
      assert.equal(await readInRoot(root, '/etc/missing'), undefined);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('the user\'s own groups and --group-add\'s, from the container\'s files; devices by number', async () => {
    const root = await mkdtemp(join(tmpdir(), 'berth-root-'));
    try {
      await mkdir(join(root, 'etc'));
      await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      await writeFile(join(root, 'etc/group'), 'root:x:0:\nwheel:x:10:root\nstaff:x:50:\n');
      const s = spec({ groupAdd: ['staff', '1234'], devices: [{ pathOnHost: '/dev/null', pathInContainer: '/dev/mynull', permissions: 'rw' }] });
      const found = await hostLookups({ ...s, rootfs: { ...s.rootfs, merged: root } });
      assert.deepEqual(found.additionalGids, [10, 50, 1234]);
      assert.deepEqual(found.devices.map((d) => [d.path, d.type, d.major, d.minor, d.permissions]), [['/dev/mynull', 'c', 1, 3, 'rw']]);
      await assert.rejects(hostLookups(spec({ devices: [{ pathOnHost: '/dev/nope', pathInContainer: '/dev/nope', permissions: 'rwm' }] })), /error gathering device information while adding custom device "\/dev\/nope": no such file or directory/);
      assert.deepEqual(splitDev(0x10000103n), { major: 1, minor: 3 + 0x10000 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
