/**
 * The runtime against the real runc and conmon: busybox containers in a network
 * namespace this test creates. Everything made here (netns, mounts, runc state,
 * conmon processes, cgroups, temp dirs) is removed in after(), even on failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { run } from '../../src/kernel/exec.js';
import { isMounted } from '../../src/kernel/mount.js';
import { createRuntime } from '../../src/runtime/index.js';
import type { LogEntry, RunSpec, Runtime } from '../../src/runtime/index.js';

const APPLETS = ['sh', 'sleep', 'echo', 'cat', 'ip', 'ls', 'readlink', 'stty', 'tty', 'id', 'true', 'false', 'env', 'grep', 'wc'];
const suffix = randomBytes(4).toString('hex');
const NETNS = `berth-rt-test-${suffix}`;
const CGROUP_PARENT = `berth-rt-test-${suffix}`;

let root = '';
let layer = '';
let runtime: Runtime;
const created = new Set<string>();
let counter = 0;

async function makeBusyboxLayer(dir: string): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp', 'root']) await mkdir(join(dir, d));
  await copyFile('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const a of APPLETS) await symlink('busybox', join(dir, 'bin', a));
}

/** A spec for a fresh container with its own upper layer, in NETNS unless told otherwise. */
async function spec(args: string[], over: Partial<RunSpec['process']> = {}, network?: RunSpec['network']): Promise<RunSpec> {
  const id = randomBytes(32).toString('hex');
  const dir = join(root, 'containers', `c${counter++}`);
  for (const d of ['upper', 'work', 'merged']) await mkdir(join(dir, d), { recursive: true });
  created.add(id);
  return {
    id,
    rootfs: { layers: [layer], upper: join(dir, 'upper'), work: join(dir, 'work'), merged: join(dir, 'merged') },
    process: { args, env: ['PATH=/bin', 'HOME=/root'], cwd: '/', tty: false, openStdin: false, stdinOnce: false, ...over },
    hostname: id.slice(0, 12),
    network: network ?? { kind: 'netns', path: `/run/netns/${NETNS}` },
    mounts: [],
    privileged: false,
    capAdd: [],
    capDrop: [],
    logPath: join(dir, 'container.log'),
  };
}

async function runToExit(s: RunSpec): Promise<number> {
  await runtime.create(s);
  await runtime.start(s.id);
  return runtime.wait(s.id);
}

async function collectLogs(id: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of runtime.logs(id)) out.push(e);
  return out;
}

function text(entries: LogEntry[], stream: 'stdout' | 'stderr'): string {
  return Buffer.concat(entries.filter((e) => e.stream === stream).map((e) => e.line)).toString();
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

/** Live conmon processes whose command line mentions `needle` (our root, or an id). */
async function conmonPidsFor(needle: string): Promise<number[]> {
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8');
      const argv0 = cmd.split('\0')[0] ?? '';
      if (argv0.endsWith('conmon') && cmd.includes(needle)) pids.push(Number(p));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-rt-test-'));
  layer = join(root, 'layer');
  await makeBusyboxLayer(layer);
  await run('ip', ['netns', 'add', NETNS]);
  runtime = await createRuntime({ execRoot: join(root, 'exec'), cgroupParent: CGROUP_PARENT });
});

