/**
 * The create request's fields: every one Docker defines is in berth's table, each either
 * implemented, a client's concern, or refused when set; what clients send by default
 * passes; dockerd's checks and wording for the implemented ones.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_FIELDS, HOST_CONFIG_FIELDS, decodeStruct, isZero, zeroOf, type FieldKind } from '../../src/api/docker-fields.js';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';

/** api/docs/v1.44.yaml: HostConfig (with Resources) and ContainerConfig properties. */
const SWAGGER_HOST_CONFIG = [
  'Annotations', 'AutoRemove', 'Binds', 'BlkioDeviceReadBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteBps', 'BlkioDeviceWriteIOps',
  'BlkioWeight', 'BlkioWeightDevice', 'CapAdd', 'CapDrop', 'Cgroup', 'CgroupParent', 'CgroupnsMode', 'ConsoleSize', 'ContainerIDFile',
  'CpuCount', 'CpuPercent', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpuShares', 'CpusetCpus', 'CpusetMems',
  'DeviceCgroupRules', 'DeviceRequests', 'Devices', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IOMaximumBandwidth',
  'IOMaximumIOps', 'Init', 'IpcMode', 'Isolation', 'KernelMemoryTCP', 'Links', 'LogConfig', 'MaskedPaths', 'Memory', 'MemoryReservation',
  'MemorySwap', 'MemorySwappiness', 'Mounts', 'NanoCpus', 'NetworkMode', 'OomKillDisable', 'OomScoreAdj', 'PidMode', 'PidsLimit',
  'PortBindings', 'Privileged', 'PublishAllPorts', 'ReadonlyPaths', 'ReadonlyRootfs', 'RestartPolicy', 'Runtime', 'SecurityOpt', 'ShmSize',
  'StorageOpt', 'Sysctls', 'Tmpfs', 'UTSMode', 'Ulimits', 'UsernsMode', 'VolumeDriver', 'VolumesFrom',
];
const SWAGGER_CONFIG = [
  'ArgsEscaped', 'AttachStderr', 'AttachStdin', 'AttachStdout', 'Cmd', 'Domainname', 'Entrypoint', 'Env', 'ExposedPorts', 'Healthcheck',
  'Hostname', 'Image', 'Labels', 'MacAddress', 'NetworkDisabled', 'OnBuild', 'OpenStdin', 'Shell', 'StdinOnce', 'StopSignal', 'StopTimeout',
  'Tty', 'User', 'Volumes', 'WorkingDir',
];

/** A value that is set, for a field of that kind. */
function sample(kind: FieldKind): unknown {
  switch (kind) {
    case 'string':
      return 'x';
    case 'int':
    case 'uint':
    case 'ptr-int':
      return 2;
    case 'bool':
    case 'ptr-bool':
      return true;
    case 'strings':
    case 'strslice':
      return ['x'];
    case 'objects':
      return [{ Path: '/dev/sda', Weight: 10 }];
    case 'stringmap':
      return { x: 'y' };
    case 'objectmap':
    case 'ptr-object':
      return { x: {} };
    case 'console-size':
      return [24, 80];
    case 'log-config':
      return { Type: 'none', Config: {} };
    case 'restart-policy':
      return { Name: 'always', MaximumRetryCount: 0 };
  }
}

const create = (body: Record<string, unknown>, version?: string) => parseContainerCreate({ Image: 'busybox', ...body }, null, version);
const withHost = (hc: Record<string, unknown>) => create({ HostConfig: hc });

