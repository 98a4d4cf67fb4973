/**
 * Container inspect against dockerd 25's answer (API 1.44): every key dockerd sends is
 * there with its JSON type, and nothing dockerd would not send; HostConfig is the
 * effective one, with dockerd's defaults, whatever the client sent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseContainerCreate } from '../../src/api/routes/container-create.js';
import { inspectShape, type ContainerView } from '../../src/api/shapes/container.js';
import { CONFIG_FIELDS, HOST_CONFIG_FIELDS, type FieldSpec } from '../../src/api/docker-fields.js';
import { mergeDockerConfig, mergeSpecWithImage } from '../../src/engine/containers/config-merge.js';
import type { ContainerId, ContainerRecord } from '../../src/engine/containers/model.js';
import type { Network } from '../../src/network/controller.js';
import { LOCAL_NETWORK } from '../../src/network/drivers/driver.js';
import type { EndpointId, EndpointRecord, NetworkId } from '../../src/network/model.js';
import type { Json } from '../../src/store/kv.js';
import { networkRecord } from '../lib/records.js';
import { DOCKERD_INSPECT, OMITEMPTY } from './docker-inspect-fixture.js';

/** What the docker CLI (28) sends for `docker run -d -p 8080:80 -v data:/data busybox httpd -f`. */
const CLI_BODY = {
  Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false,
  ExposedPorts: { '80/tcp': {} }, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: ['httpd', '-f'],
  Image: 'busybox', Volumes: {}, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: {},
  HostConfig: {
    Binds: ['data:/data'], ContainerIDFile: '', LogConfig: { Type: '', Config: {} }, NetworkMode: 'default',
    PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false, VolumeDriver: '', VolumesFrom: null, ConsoleSize: [0, 0], CapAdd: null, CapDrop: null,
    CgroupnsMode: '', Dns: [], DnsOptions: [], DnsSearch: [], ExtraHosts: null, GroupAdd: null, IpcMode: '',
    Cgroup: '', Links: null, OomScoreAdj: 0, PidMode: '', Privileged: false, PublishAllPorts: false,
    ReadonlyRootfs: false, SecurityOpt: null, UTSMode: '', UsernsMode: '', ShmSize: 0, Isolation: '',
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [],
    BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
    CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
    Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0,
    MemorySwappiness: -1, OomKillDisable: false, PidsLimit: 0, Ulimits: [], CpuCount: 0, CpuPercent: 0,
    IOMaximumIOps: 0, IOMaximumBandwidth: 0, MaskedPaths: null, ReadonlyPaths: null,
  },
  NetworkingConfig: {
    EndpointsConfig: {
      default: {
        IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '',
        EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0, DNSNames: null,
      },
    },
  },
};

/** What docker-py sends for `containers.run("busybox", "echo hi")`: no HostConfig at all. */
const DOCKER_PY_BODY = { Tty: false, OpenStdin: false, StdinOnce: false, AttachStdin: false, AttachStdout: true, AttachStderr: true, Cmd: ['echo', 'hi'], Image: 'busybox', NetworkDisabled: false };

const IMAGE = { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] };
const ID = 'f3a1c2d4e5b6a7980112233445566778899aabbccddeeff00112233445566778' as ContainerId;
const BRIDGE: Network = {
  record: networkRecord({ id: 'b'.repeat(64) as NetworkId, name: 'bridge', predefined: true }),
  driver: {} as Network['driver'],
  capabilities: { ...LOCAL_NETWORK, reportsPorts: true },
};

function record(body: unknown): ContainerRecord {
  const { req, docker } = parseContainerCreate(body, 'web');
  const { imageRef, ...rest } = req;
  const spec = mergeSpecWithImage({ ...rest, name: 'web', image: { ref: imageRef, id: 'sha256:' + 'c'.repeat(64) } }, IMAGE);
  const config = mergeDockerConfig(docker.config as { [k: string]: Json }, IMAGE);
  return {
    id: ID,
    created: '2024-02-01T10:00:00.123456789Z',
    spec: { ...spec, mounts: spec.mounts.map((m) => (m.type === 'volume' ? { ...m, source: m.source || 'anon' } : m)) },
    state: { status: 'running', pid: 4242, exitCode: 0, error: '', startedAt: '2024-02-01T10:00:00.5Z', finishedAt: '0001-01-01T00:00:00Z' },
    restartCount: 0,
    docker: { config, hostConfig: docker.hostConfig },
  };
}

function view(c: ContainerRecord): ContainerView {
  const ep: EndpointRecord = {
    id: 'e'.repeat(64) as EndpointId, networkId: BRIDGE.record.id, containerId: c.id, name: 'web', ifName: 'eth0', hostIfName: 'veth1',
    mac: '02:42:ac:11:00:02', ipv4: { address: '172.17.0.2', prefixLen: 16, gateway: '172.17.0.1' }, ipv6: undefined, aliases: [], gateway: true,
  };
  const find = (x: string) => (x === 'bridge' || x === BRIDGE.record.id ? BRIDGE : undefined);
  return {
    c, endpoints: [ep], network: find, networkByName: find, etcDir: '/d', logPath: '/d/log', sandboxKey: '/run/netns/x',
    hostname: c.id.slice(0, 12), domainname: '', ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] },
    graphDriverData: { LowerDir: '/l/1:/l/0', MergedDir: '/d/merged', UpperDir: '/d/upper', WorkDir: '/d/work' },
  };
}

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Go types that encode an unset value as null (slices, maps, pointers). */
function nullable(spec: FieldSpec | undefined): boolean {
  return spec !== undefined && !['string', 'int', 'uint', 'bool', 'console-size', 'log-config', 'restart-policy'].includes(spec.kind);
}

