/**
 * The fuzz cases: case N of a seed is a pure function of (seed, N), so every case in a
 * report can be replayed alone. Each kind aims at one class of bad input; the valid
 * templates keep most fields right so that the bad one reaches deep validation.
 *
 * Fixtures the cases name (made by the runner before the first case):
 *   network fz-net (10.213.0.0/24), container fz-c (created), fz-run (running sleep),
 *   volume fz-vol, image busybox:latest, and `{exec}`: an exec instance on fz-run.
 */
import type { RawRequest } from './client.js';
import { Rng } from '../../test/lib/prng.js';
import { buildTar, hostileArchive } from './tar.js';
import {
  BAD_CIDRS, BAD_DRIVERS, BAD_HOST_IPS, BAD_HOST_PORTS, BAD_IMAGES, BAD_IPS, BAD_MACS, BAD_PORT_KEYS, COMMANDS,
  badBinds, badBridgeOptions, badMounts, hostileName, wrongValue, type Json,
} from './values.js';

export interface FuzzCase {
  index: number;
  kind: string;
  req: RawRequest;
  /** Answered once the status line is in: routes that stream or wait by design. */
  stream?: boolean;
  /** After a 201 from container create: also start it (POST /containers/{Id}/start). */
  startAfter?: boolean;
}

export const CORPUS_SIZE = (): number => CORPUS.length;

export interface CaseContext {
  /** The world's directory: bind sources and injection markers stay inside it. */
  dir: string;
  seed: number;
}

type Gen = (rng: Rng, ctx: CaseContext) => Omit<FuzzCase, 'index' | 'kind'>;

const enc = encodeURIComponent;

function json(method: string, path: string, body: Json, extra: Partial<FuzzCase> = {}): Omit<FuzzCase, 'index' | 'kind'> {
  return { req: { method, path, body: Buffer.from(JSON.stringify(body)), headers: [['Content-Type', 'application/json']] }, ...extra };
}

function rawBody(method: string, path: string, body: Buffer | string, headers: [string, string][] = [['Content-Type', 'application/json']]): Omit<FuzzCase, 'index' | 'kind'> {
  return { req: { method, path, body: typeof body === 'string' ? Buffer.from(body) : body, headers } };
}

function versioned(rng: Rng, path: string): string {
  return rng.chance(0.5) ? `/v1.44${path}` : rng.chance(0.5) ? `/v1.41${path}` : path;
}

// ---- valid templates (the fuzz mutates one part of them) ----

function networkTemplate(rng: Rng): { [k: string]: Json } {
  const x = rng.int(200) + 20;
  return {
    Name: `fz-${rng.hex(6)}`,
    Driver: 'bridge',
    CheckDuplicate: true,
    Internal: rng.chance(0.2),
    Attachable: false,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Config: [{ Subnet: `10.${x}.0.0/24`, Gateway: `10.${x}.0.1`, IPRange: `10.${x}.0.128/25`, AuxiliaryAddresses: { aux: `10.${x}.0.5` } }], Options: {} },
    Options: { 'com.docker.network.bridge.enable_icc': 'true' },
    Labels: { 'fz.label': 'v' },
  };
}

function containerTemplate(rng: Rng): { [k: string]: Json } {
  const net = rng.pick(['fz-net', 'bridge', 'none', 'host']);
  const port = String(18000 + rng.int(50));
  const userNet = net === 'fz-net';
  return {
    Image: 'busybox',
    Cmd: rng.pick(COMMANDS),
    Env: ['A=1'],
    Labels: { 'fz.label': 'v' },
    ExposedPorts: { '80/tcp': {} },
    HostConfig: {
      NetworkMode: net,
      PortBindings: net === 'bridge' || userNet ? { '80/tcp': [{ HostIp: '', HostPort: rng.chance(0.5) ? port : '' }] } : {},
      Binds: [],
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      CapAdd: [],
      Dns: [],
      ExtraHosts: [],
      Links: [],
    },
    NetworkingConfig: { EndpointsConfig: userNet ? { 'fz-net': { IPAMConfig: { IPv4Address: '' }, Aliases: ['fzalias'], MacAddress: '' } } : {} },
  };
}

function execTemplate(rng: Rng): { [k: string]: Json } {
  return { Cmd: rng.pick(COMMANDS), AttachStdout: true, AttachStderr: true, Tty: false, Env: [], WorkingDir: '', User: '' };
}

// ---- mutation of a template ----

function paths(v: Json, prefix: string[] = [], out: string[][] = []): string[][] {
  out.push(prefix);
  if (v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) paths(child, [...prefix, k], out);
  }
  return out;
}

