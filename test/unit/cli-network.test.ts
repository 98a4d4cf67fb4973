import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { ipamConfigs } from '../../src/cli/commands/network/ipam.js';
import { CliError } from '../../src/cli/errors.js';
import { FakeDaemon, runCli, type Recorded } from './cli-fake-daemon.js';

const BRIDGE = { Name: 'bridge', Id: 'a'.repeat(64), Driver: 'bridge', Scope: 'local', Labels: {} };
const WEB = { Name: 'web', Id: 'b'.repeat(64), Driver: 'bridge', Scope: 'local', Labels: { team: 'blue' }, IPAM: { Config: [{ Subnet: '10.9.0.0/24' }] } };

let daemon: FakeDaemon;

function routes(req: Recorded): { status?: number; json?: unknown } | undefined {
  const known: Record<string, object> = { bridge: BRIDGE, web: WEB };
  const m = /^\/networks\/([^/]+)(\/\w+)?$/.exec(req.path);
  if (req.method === 'GET' && req.path === '/networks') return { json: [WEB, BRIDGE] };
  if (req.method === 'POST' && req.path === '/networks/create') return { status: 201, json: { Id: 'c'.repeat(64), Warning: '' } };
  if (req.method === 'POST' && req.path === '/networks/prune') return { json: { NetworksDeleted: ['old1', 'old2'] } };
  if (m) {
    const name = decodeURIComponent(m[1]!);
    const net = known[name];
    if (!net) return { status: 404, json: { message: `network ${name} not found` } };
    if (req.method === 'GET' && !m[2]) return { json: net };
    if (req.method === 'DELETE' && name === 'bridge') return { status: 403, json: { message: 'bridge is a pre-defined network and cannot be removed' } };
    if (req.method === 'DELETE') return { status: 204 };
    if (req.method === 'POST' && (m[2] === '/connect' || m[2] === '/disconnect')) return { status: 200 };
  }
  return undefined;
}

before(async () => {
  daemon = await new FakeDaemon(routes).start();
});
after(async () => daemon.stop());
beforeEach(() => {
  daemon.requests.length = 0;
});

const berth = (...argv: string[]) => runCli(daemon.host, argv);
const lastBody = (): unknown => JSON.parse(daemon.requests.at(-1)!.body);

test('network ls: sorted table', async () => {
  const r = await berth('network', 'ls');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'NETWORK ID     NAME      DRIVER    SCOPE\naaaaaaaaaaaa   bridge    bridge    local\nbbbbbbbbbbbb   web       bridge    local\n');
});

test('network ls: filters, -q and the list alias', async () => {
  const r = await berth('network', 'list', '-q', '--filter', 'driver=bridge', '-f', 'Label=team');
  assert.equal(r.stdout, 'aaaaaaaaaaaa\nbbbbbbbbbbbb\n');
  assert.deepEqual(JSON.parse(daemon.requests[0]!.query.get('filters') ?? ''), { driver: { bridge: true }, label: { team: true } });
});

test('network ls: --format', async () => {
  const r = await berth('network', 'ls', '--format', '{{.Name}} {{.Label "team"}}');
  assert.equal(r.stdout, 'bridge \nweb blue\n');
});

test('network ls: a bad filter is a usage error (125)', async () => {
  const r = await berth('network', 'ls', '-f', 'driver');
  assert.equal(r.status, 125);
  assert.equal(r.stderr, `invalid argument "driver" for "-f, --filter" flag: bad format of filter (expected name=value)\nSee 'berth network ls --help'.\n`);
  assert.equal(daemon.requests.length, 0);
});

test('network create: body with IPAM config matched by containment, labels and options', async () => {
  const r = await berth(
    'network', 'create', '-d', 'bridge',
    '--subnet', '10.1.0.0/24,fd00:1::/64', '--gateway', 'fd00:1::1', '--gateway', '10.1.0.254',
    '--ip-range', '10.1.0.128/25', '--aux-address', 'router=10.1.0.2',
    '--ipv6', '--internal', '--attachable', '--label', 'team=blue', '--label', 'solo',
    '-o', 'com.docker.network.bridge.name=br-test', '--ipam-opt', 'x=y', 'mynet',
  );
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, `${'c'.repeat(64)}\n`);
  assert.deepEqual(lastBody(), {
    Name: 'mynet',
    Driver: 'bridge',
    Scope: '',
    EnableIPv6: true,
    IPAM: {
      Driver: 'default',
      Config: [
        { Subnet: '10.1.0.0/24', IPRange: '10.1.0.128/25', Gateway: '10.1.0.254', AuxiliaryAddresses: { router: '10.1.0.2' } },
        { Subnet: 'fd00:1::/64', Gateway: 'fd00:1::1' },
      ],
      Options: { x: 'y' },
    },
    Internal: true,
    Attachable: true,
    Ingress: false,
    ConfigOnly: false,
    Options: { 'com.docker.network.bridge.name': 'br-test' },
    Labels: { team: 'blue', solo: '' },
  });
});

test('network create: IPAM errors are docker\'s, and nothing is sent', async () => {
  const r = await berth('network', 'create', '--gateway', '10.0.0.1', 'n');
  assert.equal(r.status, 1);
  assert.equal(r.stderr, 'every ip-range or gateway must have a corresponding subnet\n');
  assert.equal(daemon.requests.length, 0);
});