describe('create fields: the table', () => {
  it('has every field of API 1.44 (and Go\'s KernelMemory), and no other', () => {
    assert.deepEqual(Object.keys(HOST_CONFIG_FIELDS).sort(), [...SWAGGER_HOST_CONFIG, 'KernelMemory'].sort());
    assert.deepEqual(Object.keys(CONFIG_FIELDS).sort(), [...SWAGGER_CONFIG].sort());
  });

  it('refuses every refused field when set, naming it, and takes its zero value', () => {
    for (const [name, spec] of Object.entries(HOST_CONFIG_FIELDS).filter(([, s]) => s.support === 'refused')) {
      assert.throws(() => withHost({ [name]: sample(spec.kind) }), (e: Error) => e.message.includes(`berth does not support HostConfig.${name} `), name);
      assert.doesNotThrow(() => withHost({ [name]: zeroOf(spec.kind) }), name);
    }
    for (const [name, spec] of Object.entries(CONFIG_FIELDS).filter(([, s]) => s.support === 'refused')) {
      assert.throws(() => create({ [name]: sample(spec.kind) }), (e: Error) => e.message.includes(`berth does not support Config.${name} `), name);
    }
  });

  it('names every refused field of one request at once', () => {
    assert.throws(() => withHost({ CpuCount: 2, CgroupParent: 'p' }), /: \* berth does not support HostConfig.CgroupParent "p"\n\* berth does not support HostConfig.CpuCount 2$/);
  });

  it('takes what the client alone cares about', () => {
    for (const [name, spec] of Object.entries(CONFIG_FIELDS).filter(([, s]) => s.support === 'client')) {
      assert.doesNotThrow(() => create({ [name]: sample(spec.kind) }), name);
    }
    assert.doesNotThrow(() => withHost({ ContainerIDFile: '/tmp/cid', KernelMemory: 1 << 30 }));
  });

  it('checks each type as Go does, naming the field', () => {
    assert.throws(() => withHost({ Memory: '1g' }), /json: cannot unmarshal string into Go struct field HostConfig.Memory of type int64/);
    assert.throws(() => withHost({ Privileged: 1 }), /cannot unmarshal number into Go struct field HostConfig.Privileged of type bool/);
    assert.throws(() => create({ Env: 'A=1' }), /cannot unmarshal string into Go struct field Config.Env of type \[\]string/);
  });

  it('decodes as Go: zero for absent, null for unset slices, omitempty left out', () => {
    const hc = decodeStruct({ memory: 7, Dns: null, Sysctls: {} }, HOST_CONFIG_FIELDS, 'HostConfig', true);
    assert.equal(hc.Memory, 7);
    assert.equal(hc.Dns, null);
    assert.equal(hc.CpuShares, 0);
    assert.ok(!('Sysctls' in hc) && !('Init' in hc));
    assert.ok(isZero({ Type: '', Config: null }) && isZero([0, 0]) && !isZero(['']) && !isZero(-1));
  });
});

