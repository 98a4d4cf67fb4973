/**
 * A container started on one host of a swarm, seen from a container on another host of
 * the same attachable overlay: as soon as its name resolves there, its address answers.
 * (Names used to resolve before the other host had written the FDB and neighbour entries:
 * the first ARP found nothing behind the VXLAN link's proxy, and the kernel asked again
 * only a second later, so the first connection to a new name took about a second.)
 * The VXLAN between the hosts is not tracked by conntrack (it kept an entry per inner
 * flow, each with its own UDP source port, and looked it up for every packet).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClusterWorld } from '../lib/cluster.js';
import { sh } from '../lib/world.js';
import { NameProbe } from '../lib/name-probe.js';
import type { World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');

describe('names on an overlay across hosts', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World;
  let probe: NameProbe | undefined;
  before(async () => {
    c = await ClusterWorld.create(2);
    [h1, h2] = c.hosts as [World, World];
    await c.formSwarm();
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'names');
  });
  after(async () => {
    await probe?.stop();
    await c.dispose();
  });

  it('answers at the address of a new name as soon as the name resolves', async () => {
    const watcher = await h2.dockerOk('run', '-d', '--name', 'watcher', '--network', 'names', 'busybox', 'sleep', '600');
    const pid = await h2.dockerOk('inspect', '-f', '{{.State.Pid}}', watcher);
    const p = (probe = NameProbe.start('host2', `/proc/${pid}/ns/net`));
    for (const name of ['new-1', 'new-2', 'new-3']) {
      const seen = p.appeared(name, 20_000);
      await h1.dockerOk('run', '-d', '--name', name, '--network', 'names', 'busybox', 'sleep', '600');
      const s = await seen;
      assert.equal(s.ip, (await h1.dockerOk('inspect', '-f', '{{(index .NetworkSettings.Networks "names").IPAddress}}', name)));
      // A second is the kernel's ARP retransmission: an answer within half of it came from the first ARP.
      assert.ok(s.answerAt - s.dnsAt < 500, `${name} answered ${(s.answerAt - s.dnsAt).toFixed(0)} ms after its name resolved`);
    }
  });

  it("leaves the swarm's VXLAN out of conntrack on both hosts", async () => {
    await h2.dockerOk('exec', 'watcher', 'ping', '-c', '3', '-W', '2', 'new-1');
    await h1.dockerOk('exec', 'new-1', 'ping', '-c', '3', '-W', '2', 'watcher');
    for (const h of [h1, h2]) {
      const tracked = (await sh('ip', ['netns', 'exec', h.ns, 'cat', '/proc/net/nf_conntrack'])).stdout.split('\n').filter((l) => /dport=4789 /.test(l));
      assert.deepEqual(tracked, [], `${h.ns} tracks VXLAN flows`);
    }
  });
});