test('ipamConfigs: docker\'s consistency checks', () => {
  const base = { ipRanges: [], gateways: [], auxAddresses: [] };
  const fails = (o: Parameters<typeof ipamConfigs>[0], msg: string): void => {
    assert.throws(() => ipamConfigs(o), (e: unknown) => e instanceof CliError && e.message === msg);
  };
  fails({ ...base, subnets: ['10.0.0.0/16', '10.0.1.0/24'] }, 'multiple overlapping subnet configuration is not supported');
  fails({ ...base, subnets: ['10.0.0.0/24'], gateways: ['10.9.0.1'] }, 'no matching subnet for gateway 10.9.0.1');
  fails({ ...base, subnets: ['10.0.0.0/24'], ipRanges: ['10.9.0.0/25'] }, 'no matching subnet for range 10.9.0.0/25');
  fails({ ...base, subnets: ['10.0.0.0/24'], auxAddresses: [['a', '10.9.0.9']] }, 'no matching subnet for aux-address 10.9.0.9');
  fails({ ...base, subnets: ['10.0.0.0/24', '10.1.0.0/24'], gateways: ['10.0.0.1', '10.0.0.2'] }, 'cannot configure multiple gateways (10.0.0.2, 10.0.0.1) for the same subnet (10.0.0.0/24)');
  fails({ ...base, subnets: ['10.0.0.0/24', 'nope'] }, 'invalid subnet: invalid CIDR address: nope');
  assert.deepEqual(ipamConfigs({ ...base, subnets: [] }), []);
});

test('network create needs exactly one name', async () => {
  const r = await berth('network', 'create');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^"berth network create" requires exactly 1 argument\.\nSee 'berth network create --help'\.\n\nUsage: {2}berth network create \[OPTIONS\] NETWORK\n\nCreate a network\n$/);
});

test('network inspect: a JSON array indented by 4; not found is reported and exits 1', async () => {
  const ok = await berth('network', 'inspect', 'web');
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, `${JSON.stringify([WEB], null, 4)}\n`);
  const mixed = await berth('network', 'inspect', 'web', 'nope');
  assert.equal(mixed.status, 1);
  assert.equal(mixed.stdout, `${JSON.stringify([WEB], null, 4)}\n`);
  assert.equal(mixed.stderr, 'Error: No such network: nope\n');
});

test('network inspect: --format and --verbose', async () => {
  const r = await berth('network', 'inspect', '-v', '-f', '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}', 'web', 'bridge');
  assert.equal(r.stdout, 'web 10.9.0.0/24\nbridge \n');
  assert.equal(daemon.requests[0]!.query.get('verbose'), '1');
});

test('network rm: prints each removed name, reports each failure, exits 1 if any failed', async () => {
  const r = await berth('network', 'rm', 'web', 'nope', 'bridge');
  assert.equal(r.status, 1);
  assert.equal(r.stdout, 'web\n');
  assert.equal(
    r.stderr,
    'Error response from daemon: network nope not found\nError response from daemon: bridge is a pre-defined network and cannot be removed\n',
  );
  assert.deepEqual(daemon.requests.map((q) => `${q.method} ${q.path}`), ['DELETE /networks/web', 'DELETE /networks/nope', 'DELETE /networks/bridge']);
});

test('network rm -f: a missing network is not an error', async () => {
  const r = await berth('network', 'remove', '-f', 'nope', 'web');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'web\n');
  assert.equal(r.stderr, '');
});

test('network prune asks first; "n" or end of input cancels', async () => {
  const r = await runCli(daemon.host, ['network', 'prune'], 'n\n');
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] ');
  assert.equal(daemon.requests.length, 0);
  await runCli(daemon.host, ['network', 'prune'], '');
  assert.equal(daemon.requests.length, 0);
});

test('network prune: "y" prunes; -f skips the prompt; filters pass through', async () => {
  const yes = await runCli(daemon.host, ['network', 'prune'], 'y\n');
  assert.match(yes.stdout, /\[y\/N\] Deleted Networks:\nold1\nold2\n\n$/);
  const forced = await berth('network', 'prune', '-f', '--filter', 'until=24h');
  assert.equal(forced.stdout, 'Deleted Networks:\nold1\nold2\n\n');
  assert.deepEqual(JSON.parse(daemon.requests.at(-1)!.query.get('filters') ?? ''), { until: { '24h': true } });
  const help = await berth('network', 'prune', '--help');
  assert.match(help.stdout, /^\s+--filter filter/m, 'no -f for --filter: it is --force here, as in docker');
  assert.match(help.stdout, /^\s+-f, --force/m);
});

test('network connect: endpoint config from flags', async () => {
  const r = await berth('network', 'connect', '--ip', '10.9.0.5', '--alias', 'db,database', '--link', 'other:o', '--driver-opt', 'k=v', 'web', 'box');
  assert.equal(r.status, 0);
  assert.equal(daemon.requests[0]!.path, '/networks/web/connect');
  assert.deepEqual(lastBody(), {
    Container: 'box',
    EndpointConfig: { IPAMConfig: { IPv4Address: '10.9.0.5' }, Links: ['other:o'], Aliases: ['db', 'database'], DriverOpts: { k: 'v' } },
  });
});

test('network disconnect -f', async () => {
  const r = await berth('network', 'disconnect', '-f', 'web', 'box');
  assert.equal(r.status, 0);
  assert.deepEqual(lastBody(), { Container: 'box', Force: true });
  const missing = await berth('network', 'disconnect', 'nope', 'box');
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr, 'Error response from daemon: network nope not found\n');
});

test('names with odd characters are one path segment', async () => {
  await berth('network', 'rm', 'a/b c');
  assert.equal(daemon.requests[0]!.path, '/networks/a%2Fb%20c');
});