/** The objects whose fields are compared one by one; maps (Labels, Ports, Networks …) are not. */
const STRUCTS: Record<string, Readonly<Record<string, FieldSpec>> | undefined> = {
  '': undefined, State: undefined, HostConfig: HOST_CONFIG_FIELDS, 'HostConfig.LogConfig': undefined, 'HostConfig.RestartPolicy': undefined,
  GraphDriver: undefined, Config: CONFIG_FIELDS, NetworkSettings: undefined, 'NetworkSettings.Networks.bridge': undefined, Mounts: undefined,
};

function compare(docker: Record<string, unknown>, berth: Record<string, unknown>, path: string, problems: string[]): void {
  const fields = STRUCTS[path];
  for (const [key, want] of Object.entries(docker)) {
    const where = path ? `${path}.${key}` : key;
    if (!(key in berth)) {
      if (!(OMITEMPTY[path] ?? []).includes(key)) problems.push(`missing ${where}`);
      continue;
    }
    const got = berth[key];
    const ok = typeOf(got) === typeOf(want) || (want === null && got !== undefined) || (got === null && nullable(fields?.[key]));
    if (!ok) problems.push(`${where}: ${typeOf(got)}, dockerd sends ${typeOf(want)}`);
    const sub = where === 'Mounts' ? 'Mounts' : where === 'NetworkSettings.Networks' ? 'NetworkSettings.Networks.bridge' : where;
    if (sub in STRUCTS && typeOf(want) === 'object' && typeOf(got) === 'object') {
      const inner = sub === 'NetworkSettings.Networks.bridge' ? [(want as Record<string, unknown>).bridge, (got as Record<string, unknown>).bridge] : [want, got];
      compare(inner[0] as Record<string, unknown>, inner[1] as Record<string, unknown>, sub, problems);
    }
    if (sub === 'Mounts' && Array.isArray(want) && Array.isArray(got) && got.length > 0) {
      compare(want[0] as Record<string, unknown>, got[0] as Record<string, unknown>, 'Mounts', problems);
    }
  }
  for (const key of Object.keys(berth)) {
    if (!(key in docker) && !(OMITEMPTY[path] ?? []).includes(key)) problems.push(`${path ? `${path}.` : ''}${key} is not dockerd's`);
  }
}

describe('container inspect, as dockerd 25 answers it', () => {
  it('has every key dockerd sends, with its type, for the docker CLI\'s create', () => {
    const got = inspectShape(view(record(CLI_BODY)), (n) => `/v/${n}/_data`);
    const problems: string[] = [];
    compare(DOCKERD_INSPECT as unknown as Record<string, unknown>, got, '', problems);
    assert.deepEqual(problems, []);
  });

  it('and for docker-py\'s, which sends no HostConfig: the effective one, with dockerd\'s defaults', () => {
    const got = inspectShape(view(record(DOCKER_PY_BODY)), (n) => `/v/${n}/_data`);
    const problems: string[] = [];
    compare(DOCKERD_INSPECT as unknown as Record<string, unknown>, got, '', problems);
    assert.deepEqual(problems.filter((p) => !p.startsWith('Mounts')), []);
    const hc = got.HostConfig as Record<string, unknown>;
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
    assert.deepEqual(hc.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
    assert.equal(hc.NetworkMode, 'bridge');
    assert.equal(hc.ShmSize, 67108864);
    assert.equal(hc.Runtime, 'runc');
    assert.equal(hc.IpcMode, 'private');
    assert.equal(hc.CgroupnsMode, 'host');
    assert.equal(hc.OomKillDisable, false);
    assert.deepEqual(hc.PortBindings, {});
    assert.equal(hc.Binds, null);
    assert.equal(hc.BlkioWeightDevice, null);
    assert.ok(Array.isArray(hc.MaskedPaths) && hc.MaskedPaths.includes('/proc/kcore'));
  });

  it('the CLI\'s "not set" values come back as dockerd shows them', () => {
    const hc = inspectShape(view(record(CLI_BODY)), (n) => n).HostConfig as Record<string, unknown>;
    assert.equal(hc.MemorySwappiness, null);
    assert.equal(hc.PidsLimit, null);
    assert.deepEqual(hc.BlkioWeightDevice, []);
    assert.deepEqual(hc.Ulimits, []);
    assert.deepEqual(hc.Dns, []);
  });

  it('legacy links show as dockerd shows them: the default bridge\'s as /target:/container/alias, none on a user network', () => {
    const linked = inspectShape(view(record({ ...DOCKER_PY_BODY, HostConfig: { Links: ['db:store', 'cache'] } })), (n) => n).HostConfig as Record<string, unknown>;
    assert.deepEqual(linked.Links, ['/db:/web/store', '/cache:/web/cache']);
    const user = inspectShape(view(record({ ...DOCKER_PY_BODY, HostConfig: { NetworkMode: 'app', Links: ['db:store'] } })), (n) => n).HostConfig as Record<string, unknown>;
    assert.equal(user.Links, null);
  });

  it('a stored HostConfig from an older berth (the request echoed, lower-case keys and all) answers the same', () => {
    const c = record(DOCKER_PY_BODY);
    const old = { ...c, docker: { ...c.docker, hostConfig: { networkmode: 'default', GwPriority: 0, Memory: 104857600 } as Json } };
    const hc = inspectShape(view(old), (n) => n).HostConfig as Record<string, unknown>;
    assert.equal(hc.Memory, 104857600);
    assert.equal(hc.MemorySwap, 209715200);
    assert.ok(!('networkmode' in hc) && !('GwPriority' in hc));
    assert.deepEqual(hc.LogConfig, { Type: 'json-file', Config: {} });
  });
});
