/**
 * berthd --cluster-store: two hosts keep their swarm in an etcd that berth does not run
 * (started by the test in the "client" namespace, an outside machine, with TLS and client
 * certificates of its own CA). init and join use it and start no etcd of their own; a
 * promoted node becomes a manager without a member; a restarted daemon reconnects to it;
 * and once every node has left, the swarm's keys are gone from it. On the way, swarm
 * update: the settings berth applies (the heartbeat sets how soon a killed node is Down,
 * the certificate expiry the certificates signed next) and those it refuses.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createRootCa, nodeRequest, signNode } from '../../src/cluster/ca.js';
import { EtcdMember, peerUrl, writeTls } from '../../src/cluster/etcd-member.js';
import { sleep } from '../lib/async.js';
import { CLIENT_IP, ClusterWorld, nodeRows, untilCluster } from '../lib/cluster.js';
import { REPO, type World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');



const runsEtcd = (w: World): boolean => spawnSync('pgrep', ['-f', `etcd .*--data-dir ${w.dir}`]).stdout.toString().trim() !== '';

describe('a swarm on an external etcd (--cluster-store)', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World;
  let etcd: EtcdMember | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-kv-'));
  const files = { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client-key.pem') };

  /** Every key the external etcd holds. */
  async function keys(): Promise<string[]> {
    const r = await c.fromClient(['node', path.join(REPO, 'dist/test/lib/etcd-keys.js'), `https://${CLIENT_IP}:2379`, files.ca, files.cert, files.key], 30_000);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as string[];
  }

  before(async () => {
    // The etcd's own CA, server certificate and a client certificate for the berthds.
    const root = await createRootCa('kv');
    const server = await nodeRequest('kv');
    writeTls(dir, { ca: root.cert, key: server.key, cert: await signNode(root, server.csr, { nodeId: 'kv', role: 'manager', clusterId: 'kv' }, [CLIENT_IP]) });
    const client = await nodeRequest('berthd');
    fs.writeFileSync(files.cert, await signNode(root, client.csr, { nodeId: 'berthd', role: 'worker', clusterId: 'kv' }, []));
    fs.writeFileSync(files.key, client.key, { mode: 0o600 });
    c = await ClusterWorld.create(2, {
      daemonArgs: ['--cluster-store', `etcd://${CLIENT_IP}:2379`, '--cluster-store-opt', `kv.cacertfile=${files.ca}`, '--cluster-store-opt', `kv.certfile=${files.cert}`, '--cluster-store-opt', `kv.keyfile=${files.key}`],
    });
    [h1, h2] = c.hosts as [World, World];
    etcd = EtcdMember.start({ name: 'kv', dir, address: CLIENT_IP, state: 'new', initialCluster: `kv=${peerUrl(CLIENT_IP)}`, clusterId: 'kv', log: () => undefined, netns: `/run/netns/${c.client}` });
    await untilCluster(keys, () => true, 20_000);
  });
  after(async () => {
    await c?.dispose();
    await etcd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('inits and joins through the external etcd, running none of their own', async () => {
    const out = await h1.dockerOk('swarm', 'init', '--advertise-addr', c.hostIp(0));
    assert.match(out, /^Swarm initialized: current node \([0-9a-z]{25}\) is now a manager\./);
    const token = await h1.dockerOk('swarm', 'join-token', '-q', 'worker');
    assert.equal(await h2.dockerOk('swarm', 'join', '--token', token, `${c.hostIp(0)}:2377`), 'This node joined a swarm as a worker.');
    const r = await untilCluster(() => nodeRows(h1), (m) => m.get('host2') === 'Ready|', 10_000);
    assert.deepEqual(Object.fromEntries(r), { host1: 'Ready|Leader', host2: 'Ready|' });
    assert.equal(runsEtcd(h1) || runsEtcd(h2), false);
    const clusterId = await h1.dockerOk('info', '--format', '{{.Swarm.Cluster.ID}}');
    const ids = [await h1.dockerOk('info', '--format', '{{.Swarm.NodeID}}'), await h2.dockerOk('info', '--format', '{{.Swarm.NodeID}}')];
    const held = await keys();
    for (const k of ['swarm/cluster', `nodes/${ids[0]}`, `nodes/${ids[1]}`, `alive/${ids[0]}`, `alive/${ids[1]}`]) assert.ok(held.includes(`/berth/${clusterId}/${k}`), `${k} in ${held.join(' ')}`);
  });

  it('applies swarm update: the heartbeat sets the lease TTL, the expiry the next certificates; refuses what it cannot do', async () => {
    assert.equal(await h1.dockerOk('swarm', 'update', '--cert-expiry', '2h', '--task-history-limit', '7', '--dispatcher-heartbeat', '2s'), 'Swarm updated.');
    const spec = ((await h1.api('GET', '/swarm')).body as { Spec: Record<string, Record<string, number>> }).Spec;
    assert.deepEqual([spec.CAConfig!.NodeCertExpiry, spec.Orchestration!.TaskHistoryRetentionLimit, spec.Dispatcher!.HeartbeatPeriod], [7_200_000_000_000, 7, 2_000_000_000]);
    assert.equal(await h2.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'active');
    for (const [flags, refusal] of [
      [['--snapshot-interval', '5000'], /berth keeps the swarm's state in etcd, not in swarmkit's Raft: its Raft settings cannot be changed \(--snapshot-interval 5000\)/],
      [['--max-snapshots', '2'], /its Raft settings cannot be changed \(--max-snapshots 2\)/],
      [['--external-ca', 'protocol=cfssl,url=https://ca.example.com'], /external CAs \(--external-ca\) are not supported/],
      [['--autolock'], /berth does not lock managers \(--autolock\)/],
    ] as const) {
      const r = await h1.docker('swarm', 'update', ...flags);
      assert.match(r.stderr, refusal);
    }
    // Two heartbeats of 2 s: a killed node is Down within 4 s (the default's 10 s would not be).
    await sleep(500);
    const killed = Date.now();
    await h2.stop('SIGKILL');
    await untilCluster(() => nodeRows(h1), (m) => m.get('host2') === 'Down|', 15_000);
    const took = Date.now() - killed;
    assert.ok(took < 8000, `Down after ${took} ms`);
    await h2.start();
    await untilCluster(() => nodeRows(h1), (m) => m.get('host2') === 'Ready|', 20_000);
    assert.equal(await h1.dockerOk('swarm', 'update', '--dispatcher-heartbeat', '5s'), 'Swarm updated.');
  });

  it('promotes and demotes without etcd members', async () => {
    await h1.dockerOk('node', 'promote', 'host2');
    const r = await untilCluster(() => nodeRows(h1), (m) => m.get('host2') === 'Ready|Reachable', 30_000);
    assert.equal(r.get('host2'), 'Ready|Reachable');
    assert.equal(await untilCluster(() => h2.dockerOk('info', '--format', '{{.Swarm.ControlAvailable}}'), (v) => v === 'true', 10_000), 'true');
    assert.equal((await nodeRows(h2)).size, 2);
    assert.equal(runsEtcd(h2), false);
    // Its manager's certificate lasts what the swarm's CAConfig says (2 h).
    const left = new Date(new X509Certificate(fs.readFileSync(path.join(h2.dataRoot, 'cluster/node.pem'))).validTo).getTime() - Date.now();
    assert.ok(left > 3_500_000 && left < 7_300_000, `${left} ms left`);
    assert.equal(await h2.dockerOk('node', 'demote', 'host2'), 'Manager host2 demoted in the swarm.');
    assert.equal(await untilCluster(() => h2.dockerOk('info', '--format', '{{.Swarm.ControlAvailable}}'), (v) => v === 'false', 20_000), 'false');
    const last = await h1.docker('node', 'demote', 'host1');
    assert.match(last.stderr, /attempting to demote the last manager of the swarm/);
  });

  it('reconnects to it after a daemon restart', async () => {
    await h1.restart('SIGKILL');
    const r = await untilCluster(() => nodeRows(h1), (m) => m.get('host1') === 'Ready|Leader' && m.get('host2') === 'Ready|', 30_000);
    assert.deepEqual(Object.fromEntries(r), { host1: 'Ready|Leader', host2: 'Ready|' });
  });

  it('leaves nothing in it once every node has left', async () => {
    assert.equal(await h2.dockerOk('swarm', 'leave'), 'Node left the swarm.');
    assert.equal((await nodeRows(h1)).get('host2'), 'Down|', 'a node that left stays listed, Down, as in Docker');
    assert.equal(await h1.dockerOk('swarm', 'leave', '--force'), 'Node left the swarm.');
    assert.deepEqual(await keys(), []);
    for (const h of [h1, h2]) assert.equal(await h.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
  });
});
