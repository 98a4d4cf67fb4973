/**
 * Hostile values by domain: what a careless or malicious client puts where a name, a
 * CIDR, an address, a port or an option belongs. Lists, not generators, so that a
 * report can name the value and a reader can see the whole space at once.
 */
import type { Rng } from '../../test/lib/prng.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values of the wrong JSON type (or the right type with an absurd value). */
export function wrongValue(rng: Rng): Json {
  return rng.pick<() => Json>([
    () => 0,
    () => -1,
    () => 1.5,
    () => 1e308,
    () => -1e308,
    () => 2 ** 53 + 1,
    () => true,
    () => false,
    () => null,
    () => [],
    () => [1, 'a', null],
    () => [null],
    () => [{}],
    () => ({}),
    () => ({ x: 1, y: [true] }),
    () => ({ '': '' }),
    () => '',
    () => 'x',
    () => '\u0000',
    () => 'ünïcødé 名前 🐳',
    () => 'x'.repeat(10_240),
    () => deepObject(rng.pick([100, 1000])),
    () => deepArray(rng.pick([100, 1000])),
  ])();
}

function deepObject(depth: number): Json {
  let o: Json = 'bottom';
  for (let i = 0; i < depth; i++) o = { a: o };
  return o;
}

function deepArray(depth: number): Json {
  let o: Json = [];
  for (let i = 0; i < depth; i++) o = [o];
  return o;
}

/** Names for networks, containers, volumes, images and ids: separators, traversal, control bytes, size. */
export function hostileName(rng: Rng, dir: string): string {
  return rng.pick<() => string>([
    () => '',
    () => ' ',
    () => '/',
    () => 'a/b',
    () => '.',
    () => '..',
    () => '../../etc',
    () => '../../../../../../etc/passwd',
    () => '..\\..\\etc',
    () => `a\u0000b`,
    () => '\u0000',
    () => 'nul\u0000/../../etc',
    () => 'ünïcødé-名前',
    () => '🐳🐳',
    () => '\u202egnp.exe',
    () => 'x'.repeat(10_240),
    () => 'x'.repeat(256),
    () => 'x'.repeat(255),
    () => 'x'.repeat(64),
    () => '-leading-dash',
    () => 'UPPER',
    () => 'with space',
    () => 'tab\tname',
    () => 'new\nline',
    () => 'cr\rlf',
    () => '%2e%2e',
    () => "quote'name",
    () => 'dq"name',
    () => 'back\\slash',
    () => `$(touch ${dir}/fzpwned-subst)`,
    () => `\`touch ${dir}/fzpwned-tick\``,
    () => `x; touch ${dir}/fzpwned-semi`,
    () => 'lo',
    () => 'eth0',
    () => 'berth0',
    () => 'lan0',
    () => 'bridge',
    () => 'host',
    () => 'none',
    () => 'default',
    () => 'fz-net',
    () => 'fz-c',
    () => `fz-${rng.hex(6)}`,
    () => `fz-${rng.hex(6)}.${rng.hex(2)}_${rng.hex(2)}`,
    () => '0'.repeat(64),
    () => 'sha256:' + 'a'.repeat(64),
  ])();
}

export const BAD_CIDRS: readonly string[] = [
  '10.0.0.0/33', '10.0.0.0/-1', '300.0.0.0/24', '10.0.0/24', '10.0.0.0', '10.0.0.0/', '/24', '10.0.0.0/24/24',
  '0.0.0.0/0', '255.255.255.255/32', '10.99.0.1/24', '10.98.0.0/31', '10.97.0.0/32', '10.96.0.0/30', '127.0.0.0/8',
  '224.0.0.0/4', '169.254.0.0/16', '192.0.2.0/24', '::/0', 'fe80::/10', '2001:db8::/129', '2001:db8:::/64', 'zz::/64',
  '2001:db8::/64', '::ffff:10.0.0.0/104', '10.0.0.0/8 ', ' 10.0.0.0/8', '10.0.0.0/8\n', '\uff11\uff10.0.0.0/8',
  '0x0a.0.0.0/8', '010.0.0.0/8', '10.0.0.0/08', 'abc', '', '10.0.0.0/24,10.1.0.0/24', '10.0.0.0/1e1', '1.2.3.4/24%eth0',
];

export const BAD_IPS: readonly string[] = [
  '10.0.0.256', '1.2.3', '1.2.3.4.5', '::1', '::', '0.0.0.0', '255.255.255.255', '10.213.0.0', '10.213.0.255',
  '10.213.0.1', '10.213.0.2', '10.214.0.5', '-1.0.0.0', '1.2.3.4/24', 'localhost', '', ' 10.213.0.9', 'fe80::1%eth0',
  '01.02.03.04', '1e3.0.0.1', '192.0.2.1', '127.0.0.1', '224.0.0.1', 'fd00::zz', '2001:db8::1',
];

export const BAD_MACS: readonly string[] = [
  'zz:zz:zz:zz:zz:zz', 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '00:00:00:00:00:00', '02:42:ac:11:00',
  '02-42-ac-11-00-02', '0242.ac11.0002', '02:42:ac:11:00:02:03', 'x'.repeat(100), '02:42:AC:11:00:02', '',
];

