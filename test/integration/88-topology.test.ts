/**
 * `berth topology` on a real host (a World): the host's bridges with their ports, each
 * container's interfaces paired with their host ends by the kernel's own ifindexes, the
 * published port and the map that serves it, no drift; then a container's host link
 * deleted by hand shows as drift; filters and the Graphviz output.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Topology, TopoNamespace } from '../../src/insight/topology.js';
import { must, World } from '../lib/world.js';

describe('berth topology', () => {
  let w: World;
  before(async () => {
    w = await World.create();
    await w.dockerOk('network', 'create', 'app');
    await w.dockerOk('run', '-d', '--name', 'web', '--network', 'app', '-p', '8080:80', 'busybox', 'sleep', '3600');
    await w.dockerOk('run', '-d', '--name', 'db', '--network', 'app', 'busybox', 'sleep', '3600');
  });
  after(async () => {
    await w.dispose();
  });

  const topology = async (...args: string[]): Promise<Topology> => JSON.parse(await w.berth('topology', '--format', 'json', ...args).then((r) => r.stdout)) as Topology;
  const ns = (t: Topology, name: string): TopoNamespace => t.namespaces.find((n) => n.name === name)!;

  it('draws each container’s veth to its bridge port as the kernel pairs them, with the published port’s rule and no drift', async () => {
    const t = await topology();
    const bridge = `br-${(await w.dockerOk('network', 'inspect', '-f', '{{.Id}}', 'app')).slice(0, 12)}`;
    const host = ns(t, 'host');
    assert.equal(host.interfaces.find((i) => i.name === bridge)?.kind, 'bridge');
    for (const name of ['web', 'db']) {
      const eth0 = ns(t, name).interfaces.find((i) => i.name === 'eth0')!;
      const ip = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.app.IPAddress}}', name);
      assert.deepEqual(eth0.addresses, [`${ip}/16`]);
      assert.equal(eth0.network, 'app');
      const hostEnd = host.interfaces.find((i) => `host:${i.name}` === eth0.peerName);
      assert.ok(hostEnd, `${name}: its veth's host end is found by the kernel's ifindexes`);
      assert.equal(hostEnd.master, bridge, `${name}: the host end is a port of the app bridge`);
      assert.equal(hostEnd.peerName, `${name}:eth0`);
      // The kernel's own pairing: each end names the other's ifindex.
      assert.equal(hostEnd.peer?.ifindex, eth0.ifindex);
      assert.equal(eth0.peer?.ifindex, hostEnd.ifindex);
    }
    assert.deepEqual(t.networks.find((n) => n.name === 'app')?.containers, ['db', 'web']);
    const webIp = await w.dockerOk('inspect', '-f', '{{.NetworkSettings.Networks.app.IPAddress}}', 'web');
    assert.deepEqual(t.ports, [{ container: 'web', proto: 'tcp', hostIp: '0.0.0.0', hostPorts: '8080', containerIp: webIp, containerPorts: '80', rule: 'DNAT in table inet berth, map pub4_port' }]);
    assert.deepEqual(t.drift, []);
  });

  it('narrows to one container, and draws Graphviz', async () => {
    const t = await topology('--container', 'web');
    assert.deepEqual(t.namespaces.map((n) => n.name), ['host', 'web']);
    assert.ok(ns(t, 'host').interfaces.length <= 2, 'only the host links web uses: its veth end and its bridge');
    const dot = (await w.berth('topology', '--format', 'dot', '--network', 'app')).stdout;
    assert.match(dot, /^digraph berth \{/);
    assert.match(dot, /"web:eth0" -> "host:veth[0-9a-f]+" \[dir=none, label="veth"\];/);
    assert.match(dot, /"port:0\.0\.0\.0:8080\/tcp" -> "web:eth0" \[label="DNAT :80"\];/);
  });

  it('flags drift when the kernel lost what the model has', async () => {
    const dbEnd = ns(await topology(), 'db').interfaces.find((i) => i.name === 'eth0')!.peerName!.slice('host:'.length);
    await must('ip', ['-n', w.ns, 'link', 'del', dbEnd]);
    const t = await topology();
    assert.ok(t.drift.some((d) => d.kind === 'missing' && d.detail === `db: host link ${dbEnd} (app) is not in the host's namespace`), JSON.stringify(t.drift));
    // Deleting one end of a veth deletes both: the container lost its eth0 too.
    assert.ok(t.drift.some((d) => d.detail === 'db: eth0 on app is not in its namespace'));
    assert.match((await w.berth('topology')).stdout, /drift \(kernel and model disagree\)\n(.*\n)* {2}missing: db: host link veth[0-9a-f]+ \(app\)/);
  });
});
