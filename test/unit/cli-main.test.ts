import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bytesSize } from '../../src/cli/commands/system/info.js';
import { FakeDaemon, runCli } from './cli-fake-daemon.js';

let daemon: FakeDaemon;

before(async () => {
  daemon = await new FakeDaemon((req) => {
    if (req.path === '/version') {
      return {
        json: {
          Platform: { Name: 'berth' },
          Components: [{ Name: 'Engine', Version: '0.1.0', Details: { ApiVersion: '1.44', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64' } }],
          Version: '0.1.0',
          ApiVersion: '1.44',
          MinAPIVersion: '1.24',
          GoVersion: 'node20.0.0',
          Os: 'linux',
          Arch: 'amd64',
        },
      };
    }
    if (req.path === '/info') {
      return {
        json: {
          ID: 'abc', Containers: 2, ContainersRunning: 1, ContainersPaused: 0, ContainersStopped: 1, Images: 1,
          ServerVersion: '0.1.0', Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Log: ['json-file'] },
          MemTotal: 8335585280, NCPU: 4, Name: 'host1', Warnings: ['WARNING: no ipvlan'],
          DefaultAddressPools: [{ Base: '172.17.0.0/16', Size: 24 }],
        },
      };
    }
    return undefined;
  }).start();
});
after(async () => daemon.stop());

test('version: client and server sections', async () => {
  const r = await runCli(daemon.host, ['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Client:\n Version: {11}\S+\n API version: {7}1\.44\n/);
  assert.match(r.stdout, /\n\nServer: berth\n Engine:\n  Version: {10}0\.1\.0\n  API version: {6}1\.44 \(minimum version 1\.24\)\n  Runtime: {10}node20\.0\.0\n/);
});

test('version --format', async () => {
  const r = await runCli(daemon.host, ['version', '--format', '{{.Server.Version}} {{.Client.APIVersion}}']);
  assert.equal(r.stdout, '0.1.0 1.44\n');
});

test('version with no daemon: client section, then the connection error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  try {
    const host = `unix://${join(dir, 'none.sock')}`;
    const r = await runCli(host, ['version']);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^Client:\n/);
    assert.doesNotMatch(r.stdout, /Server/);
    assert.equal(r.stderr, `Cannot connect to the berth daemon at ${host}. Is berthd running?\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('info: summary and warnings on stderr', async () => {
  const r = await runCli(daemon.host, ['info']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /\nServer:\n Containers: 2\n  Running: 1\n  Paused: 0\n  Stopped: 1\n Images: 1\n/);
  assert.match(r.stdout, /\n  Network: bridge host null\n/);
  assert.match(r.stdout, /\n Total Memory: 7\.763GiB\n/);
  assert.match(r.stdout, /\n Default Address Pools:\n {3}Base: 172\.17\.0\.0\/16, Size: 24\n/);
  assert.equal(r.stderr, 'WARNING: no ipvlan\n');
});

test('info --format', async () => {
  const r = await runCli(daemon.host, ['info', '-f', '{{.NCPU}} {{json .Plugins.Network}} {{.ClientInfo.Context}}']);
  assert.equal(r.stdout, '4 ["bridge","host","null"] default\n');
});

test('bytesSize like go-units', () => {
  assert.equal(bytesSize(8335585280), '7.763GiB');
  assert.equal(bytesSize(2048), '2KiB');
  assert.equal(bytesSize(512), '512B');
});

test('top level: help, unknown command, group help, -H overrides BERTH_HOST', async () => {
  const help = await runCli(daemon.host, []);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Management Commands:\n(?: {2}\w+ +.+\n)* {2}network {5}Manage networks\n/);
  const unknown = await runCli(daemon.host, ['frobnicate']);
  assert.equal(unknown.status, 1);
  assert.equal(unknown.stderr, "berth: 'frobnicate' is not a berth command.\nSee 'berth --help'\n");
  const group = await runCli(daemon.host, ['network']);
  assert.equal(group.status, 0);
  assert.match(group.stdout, /Usage: {2}berth network COMMAND/);
  const badSub = await runCli(daemon.host, ['network', 'frob']);
  assert.equal(badSub.status, 1);
  const dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  try {
    const other = `unix://${join(dir, 'other.sock')}`;
    const r = await runCli(daemon.host, ['-H', other, 'version', '-f', '{{.Server.Version}}']);
    assert.match(r.stderr, new RegExp(`at ${other}\\.`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('command help goes to stdout and exits 0', async () => {
  const r = await runCli(daemon.host, ['network', 'rm', '--help']);
  assert.equal(r.status, 0);
  assert.equal(
    r.stdout,
    "\nUsage:  berth network rm NETWORK [NETWORK...]\n\nRemove one or more networks\n\nAliases:\n  berth network rm, berth network remove\n\nOptions:\n  -f, --force   Do not error if the network does not exist\n",
  );
});
