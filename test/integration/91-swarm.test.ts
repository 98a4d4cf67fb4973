/**
 * Swarm mode across three hosts (namespaces on an underlay), driven by the docker CLI:
 * init, joins with each token, tokens refused and rotated, node ls as Docker prints it,
 * a killed node going Down within the lease's TTL and back Ready after its restart,
 * workers refused the manager's API, and leave.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { settled } from '../lib/async.js';
import { ClusterWorld } from '../lib/cluster.js';
import type { World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');

/** node ls as rows of [id-with-star, hostname, status, availability, manager status]. */
async function nodeLs(w: World): Promise<Record<string, { self: boolean; status: string; availability: string; manager: string }>> {
  const out = await w.dockerOk('node', 'ls', '--format', '{{.Self}}|{{.Hostname}}|{{.Status}}|{{.Availability}}|{{.ManagerStatus}}');
  return Object.fromEntries(
    out.split('\n').map((l) => {
      const [self, host, status, availability, manager] = l.split('|') as [string, string, string, string, string];
      return [host, { self: self === 'true', status, availability, manager }];
    }),
  );
}


describe('swarm mode on three hosts', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World, h3: World;
  let workerToken = '';
  before(async () => {
    c = await ClusterWorld.create(3);
    [h1, h2, h3] = c.hosts as [World, World, World];
  });
  after(async () => {
    await c.dispose();
  });

  it('inits a swarm and prints the join command as Docker does', async () => {
    const out = await h1.dockerOk('swarm', 'init', '--advertise-addr', c.hostIp(0));
    const id = await h1.dockerOk('info', '--format', '{{.Swarm.NodeID}}');
    assert.match(id, /^[0-9a-z]{25}$/);
    assert.match(out, new RegExp(`^Swarm initialized: current node \\(${id}\\) is now a manager\\.`));
    const m = /docker swarm join --token (SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}) ([0-9.]+):2377/.exec(out);
    assert.ok(m, out);
    workerToken = m[1]!;
    assert.equal(m[2], c.hostIp(0));
    assert.match(out, /To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions\./);
    assert.equal(await h1.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{.Swarm.NodeAddr}}'), `active true ${c.hostIp(0)}`);
    const again = await h1.docker('swarm', 'init');
    assert.match(again.stderr, /This node is already part of a swarm\. Use "docker swarm leave" to leave this swarm and join another one\./);
  });

  it('joins a worker and a manager, each by its token; refuses a bad one', async () => {
    const bad = await h3.docker('swarm', 'join', '--token', 'foobaz', `${c.hostIp(0)}:2377`);
    assert.match(bad.stderr, /invalid join token/);
    const wrong = await h3.docker('swarm', 'join', '--token', workerToken.replace(/-[0-9a-z]{25}$/, `-${'0'.repeat(25)}`), `${c.hostIp(0)}:2377`);
    assert.match(wrong.stderr, /rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster/);
    assert.equal(await h3.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
    assert.equal(await h2.dockerOk('swarm', 'join', '--token', workerToken, `${c.hostIp(0)}:2377`), 'This node joined a swarm as a worker.');
    const managerToken = await h1.dockerOk('swarm', 'join-token', '-q', 'manager');
    assert.equal(await h3.dockerOk('swarm', 'join', '--token', managerToken, `${c.hostIp(0)}:2377`), 'This node joined a swarm as a manager.');
    const nodes = await settled(() => nodeLs(h1), (n) => Object.keys(n).length === 3 && Object.values(n).every((x) => x.status === 'Ready'), 10_000, 250);
    assert.deepEqual(nodes, {
      host1: { self: true, status: 'Ready', availability: 'Active', manager: 'Leader' },
      host2: { self: false, status: 'Ready', availability: 'Active', manager: '' },
      host3: { self: false, status: 'Ready', availability: 'Active', manager: 'Reachable' },
    });
    // The second manager serves the same cluster.
    assert.equal(Object.keys(await nodeLs(h3)).length, 3);
  });

  it('refuses the manager API on a worker, with Docker’s words', async () => {
    const r = await h2.docker('node', 'ls');
    assert.match(r.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\./);
  });

  it('rotates a token: the old one no longer admits anyone', async () => {
    const out = await h1.dockerOk('swarm', 'join-token', '--rotate', 'worker');
    assert.match(out, /Successfully rotated worker join token\./);
    const fresh = await h1.dockerOk('swarm', 'join-token', '-q', 'worker');
    assert.notEqual(fresh, workerToken);
    assert.equal(fresh.split('-')[2], workerToken.split('-')[2], 'the CA digest stays');
  });

  it('shows a killed node Down within the lease TTL, and Ready again after its restart', async () => {
    const t0 = Date.now();
    await h2.stop('SIGKILL');
    const down = await settled(() => nodeLs(h1), (n) => n.host2?.status === 'Down', 20_000, 250);
    assert.equal(down.host2?.status, 'Down', `still ${down.host2?.status} after ${Date.now() - t0} ms`);
    await h2.start();
    const up = await settled(() => nodeLs(h1), (n) => n.host2?.status === 'Ready', 20_000, 250);
    assert.equal(up.host2?.status, 'Ready');
    assert.equal(await h2.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'active');
  });

  it('lets nodes leave: a worker at once, a manager only with --force', async () => {
    assert.equal(await h2.dockerOk('swarm', 'leave'), 'Node left the swarm.');
    assert.equal(await h2.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
    const refused = await h3.docker('swarm', 'leave');
    assert.match(refused.stderr, /You are attempting to leave the swarm on a node that is participating as a manager\./);
    assert.equal(await h3.dockerOk('swarm', 'leave', '--force'), 'Node left the swarm.');
    assert.equal(await h1.dockerOk('swarm', 'leave', '--force'), 'Node left the swarm.');
    for (const h of [h1, h2, h3]) assert.equal(await h.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
    assert.deepEqual(fs.readdirSync(h1.dataRoot).filter((f) => f === 'cluster'), [], 'leave removes the swarm state');
  });
});