describe('create fields: what berth implements', () => {
  it('memory, swap (twice the memory by default), reservation and swappiness, with dockerd\'s checks', () => {
    const { req } = withHost({ Memory: 100 << 20, MemoryReservation: 50 << 20, MemorySwappiness: 10, OomKillDisable: true, PidsLimit: 50, KernelMemoryTCP: 1 << 20 });
    assert.deepEqual(req.options?.resources, { memory: 100 << 20, memorySwap: 200 << 20, memoryReservation: 50 << 20, memorySwappiness: 10, kernelMemoryTcp: 1 << 20, oomKillDisable: true, pidsLimit: 50 });
    assert.throws(() => withHost({ Memory: 1000 }), /Minimum memory limit allowed is 6MB$/);
    assert.throws(() => withHost({ Memory: 100 << 20, MemorySwap: 50 << 20 }), /Minimum memoryswap limit should be larger than memory limit/);
    assert.throws(() => withHost({ MemorySwap: 50 << 20 }), /You should always set the Memory limit when using Memoryswap limit/);
    assert.throws(() => withHost({ MemorySwappiness: 101 }), /Invalid value: 101, valid memory swappiness range is 0-100/);
    assert.equal(withHost({ Memory: 100 << 20, MemorySwap: -1 }).req.options?.resources?.memorySwap, -1);
    assert.match(withHost({ OomKillDisable: true }).warnings.join('\n'), /OOM killer is disabled for the container, but no memory limit is set/);
  });

  it('CPUs: --cpus as a 100 ms period and its share, shares, quota and period, cpusets', () => {
    assert.deepEqual(withHost({ NanoCpus: 1.5e9, CpuShares: 512 }).req.options?.resources, { cpuShares: 512, cpuPeriod: 100000, cpuQuota: 150000 });
    assert.deepEqual(withHost({ CpuPeriod: 50000, CpuQuota: 25000, CpusetCpus: '0', CpusetMems: '0' }).req.options?.resources, { cpuPeriod: 50000, cpuQuota: 25000, cpusetCpus: '0', cpusetMems: '0' });
    assert.throws(() => withHost({ NanoCpus: 1e9, CpuQuota: 5000 }), /Conflicting options: Nano CPUs and CPU Quota cannot both be set/);
    assert.throws(() => withHost({ NanoCpus: 1000e9 }), /range of CPUs is from 0.01 to \d+.00, as there are only \d+ CPUs available/);
    assert.throws(() => withHost({ CpuShares: -1 }), /invalid CPU shares \(-1\): value must be a positive integer/);
    assert.throws(() => withHost({ CpuPeriod: 10 }), /CPU cfs period can not be less than 1ms/);
    assert.throws(() => withHost({ CpusetCpus: '999' }), /Requested CPUs are not available - requested 999, available: 0/);
    assert.throws(() => withHost({ CpusetCpus: '1-0' }), /Invalid value 1-0 for cpuset cpus/);
  });

  it('ulimits, groups, devices and device cgroup rules, shm, oom score, init, sysctls, annotations', () => {
    const { req } = withHost({
      Ulimits: [{ Name: 'nofile', Soft: 10, Hard: 20 }],
      GroupAdd: ['audio', '1234'],
      Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '', CgroupPermissions: 'rw' }],
      DeviceCgroupRules: ['c 7:128 rwm', 'a *:* m'],
      ShmSize: 1 << 20,
      OomScoreAdj: 500,
      Init: true,
      Sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' },
      Annotations: { 'org.x': 'y' },
      ConsoleSize: [30, 100],
    });
    assert.deepEqual(req.options, {
      devices: [{ pathOnHost: '/dev/fuse', pathInContainer: '/dev/fuse', permissions: 'rw' }],
      deviceCgroupRules: ['c 7:128 rwm', 'a *:* m'],
      ulimits: [{ name: 'nofile', soft: 10, hard: 20 }],
      groupAdd: ['audio', '1234'],
      shmSize: 1 << 20,
      oomScoreAdj: 500,
      init: true,
      annotations: { 'org.x': 'y' },
      sysctls: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1000' },
      consoleSize: { rows: 30, cols: 100 },
    });
    assert.throws(() => withHost({ DeviceCgroupRules: ['c 7:128'] }), /: invalid device cgroup rule format: 'c 7:128'$/);
    assert.throws(() => withHost({ Ulimits: [{ Name: 'nofiles', Soft: 1, Hard: 1 }] }), /invalid ulimit type: nofiles/);
    assert.throws(() => withHost({ Ulimits: [{ Name: 'nproc', Soft: 2, Hard: 1 }] }), /ulimit soft limit must be less than or equal to hard limit: 2 > 1/);
    assert.throws(() => withHost({ OomScoreAdj: 1001 }), /Invalid value 1001, range for oom score adj is \[-1000, 1000\]/);
    assert.throws(() => withHost({ ShmSize: -1 }), /SHM size can not be less than 0/);
    assert.throws(() => withHost({ Sysctls: { 'kernel.panic': '1' } }), /sysctl "kernel.panic" is not in a separate kernel namespace/);
    assert.throws(() => withHost({ NetworkMode: 'host', Sysctls: { 'net.core.somaxconn': '1' } }), /sysctl "net.core.somaxconn" not allowed in host network namespace/);
  });

  it('namespaces: the host\'s IPC and PID, no IPC, a private cgroup namespace; sharing a container\'s is refused', () => {
    assert.deepEqual(withHost({ IpcMode: 'host', PidMode: 'host', CgroupnsMode: 'private' }).req.options, { ipc: 'host', pidHost: true, cgroupnsPrivate: true });
    assert.deepEqual(withHost({ IpcMode: 'none' }).req.options, { ipc: 'none' });
    assert.equal(withHost({ IpcMode: 'shareable' }).req.options, undefined);
    assert.throws(() => withHost({ IpcMode: 'container:db' }), /berth does not support HostConfig.IpcMode "container:db"/);
    assert.throws(() => withHost({ PidMode: 'container:db' }), /berth does not support HostConfig.PidMode "container:db"/);
    assert.throws(() => withHost({ IpcMode: 'bogus' }), /invalid IPC mode: bogus/);
    assert.throws(() => withHost({ CgroupnsMode: 'bogus' }), /invalid cgroup namespace mode: bogus/);
    assert.throws(() => withHost({ UsernsMode: 'private' }), /berth does not support HostConfig.UsernsMode "private"/);
    assert.doesNotThrow(() => withHost({ UsernsMode: 'host' }));
  });

  it('security options: no-new-privileges; asking for no profile passes, asking for one is refused', () => {
    assert.deepEqual(withHost({ SecurityOpt: ['no-new-privileges', 'seccomp=unconfined', 'apparmor=unconfined', 'label=disable'] }).req.options, { noNewPrivileges: true });
    assert.deepEqual(withHost({ SecurityOpt: ['no-new-privileges:false'] }).req.options, { noNewPrivileges: false });
    assert.throws(() => withHost({ SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ERRNO"}'] }), /berth does not support HostConfig.SecurityOpt "seccomp=/);
    assert.throws(() => withHost({ SecurityOpt: ['apparmor=docker-default'] }), /berth does not support HostConfig.SecurityOpt "apparmor=docker-default"/);
    assert.throws(() => withHost({ SecurityOpt: ['bogus'] }), /invalid --security-opt 1: "bogus"/);
    assert.throws(() => withHost({ SecurityOpt: ['foo=bar'] }), /invalid --security-opt 2: "foo=bar"/);
    assert.deepEqual(withHost({ MaskedPaths: [], ReadonlyPaths: [] }).req.options, { maskedPaths: [], readonlyPaths: [] });
  });

  it('other platforms\' settings answer as dockerd on Linux does', () => {
    assert.throws(() => withHost({ Isolation: 'hyperv' }), /: invalid isolation \(hyperv\): linux only supports 'default'$/);
    assert.doesNotThrow(() => withHost({ Isolation: 'default' }));
    assert.throws(() => withHost({ IOMaximumBandwidth: 10 }), /QoS maximum bandwidth configuration is not supported on linux/);
    assert.throws(() => withHost({ IOMaximumIOps: 10 }), /QoS maximum IOPs configuration is not supported on linux/);
    assert.deepEqual(withHost({ CpuPercent: 50 }).warnings, ['linux does not support CPU percent. Percent discarded.']);
    assert.throws(() => withHost({ Runtime: 'kata' }), /: unknown or invalid runtime name: kata$/);
    assert.doesNotThrow(() => withHost({ Runtime: 'runc' }));
    assert.throws(() => withHost({ VolumeDriver: 'convoy' }), /berth does not support HostConfig.VolumeDriver "convoy"/);
  });

  it('log options are taken and checked with the driver\'s words; the effective LogConfig has them', () => {
    const made = withHost({ LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } } });
    assert.deepEqual((made.docker.hostConfig as { LogConfig: unknown }).LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
    assert.deepEqual(made.req.logOptions, { 'max-size': '10m', 'max-file': '3' });
    assert.throws(() => withHost({ LogConfig: { Type: 'json-file', Config: { 'max-size': 'big' } } }), /: invalid size: 'big'$/);
    assert.throws(() => withHost({ LogConfig: { Type: 'json-file', Config: { bogus: '1' } } }), /unknown log opt 'bogus' for json-file log driver/);
    assert.throws(() => withHost({ LogConfig: { Type: 'awslogs', Config: {} } }), /logger: no log driver named 'awslogs' is registered/);
  });

  it('a health check is taken as dockerd takes it (containers-health-config.test.ts has the rest)', () => {
    assert.deepEqual(create({ Healthcheck: { Test: ['NONE'] } }).req.healthcheck, { Test: ['NONE'] });
    assert.doesNotThrow(() => create({ Healthcheck: {} }));
    assert.deepEqual(create({ Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 } }).req.healthcheck, { Test: ['CMD', 'true'], Interval: 1e9 });
    assert.throws(() => create({ Healthcheck: { Retries: -1 } }), { message: 'Retries in Healthcheck cannot be negative' });
  });

  it('an endpoint keeps its IPAMConfig and DriverOpts as given; link-local addresses are refused', () => {
    const { req } = create({ HostConfig: { NetworkMode: 'app' }, NetworkingConfig: { EndpointsConfig: { app: { IPAMConfig: {}, DriverOpts: { a: 'b' } } } } });
    assert.deepEqual(req.networks.app, { aliases: [], links: [], ipamConfig: true, driverOpts: { a: 'b' } });
    assert.throws(
      () => create({ HostConfig: { NetworkMode: 'app' }, NetworkingConfig: { EndpointsConfig: { app: { IPAMConfig: { LinkLocalIPs: ['169.254.1.1'] } } } } }),
      /berth does not support EndpointSettings.IPAMConfig.LinkLocalIPs \["169.254.1.1"\]/,
    );
  });

  it('mounts: --mount type=tmpfs as a tmpfs; volume options kept for the create; propagation and other drivers refused', () => {
    const { req } = withHost({ Mounts: [{ Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 64 << 20, Mode: 0o1777 } }], Tmpfs: { '/run': '' } });
    assert.deepEqual(req.tmpfs, [
      { destination: '/scratch', options: ['noexec', 'nosuid', 'nodev', 'rprivate', 'size=64m', 'mode=1777'] },
      { destination: '/run', options: ['noexec', 'nosuid', 'nodev', 'rprivate'] },
    ]);
    assert.throws(() => withHost({ Binds: ['/a:/b:rshared'] }), /berth does not support bind propagation "rshared"/);
    assert.throws(() => withHost({ Mounts: [{ Type: 'bind', Source: '/a', Target: '/b', BindOptions: { Propagation: 'rslave' } }] }), /berth does not support BindOptions.Propagation "rslave"/);
    assert.throws(() => withHost({ Mounts: [{ Type: 'volume', Source: 'vol', Target: '/b', VolumeOptions: { DriverConfig: { Name: 'nfs' } } }] }), /berth does not support VolumeOptions.DriverConfig.Name "nfs"/);
    assert.throws(() => withHost({ Mounts: [{ Type: 'volume', Source: 'vol', Target: '/b', VolumeOptions: { Subpath: 'x' } }] }), /berth does not support VolumeOptions.Subpath/);
    // volume-opt and volume-label: what the volume is made with if it does not exist.
    const opts = { type: 'tmpfs', device: 'tmpfs' };
    assert.deepEqual(withHost({ Mounts: [{ Type: 'volume', Source: 'vol', Target: '/b', VolumeOptions: { Labels: { a: 'b' }, DriverConfig: { Name: 'local', Options: opts } } }] }).req.mounts[0]?.create, { options: opts, labels: { a: 'b' } });
    assert.equal(withHost({ Mounts: [{ Type: 'volume', Source: 'vol', Target: '/b', VolumeOptions: { DriverConfig: {} } }] }).req.mounts[0]?.create, undefined);
    assert.throws(() => withHost({ Mounts: [{ Type: 'bind', Source: '/a', Target: '/b', TmpfsOptions: { SizeBytes: 1 } }] }), /TmpfsOptions must not be specified on mount type "bind"/);
    assert.throws(() => withHost({ Mounts: [{ Type: 'tmpfs', Target: '/b' }], Binds: ['/x:/b'] }), /Duplicate mount point: \/b/);
    assert.equal(withHost({ Mounts: [{ Type: 'volume', Source: 'vol', Target: '/b', VolumeOptions: { NoCopy: true, DriverConfig: { Name: 'local' } } }] }).req.mounts[0]?.noCopy, true);
  });

  it('a --link on a user network is the endpoint\'s once, though the CLI sends it in HostConfig and EndpointsConfig', () => {
    const { req } = create({ HostConfig: { NetworkMode: 'app', Links: ['db:store'] }, NetworkingConfig: { EndpointsConfig: { app: { Links: ['db:store'] } } } });
    assert.deepEqual(req.networks.app?.links, ['db:store']);
    assert.deepEqual(req.links, []);
  });

  it('container network mode refuses exposed ports and links, as dockerd', () => {
    assert.throws(() => create({ ExposedPorts: { '80/tcp': {} }, HostConfig: { NetworkMode: 'container:web' } }), /conflicting options: port exposing and the container type network mode/);
    assert.throws(() => withHost({ NetworkMode: 'container:web', Links: ['a:b'] }), /conflicting options: container type network can't be used with links/);
  });
});

