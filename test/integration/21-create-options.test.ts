/**
 * Container create as real clients send it: docker-py's and the CLI's bodies, field
 * names in any case, the options berth implements (limits, groups, devices, namespaces,
 * init) seen from inside the container, the ones it refuses, and inspect's effective
 * HostConfig.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { sh, World } from '../lib/world.js';

/** Debian's python3-docker (docker-py 5): the system python, not a user's. */
const PYTHON = '/usr/bin/python3';
const hasDockerPy = fs.existsSync(PYTHON) && (await sh(PYTHON, ['-c', 'import docker'])).code === 0;
const hasInit = ['/usr/bin/tini-static', '/usr/local/bin/docker-init', '/usr/bin/docker-init'].some((p) => fs.existsSync(p));

function isBlock(p: string): boolean {
  try {
    return fs.statSync(p).isBlockDevice();
  } catch {
    return false;
  }
}

/** A block device's major and minor (Linux's dev_t, small numbers). */
function blockNumbers(p: string): [number, number] {
  const rdev = fs.statSync(p).rdev;
  return [(rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)];
}

describe('container create options', () => {
  let w: World;
  const py = (code: string) => sh(PYTHON, ['-c', `import docker\n${code}`], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` } });
  const inspect = async (name: string) => JSON.parse(await w.dockerOk('inspect', name)) as [Record<string, Record<string, unknown>>];
  before(async () => {
    w = await World.create();
    await w.dockerOk('pull', 'busybox');
  });
  after(async () => {
    await w.dispose();
  });

  it('docker-py runs a container: inspect has the effective LogConfig and the rest of HostConfig', { skip: !hasDockerPy && 'python3-docker is not installed' }, async () => {
    const r = await py(`c = docker.from_env()\nprint(c.containers.run("busybox", "echo hi", remove=True).decode().strip())`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'hi');
    const old = await py(`c = docker.from_env(version="1.41")\nprint(c.containers.run("busybox", "echo old", remove=True).decode().strip())`);
    assert.equal(old.code, 0, old.stderr);
    assert.equal(old.stdout.trim(), 'old');
  });

  it('a create without HostConfig is inspected with dockerd\'s defaults', async () => {
    const made = await w.api('POST', '/containers/create?name=bare', { Image: 'busybox', Cmd: ['true'] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const [c] = await inspect('bare');
    const hc = c.HostConfig!;
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
    assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(hc.NetworkMode, 'bridge');
    assert.equal(hc.Runtime, 'runc');
    assert.equal(hc.ShmSize, 67108864);
    assert.equal(hc.CpuRealtimeRuntime, 0);
    assert.equal(hc.CgroupnsMode, 'host');
    assert.equal(hc.IpcMode, 'private');
    assert.ok(Array.isArray(hc.MaskedPaths));
    await w.dockerOk('rm', 'bare');
  });

  it('field names match in any case, as dockerd\'s Go decoder matches them', async () => {
    const made = await w.api('POST', '/containers/create?name=lower', { image: 'busybox', cmd: ['sleep', '30'], hostconfig: { memory: 104857600, autoremove: false } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const [c] = await inspect('lower');
    assert.equal(c.HostConfig!.Memory, 104857600);
    assert.deepEqual(c.Config!.Cmd, ['sleep', '30']);
    await w.dockerOk('rm', 'lower');
  });

  it('--group-add: id -G shows the groups, names from the container\'s /etc/group', async () => {
    assert.equal(await w.dockerOk('run', '--rm', '--group-add', 'staff', '--group-add', '1234', 'busybox', 'id', '-G'), '0 10 50 1234');
    const r = await w.docker('run', '--rm', '--group-add', 'nosuch', 'busybox', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unable to find group nosuch: no matching entries in group file/);
  });

  it('--device-cgroup-rule reaches the devices cgroup; --device makes the node', async () => {
    const list = await w.dockerOk('run', '--rm', '--device-cgroup-rule', 'c 7:128 rwm', 'busybox', 'cat', '/sys/fs/cgroup/devices/devices.list');
    assert.match(list, /^c 7:128 rwm$/m);
    assert.doesNotMatch(await w.dockerOk('run', '--rm', 'busybox', 'cat', '/sys/fs/cgroup/devices/devices.list'), /^c 7:128/m);
    const dev = await w.dockerOk('run', '--rm', '--device', '/dev/null:/dev/mynull:rw', 'busybox', 'sh', '-c', 'echo x > /dev/mynull && stat -c "%F %t,%T" /dev/mynull');
    assert.equal(dev, 'character special file 1,3');
    const bad = await w.docker('run', '--rm', '--device', '/dev/nope', 'busybox', 'true');
    assert.match(bad.stderr, /error gathering device information while adding custom device "\/dev\/nope": no such file or directory/);
  });

  it('limits: memory, swap, CPUs, pids, ulimits, shm size, oom score, sysctls', async () => {
    const out = await w.dockerOk(
      'run', '--rm', '-m', '100m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '50', '--ulimit', 'nofile=100:200',
      '--shm-size', '1m', '--oom-score-adj', '300', '--sysctl', 'net.ipv4.ip_forward=1', 'busybox', 'sh', '-c',
      'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/pids/pids.max; ulimit -n; ulimit -Hn; df -k /dev/shm | tail -1 | awk \'{print $2}\'; cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward',
    );
    assert.deepEqual(out.split('\n'), ['104857600', '209715200', '50000', '512', '50', '100', '200', '1024', '300', '1']);
  });

  it('--device-read-bps and --device-write-iops throttle a block device', { skip: !isBlock('/dev/loop0') && 'no /dev/loop0' }, async () => {
    const [major, minor] = blockNumbers('/dev/loop0');
    const out = await w.dockerOk(
      'run', '--rm', '--device-read-bps', '/dev/loop0:1mb', '--device-write-iops', '/dev/loop0:100', 'busybox', 'cat',
      '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device', '/sys/fs/cgroup/blkio/blkio.throttle.write_iops_device',
    );
    assert.deepEqual(out.split('\n'), [`${major}:${minor} 1048576`, `${major}:${minor} 100`]);
  });

  it('--init runs an init as PID 1', { skip: !hasInit && 'no tini-static or docker-init on this host' }, async () => {
    const comm = await w.dockerOk('run', '--rm', '--init', 'busybox', 'cat', '/proc/1/comm');
    assert.equal(comm, 'docker-init');
  });

  it('ConsoleSize gives a tty its size from the start', async () => {
    const made = await w.api('POST', '/containers/create?name=sized', { Image: 'busybox', Cmd: ['stty', 'size'], Tty: true, HostConfig: { ConsoleSize: [30, 100] } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await w.dockerOk('start', 'sized');
    await w.dockerOk('wait', 'sized');
    assert.equal(await w.dockerOk('logs', 'sized'), '30 100');
    await w.dockerOk('rm', 'sized');
  });

  it('--pid host, --ipc host and --ipc none', async () => {
    assert.notEqual(await w.dockerOk('run', '--rm', '--pid', 'host', 'busybox', 'cat', '/proc/1/comm'), 'cat');
    assert.equal(await w.dockerOk('run', '--rm', 'busybox', 'cat', '/proc/1/comm'), 'cat');
    const hostIpc = await w.dockerOk('run', '--rm', '--ipc', 'host', 'busybox', 'readlink', '/proc/self/ns/ipc');
    assert.equal(hostIpc, fs.readlinkSync('/proc/self/ns/ipc'));
    assert.equal(await w.dockerOk('run', '--rm', '--ipc', 'none', 'busybox', 'sh', '-c', 'grep -c " /dev/shm " /proc/mounts || true'), '0');
  });

  it('API 1.41\'s container-wide MacAddress sets the MAC of the container\'s network, as dockerd does for old clients', async () => {
    const made = await w.api('POST', '/v1.41/containers/create?name=oldmac', { Image: 'busybox', Cmd: ['cat', '/sys/class/net/eth0/address'], MacAddress: '02:42:ac:11:00:99' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal((await w.api('POST', '/v1.41/containers/oldmac/start')).status, 204);
    await w.dockerOk('wait', 'oldmac');
    assert.equal(await w.dockerOk('logs', 'oldmac'), '02:42:ac:11:00:99');
    assert.equal(await w.dockerOk('inspect', '-f', '{{.Config.MacAddress}}', 'oldmac'), '02:42:ac:11:00:99');
    await w.dockerOk('rm', 'oldmac');
  });

  it('docker-py 5 with API 1.41: mac_address and group_add are applied', { skip: !hasDockerPy && 'python3-docker is not installed' }, async () => {
    const r = await py(
      'c = docker.from_env(version="1.41")\n' +
        'out = c.containers.run("busybox", ["sh", "-c", "cat /sys/class/net/eth0/address; id -G"], mac_address="02:42:ac:11:00:98", group_add=["users"], remove=True)\n' +
        'print(out.decode().strip())',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['02:42:ac:11:00:98', '0 10 100']);
  });

  it('a field berth does not implement is refused, named, with status 400; never dropped', async () => {
    const rt = await w.docker('run', '--rm', '--cgroup-parent', 'mine', 'busybox', 'true');
    assert.notEqual(rt.code, 0);
    assert.match(rt.stderr, /berth does not support HostConfig.CgroupParent "mine"/);
    const raw = await w.api('POST', '/containers/create', { Image: 'busybox', HostConfig: { Isolation: 'hyperv', CpuRealtimeRuntime: 1000 } });
    assert.equal(raw.status, 400);
    assert.match((raw.body as { message: string }).message, /invalid isolation \(hyperv\): linux only supports 'default'|berth does not support HostConfig.CpuRealtimeRuntime 1000/);
  });

  it('an endpoint\'s IPAMConfig and DriverOpts come back as set; IPAM.Options null unless given', async () => {
    const made = await w.api('POST', '/networks/create', { Name: 'plain' });
    assert.equal(made.status, 201);
    assert.equal(await w.dockerOk('network', 'inspect', '-f', '{{json .IPAM.Options}}', 'plain'), 'null');
    await w.restart();
    assert.equal(await w.dockerOk('network', 'inspect', '-f', '{{json .IPAM.Options}}', 'plain'), 'null', 'as stored');
    await w.dockerOk('network', 'create', '--subnet', '10.61.0.0/24', 'opts');
    assert.equal(await w.dockerOk('network', 'inspect', '-f', '{{json .IPAM.Options}}', 'opts'), '{}');
    await w.dockerOk('create', '--name', 'ep', 'busybox', 'sleep', '30');
    await w.dockerOk('network', 'connect', '--driver-opt', 'a=b', '--ip', '10.61.0.7', 'opts', 'ep');
    const eps = JSON.parse(await w.dockerOk('inspect', '-f', '{{json .NetworkSettings.Networks.opts}}', 'ep')) as Record<string, unknown>;
    assert.deepEqual(eps.IPAMConfig, { IPv4Address: '10.61.0.7' });
    assert.deepEqual(eps.DriverOpts, { a: 'b' });
    await w.dockerOk('rm', 'ep');
    await w.dockerOk('network', 'rm', 'plain', 'opts');
  });
});
