/**
 * docker node promote | demote on three hosts, for real: a promoted worker runs an etcd
 * member and answers the manager's API; with two workers promoted the swarm survives the
 * death of the manager that formed it (two voters of three); a demotion that would lose
 * the quorum is refused, the dead manager can be demoted and comes back a worker, a
 * manager can demote itself, the last manager cannot be demoted, and a former manager
 * can be promoted again. A worker that joined when the first manager was the only one
 * stays in the swarm after that manager's death, through the members promoted since.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../lib/async.js';
import { ClusterWorld, nodeRows, untilCluster } from '../lib/cluster.js';
import type { World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');



/** Whether the host runs an etcd member (berthd's child, its data under the host's data root). */
function runsEtcd(w: World): boolean {
  return spawnSync('pgrep', ['-f', `etcd .*--data-dir ${w.dir}`]).stdout.toString().trim() !== '';
}

const controlAvailable = async (w: World): Promise<string> => w.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}');

describe('promoting and demoting nodes', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World, h3: World, h4: World;
  before(async () => {
    c = await ClusterWorld.create(4);
    [h1, h2, h3, h4] = c.hosts as [World, World, World, World];
    await c.formSwarm();
  });
  after(async () => {
    await c.dispose();
  });

  it('promotes a worker into a manager that runs an etcd member and serves the manager API', async () => {
    assert.equal(runsEtcd(h2), false);
    assert.equal(await h1.dockerOk('node', 'promote', 'host2'), 'Node host2 promoted to a manager in the swarm.');
    const r = await untilCluster(() => nodeRows(h1), (m) => m.get('host2') === 'Ready|Reachable', 30_000);
    assert.equal(r.get('host2'), 'Ready|Reachable', JSON.stringify([...r]));
    assert.equal(await untilCluster(() => controlAvailable(h2), (v) => v === 'active true', 10_000), 'active true');
    assert.equal((await nodeRows(h2)).size, 4, 'the promoted node answers node ls');
    assert.ok(runsEtcd(h2));
    assert.equal(await h2.dockerOk('info', '--format', '{{.Swarm.Managers}} {{.Swarm.Nodes}}'), '2 4');
    const id = await h2.dockerOk('node', 'inspect', '--format', '{{.ID}}', 'self');
    assert.equal(await h1.dockerOk('node', 'promote', 'host2'), `Node ${id} is already a manager.`);
    // It admits joins too: its join-token names itself.
    assert.match(await h2.dockerOk('swarm', 'join-token', 'worker'), new RegExp(`${c.hostIp(1).replace(/\./g, '\\.')}:2377`));
  });

  it('keeps the swarm working through the promoted managers when the first manager dies', async () => {
    await h1.dockerOk('node', 'promote', 'host3');
    await untilCluster(() => nodeRows(h1), (m) => m.get('host3') === 'Ready|Reachable', 30_000);
    // The cluster lists host3 a manager before host3 itself has taken the role: wait for that too.
    assert.equal(await untilCluster(() => controlAvailable(h3), (v) => v === 'active true', 10_000), 'active true');
    const killed = Date.now();
    await h1.stop('SIGKILL');
    const r = await untilCluster(() => nodeRows(h2), (m) => m.get('host1')?.startsWith('Down|Unreachable') === true && [...m.values()].some((v) => v.endsWith('Leader')), 30_000);
    assert.match(r.get('host1') ?? '', /^Down\|Unreachable/, JSON.stringify([...r]));
    assert.ok(['host2', 'host3'].some((h) => r.get(h) === 'Ready|Leader'), JSON.stringify([...r]));
    // The survivors change the cluster's state.
    await h3.dockerOk('node', 'update', '--label-add', 'zone=b', 'host2');
    assert.equal(await h2.dockerOk('node', 'inspect', '--format', '{{.Spec.Labels.zone}}', 'host2'), 'b');
    const lossy = await h2.docker('node', 'demote', 'host3');
    assert.match(lossy.stderr, /rpc error: code = FailedPrecondition desc = can't remove member from the raft: this would result in a loss of quorum/);
    // The worker knew only host1's etcd when it joined: once its lease lapses it reconnects through the others.
    while (Date.now() - killed < 15_000) await sleep(500);
    const w = await untilCluster(() => nodeRows(h3), (m) => m.get('host4') === 'Ready|', 60_000);
    assert.equal(w.get('host4'), 'Ready|');
    assert.equal(await h4.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'active');
  });

  it('demotes the dead manager, which comes back a worker', async () => {
    assert.equal(await h2.dockerOk('node', 'demote', 'host1'), 'Manager host1 demoted in the swarm.');
    assert.equal((await nodeRows(h2)).get('host1'), 'Down|');
    assert.equal(await h3.dockerOk('info', '--format', '{{.Swarm.Managers}}'), '2');
    const since = h1.log.length;
    await h1.start();
    assert.equal(await untilCluster(() => controlAvailable(h1), (v) => v === 'active false', 60_000), 'active false', h1.log.slice(-4000));
    // It saw it was taken out before starting its member (etcd would refuse a removed one, in these words).
    assert.doesNotMatch(h1.log.slice(since), /permanently removed from the cluster/);
    const r = await untilCluster(() => nodeRows(h2), (m) => m.get('host1') === 'Ready|', 20_000);
    assert.equal(r.get('host1'), 'Ready|');
    const refused = await h1.docker('node', 'ls');
    assert.match(refused.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\./);
    assert.equal(runsEtcd(h1), false);
    const dir = path.join(h1.dataRoot, 'cluster');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f === 'etcd' || f === 'ca-key.pem'), [], 'the member’s data and the CA key are gone');
  });

  it('lets a manager demote itself, and refuses to demote the last one', async () => {
    assert.equal(await h3.dockerOk('node', 'demote', 'host3'), 'Manager host3 demoted in the swarm.');
    assert.equal(await untilCluster(() => controlAvailable(h3), (v) => v === 'active false', 30_000), 'active false');
    assert.equal(await untilCluster(async () => runsEtcd(h3), (v) => !v, 10_000), false);
    const last = await h2.docker('node', 'demote', 'host2');
    assert.match(last.stderr, /rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm/);
    const r = await untilCluster(() => nodeRows(h2), (m) => m.get('host3') === 'Ready|' && m.get('host1') === 'Ready|', 20_000);
    assert.deepEqual(Object.fromEntries(r), { host1: 'Ready|', host2: 'Ready|Leader', host3: 'Ready|', host4: 'Ready|' });
  });

  it('promotes a former manager again', async () => {
    await h2.dockerOk('node', 'promote', 'host1');
    const r = await untilCluster(() => nodeRows(h2), (m) => m.get('host1') === 'Ready|Reachable', 30_000);
    assert.equal(r.get('host1'), 'Ready|Reachable');
    assert.equal(await untilCluster(() => controlAvailable(h1), (v) => v === 'active true', 10_000), 'active true');
    assert.equal((await nodeRows(h1)).size, 4);
  });
});
