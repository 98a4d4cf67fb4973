import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ociConfig, execProcess } from '../../src/runtime/oci.js';
import { DEFAULT_CAPS, effectiveCaps, normalizeCap, ALL_CAPS } from '../../src/runtime/caps.js';
import { parseLogLine, readLogs, toUtcNano } from '../../src/runtime/logs.js';
import { FrameDecoder } from '../../src/runtime/attach-relay.js';
import { createArgv, execArgv, isConmon, parseSyncMessage } from '../../src/runtime/conmon.js';
import { cgroupMode, normalizeSignal, pickRuntime, runcMessage, runcSays } from '../../src/runtime/runc.js';
import { startFailureCode } from '../../src/runtime/exec.js';
import { overlayOptions } from '../../src/kernel/mount.js';
import type { RunSpec } from '../../src/runtime/types.js';

const ID = 'a'.repeat(64);

function spec(over: Partial<RunSpec> = {}): RunSpec {
  return {
    id: ID,
    rootfs: { layers: ['/l/0', '/l/1'], upper: '/c/upper', work: '/c/work', merged: '/c/merged' },
    process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', tty: false, openStdin: false, stdinOnce: false },
    hostname: 'aaaaaaaaaaaa',
    network: { kind: 'netns', path: '/run/netns/x' },
    mounts: [{ source: '/h/hosts', destination: '/etc/hosts', readonly: true }],
    privileged: false,
    capAdd: [],
    capDrop: [],
    logPath: '/c/log',
    ...over,
  };
}

const HOST = { cgroupParent: 'berth', nofileHard: 20000 };