describe('create fields: older API versions', () => {
  it('moves API 1.41\'s container-wide MacAddress to the main network\'s endpoint', () => {
    const { req, warnings } = create({ MacAddress: '02:42:ac:11:00:99' }, '1.41');
    assert.equal(req.networks.bridge?.mac, '02:42:ac:11:00:99');
    assert.deepEqual(warnings, []);
    const user = create({ MacAddress: '02:42:ac:11:00:98', HostConfig: { NetworkMode: 'app' } }, '1.41');
    assert.equal(user.req.networks.app?.mac, '02:42:ac:11:00:98');
    assert.throws(() => create({ MacAddress: '02:42:ac:11:00:99', HostConfig: { NetworkMode: 'host' } }, '1.41'), /conflicting options: mac-address and the network mode/);
  });

  it('before 1.44 an endpoint\'s own MacAddress is ignored, and one network at most', () => {
    const { req } = create({ HostConfig: { NetworkMode: 'app' }, NetworkingConfig: { EndpointsConfig: { app: { MacAddress: '02:42:ac:11:00:97' } } } }, '1.43');
    assert.equal(req.networks.app?.mac, undefined);
    assert.throws(
      () => create({ HostConfig: { NetworkMode: 'a' }, NetworkingConfig: { EndpointsConfig: { a: {}, b: {} } } }, '1.43'),
      /Container cannot be created with multiple network endpoints: a, b/,
    );
  });

  it('from 1.44 the container-wide MacAddress must match the endpoint\'s, with dockerd\'s warning', () => {
    const ok = create({ MacAddress: '02:42:ac:11:00:99' });
    assert.equal(ok.req.networks.bridge?.mac, '02:42:ac:11:00:99');
    assert.deepEqual(ok.warnings, ['The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead.']);
    assert.throws(
      () => create({ MacAddress: '02:42:ac:11:00:99', HostConfig: { NetworkMode: 'app' }, NetworkingConfig: { EndpointsConfig: { app: { MacAddress: '02:42:ac:11:00:01' } } } }),
      /the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty/,
    );
  });

  it('resets what an older client could not have meant', () => {
    assert.deepEqual(withHost({ ConsoleSize: [30, 100] }).req.options, { consoleSize: { rows: 30, cols: 100 } });
    const old = create({ HostConfig: { ConsoleSize: [30, 100], Annotations: { a: 'b' } } }, '1.41');
    assert.equal(old.req.options, undefined);
    assert.deepEqual((old.docker.hostConfig as Record<string, unknown>).ConsoleSize, [0, 0]);
    assert.equal((create({}, '1.39').docker.hostConfig as Record<string, unknown>).IpcMode, 'shareable');
  });
});
