/**
 * Three managers keep the swarm working when one dies: etcd keeps its quorum with two of
 * three members, the survivors answer node ls (the dead one Down and Unreachable, a new
 * leader if it led), and it comes back Reachable after its restart. A worker's /info names
 * the managers; availability and labels change through node update; a node that is down
 * can be removed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClusterWorld, nodeRows, untilCluster } from '../lib/cluster.js';
import type { World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');



/** node ls's Status, ManagerStatus and Availability. */
const FIELDS = '{{.Status}}|{{.ManagerStatus}}|{{.Availability}}';

describe('a swarm of three managers and a worker', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let m1: World, m2: World, m3: World, w4: World;
  before(async () => {
    c = await ClusterWorld.create(4);
    [m1, m2, m3, w4] = c.hosts as [World, World, World, World];
    await m1.dockerOk('swarm', 'init', '--advertise-addr', c.hostIp(0));
    const manager = await m1.dockerOk('swarm', 'join-token', '-q', 'manager');
    const worker = await m1.dockerOk('swarm', 'join-token', '-q', 'worker');
    await m2.dockerOk('swarm', 'join', '--token', manager, `${c.hostIp(0)}:2377`);
    await m3.dockerOk('swarm', 'join', '--token', manager, `${c.hostIp(1)}:2377`);
    await w4.dockerOk('swarm', 'join', '--token', worker, `${c.hostIp(2)}:2377`);
  });
  after(async () => {
    await c.dispose();
  });

  it('names the managers in a worker’s info', async () => {
    const addrs = await w4.dockerOk('info', '--format', '{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}');
    assert.deepEqual(addrs.split(' ').sort(), [0, 1, 2].map((i) => `${c.hostIp(i)}:2377`).sort());
    assert.equal(await m2.dockerOk('info', '--format', '{{.Swarm.Managers}} {{.Swarm.Nodes}}'), '3 4');
  });

  it('keeps serving when the leading manager dies, and takes it back after its restart', async () => {
    const before = await nodeRows(m2, FIELDS);
    const leader = [...before].find(([, v]) => v.includes('Leader'))![0];
    const dead = c.hosts[Number(leader.replace('host', '')) - 1]!;
    const survivor = [m1, m2, m3].find((m) => m !== dead)!;
    await dead.stop('SIGKILL');
    const after = await untilCluster(() => nodeRows(survivor, FIELDS), (r) => r.get(leader)?.startsWith('Down|Unreachable') === true && [...r.values()].some((v) => v.includes('Leader')), 30_000);
    assert.match(after.get(leader) ?? '', /^Down\|Unreachable/, JSON.stringify([...after]));
    assert.ok([...after].some(([h, v]) => h !== leader && v.includes('Leader')), 'a new leader');
    await dead.start();
    const back = await untilCluster(() => nodeRows(survivor, FIELDS), (r) => r.get(leader)?.startsWith('Ready|Reachable') === true, 30_000);
    assert.match(back.get(leader) ?? '', /^Ready\|Reachable/);
  });

  it('changes availability and labels, and removes a worker once it is down', async () => {
    await m1.dockerOk('node', 'update', '--availability', 'drain', '--label-add', 'zone=a', 'host4');
    assert.equal((await nodeRows(m3, FIELDS)).get('host4'), 'Ready||Drain');
    assert.equal(await m1.dockerOk('node', 'inspect', '--format', '{{.Spec.Labels.zone}}', 'host4'), 'a');
    const busy = await m1.docker('node', 'rm', 'host4');
    assert.match(busy.stderr, /is not down and can't be removed/);
    const mgr = await m1.docker('node', 'rm', '--force', 'host1');
    assert.match(mgr.stderr, /is a cluster manager and is a member of the raft cluster\. It must be demoted to worker before removal/);
    await w4.stop('SIGKILL');
    await untilCluster(() => nodeRows(m1, FIELDS), (r) => r.get('host4')?.startsWith('Down') === true, 20_000);
    assert.equal(await m1.dockerOk('node', 'rm', 'host4'), 'host4');
    assert.equal((await nodeRows(m1, FIELDS)).has('host4'), false);
    await w4.start();
  });
});
