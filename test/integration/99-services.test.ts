/**
 * Swarm services' control plane on three hosts, driven by the stock docker CLI: create
 * with replicas on an overlay (the CLI's progress until converged), service ls and ps,
 * the tasks' containers on their nodes, scaling, a killed task replaced, a drained node
 * emptied, an unsatisfiable constraint shown pending with swarmkit's reason, a worker's
 * 503, service rm leaving no container, and a dead node's tasks run elsewhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClusterWorld, nodeRows, untilCluster } from '../lib/cluster.js';
import type { World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

interface PsRow {
  name: string;
  node: string;
  desired: string;
  current: string;
  error: string;
}

/** `service ps` as rows (every task, history included). */
async function ps(w: World, service: string): Promise<PsRow[]> {
  const out = await w.dockerOk('service', 'ps', '--no-trunc', '--format', '{{.Name}}|{{.Node}}|{{.DesiredState}}|{{.CurrentState}}|{{.Error}}', service);
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [name = '', node = '', desired = '', current = '', error = ''] = l.split('|');
      return { name: name.replace(/^[\s\\_]+/, ''), node, desired, current, error };
    });
}

/** The REPLICAS column of `service ls` for `service`. */
async function replicas(w: World, service: string): Promise<string> {
  return (await w.dockerOk('service', 'ls', '--filter', `name=${service}`, '--format', '{{.Replicas}}')).trim();
}

/** The running tasks' containers on each host: host index -> names. */
async function taskContainers(hosts: readonly World[], service: string): Promise<string[][]> {
  return Promise.all(hosts.map(async (h) => (await h.dockerOk('ps', '--filter', `label=com.docker.swarm.service.name=${service}`, '--format', '{{.Names}}')).split('\n').filter((x) => x !== '')));
}

async function untilReplicas(w: World, service: string, want: string, ms = 30_000): Promise<void> {
  const got = await untilCluster(async () => replicas(w, service), (r) => r === want, ms);
  assert.equal(got, want, `${service}: replicas ${got}, want ${want}`);
}

