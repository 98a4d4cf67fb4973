/**
 * The cluster store against a real etcd (Debian's etcd-server) started as berthd starts
 * its member — TLS with the cluster CA's certificates — inside a throwaway namespace,
 * exercised from a probe in that namespace: lists (also of more than one answer can carry),
 * transactions, a commit only if keys are absent, leases, watches.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRootCa, nodeRequest, signNode } from '../../src/cluster/ca.js';
import { EtcdMember, peerUrl, writeTls } from '../../src/cluster/etcd-member.js';
import { must, REPO, sh } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');

describe('the cluster store on etcd', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  const ns = `berth-etcd-${process.pid}`;
  const address = '10.98.0.1';
  let dir = '';
  let member: EtcdMember | undefined;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-etcd-'));
    await must('ip', ['netns', 'add', ns]);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // An address to listen on (this kernel has no dummy links: a veth pair in the namespace).
    await must('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    await must('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    for (const l of ['eth0', 'eth1']) await must('ip', ['-n', ns, 'link', 'set', l, 'up']);
    const root = await createRootCa('test');
    const { key, csr } = await nodeRequest('n1');
    writeTls(dir, { ca: root.cert, key, cert: await signNode(root, csr, { nodeId: 'n1', role: 'manager', clusterId: 'test' }, [address]) });
    member = EtcdMember.start({ name: 'n1', dir, address, state: 'new', initialCluster: `n1=${peerUrl(address)}`, clusterId: 'test', log: () => undefined, netns: `/run/netns/${ns}` });
  });
  after(async () => {
    await member?.stop();
    await sh('ip', ['netns', 'del', ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists, commits, refuses a second taker of a key, leases and watches', async () => {
    const probe = await sh('nsenter', [`--net=/run/netns/${ns}`, '--', 'node', path.join(REPO, 'dist/test/lib/etcd-probe.js'), dir, address], { timeoutMs: 60_000 });
    assert.equal(probe.code, 0, probe.stderr);
    const out = JSON.parse(probe.stdout) as Record<string, unknown>;
    assert.deepEqual(out.list, { 'network/a': { name: 'a' }, 'network/b': { name: 'b' } });
    assert.match(String(out.second), /already taken/);
    assert.equal(out.owner, 'h1');
    assert.deepEqual(out.leased, {});
    assert.equal(out.afterRevoke, null);
    assert.equal(out.fencedWhileHeld, true, 'a fence holds while the leased key is the one it was made as');
    assert.equal(out.fencedAfterLapse, false, 'the same key made again under a new lease fails the fence');
    assert.equal(out.fencedValue, 'by m1', 'nothing written past a failed fence');
    assert.equal(out.versionAndFence, false);
    assert.deepEqual(out.watched, ['put ipam/10.0.0.2', 'delete ipam/10.0.0.2']);
    assert.deepEqual(out.bigList, { size: 6000, first: 'big/00000', last: 'big/05999' }, 'a list larger than one answer comes whole, in order');
    assert.equal(out.bigVersioned, 6000);
    assert.ok(member?.running);
    assert.ok((fs.statSync(path.join(dir, 'node-key.pem')).mode & 0o077) === 0, 'the key is readable by root only');
  });
});