export const BAD_PORT_KEYS: readonly string[] = [
  '0/tcp', '65536/tcp', '-1/tcp', '9000-8000/tcp', '80/icmp', '80/TCP', '80/', '/tcp', '80/tcp/x', 'abc', '',
  '99999999999999999999/tcp', '1e3/tcp', '0x50/tcp', '80-81/tcp', '\uff11/tcp', '80/udp', '80/sctp', ' 80/tcp',
];

export const BAD_HOST_PORTS: readonly string[] = [
  '0', '65536', '9000-8000', '-1', 'abc', '1-65535', '80-80', '1e3', '0x50', ' 80', '80 ', '99999999999999',
  '8080-8079', '', '65535', '1-1', '18000-18010', '0-0', '65535-65536',
];

export const BAD_HOST_IPS: readonly string[] = [
  '999.1.1.1', '::1', 'localhost', '0.0.0.0', '127.0.0.1', '::', '10.0.0.1', '192.0.2.1', 'fe80::1', '', ' ',
  '1.2.3.4.5', '[::1]', '0.0.0.0:80',
];

export const BAD_DRIVERS: readonly string[] = [
  'nope', 'BRIDGE', 'overlay', 'macvlan', 'ipvlan', 'host', 'null', 'none', 'bridge ', '../bridge', 'x'.repeat(10_240),
  'weave', 'bridge\u0000', '',
];

/** Options for a bridge network, bad keys and bad values. */
export function badBridgeOptions(rng: Rng): Record<string, string> {
  const key = rng.pick([
    'com.docker.network.bridge.name',
    'com.docker.network.bridge.enable_icc',
    'com.docker.network.bridge.enable_ip_masquerade',
    'com.docker.network.bridge.host_binding_ipv4',
    'com.docker.network.driver.mtu',
    'com.docker.network.bridge.gateway_mode_ipv4',
    'com.docker.network.bridge.whatever',
    'com.docker.network.driver.overlay.vxlanid_list',
    'parent',
    'macvlan_mode',
    'ipvlan_mode',
    '',
  ]);
  const values: Record<string, readonly string[]> = {
    'com.docker.network.bridge.name': ['x'.repeat(16), 'x'.repeat(15), 'lo', 'eth0', 'berth0', 'lan0', '../x', 'a b', 'a/b', '', 'ünï', 'x\u0000', '.', '..'],
    'com.docker.network.bridge.enable_icc': ['maybe', '', 'TRUE', '1', 'yes'],
    'com.docker.network.bridge.enable_ip_masquerade': ['no', 'maybe', ''],
    'com.docker.network.bridge.host_binding_ipv4': [...BAD_HOST_IPS],
    'com.docker.network.driver.mtu': ['-1', '0', '67', '68', '65536', '70000', 'abc', '1e3', '1500.5', ' 1500', '99999999999999999999'],
    parent: ['lo', 'nope', 'eth0.100', 'lan0', '../../x', '', 'x'.repeat(20)],
    macvlan_mode: ['private', 'vepa', 'nope'],
    ipvlan_mode: ['l9', 'l2', ''],
  };
  return { [key]: rng.pick(values[key] ?? ['x', '', '\u0000', 'x'.repeat(10_240)]) };
}

export const BAD_IMAGES: readonly string[] = [
  '', 'nope', '../../etc', 'busybox:../x', 'BUSYBOX', 'sha256:' + 'a'.repeat(64), 'busybox@sha256:zz', 'x'.repeat(10_240),
  'busybox:', ':latest', 'busybox:latest:latest', 'localhost:99999/busybox', '/busybox', 'busybox/', 'a'.repeat(300),
];

/** Harmless commands: whatever the fuzz creates and starts must not do anything to the machine. */
export const COMMANDS: readonly Json[] = [
  ['true'], ['sleep', '1000'], ['echo', 'fz'], ['fz-no-such-binary'], [''], [], 'true', ['sleep', 'x'], ['/nonexistent/fz'],
  ['echo', 'x'.repeat(100_000)], ['false'],
];

export function badBinds(rng: Rng, dir: string): Json {
  return [rng.pick([
    'relative:/x', '/etc:relative', '/etc:/x:zz', '../x:/y', `${dir}/fzbind:/mnt`, `${dir}/fzbind:/mnt:ro`, '/a:/b:/c:/d',
    ':/x', '/x:', '', 'fz-vol:/data', 'fz-vol:/data:ro', '../../etc:/data', 'fz-vol:/../../etc', `${dir}/fzbind:/proc`,
    `${dir}/fzbind:/`, 'x'.repeat(300) + ':/data',
  ])];
}

export function badMounts(rng: Rng, dir: string): Json {
  return [rng.pick<Json>([
    { Type: 'tmpfs', Target: '/t' },
    { Type: 'bind', Source: `${dir}/fzbind`, Target: 'relative' },
    { Type: 'bind', Source: '../../etc', Target: '/x' },
    { Type: 'volume', Source: '../x', Target: '/x' },
    { Type: 'volume', Source: 'fz-vol', Target: '/x/../../etc' },
    { Type: 'npipe', Source: 'x', Target: '/x' },
    { Type: 'volume', Target: '/anon' },
    { Type: 'bind' },
    {},
    'not-an-object',
  ])];
}