describe('ociConfig', () => {
  test('Docker defaults: namespaces, caps without NET_ADMIN, masked paths, mounts, sysctl', () => {
    const c = ociConfig(spec(), HOST);
    assert.deepEqual(c.process.args, ['sh']);
    assert.equal(c.process.terminal, false);
    assert.deepEqual(c.process.user, { uid: 0, gid: 0 });
    assert.deepEqual(c.linux.namespaces, [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/run/netns/x' }]);
    assert.deepEqual(new Set(c.process.capabilities.bounding), new Set(DEFAULT_CAPS));
    assert.ok(!c.process.capabilities.effective.includes('CAP_NET_ADMIN'));
    assert.ok(!c.process.capabilities.effective.includes('CAP_SYS_ADMIN'));
    assert.ok(c.linux.maskedPaths.includes('/proc/kcore'));
    assert.ok(c.linux.readonlyPaths.includes('/proc/sys'));
    assert.equal(c.linux.cgroupsPath, `/berth/${ID}`);
    assert.deepEqual(c.linux.sysctl, { 'net.ipv4.ping_group_range': '0 2147483647' });
    assert.deepEqual(c.root, { path: '/c/merged', readonly: false });
    assert.equal(c.hostname, 'aaaaaaaaaaaa');
    const dests = c.mounts.map((m) => m.destination);
    assert.deepEqual(dests, ['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/etc/hosts']);
    assert.deepEqual(c.mounts.at(-1), { destination: '/etc/hosts', type: 'bind', source: '/h/hosts', options: ['rbind', 'rprivate', 'ro'] });
    assert.ok(c.mounts.find((m) => m.destination === '/sys')?.options.includes('ro'));
    assert.deepEqual(c.linux.resources.devices, [{ allow: false, access: 'rwm' }]);
  });

  test('rlimit nofile is clamped to the inherited hard limit', () => {
    assert.deepEqual(ociConfig(spec(), HOST).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
    assert.equal(ociConfig(spec(), { ...HOST, nofileHard: Number.MAX_SAFE_INTEGER }).process.rlimits[0]?.hard, 1048576);
  });

  test('host network: no network namespace, no net.* sysctl; new: an empty one', () => {
    const host = ociConfig(spec({ network: { kind: 'host' } }), HOST);
    assert.ok(!host.linux.namespaces.some((n) => n.type === 'network'));
    assert.deepEqual(host.linux.sysctl, {});
    const named = ociConfig(spec({ network: { kind: 'host' }, domainname: 'dom.ain' }), HOST);
    assert.deepEqual(named.linux.sysctl, { 'kernel.domainname': 'dom.ain' }, 'in its own UTS namespace, even on the host network');
    const fresh = ociConfig(spec({ network: { kind: 'new' } }), HOST);
    assert.deepEqual(fresh.linux.namespaces.find((n) => n.type === 'network'), { type: 'network' });
  });

  test('cap-add/cap-drop, ALL, privileged', () => {
    const add = ociConfig(spec({ capAdd: ['net_admin'], capDrop: ['CAP_MKNOD'] }), HOST).process.capabilities.effective;
    assert.ok(add.includes('CAP_NET_ADMIN'));
    assert.ok(!add.includes('CAP_MKNOD'));
    assert.deepEqual(effectiveCaps({ privileged: false, capAdd: ['KILL'], capDrop: ['ALL'] }), ['CAP_KILL']);
    const everything = new Set(ALL_CAPS);
    assert.equal(effectiveCaps({ privileged: false, capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] }, everything).length, ALL_CAPS.length - 1);
    assert.equal(effectiveCaps({ privileged: true, capAdd: [], capDrop: [] }, everything).length, ALL_CAPS.length);
    // Nothing outside the daemon's own bounding set is ever granted (runc would refuse the container).
    const bounded = new Set(ALL_CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE'));
    assert.ok(!effectiveCaps({ privileged: true, capAdd: [], capDrop: [] }, bounded).includes('CAP_SYS_RESOURCE'));
    assert.ok(!effectiveCaps({ privileged: false, capAdd: ['SYS_RESOURCE'], capDrop: [] }, bounded).includes('CAP_SYS_RESOURCE'));
    const priv = ociConfig(spec({ privileged: true }), HOST);
    assert.deepEqual(priv.process.capabilities.bounding, effectiveCaps({ privileged: true, capAdd: [], capDrop: [] }));
    assert.deepEqual(priv.linux.maskedPaths, []);
    assert.deepEqual(priv.linux.readonlyPaths, []);
    assert.deepEqual(priv.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    assert.throws(() => normalizeCap('NOT_A_CAP'), { name: 'InvalidParameter' });
  });

  test('tty, user, readonly rootfs, extra sysctls', () => {
    const c = ociConfig(
      spec({
        process: { args: ['sh'], env: [], cwd: '/w', tty: true, openStdin: true, stdinOnce: true, user: 'app' },
        rootfs: { layers: ['/l'], upper: '/u', work: '/w', merged: '/m', readonly: true },
        options: { sysctls: { 'net.ipv4.ip_forward': '1' } },
      }),
      HOST,
      { user: { uid: 1000, gid: 1000, additionalGids: [10] }, devices: [], additionalGids: [], blkio: { readBps: [], writeBps: [], readIops: [], writeIops: [] } },
    );
    assert.equal(c.process.terminal, true);
    // As Docker's AdditionalGids: the primary group first.
    assert.deepEqual(c.process.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10] });
    assert.equal(c.root.readonly, true);
    assert.equal(c.linux.sysctl['net.ipv4.ip_forward'], '1');
  });

  test('tmpfs mounts go with the binds, parents first', () => {
    const c = ociConfig(
      spec({ mounts: [{ source: '/h/sub', destination: '/t/sub', readonly: false }], tmpfs: [{ destination: '/t', options: ['noexec', 'size=1m'] }] }),
      HOST,
    );
    const mine = c.mounts.filter((m) => m.destination.startsWith('/t'));
    assert.deepEqual(mine.map((m) => [m.destination, m.type]), [['/t', 'tmpfs'], ['/t/sub', 'bind']]);
    assert.deepEqual(mine[0]?.options, ['noexec', 'size=1m']);
  });

  test('execProcess keeps the container caps and takes the exec command', () => {
    const base = ociConfig(spec(), HOST).process;
    const p = execProcess(base, { args: ['ip', 'addr'], env: ['A=1'], cwd: '/tmp', tty: true, stdin: false });
    assert.deepEqual([p.args, p.env, p.cwd, p.terminal], [['ip', 'addr'], ['A=1'], '/tmp', true]);
    assert.deepEqual(p.capabilities, base.capabilities);
    const privileged = execProcess(base, { args: ['x'], env: [], cwd: '/', tty: false, stdin: false, privileged: true }).capabilities.bounding;
    assert.deepEqual(privileged, effectiveCaps({ privileged: true, capAdd: [], capDrop: [] }), 'what a privileged container gets: only what the daemon may pass on');
    const size = { rows: 33, cols: 77 };
    assert.deepEqual(execProcess(base, { args: ['x'], env: [], cwd: '/', tty: true, stdin: false, consoleSize: size }).consoleSize, { height: 33, width: 77 });
    assert.equal(execProcess(base, { args: ['x'], env: [], cwd: '/', tty: false, stdin: false, consoleSize: size }).consoleSize, undefined, 'no console without a tty');
  });
});

describe('k8s-file logs', () => {
  test('parses full and partial lines, normalizing time to UTC', () => {
    const f = parseLogLine(Buffer.from('2024-05-01T12:00:00.123456789+02:00 stdout F hello world'));
    assert.deepEqual(f && { ...f, line: f.line.toString() }, {
      stream: 'stdout',
      line: 'hello world\n',
      time: '2024-05-01T10:00:00.123456789Z',
      timeMs: Date.UTC(2024, 4, 1, 10, 0, 0, 123),
    });
    const p = parseLogLine(Buffer.from('2024-05-01T10:00:00.000000001Z stderr P part'));
    assert.equal(p?.stream, 'stderr');
    assert.equal(p?.line.toString(), 'part');
    assert.equal(parseLogLine(Buffer.from('2024-05-01T10:00:00Z stdout F '))?.line.toString(), '\n');
    assert.equal(parseLogLine(Buffer.from('garbage')), null);
    assert.equal(toUtcNano('2024-01-01T00:30:00.5-01:30')?.text, '2024-01-01T02:00:00.500000000Z');
  });

  test('readLogs: all, tail, since; a missing file is empty', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
    try {
      const path = join(dir, 'log');
      const lines = [1, 2, 3, 4].map((i) => `2024-05-01T10:00:0${i}.000000000Z ${i % 2 ? 'stdout' : 'stderr'} F line${i}`);
      await writeFile(path, lines.join('\n') + '\n');
      const read = async (o: Parameters<typeof readLogs>[1]): Promise<string[]> => {
        const out: string[] = [];
        for await (const e of readLogs(path, o)) out.push(`${e.stream}:${e.line.toString().trim()}`);
        return out;
      };
      assert.deepEqual(await read({}), ['stdout:line1', 'stderr:line2', 'stdout:line3', 'stderr:line4']);
      assert.deepEqual(await read({ tail: 2 }), ['stdout:line3', 'stderr:line4']);
      assert.deepEqual(await read({ tail: 0 }), []);
      assert.deepEqual(await read({ tail: 10 }), ['stdout:line1', 'stderr:line2', 'stdout:line3', 'stderr:line4']);
      assert.deepEqual(await read({ sinceMs: Date.UTC(2024, 4, 1, 10, 0, 3) }), ['stdout:line3', 'stderr:line4']);
      const none: unknown[] = [];
      for await (const e of readLogs(join(dir, 'absent'))) none.push(e);
      assert.deepEqual(none, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('attach relay framing', () => {
  test('decodes frames split across chunks', () => {
    const frame = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const all = Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.from('\x02out')), frame(Buffer.from('\x03err'))]);
    const d = new FrameDecoder();
    const frames = [...d.push(all.subarray(0, 6)), ...d.push(all.subarray(6, 9)), ...d.push(all.subarray(9))];
    assert.deepEqual(
      frames.map((f) => (f.kind === 'data' ? `${f.stream}:${f.data.toString()}` : f.kind)),
      ['connected', 'stdout:out', 'stderr:err'],
    );
  });
});

describe('conmon', () => {
  test('tells a live conmon by its process name, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-conmon-'));
    try {
      // A process whose executable is named conmon (a copy of sleep).
      await copyFile('/bin/sleep', join(dir, 'conmon'));
      await chmod(join(dir, 'conmon'), 0o755);
      const child = spawn(join(dir, 'conmon'), ['30'], { stdio: 'ignore' });
      await new Promise((r) => child.once('spawn', r));
      assert.equal(isConmon(child.pid!), true);
      assert.equal(isConmon(process.pid), false);
      assert.equal(isConmon(0), false);
      assert.equal(isConmon(-5), false);
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
      assert.equal(isConmon(child.pid!), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  const common = {
    conmon: '/usr/bin/conmon',
    runtime: '/usr/sbin/runc',
    runtimeArgs: ['--root=/run/berth/runc'],
    id: ID,
    name: 'web',
    dir: `/run/berth/runtime/${ID}`,
    pidFile: '/b/pid',
    conmonPidFile: '/b/conmon.pid',
    tty: false,
    stdin: true,
  };
  test('create argv', () => {
    const argv = createArgv({ ...common, exitDir: '/run/berth/runtime/exits', logPath: '/d/log', leaveStdinOpen: true });
    assert.ok(argv.includes('--runtime-arg=--root=/run/berth/runc'));
    assert.deepEqual(argv.slice(argv.indexOf('-l'), argv.indexOf('-l') + 2), ['-l', 'k8s-file:/d/log']);
    assert.ok(argv.includes('-i') && argv.includes('--leave-stdin-open') && argv.includes('--full-attach'));
    assert.ok(!argv.includes('-t'));
    const none = createArgv({ ...common, tty: true, stdin: false, exitDir: '/e', logPath: null, leaveStdinOpen: true });
    assert.ok(none.includes('-t') && !none.includes('-i') && !none.includes('--leave-stdin-open'));
    assert.deepEqual(none.slice(none.indexOf('-l'), none.indexOf('-l') + 2), ['-l', 'none']);
  });
  test('exec argv', () => {
    const argv = execArgv({ ...common, tty: true, execId: 'e1', processSpec: '/x/process.json' });
    assert.ok(argv.includes('-e') && argv.includes('--exec-attach') && argv.includes('-t'));
    assert.deepEqual(argv.slice(argv.indexOf('-u'), argv.indexOf('-u') + 2), ['-u', 'e1']);
  });
  test('sync messages', () => {
    assert.deepEqual(parseSyncMessage('{"data": 123}'), { data: 123 });
    assert.deepEqual(parseSyncMessage('{"data": -1, "message": "boom"}'), { data: -1, message: 'boom' });
  });
});

describe('runc adapter', () => {
  test('signals', () => {
    assert.equal(normalizeSignal('TERM'), 'SIGTERM');
    assert.equal(normalizeSignal('sigkill'), 'SIGKILL');
    assert.equal(normalizeSignal(9), '9');
    assert.equal(normalizeSignal('SIGRTMIN+3'), 'SIGRTMIN+3');
    assert.throws(() => normalizeSignal('-9'), { name: 'InvalidParameter' });
  });
  test('error text', () => {
    const stderr = 'time="2024-01-01T00:00:00Z" level=error msg="runc create failed: unable to start container process: exec: \\"nope\\": executable file not found in $PATH"\n';
    assert.equal(runcMessage(stderr), 'runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH');
    assert.ok(runcSays(stderr, 'no-executable'));
    assert.ok(!runcSays(stderr, 'missing'));
    assert.ok(runcSays('level=error msg="container does not exist"', 'missing'));
    assert.ok(runcSays('level=error msg="container not running"', 'not-running'));
    assert.equal(startFailureCode('exec: "x": executable file not found in $PATH'), 127);
    assert.equal(startFailureCode('exec: "/etc": permission denied'), 126);
  });
  test('runtime choice by cgroup layout', () => {
    const hybrid = 'cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
    const unified = 'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n';
    assert.equal(cgroupMode(hybrid), 'hybrid');
    assert.equal(cgroupMode(unified), 'unified');
    assert.equal(cgroupMode('cgroup /sys/fs/cgroup/cpu cgroup rw 0 0\n'), 'legacy');
    assert.equal(pickRuntime({ crun: '/c', runc: '/r' }, 'hybrid'), '/r');
    assert.equal(pickRuntime({ crun: '/c', runc: '/r' }, 'unified'), '/c');
    assert.equal(pickRuntime({}, 'unified'), undefined);
  });
});

describe('mounts', () => {
  test('overlay options list the top layer first', () => {
    assert.equal(overlayOptions({ lower: ['/l/0', '/l/1'], upper: '/u', work: '/w', target: '/m' }), 'lowerdir=/l/1:/l/0,upperdir=/u,workdir=/w');
    assert.throws(() => overlayOptions({ lower: ['/a:b'], upper: '/u', work: '/w', target: '/m' }), { name: 'InvalidParameter' });
    assert.throws(() => overlayOptions({ lower: [], upper: '/u', work: '/w', target: '/m' }), { name: 'InvalidParameter' });
  });
});