function setAt(root: Json, path: string[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const copy = JSON.parse(JSON.stringify(root)) as Json;
  let node = copy as { [k: string]: Json };
  for (const k of path.slice(0, -1)) node = node[k] as { [k: string]: Json };
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** One field replaced by a wrong type, dropped, or an unknown one added. */
function mutate(rng: Rng, template: Json): Json {
  const all = paths(template);
  const at = rng.pick(all.length > 1 ? all.slice(1) : all);
  switch (rng.int(4)) {
    case 0:
      return setAt(template, at, undefined);
    case 1:
      return setAt(template, [...at.slice(0, -1), `Fz${rng.hex(4)}`], wrongValue(rng));
    default:
      return setAt(template, at, wrongValue(rng));
  }
}

// ---- the kinds ----

const JSON_ROUTES: readonly [string, string][] = [
  ['POST', '/networks/create'],
  ['POST', '/networks/fz-net/connect'],
  ['POST', '/networks/fz-net/disconnect'],
  ['POST', '/containers/create'],
  ['POST', '/containers/fz-run/exec'],
  ['POST', '/exec/{exec}/start'],
  ['POST', '/volumes/create'],
];

const brokenJson: Gen = (rng) => {
  const [method, path] = rng.pick(JSON_ROUTES);
  const body = rng.pick<() => string | Buffer>([
    () => '{',
    () => '{"Name":',
    () => '[1,2',
    () => 'nul',
    () => '{"a":1,}',
    () => "{'Name':'x'}",
    () => '{"Name":"x"}{"Name":"y"}',
    () => '\u0000',
    () => '\ufeff{"Name":"fz-bom"}',
    () => '{"Name":"\\ud800"}',
    () => '{"Name":"\\u0000"}',
    () => '[' .repeat(100_000),
    () => '{"a":'.repeat(50_000),
    () => `[${'1,'.repeat(200_000)}1]`,
    () => `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    () => `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    () => 'NaN',
    () => '1e999999',
    () => '"just a string"',
    () => 'true',
    () => 'null',
    () => '[]',
    () => rng.bytes(rng.int(4096) + 1),
    () => Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
  ])();
  return { ...rawBody(method, versioned(rng, path), body), stream: path.startsWith('/exec/') };
};

const wrongTypes: Gen = (rng) => {
  switch (rng.int(5)) {
    case 0:
      return json('POST', versioned(rng, '/networks/create'), mutate(rng, networkTemplate(rng)));
    case 1:
      return json('POST', versioned(rng, `/containers/create?name=fz-${rng.hex(6)}`), mutate(rng, containerTemplate(rng)), { startAfter: rng.chance(0.5) });
    case 2:
      return json('POST', '/containers/fz-run/exec', mutate(rng, execTemplate(rng)));
    case 3:
      return json('POST', rng.pick(['/networks/fz-net/connect', '/networks/fz-net/disconnect']), mutate(rng, { Container: 'fz-c', EndpointConfig: { IPAMConfig: { IPv4Address: '10.213.0.77' }, Aliases: ['x'] }, Force: false }));
    default:
      return json('POST', '/volumes/create', mutate(rng, { Name: `fz-${rng.hex(6)}`, Driver: 'local', DriverOpts: {}, Labels: { a: 'b' } }));
  }
};

const huge: Gen = (rng) => {
  const mb = (n: number): number => Math.floor(n * (1 << 20));
  switch (rng.int(7)) {
    case 0: // over the 4 MB limit, not even JSON
      return rawBody('POST', '/networks/create', Buffer.alloc(mb(5), '{'));
    case 1: // over the limit, valid JSON
      return json('POST', '/containers/create', { ...containerTemplate(rng), Labels: { big: 'x'.repeat(mb(4.5)) } });
    case 2: // under the limit: a 3 MB network name
      return json('POST', '/networks/create', { ...networkTemplate(rng), Name: 'n'.repeat(mb(3)) });
    case 3: // under the limit and otherwise valid: 3 MB of labels, stored
      return json('POST', '/networks/create', { ...networkTemplate(rng), Labels: { big: 'x'.repeat(mb(3)) } });
    case 4: // 10k environment entries (100k take runc itself over 30 s to start)
      return json('POST', `/containers/create?name=fz-${rng.hex(6)}`, { ...containerTemplate(rng), Env: Array.from({ length: 10_000 }, (_, i) => `V${i}=${i}`) }, { startAfter: rng.chance(0.3) });
    case 5: // a body on a GET
      return rawBody('GET', '/_ping', Buffer.alloc(mb(5), 'a'));
    default: // 10 000 subnets
      return json('POST', '/networks/create', { ...networkTemplate(rng), IPAM: { Config: Array.from({ length: 10_000 }, (_, i) => ({ Subnet: `10.${100 + (i >> 8)}.${i & 255}.0/24` })) } });
  }
};

const badNetwork: Gen = (rng, ctx) => {
  const t = networkTemplate(rng);
  const ipam = t.IPAM as { [k: string]: Json };
  const cfg = (ipam.Config as { [k: string]: Json }[])[0]!;
  switch (rng.int(9)) {
    case 0:
      cfg.Subnet = rng.pick(BAD_CIDRS);
      break;
    case 1:
      cfg.Gateway = rng.pick(BAD_IPS);
      break;
    case 2:
      cfg.IPRange = rng.pick(BAD_CIDRS);
      break;
    case 3:
      cfg.AuxiliaryAddresses = { [rng.pick(['a', '', 'x'.repeat(1000)])]: rng.pick(BAD_IPS) };
      break;
    case 4:
      t.Driver = rng.pick(BAD_DRIVERS);
      if (rng.chance(0.5)) t.Options = badBridgeOptions(rng);
      break;
    case 5:
      t.Options = badBridgeOptions(rng);
      break;
    case 6:
      t.Name = hostileName(rng, ctx.dir);
      break;
    case 7:
      ipam.Driver = rng.pick(['nope', 'null', '', '../x']);
      break;
    default:
      t.EnableIPv6 = true;
      ipam.Config = rng.pick<Json>([
        [{ Subnet: rng.pick(BAD_CIDRS) }, { Subnet: rng.pick(BAD_CIDRS) }],
        [{ Subnet: '10.213.0.0/24' }],
        [{ Subnet: '10.230.0.0/24' }, { Subnet: '10.230.0.0/25' }],
        [{ Subnet: '2001:db8:1::/64' }],
        [{ Subnet: '2001:db8:2::/64', Gateway: '2001:db8:3::1' }],
        [{ Gateway: '10.231.0.1' }],
        [{ IPRange: '10.232.0.0/24' }],
      ]);
  }
  return json('POST', versioned(rng, '/networks/create'), t);
};

const badContainer: Gen = (rng, ctx) => {
  const t = containerTemplate(rng);
  const hc = t.HostConfig as { [k: string]: Json };
  const field = rng.int(22);
  const set = (k: string, v: Json): void => {
    t[k] = v;
  };
  const setHc = (k: string, v: Json): void => {
    hc[k] = v;
  };
  switch (field) {
    case 0: set('Image', rng.pick(BAD_IMAGES)); break;
    case 1: set(rng.pick(['Cmd', 'Entrypoint']), rng.pick(COMMANDS)); break;
    case 2: set('Env', rng.pick<Json>([['='], ['A'], ['\u0000=1'], ['A=\u0000'], ['x'.repeat(100_000)]])); break;
    case 3: set('User', rng.pick(['nobody', '99999999999', '-1', 'root:root:root', '../x', 'no-such-user', '0:0'])); break;
    case 4: set('WorkingDir', rng.pick(['relative', '../..', '/nonexistent/fz', '/\u0000', '/proc/self'])); break;
    case 5: set('Hostname', rng.pick(['x'.repeat(64), 'a_b', '-a', 'a..b', 'ünï', '../x'])); break;
    case 6: set('StopSignal', rng.pick(['SIGNOPE', '999', '-1', 'KILL', '', 'SIGKILL\u0000'])); break;
    case 7: set('StopTimeout', rng.pick([-1, 1e12, 0.5, 2 ** 31])); break;
    case 8: setHc('NetworkMode', rng.pick(['nope', 'container:', 'container:nope', 'container:fz-c', 'container:fz-run', 'host', 'none', '../x', '', hostileName(rng, ctx.dir)])); break;
    case 9:
      t.NetworkingConfig = { EndpointsConfig: { [rng.pick(['fz-net', 'bridge', 'nope', 'host', 'none'])]: { IPAMConfig: { IPv4Address: rng.pick(BAD_IPS), IPv6Address: rng.pick(['::1', 'zz', '2001:db8::5']) }, Aliases: [hostileName(rng, ctx.dir)], MacAddress: rng.pick(BAD_MACS) } } };
      hc.NetworkMode = 'fz-net';
      break;
    case 10: setHc('Links', [rng.pick(['nope:x', 'fz-c', 'fz-c:', ':x', 'a:b:c', 'fz-run:alias', '../x:y'])]); break;
    case 11: setHc('Dns', [rng.pick(['bad', '1.2.3.4', '::1', '', '999.1.1.1'])]); break;
    case 12: setHc('ExtraHosts', [rng.pick(['host:1.2.3.4', 'bad', 'h:host-gateway', 'h:::1', 'h:999.1.1.1', ':1.2.3.4', 'h:'])]); break;
    case 13: setHc('Binds', badBinds(rng, ctx.dir)); break;
    case 14: setHc('Mounts', badMounts(rng, ctx.dir)); break;
    case 15: setHc('VolumesFrom', [rng.pick(['nope', 'fz-c:ro', 'fz-c:zz', 'fz-run', ''])]); break;
    case 16: setHc('RestartPolicy', rng.pick<Json>([{ Name: 'sometimes' }, { Name: 'on-failure', MaximumRetryCount: -1 }, { Name: 'always' }, { Name: 'unless-stopped' }])); break;
    case 17: setHc('LogConfig', rng.pick<Json>([{ Type: 'nope' }, { Type: 'none' }, { Type: 'json-file', Config: { 'max-size': 'abc' } }, { Type: '' }])); break;
    case 18: setHc('CapAdd', [rng.pick(['NOPE', 'ALL', 'CAP_NET_ADMIN', 'net_admin', '', 'CAP_SYS_ADMIN'])]); break;
    case 19:
      setHc('PublishAllPorts', true);
      set('ExposedPorts', Object.fromEntries(Array.from({ length: rng.pick([2, 100, 1000]) }, (_, i) => [`${1000 + i}/tcp`, {}])));
      break;
    case 20: setHc('AutoRemove', true); set('Cmd', ['true']); break;
    default: setHc('Privileged', true); break;
  }
  const name = rng.chance(0.8) ? `fz-${rng.hex(6)}` : hostileName(rng, ctx.dir);
  return json('POST', versioned(rng, `/containers/create?name=${enc(name)}`), t, { startAfter: rng.chance(0.6) });
};

const badPorts: Gen = (rng) => {
  const t = containerTemplate(rng);
  const hc = t.HostConfig as { [k: string]: Json };
  hc.NetworkMode = rng.pick(['bridge', 'fz-net']);
  if (hc.NetworkMode === 'bridge') t.NetworkingConfig = {};
  const key = rng.chance(0.5) ? rng.pick(BAD_PORT_KEYS) : '80/tcp';
  const binding: { [k: string]: Json } = { HostIp: rng.chance(0.5) ? rng.pick(BAD_HOST_IPS) : '', HostPort: rng.pick(BAD_HOST_PORTS) };
  if (rng.chance(0.2)) binding.HostPort = rng.pick<Json>([80, null, [], {}]);
  hc.PortBindings = rng.pick<Json>([{ [key]: [binding] }, { [key]: binding }, { [key]: ['80'] }, { [key]: null }, { [key]: [binding, binding] }]);
  t.ExposedPorts = { [key]: {} };
  return json('POST', `/containers/create?name=fz-${rng.hex(6)}`, t, { startAfter: true });
};

const names: Gen = (rng, ctx) => {
  const n = hostileName(rng, ctx.dir);
  const e = rng.chance(0.8) ? enc(n) : n.replace(/[\s\u0000]/g, (c) => enc(c));
  return rng.pick<() => Omit<FuzzCase, 'index' | 'kind'>>([
    () => ({ req: { method: 'GET', path: `/networks/${e}` } }),
    () => ({ req: { method: 'DELETE', path: `/networks/${e}` } }),
    () => ({ req: { method: 'GET', path: `/containers/${e}/json` } }),
    () => ({ req: { method: 'DELETE', path: `/containers/${e}?force=1` } }),
    () => ({ req: { method: 'POST', path: `/containers/${e}/start` } }),
    () => ({ req: { method: 'POST', path: `/containers/${e}/kill?signal=${enc(rng.pick(['SIGNOPE', '0', '-9', '999', 'SIGSTOP', '']))}` } }),
    () => ({ req: { method: 'GET', path: `/volumes/${e}` } }),
    () => ({ req: { method: 'DELETE', path: `/volumes/${e}` } }),
    () => ({ req: { method: 'GET', path: `/images/${e}/json` } }),
    () => ({ req: { method: 'DELETE', path: `/images/${e}` } }),
    () => ({ req: { method: 'GET', path: `/exec/${e}/json` } }),
    () => ({ req: { method: 'POST', path: `/exec/${e}/resize?h=1&w=1` } }),
    () => json('POST', `/containers/create?name=${e}`, containerTemplate(rng)),
    () => json('POST', '/volumes/create', { Name: n }),
    () => json('POST', '/networks/create', { Name: n }),
    () => json('POST', `/networks/${e}/connect`, { Container: 'fz-c' }),
    () => json('POST', '/networks/fz-net/connect', { Container: n }),
    () => json('POST', `/containers/${e}/exec`, execTemplate(rng)),
    () => ({ req: { method: 'POST', path: `/images/busybox/tag?repo=${e}&tag=${enc(rng.pick(['x', '', n]))}` } }),
  ])();
};

const traversal: Gen = (rng, ctx) => {
  const canary = `fzcanary-${ctx.seed}`;
  const t = rng.pick(['../../etc', '..%2F..%2Fetc', '%2e%2e%2f%2e%2e%2fetc', `..%2F..%2F..%2F${canary}`, '..', '%2e%2e', '....//....//etc', '..%5c..%5cetc', '%252e%252e%252fetc']);
  return rng.pick<() => Omit<FuzzCase, 'index' | 'kind'>>([
    () => ({ req: { method: 'GET', path: `/volumes/${t}` } }),
    () => ({ req: { method: 'DELETE', path: `/volumes/${t}?force=1` } }),
    () => json('POST', '/volumes/create', { Name: decodeURIComponent(t.replace(/%25/g, '%')) }),
    () => ({ req: { method: 'GET', path: `/images/${t}/json` } }),
    () => ({ req: { method: 'GET', path: `/images/busybox/${t}/json` } }),
    () => ({ req: { method: 'DELETE', path: `/images/${t}?force=1` } }),
    () => ({ req: { method: 'POST', path: `/images/busybox/tag?repo=${t}&tag=x` } }),
    () => ({ req: { method: 'POST', path: `/images/busybox/tag?repo=fz&tag=${t}` } }),
    () => ({ req: { method: 'POST', path: `/images/create?fromImage=${t}&tag=latest` }, stream: true }),
    () => ({ req: { method: 'POST', path: `/images/create?fromImage=busybox&tag=${t}` }, stream: true }),
    () => ({ req: { method: 'GET', path: `/containers/${t}/json` } }),
    () => ({ req: { method: 'GET', path: `/containers/${t}/logs?stdout=1` }, stream: true }),
    () => ({ req: { method: 'GET', path: `/exec/${t}/json` } }),
    () => ({ req: { method: 'GET', path: `/networks/${t}` } }),
    () => json('POST', `/containers/create?name=${t}`, containerTemplate(rng)),
    () => json('POST', `/containers/create?name=fz-${rng.hex(6)}`, { ...containerTemplate(rng), WorkingDir: '/../../../../' }, { startAfter: true }),
  ])();
};

const routes: Gen = (rng) => {
  const path = rng.pick([
    '/nope', '/containers', '/networks/', '/networks//', '/containers/fz-c/nope', '/v1.44', '/v1.44/', '/v9.99/_ping',
    '/v1.0/_ping', '/vX/_ping', '/v1.44.1/_ping', '/v01.044/_ping', '/v1/_ping', '/_ping/', '/_ping?', '/%5f%70ing',
    '/../_ping', '/./_ping', '//_ping', '//', '///', '/\\', '*', 'http://berth/_ping', 'http://evil.example/_ping',
    '/%', '/%00', '/networks/%00', '/networks/%E0%A4%A', '/networks/%ZZ', `/networks/${'x'.repeat(10_240)}`,
    `/${'a/'.repeat(4000)}`, '/images/json/json', '/images//json', '/exec', '/exec/', '/containers/json/json',
    '/networks/prune/x', '/volumes/', '/volumes//', '/info?%', `/containers/json?${'a=1&'.repeat(2000)}`,
  ]);
  return { req: { method: rng.pick(['GET', 'GET', 'POST', 'DELETE', 'HEAD']), path } };
};

const VALID_PATHS: readonly string[] = [
  '/_ping', '/version', '/info', '/networks', '/networks/fz-net', '/networks/create', '/networks/fz-net/connect',
  '/networks/prune', '/containers/json', '/containers/create', '/containers/fz-c/json', '/containers/fz-c/start',
  '/containers/fz-c', '/containers/fz-c/logs', '/exec/{exec}/json', '/images/json', '/images/busybox/json',
  '/volumes', '/volumes/fz-vol', '/volumes/create',
];

const methods: Gen = (rng) => ({
  req: { method: rng.pick(['PUT', 'PATCH', 'OPTIONS', 'TRACE', 'DELETE', 'GET', 'POST', 'HEAD', 'CONNECT', 'get', 'FOO', 'PROPFIND', 'M-SEARCH']), path: versioned(rng, rng.pick(VALID_PATHS)) },
});

function filters(rng: Rng): string {
  return enc(rng.pick([
    'notjson', '{"name":5}', '[]', '{"name":{"x":"maybe"}}', '{"nope":["x"]}', '{"name":["("]}', '{"name":["[a-"]}',
    '{"name":["(a+)+$"]}', '{"label":["a=b=c"]}', '{"driver":["bridge"]}', '{"type":["custom","builtin","nope"]}',
    '{"dangling":["maybe"]}', '{"until":["abc"]}', '{"until":["-1h"]}', '{"until":["99999999999999999999"]}',
    '{"label!":["x"]}', '{"status":["nope"]}', '{"exited":["abc"]}', '{"network":["nope"]}', '{"id":[""]}',
    '{"scope":["global"]}', '{"publish":["80"]}', '{"before":["nope"]}', 'null', '"str"', '{"name":[null]}',
  ]));
}

const query: Gen = (rng) => {
  const q = rng.pick<() => Omit<FuzzCase, 'index' | 'kind'>>([
    () => ({ req: { method: 'GET', path: `/containers/json?all=${rng.pick(['maybe', '2', ''])}&limit=${rng.pick(['-5', 'abc', '1e309', '0', '99999999999999999999', ''])}&size=x` } }),
    () => ({ req: { method: 'GET', path: `/containers/json?filters=${filters(rng)}` } }),
    () => ({ req: { method: 'GET', path: `/networks?filters=${filters(rng)}` } }),
    () => ({ req: { method: 'POST', path: `/networks/prune?filters=${filters(rng)}` } }),
    () => ({ req: { method: 'GET', path: `/images/json?filters=${filters(rng)}&all=x&digests=2` } }),
    () => ({ req: { method: 'GET', path: `/volumes?filters=${filters(rng)}` } }),
    () => ({ req: { method: 'POST', path: `/containers/${rng.pick(['fz-c', 'fz-run', 'nope'])}/stop?t=${rng.pick(['-1', 'abc', '', '0', '1e12', '1.5', '2', '-99999', 'NaN', 'Infinity'])}&signal=${rng.pick(['', 'SIGNOPE', '999'])}` } }),
    () => ({ req: { method: 'POST', path: `/containers/${rng.pick(['fz-c', 'nope'])}/restart?t=${rng.pick(['-1', 'abc', '0', '1e12'])}` } }),
    () => ({ req: { method: 'POST', path: `/containers/${rng.pick(['fz-c', 'fz-run', 'nope'])}/kill?signal=${rng.pick(['SIGNOPE', '0', '-9', '999', '', 'SIGWINCH', 'HUP', 'sigwinch'])}` } }),
    () => ({ req: { method: 'POST', path: `/containers/${rng.pick(['fz-c', 'fz-run', 'nope'])}/wait?condition=${rng.pick(['x', '', 'removed', 'next-exit', 'not-running'])}` }, stream: true }),
    () => ({ req: { method: 'GET', path: `/containers/${rng.pick(['fz-c', 'fz-run', 'nope'])}/logs?stdout=${rng.pick(['1', '0', 'x'])}&stderr=1&tail=${rng.pick(['abc', '-1', '99999999999999999999', 'all', '0'])}&since=${rng.pick(['abc', '-1', '1e20', ''])}&until=${rng.pick(['x', '-5', ''])}&follow=${rng.pick(['0', '1'])}` }, stream: true }),
    () => ({ req: { method: 'POST', path: `/containers/${rng.pick(['fz-c', 'fz-run', 'nope'])}/resize?h=${rng.pick(['abc', '-1', '1e10', '', '0', '65536'])}&w=${rng.pick(['abc', '-1', '1e10', '', '99999'])}` } }),
    () => ({ req: { method: 'POST', path: `/exec/{exec}/resize?h=${rng.pick(['abc', '-1'])}&w=x` } }),
    () => ({ req: { method: 'POST', path: `/images/create?fromImage=${enc(rng.pick(BAD_IMAGES))}&tag=${enc(rng.pick(['', 'latest', 'x'.repeat(200), '../x', 'UPPER', 'a:b', '@sha256:zz']))}` }, stream: true }),
    () => ({ req: { method: 'POST', path: `/images/create?fromSrc=${enc(rng.pick(['http://192.0.2.99/x.tar', 'file:///etc/passwd', '/etc/passwd', '', 'x']))}` }, stream: true }),
    () => ({ req: { method: 'POST', path: '/images/create' }, stream: true }),
    () => ({ req: { method: 'POST', path: `/images/busybox/tag?repo=${enc(rng.pick(['', 'UPPER', 'a b', 'fz/ok', 'x'.repeat(300), 'localhost:99999/x']))}&tag=${enc(rng.pick(['', 'x'.repeat(200), '-x', '.x', 'ok']))}` } }),
    () => ({ req: { method: 'DELETE', path: `/images/${rng.pick(['busybox', 'nope', 'sha256:' + '0'.repeat(64), 'fz'])}?force=${rng.pick(['0', '1', 'x'])}&noprune=1` } }),
    () => ({ req: { method: 'DELETE', path: `/containers/${rng.pick(['fz-c', 'nope'])}?force=x&v=y&link=1` } }),
    () => ({ req: { method: 'GET', path: `/networks/fz-net?scope=${rng.pick(['global', 'swarm', '', 'local'])}&verbose=x` } }),
    () => ({ req: { method: 'GET', path: `/info?${'x'.repeat(8000)}=1` } }),
    () => json('POST', `/containers/create?name=${enc(`fz-${rng.hex(4)}`)}&name=${enc(`fz-${rng.hex(4)}`)}&platform=${rng.pick(['linux/arm64', 'windows', 'x'])}`, containerTemplate(rng)),
  ]);
  return q();
};

/** Malformed HTTP itself: framing, versions, headers. */
const http: Gen = (rng) => {
  const b = (s: string): Omit<FuzzCase, 'index' | 'kind'> => ({ req: { method: 'RAW', path: '', raw: Buffer.from(s, 'latin1') } });
  const body = '{"Name":"fz-http"}';
  return rng.pick<() => Omit<FuzzCase, 'index' | 'kind'>>([
    () => b('GET /_ping HTTP/1.1\r\nConnection: close\r\n\r\n'),
    () => b('GET /_ping\r\n\r\n'),
    () => b('GET /_ping HTTP/2.0\r\nHost: x\r\nConnection: close\r\n\r\n'),
    () => b('GET /_ping HTTP/1.1\r\nHost: x\r\nBroken header line\r\nConnection: close\r\n\r\n'),
    () => b('GET /_ping HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\nConnection: close\r\n\r\n'),
    () => b(`GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`),
    () => b(`GET /_ping HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-${i}: y\r\n`).join('')}Connection: close\r\n\r\n`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n${body}`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n${body}`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 18\r\nConnection: close\r\n\r\n${body}`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body}`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nfffffffffffffffff\r\n${body}\r\n0\r\n\r\n`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n${body}`),
    () => b(`POST /networks/create HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
    () => b(`POST /volumes/create HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`),
    () => b(`POST /volumes/create HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`),
    () => b('GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /nope HTTP/1.1\r\n\r\n'),
    () => b(`GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`),
    () => b(`POST /containers/fz-c/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`),
    () => b(`GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`.replace('/_ping', '/_ping\u00ff\u00fe')),
    () => b(`GET /_ping HTTP/1.1\r\nHost: x\nConnection: close\n\n`),
    () => b(`\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    () => b(rng.bytes(rng.int(2000) + 1).toString('latin1')),
  ])();
};

const archives: Gen = (rng, ctx) => {
  const canary = `fzcanary-${ctx.seed}`;
  const body = rng.pick<() => Buffer>([
    () => rng.bytes(rng.int(100_000) + 1),
    () => Buffer.alloc(0),
    () => Buffer.alloc(5 << 20),
    () => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), rng.bytes(1000)]),
    () => Buffer.concat([Buffer.from('BZh91AY&SY'), rng.bytes(100)]),
    () => Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), rng.bytes(100)]),
    () => hostileArchive(rng, canary, ctx.dir),
    () => hostileArchive(rng, canary, ctx.dir),
    () => hostileArchive(rng, canary, ctx.dir),
    () => buildTar([{ name: 'manifest.json', data: Buffer.from(JSON.stringify(wrongValue(rng))) }]),
  ])();
  const route = rng.pick([
    '/images/load?quiet=1',
    '/images/load',
    `/images/create?fromSrc=-&repo=fz-imp&tag=${rng.pick(['x', '../../x', ''])}&changes=${enc(rng.pick(['CMD ["true"]', 'NOPE x', 'ENV', 'WORKDIR ../..', 'EXPOSE 99999', 'USER \u0000']))}`,
  ]);
  return { req: { method: 'POST', path: route, body, headers: [['Content-Type', rng.pick(['application/x-tar', 'application/json', ''])]] }, stream: true };
};

/** Valid, state-changing requests, so the invariants checked afterwards have something to hold. */
const valid: Gen = (rng) => {
  return rng.pick<() => Omit<FuzzCase, 'index' | 'kind'>>([
    () => json('POST', '/networks/create', networkTemplate(rng)),
    () => json('POST', `/containers/create?name=fz-${rng.hex(6)}`, { ...containerTemplate(rng), Cmd: ['sleep', '1000'] }, { startAfter: true }),
    () => json('POST', '/networks/fz-net/connect', { Container: rng.pick(['fz-c', 'fz-run']) }),
    () => json('POST', '/networks/fz-net/disconnect', { Container: rng.pick(['fz-c', 'fz-run']), Force: rng.chance(0.5) }),
    () => json('POST', '/networks/bridge/connect', { Container: 'fz-run' }),
    () => json('POST', '/networks/bridge/disconnect', { Container: 'fz-run' }),
    () => ({ req: { method: 'POST', path: '/networks/prune' } }),
    () => json('POST', '/volumes/create', { Name: `fz-${rng.hex(6)}` }),
    () => ({ req: { method: 'GET', path: '/containers/json?all=1' } }),
    () => ({ req: { method: 'GET', path: '/networks' } }),
    () => ({ req: { method: 'POST', path: '/containers/fz-run/restart?t=0' } }),
  ])();
};

const KINDS: readonly [string, number, Gen][] = [
  ['json', 10, brokenJson],
  ['types', 14, wrongTypes],
  ['huge', 3, huge],
  ['network', 12, badNetwork],
  ['container', 12, badContainer],
  ['ports', 8, badPorts],
  ['names', 10, names],
  ['traversal', 6, traversal],
  ['route', 5, routes],
  ['method', 4, methods],
  ['query', 8, query],
  ['http', 5, http],
  ['archive', 3, archives],
  ['valid', 6, valid],
];

const TOTAL_WEIGHT = KINDS.reduce((s, [, w]) => s + w, 0);

/** Corpus cases are numbered from here, so `--only 1000000` replays the first. */
export const CORPUS_BASE = 1_000_000;

/**
 * Requests every run sends first, whatever the seed: each once broke a rule (a crash, a
 * 5xx, no answer), so they stay as regression cases; plus a few controls that must pass.
 */
const CORPUS: readonly (Omit<FuzzCase, 'index' | 'kind'> & { kind?: string })[] = [
  { req: { method: 'GET', path: '//' } },
  { req: { method: 'DELETE', path: '///' } },
  { req: { method: 'GET', path: '/\\' } },
  { req: { method: 'GET', path: 'http://[::1/_ping' } },
  { req: { method: 'DELETE', path: '/networks/%ZZ' } },
  { req: { method: 'GET', path: '/containers/%E0%A4%A/json' } },
  { req: { method: 'CONNECT', path: '/_ping' } },
  { req: { method: 'GET', path: `/containers/json?filters=${enc('{"name":["("]}')}` } },
  json('POST', '/networks/bridge/disconnect', { Container: 'fz-run' }),
  json('POST', '/containers/create?name=fz-corpus-cwd', { Image: 'busybox', Cmd: ['true'], WorkingDir: 'relative' }, { startAfter: true }),
  json('POST', '/containers/create?name=fz-corpus-env', { Image: 'busybox', Cmd: ['true'], Env: ['NOEQUALS'] }, { startAfter: true }),
  json('POST', '/containers/create?name=fz-corpus-priv', { Image: 'busybox', Cmd: ['true'], HostConfig: { Privileged: true } }, { startAfter: true }),
  json('POST', '/containers/create?name=fz-corpus-mac', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'fz-net' }, NetworkingConfig: { EndpointsConfig: { 'fz-net': { MacAddress: 'ff:ff:ff:ff:ff:ff' } } } }, { startAfter: true }),
  json('POST', '/containers/create?name=fz-corpus-ip', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'fz-net' }, NetworkingConfig: { EndpointsConfig: { 'fz-net': { IPAMConfig: { IPv4Address: '10.213.0.0' } } } } }, { startAfter: true }),
  { req: { method: 'RAW', path: '', raw: Buffer.from('POST /volumes/create HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}') } },
  rawBody('POST', '/networks/create', Buffer.alloc(5 << 20, '{')),
  json('POST', '/volumes/create', { Name: '../../etc' }),
  { req: { method: 'GET', path: '/volumes/..%2F..%2Fetc' } },
];

/** Case `index` of the run seeded with `seed` (or corpus case index - CORPUS_BASE). */
export function makeCase(seed: number, index: number, ctx: CaseContext): FuzzCase {
  if (index >= CORPUS_BASE) {
    const c = CORPUS[index - CORPUS_BASE];
    if (!c) throw new Error(`no corpus case ${index}`);
    return { index, kind: 'corpus', ...c };
  }
  const rng = Rng.forCase(seed, index);
  let r = rng.int(TOTAL_WEIGHT);
  for (const [kind, weight, gen] of KINDS) {
    if (r < weight) return { index, kind, ...gen(rng, ctx) };
    r -= weight;
  }
  throw new Error('unreachable');
}

/** A short, exact description of a request: method, path and body (elided past 300 bytes). */
export function describe(req: RawRequest): string {
  const show = (b: Buffer): string => {
    const s = JSON.stringify(b.subarray(0, 300).toString('latin1'));
    return b.length > 300 ? `${s}… (${b.length} bytes)` : s;
  };
  if (req.raw) return `raw ${show(req.raw)}`;
  const path = req.path.length > 300 ? `${req.path.slice(0, 300)}… (${req.path.length} chars)` : req.path;
  const hdrs = (req.headers ?? []).filter(([k]) => k !== 'Content-Type' || !req.body).map(([k, v]) => `${k}: ${v}`).join('; ');
  return `${req.method} ${JSON.stringify(path)}${hdrs ? ` [${hdrs}]` : ''}${req.body ? ` body ${show(req.body)}` : ''}`;
}