describe('swarm services on three hosts', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World, h3: World;
  before(async () => {
    c = await ClusterWorld.create(3);
    [h1, h2, h3] = c.hosts as [World, World, World];
    await c.formSwarm();
    await h1.dockerOk('network', 'create', '-d', 'overlay', 'ov');
  });
  after(async () => {
    for (const s of (await h1.docker('service', 'ls', '-q')).stdout.split('\n').filter((x) => x !== '')) await h1.docker('service', 'rm', s);
    await untilCluster(async () => (await taskContainers(c.hosts, '')).flat().length, (n) => n === 0, 20_000).catch(() => undefined);
    await c.dispose();
  });

  it('creates a service of 3 replicas on an overlay: converged progress, service ls 3/3, ps names and nodes, a container per node', async () => {
    const t0 = Date.now();
    const out = await h1.dockerOk('service', 'create', '--name', 'web', '--replicas', '3', '--network', 'ov', 'busybox', 'sleep', '100000');
    console.log(`service create --replicas 3 to converged: ${Date.now() - t0} ms`);
    assert.match(out, /^[0-9a-z]{25}/);
    assert.match(out, /verify: Service( \S+)? converged/);
    assert.equal(await replicas(h1, 'web'), '3/3');
    const rows = await ps(h1, 'web');
    assert.deepEqual(rows.map((r) => r.name).sort(), ['web.1', 'web.2', 'web.3']);
    assert.deepEqual(rows.map((r) => r.node).sort(), ['host1', 'host2', 'host3'], 'spread one per node');
    for (const r of rows) {
      assert.equal(r.desired, 'Running');
      assert.match(r.current, /^Running/);
    }
    const names = await taskContainers(c.hosts, 'web');
    for (const onHost of names) {
      assert.equal(onHost.length, 1);
      assert.match(onHost[0]!, /^web\.[123]\.[0-9a-z]{25}$/);
    }
    const inspect = JSON.parse(await h1.dockerOk('service', 'inspect', 'web')) as { Endpoint: { VirtualIPs?: { NetworkID: string; Addr: string }[] } }[];
    const ov = await h1.dockerOk('network', 'inspect', 'ov', '--format', '{{.Id}}');
    assert.equal(inspect[0]!.Endpoint.VirtualIPs?.[0]?.NetworkID, ov);
    assert.match(inspect[0]!.Endpoint.VirtualIPs?.[0]?.Addr ?? '', /^10\.0\.\d+\.\d+\/24$/);
  });

  it('refuses a second service of the same name, and answers 503 on a worker', async () => {
    const again = await h1.docker('service', 'create', '-d', '--name', 'web', 'busybox', 'sleep', '1');
    assert.match(again.stderr, /rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists/);
    const worker = await h2.docker('service', 'ls');
    assert.match(worker.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state/);
    const raw = await h2.api('GET', '/v1.44/services');
    assert.equal(raw.status, 503);
  });

  it('scales 3 → 5 → 1', async () => {
    await h1.dockerOk('service', 'scale', '-d', 'web=5');
    await untilReplicas(h1, 'web', '5/5');
    assert.equal((await taskContainers(c.hosts, 'web')).flat().length, 5);
    await h1.dockerOk('service', 'scale', '-d', 'web=1');
    await untilReplicas(h1, 'web', '1/1');
    const left = await untilCluster(async () => (await taskContainers(c.hosts, 'web')).flat(), (n) => n.length === 1, 20_000);
    assert.equal(left.length, 1);
    assert.match(left[0]!, /^web\.1\./);
  });

  it('replaces a task whose container is killed', async () => {
    await h1.dockerOk('service', 'scale', '-d', 'web=3');
    await untilReplicas(h1, 'web', '3/3');
    const names = await taskContainers(c.hosts, 'web');
    const host = names.findIndex((n) => n.length > 0);
    const victim = names[host]![0]!;
    const slot = victim.split('.')[1]!;
    const t0 = Date.now();
    await c.hosts[host]!.dockerOk('kill', victim);
    const rows = await untilCluster(async () => ps(h1, 'web'), (r) => r.filter((x) => x.name === `web.${slot}` && /^Running/.test(x.current) && x.desired === 'Running').length === 1 && r.some((x) => /non-zero exit \(137\)/.test(x.error)), 30_000);
    console.log(`killed task replaced and running after ${Date.now() - t0} ms`);
    assert.ok(rows.some((x) => x.name === `web.${slot}` && x.desired === 'Shutdown' && /^Failed/.test(x.current)), JSON.stringify(rows));
    await untilReplicas(h1, 'web', '3/3');
  });

  it('rolls an update over the tasks (env, --force) and leaves them alone when only the replicas are sent again', async () => {
    const ids = async (): Promise<string[]> => (await h1.dockerOk('service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', 'web')).split('\n').sort();
    const before = await ids();
    await h1.dockerOk('service', 'update', '--env-add', 'COLOUR=blue', '--update-parallelism', '2', 'web');
    const after = await ids();
    assert.equal(after.length, 3);
    assert.ok(after.every((id) => !before.includes(id)), 'every task replaced');
    // The new tasks' containers have the variable (the old ones may still be in their stop's grace period).
    for (const h of c.hosts) {
      const names = (await h.dockerOk('ps', '--format', '{{.Names}}', '--filter', 'label=com.docker.swarm.service.name=web')).split('\n').filter((n) => after.some((id) => n.endsWith(id)));
      for (const name of names) {
        const env = await h.dockerOk('inspect', name, '--format', '{{json .Config.Env}}');
        assert.ok((JSON.parse(env) as string[]).includes('COLOUR=blue'), `${name}: ${env}`);
      }
    }
    // update reads the spec with swarmkit's defaults and sends it back: nothing to restart.
    await h1.dockerOk('service', 'update', '-d', '--replicas', '3', 'web');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await ids(), after);
    await h1.dockerOk('service', 'update', '-d', '--force', 'web');
    const forced = await untilCluster(ids, (now) => now.length === 3 && now.every((id) => !after.includes(id)), 30_000);
    assert.ok(forced.every((id) => !after.includes(id)));
    await untilReplicas(h1, 'web', '3/3');
  });

  it('moves the tasks off a drained node', async () => {
    await h1.dockerOk('node', 'update', '--availability', 'drain', 'host3');
    try {
      const rows = await untilCluster(async () => ps(h1, 'web'), (r) => r.filter((x) => x.desired === 'Running' && /^Running/.test(x.current)).length === 3 && !r.some((x) => x.node === 'host3' && x.desired === 'Running'), 30_000);
      assert.ok(!rows.some((x) => x.node === 'host3' && x.desired === 'Running'));
      // Its container stops within its grace period (busybox's sleep waits for the SIGKILL).
      assert.deepEqual(await untilCluster(async () => (await taskContainers([h3], 'web'))[0]!, (n) => n.length === 0, 20_000), []);
    } finally {
      await h1.dockerOk('node', 'update', '--availability', 'active', 'host3');
    }
  });

  it('keeps a task pending with swarmkit’s reason when no node satisfies its constraints', async () => {
    await untilCluster(async () => h1.dockerOk('node', 'inspect', 'host3', '--format', '{{.Spec.Availability}}'), (a) => a === 'active', 5000);
    await h1.dockerOk('service', 'create', '-d', '--name', 'nowhere', '--constraint', 'node.labels.zone==mars', 'busybox', 'sleep', '100000');
    const rows = await untilCluster(async () => ps(h1, 'nowhere'), (r) => r.length === 1 && r[0]!.error !== '', 15_000);
    assert.equal(rows[0]!.node, '');
    assert.match(rows[0]!.current, /^Pending/);
    assert.equal(rows[0]!.error, '"no suitable node (scheduling constraints not satisfied on 3 nodes)"');
    assert.equal(await replicas(h1, 'nowhere'), '0/1');
    await h1.dockerOk('service', 'rm', 'nowhere');
  });

  it('removes every container with service rm', async () => {
    await h1.dockerOk('service', 'rm', 'web');
    const left = await untilCluster(async () => (await taskContainers(c.hosts, 'web')).flat(), (n) => n.length === 0, 20_000);
    assert.deepEqual(left, []);
    assert.equal((await h1.dockerOk('service', 'ls', '-q')).trim(), '');
  });

  it('removes a service with more tasks than etcd takes operations in one transaction (128): every container goes', async () => {
    // 25 slots of a task that fails at once: each slot keeps its history (5 ended tasks) and a current one.
    await h1.dockerOk('service', 'create', '-d', '--name', 'many', '--replicas', '25', '--restart-delay', '100ms', 'busybox', 'false');
    const tasks = async (): Promise<number> => lines(await h1.dockerOk('service', 'ps', '-q', 'many')).length;
    assert.ok((await untilCluster(tasks, (n) => n >= 130, 120_000)) >= 130);
    await h1.dockerOk('service', 'rm', 'many');
    const all = async (): Promise<number> => (await Promise.all(c.hosts.map(async (h) => lines(await h.dockerOk('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=many'))))).flat().length;
    assert.equal(await untilCluster(all, (n) => n === 0, 60_000), 0);
  });

  it('keeps its tasks through a berthd killed and restarted within the lease TTL: no duplicate, nothing lost', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'steady', '--replicas', '3', 'busybox', 'sleep', '100000');
    await untilReplicas(h1, 'steady', '3/3');
    const tasks = async (): Promise<string> => h1.dockerOk('service', 'ps', '-q', '--no-trunc', 'steady');
    const containers = async (): Promise<string> => h2.dockerOk('ps', '-aq', '--no-trunc', '--filter', 'label=com.docker.swarm.service.name=steady');
    const [beforeTasks, beforeContainers] = [await tasks(), await containers()];
    assert.notEqual(beforeContainers, '');
    await h2.stop('SIGKILL');
    await h2.start();
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await tasks(), beforeTasks, 'no task replaced');
    assert.equal(await containers(), beforeContainers, 'the same containers, none added');
    assert.equal(await replicas(h1, 'steady'), '3/3');
    await h1.dockerOk('service', 'rm', 'steady');
    await untilCluster(async () => (await taskContainers(c.hosts, 'steady')).flat().length, (n) => n === 0, 20_000);
  });

  it("runs a dead node's tasks elsewhere within the lease TTL", async () => {
    const created = Date.now();
    await h1.dockerOk('service', 'create', '-d', '--name', 'survivor', '--replicas', '3', '--network', 'ov', 'busybox', 'sleep', '100000');
    await untilReplicas(h1, 'survivor', '3/3');
    console.log(`service create -d --replicas 3 on an overlay to 3/3 in service ls: ${Date.now() - created} ms`);
    const before = await ps(h1, 'survivor');
    assert.ok(before.some((x) => x.node === 'host3'), `spread over the three nodes: ${JSON.stringify(before)}`);
    const t0 = Date.now();
    await h3.stop('SIGKILL');
    const rows = await untilCluster(
      async () => ps(h1, 'survivor'),
      (r) => r.filter((x) => x.desired === 'Running' && /^Running/.test(x.current) && x.node !== 'host3').length === 3,
      40_000,
    );
    console.log(`dead node's task running elsewhere after ${Date.now() - t0} ms`);
    assert.equal(rows.filter((x) => x.desired === 'Running' && x.node !== 'host3').length, 3);
    await h3.start();
    // Back, its old task's container is removed (its task is no longer its node's).
    await untilCluster(async () => (await taskContainers([h3], 'survivor'))[0]!, (n) => n.length === 0, 30_000);
  });

  it('orchestrates from another manager when the leading one dies: services keep converging, no slot scheduled twice', async () => {
    await h1.dockerOk('node', 'promote', 'host2', 'host3');
    await untilCluster(() => nodeRows(h1, '{{.Status}}|{{.ManagerStatus}}'), (r) => ['host2', 'host3'].every((h) => r.get(h) === 'Ready|Reachable'), 60_000);
    await untilCluster(async () => replicas(h1, 'survivor'), (r) => r === '3/3', 30_000);
    await h1.stop('SIGKILL');
    const t0 = Date.now();
    await untilCluster(async () => h2.dockerOk('service', 'scale', '-d', 'survivor=5'), () => true, 30_000);
    await untilReplicas(h2, 'survivor', '5/5', 40_000);
    console.log(`leading manager killed: scaled to 5/5 through another after ${Date.now() - t0} ms`);
    const meant = (await ps(h2, 'survivor')).filter((x) => x.desired === 'Running').map((x) => x.name).sort();
    assert.deepEqual(meant, ['survivor.1', 'survivor.2', 'survivor.3', 'survivor.4', 'survivor.5']);
    await h1.start();
    await untilCluster(() => nodeRows(h2, '{{.Status}}'), (r) => r.get('host1') === 'Ready', 30_000);
  });
});