after(async () => {
  const problems: string[] = [];
  for (const id of created) {
    await runtime.delete(id).catch((e: unknown) => problems.push(String(e)));
  }
  for (const pid of await conmonPidsFor(root)) {
    problems.push(`conmon ${pid} left running`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await run('ip', ['netns', 'del', NETNS]).catch((e: unknown) => problems.push(String(e)));
  for (const ctrl of await readdir('/sys/fs/cgroup').catch(() => [] as string[])) {
    const dir = join('/sys/fs/cgroup', ctrl, CGROUP_PARENT);
    if (await exists(dir)) await rmdir(dir).catch((e: unknown) => problems.push(`cgroup ${dir}: ${String(e)}`));
  }
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  if (mountinfo.includes(root)) problems.push('mounts left under the test root');
  await rm(root, { recursive: true, force: true });
  assert.deepEqual(problems, []);
});

describe('runtime (runc + conmon)', () => {
  test('PID 1 is the process, only lo, in the given netns; exit code and stderr kept apart', async () => {
    const s = await spec(['sh', '-c', 'echo pid=$$; ip -o link; readlink /proc/self/ns/net; echo oops >&2; exit 3']);
    assert.equal(await runToExit(s), 3);
    const logs = await collectLogs(s.id);
    const out = text(logs, 'stdout');
    assert.match(out, /^pid=1\n/);
    const links = out.split('\n').filter((l) => /^\d+: /.test(l));
    assert.equal(links.length, 1, out);
    assert.match(links[0] ?? '', /^1: lo:/);
    const nsInode = (await stat(`/run/netns/${NETNS}`)).ino;
    assert.match(out, new RegExp(`net:\\[${nsInode}\\]`));
    assert.equal(text(logs, 'stderr'), 'oops\n');
    assert.deepEqual(await runtime.state(s.id), { status: 'stopped', exitCode: 3 });
    await assert.rejects(runtime.attach(s.id, { stdin: false }), { name: 'Conflict' });
    await assert.rejects(runtime.exec(s.id, { args: ['true'], env: [], cwd: '/', tty: false, stdin: false }), { name: 'Conflict' });
  });

  test('tail, and partial last lines', async () => {
    const s = await spec(['sh', '-c', 'echo a; echo b; echo c; printf no-newline']);
    assert.equal(await runToExit(s), 0);
    const tail: string[] = [];
    for await (const e of runtime.logs(s.id, { tail: 2 })) tail.push(e.line.toString());
    assert.deepEqual(tail, ['c\n', 'no-newline']);
  });

  test('follow streams output until the container exits', async () => {
    const s = await spec(['sh', '-c', 'echo one; sleep 0.3; echo two']);
    await runtime.create(s);
    await runtime.start(s.id);
    const lines: string[] = [];
    for await (const e of runtime.logs(s.id, { follow: true })) lines.push(e.line.toString());
    assert.deepEqual(lines, ['one\n', 'two\n']);
  });

  test('exec: stdout/stderr apart, exit codes, stdin, missing command; kill; a second daemon waits', async () => {
    const s = await spec(['sleep', '1000']);
    const { pid } = await runtime.create(s);
    assert.ok(pid > 0);
    await runtime.start(s.id);
    assert.deepEqual(await runtime.state(s.id), { status: 'running', pid });

    const e1 = await runtime.exec(s.id, { args: ['sh', '-c', 'echo out; echo err >&2; exit 7'], env: ['PATH=/bin'], cwd: '/', tty: false, stdin: false });
    assert.ok(e1.pid > 0);
    const [o1, r1] = await Promise.all([readAll(e1.stdout), readAll(e1.stderr)]);
    assert.deepEqual([o1, r1, (await e1.exit).exitCode], ['out\n', 'err\n', 7]);

    const e2 = await runtime.exec(s.id, { args: ['cat'], env: ['PATH=/bin'], cwd: '/', tty: false, stdin: true });
    e2.stdin?.end('hello');
    assert.equal(await readAll(e2.stdout), 'hello');
    assert.equal((await e2.exit).exitCode, 0);

    const e3 = await runtime.exec(s.id, { args: ['no-such-command'], env: ['PATH=/bin'], cwd: '/', tty: false, stdin: false });
    const [o3, r3, x3] = await Promise.all([readAll(e3.stdout), readAll(e3.stderr), e3.exit]);
    assert.equal(o3, '');
    assert.equal(r3, '', 'runc\'s own complaint is not the process\'s stderr: the error says it, in dockerd\'s words');
    assert.equal(x3.exitCode, 127);
    assert.match(x3.error ?? '', /^OCI runtime exec failed: .*executable file not found in \$PATH: unknown$/);

    const e4 = await runtime.exec(s.id, { args: ['sh', '-c', 'tty; stty size'], env: ['PATH=/bin'], cwd: '/', tty: true, stdin: false });
    const o4 = await readAll(e4.stdout);
    assert.match(o4, /\/dev\/pts\/\d+/);
    assert.equal((await e4.exit).exitCode, 0);

    const again = await createRuntime({ execRoot: join(root, 'exec'), cgroupParent: CGROUP_PARENT });
    const waited = again.wait(s.id);
    await runtime.kill(s.id, 'KILL');
    assert.equal(await waited, 137);
    await assert.rejects(runtime.kill(s.id, 'TERM'), { name: 'Conflict' });
  });

  test('attach: stdin to the process, its output back', async () => {
    const s = await spec(['sh', '-c', 'read line; echo "got $line"; echo bye >&2'], { openStdin: true, stdinOnce: true });
    await runtime.create(s);
    const a = await runtime.attach(s.id, { stdin: true });
    await runtime.start(s.id);
    a.stdin?.end('hi\n');
    const [out, err] = await Promise.all([readAll(a.stdout), readAll(a.stderr)]);
    assert.equal(out, 'got hi\n');
    assert.equal(err, 'bye\n');
    assert.equal(await runtime.wait(s.id), 0);
  });

  test('attach carries large output intact', async () => {
    const s = await spec(['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done']);
    await runtime.create(s);
    const a = await runtime.attach(s.id, { stdin: false });
    await runtime.start(s.id);
    await new Promise((r) => setTimeout(r, 200)); // a slow reader: the relay must pause, not drop
    const out = (await readAll(a.stdout)).split('\n');
    assert.equal(out.length, 20001);
    assert.equal(out[19999], 'line-19999');
    assert.equal(await runtime.wait(s.id), 0);
  });

  test('exec -it: an interactive shell on a pty', async () => {
    const s = await spec(['sleep', '1000']);
    await runtime.create(s);
    await runtime.start(s.id);
    const e = await runtime.exec(s.id, { args: ['sh'], env: ['PATH=/bin'], cwd: '/', tty: true, stdin: true });
    await e.resize({ rows: 40, cols: 120 });
    e.stdin?.write('stty size; exit 5\n');
    const out = await readAll(e.stdout);
    assert.match(out, /40 120/);
    assert.equal((await e.exit).exitCode, 5);
    const bad = await runtime.exec(s.id, { args: ['no-such-command'], env: ['PATH=/bin'], cwd: '/', tty: true, stdin: true });
    const badExit = await bad.exit;
    assert.equal(badExit.exitCode, 127);
    assert.match(badExit.error ?? '', /executable file not found/);
    assert.deepEqual(await readdir(join(root, 'exec', 'runtime', s.id, 'exec')), []);
    await runtime.delete(s.id);
  });

  test('capabilities: no NET_ADMIN by default, --cap-add gives it; binds are mounted read-only', async () => {
    const cmd = ['ip', 'addr', 'add', '10.9.9.9/32', 'dev', 'lo'];
    assert.notEqual(await runToExit(await spec(cmd)), 0);
    const withCap = await spec(cmd);
    withCap.capAdd = ['net_admin'];
    assert.equal(await runToExit(withCap), 0);
    const hosts = join(root, 'hosts');
    await writeFile(hosts, '10.0.0.1 example\n');
    const b = await spec(['sh', '-c', 'cat /etc/hosts; echo x >> /etc/hosts']);
    b.mounts = [{ source: hosts, destination: '/etc/hosts', readonly: true }];
    assert.notEqual(await runToExit(b), 0);
    assert.equal(text(await collectLogs(b.id), 'stdout'), '10.0.0.1 example\n');
  });

  test('tty: a pty with the size set through resize', async () => {
    const s = await spec(['sh', '-c', 'tty; stty size'], { tty: true });
    await runtime.create(s);
    const a = await runtime.attach(s.id, { stdin: false });
    await runtime.resize(s.id, { rows: 33, cols: 101 });
    await runtime.start(s.id);
    const out = await readAll(a.stdout);
    assert.match(out, /\/dev\/pts\/0/);
    assert.match(out, /33 101/);
    assert.equal(await runtime.wait(s.id), 0);
  });

  test('delete leaves no mount, runc state, conmon, cgroup or bundle; is idempotent', async () => {
    const s = await spec(['sleep', '1000']);
    await runtime.create(s);
    await runtime.start(s.id);
    assert.ok(await isMounted(s.rootfs.merged));
    assert.ok(await exists(join('/sys/fs/cgroup/memory', CGROUP_PARENT, s.id)));
    await runtime.delete(s.id);
    await runtime.delete(s.id);
    assert.equal(await isMounted(s.rootfs.merged), false);
    assert.equal(await exists(join(root, 'exec', 'runc', s.id)), false);
    assert.equal(await exists(join(root, 'exec', 'runtime', s.id)), false);
    assert.equal(await exists(join('/sys/fs/cgroup/memory', CGROUP_PARENT, s.id)), false);
    assert.deepEqual(await runtime.state(s.id), { status: 'missing' });
    assert.deepEqual(await conmonPidsFor(s.id), []);
  });

  test('delete of a created, never started container', async () => {
    const s = await spec(['sleep', '1000'], { openStdin: true });
    await runtime.create(s);
    assert.equal((await runtime.state(s.id)).status, 'created');
    await runtime.delete(s.id);
    assert.equal(await isMounted(s.rootfs.merged), false);
    assert.deepEqual(await conmonPidsFor(s.id), []);
  });

  test('a missing command fails create, and rolls back', async () => {
    const s = await spec(['no-such-command']);
    await assert.rejects(runtime.create(s), { name: 'InvalidParameter' });
    assert.equal(await isMounted(s.rootfs.merged), false);
    assert.deepEqual(await runtime.state(s.id), { status: 'missing' });
  });

  test('network host and new', async () => {
    const s = await spec(['sh', '-c', 'ip -o link | wc -l'], {}, { kind: 'new' });
    assert.equal(await runToExit(s), 0);
    assert.equal(text(await collectLogs(s.id), 'stdout').trim(), '1');
    const h = await spec(['sh', '-c', 'readlink /proc/self/ns/net'], {}, { kind: 'host' });
    assert.equal(await runToExit(h), 0);
    const hostNs = await run('readlink', ['/proc/self/ns/net']);
    assert.equal(text(await collectLogs(h.id), 'stdout'), hostNs);
  });
});
