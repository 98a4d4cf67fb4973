import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFlags, readConfigFile } from '../../src/daemon/config-file.js';
import { buildDaemonOptions, parseDaemonArgs, type DaemonOptions } from '../../src/daemon/options.js';

const parse = (...argv: string[]) => parseDaemonArgs(argv) as DaemonOptions;

describe('berthd flags', () => {
  it('--host-gateway-ip takes one IPv4 and one IPv6 address at most', () => {
    assert.deepEqual(parse().hostGatewayIps, []);
    assert.deepEqual(parse('--host-gateway-ip', '192.0.2.1', '--host-gateway-ip=2001:db8::1').hostGatewayIps, ['192.0.2.1', '2001:db8::1']);
    assert.throws(() => parse('--host-gateway-ip', '192.0.2.1', '--host-gateway-ip', '192.0.2.2'), { message: 'only one IPv4 host gateway IP address can be specified' });
    assert.throws(() => parse('--host-gateway-ip', 'gw'), { message: 'invalid IP address: gw' });
  });

  it('registry options: --insecure-registry, --registry-mirror and the transfer limits, as flags or daemon.json keys', () => {
    const o = parse('--insecure-registry', 'reg.local:5000', '--insecure-registry=10.0.0.0/8', '--registry-mirror', 'https://mirror.local', '--max-concurrent-downloads', '6', '--max-download-attempts', '2');
    assert.deepEqual(o.insecureRegistries, ['reg.local:5000', '10.0.0.0/8']);
    assert.deepEqual(o.registryMirrors, ['https://mirror.local/']);
    assert.equal(o.maxConcurrentDownloads, 6);
    assert.equal(o.maxConcurrentUploads, 5);
    assert.equal(o.maxDownloadAttempts, 2);
    assert.throws(() => parse('--registry-mirror', 'mirror.local'), /invalid mirror: no scheme specified/);
    assert.throws(() => parse('--max-download-attempts', '0'), /invalid max-download-attempts value: 0/);
    const dir = mkdtempSync(join(tmpdir(), 'berth-opts-'));
    try {
      const path = join(dir, 'daemon.json');
      writeFileSync(path, JSON.stringify({ 'insecure-registries': ['r:5000'], 'registry-mirrors': ['http://m:5000'], 'max-concurrent-uploads': 2 }));
      const f = buildDaemonOptions(configFlags(path, readConfigFile(path, true)!, []));
      assert.deepEqual([f.insecureRegistries, f.registryMirrors, f.maxConcurrentUploads], [['r:5000'], ['http://m:5000/'], 2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--cluster-store takes etcd URLs and their TLS files as --cluster-store-opt', () => {
    assert.equal(parse().clusterStore, undefined);
    assert.deepEqual(parse('--cluster-store', 'etcd://10.0.0.1:2379,10.0.0.2').clusterStore, { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'] });
    assert.deepEqual(
      parse('--cluster-store=etcd://kv:2379', '--cluster-store-opt', 'kv.cacertfile=/ca.pem', '--cluster-store-opt', 'kv.certfile=/c.pem', '--cluster-store-opt=kv.keyfile=/k.pem').clusterStore,
      { endpoints: ['https://kv:2379'], tls: { ca: '/ca.pem', cert: '/c.pem', key: '/k.pem' } },
    );
    assert.throws(() => parse('--cluster-store', 'consul://kv:8500'), /unsupported --cluster-store backend "consul": berth keeps a swarm's state in etcd only/);
    assert.throws(() => parse('--cluster-store', 'kv:2379'), /invalid --cluster-store "kv:2379": expected etcd:\/\/host:port/);
    assert.throws(() => parse('--cluster-store', 'etcd://'), /no etcd address/);
    assert.throws(() => parse('--cluster-store', 'etcd://kv', '--cluster-store-opt', 'kv.path=/x'), /unknown --cluster-store-opt "kv.path"/);
    assert.throws(() => parse('--cluster-store', 'etcd://kv', '--cluster-store-opt', 'kv.certfile=/c.pem'), /kv.certfile and kv.keyfile go together/);
    assert.throws(() => parse('--cluster-store', 'etcd://kv', '--cluster-store-opt', 'kv.certfile=/c.pem', '--cluster-store-opt', 'kv.keyfile=/k.pem'), /needs kv.cacertfile/);
    assert.throws(() => parse('--cluster-store-opt', 'kv.cacertfile=/ca.pem'), { message: '--cluster-store-opt needs --cluster-store' });
  });

  it('daemon.json takes cluster-store and cluster-store-opts, as dockerd did', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-conf-'));
    try {
      const path = join(dir, 'daemon.json');
      writeFileSync(path, JSON.stringify({ 'cluster-store': 'etcd://kv:2379', 'cluster-store-opts': { 'kv.cacertfile': '/ca.pem' } }));
      const o = buildDaemonOptions(configFlags(path, readConfigFile(path, true)!, []));
      assert.deepEqual(o.clusterStore, { endpoints: ['https://kv:2379'], tls: { ca: '/ca.pem' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
