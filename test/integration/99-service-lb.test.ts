/**
 * A service's VIP and names across three hosts, the data plane alone: the tasks are
 * containers carrying Docker's task labels (one per host, busybox httpd), and the
 * service's record and its tasks' wanted states are written to the cluster store as the
 * orchestrator writes them. Clients on every host resolve the service's name to its
 * VIP and tasks.<name> to the three tasks, fetch through the VIP over all three, and see
 * a task the orchestrator is stopping leave at once (0 failures in 100 fetches).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClusterWorld, untilCluster } from '../lib/cluster.js';
import { REPO, sh, type World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
const SERVICE_ID = 'svclbtest0000000000000001';
const TASKS = ['tasklb000000000000000001', 'tasklb000000000000000002', 'tasklb000000000000000003'];

/** A task's container: Docker's labels, an httpd whose CGI names the task and the client it saw. */
function taskArgs(slot: number): string[] {
  const cgi = `printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho web.${slot} $REMOTE_ADDR\\n' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who`;
  return [
    'run', '-d', '--name', `web.${slot}.${TASKS[slot - 1]!}`, '--network', 'ov',
    '--label', `com.docker.swarm.service.id=${SERVICE_ID}`, '--label', 'com.docker.swarm.service.name=web', '--label', `com.docker.swarm.task.id=${TASKS[slot - 1]!}`,
    'busybox', 'sh', '-c', `mkdir -p /www/cgi-bin && ${cgi} && exec httpd -f -p 80 -h /www`,
  ];
}

describe('service VIP and names across hosts (data plane)', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let hosts: World[];
  let netId = '';
  let vip = '';
  let clusterId = '';

  /** Write keys of the cluster store as the orchestrator would (through host 1's etcd). */
  async function put(entries: { key: string; value: unknown }[]): Promise<void> {
    const dir = path.join(hosts[0]!.dataRoot, 'cluster');
    const args = ['--net=' + hosts[0]!.nsPath, '--', process.execPath, path.join(REPO, 'dist/test/lib/etcd-put.js'), `https://${c.hostIp(0)}:2379`, path.join(dir, 'ca.pem'), path.join(dir, 'node.pem'), path.join(dir, 'node-key.pem')];
    const input = JSON.stringify(entries.map((e) => ({ key: `/berth/${clusterId}/${e.key}`, value: e.value })));
    const r = await sh('nsenter', args, { input, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
  }

  const serviceRecord = () => ({
    id: SERVICE_ID,
    version: 1,
    createdAt: '',
    updatedAt: '',
    spec: { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: netId, Aliases: ['www'] }] }, EndpointSpec: { Mode: 'vip' } },
    virtualIps: [{ networkId: netId, addr: `${vip}/24` }],
    ports: [] as unknown[],
  });

  const task = (i: number, desiredState: 'running' | 'shutdown') => ({
    key: `tasks/${TASKS[i]!}`,
    value: { id: TASKS[i]!, version: 1, createdAt: '', updatedAt: '', serviceId: SERVICE_ID, slot: i + 1, nodeId: '', spec: { ContainerSpec: { Image: 'busybox' } }, serviceVersion: 1, desiredState },
  });

  /** `n` fetches through the VIP from a client, in one shell: the task names that answered ("fail" for a failure). */
  async function fetchMany(h: World, client: string, n: number): Promise<string[]> {
    const script = `i=0; while [ $i -lt ${n} ]; do wget -q -O - http://${vip}/cgi-bin/who || echo fail; i=$((i+1)); done`;
    const out = await h.dockerOk('exec', client, 'sh', '-c', script);
    return out.split('\n').map((l) => l.split(' ')[0]!);
  }
  const tally = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
  const lookup = async (h: World, client: string, name: string): Promise<string[]> => {
    const r = await h.docker('exec', client, 'nslookup', name);
    // busybox prints the server's address first, then a Name:/Address: pair per answer.
    const answers = r.stdout.indexOf('Name:') < 0 ? '' : r.stdout.slice(r.stdout.indexOf('Name:'));
    return [...answers.matchAll(/Address(?: \d+)?:\s*(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
  };

  before(async () => {
    c = await ClusterWorld.create(3);
    hosts = c.hosts;
    await c.formSwarm();
    clusterId = await hosts[0]!.dockerOk('info', '--format', '{{.Swarm.Cluster.ID}}');
    netId = await hosts[0]!.dockerOk('network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.123.0.0/24', 'ov');
    vip = '10.123.0.250';
    for (const [i, h] of hosts.entries()) {
      await h.dockerOk(...taskArgs(i + 1));
      await h.dockerOk('run', '-d', '--name', `client${i + 1}`, '--network', 'ov', 'busybox', 'sleep', '600');
    }
    await put([{ key: `services/${SERVICE_ID}`, value: serviceRecord() }, ...TASKS.map((_, i) => task(i, 'running'))]);
  });
  after(async () => c?.dispose());

  it('resolves the name (and its alias) to the VIP and tasks.<name> to the three tasks, from a client on every host', async () => {
    const taskIps = (await Promise.all(hosts.map((h, i) => h.dockerOk('inspect', '-f', '{{(index .NetworkSettings.Networks "ov").IPAddress}}', `web.${i + 1}.${TASKS[i]!}`)))).sort();
    for (const [i, h] of hosts.entries()) {
      const client = `client${i + 1}`;
      assert.deepEqual(await untilCluster(async () => lookup(h, client, 'tasks.web'), (ips) => ips.length === 3, 20_000), taskIps, `tasks.web from ${client}`);
      assert.deepEqual(await lookup(h, client, 'web'), [vip], `web from ${client}`);
      assert.deepEqual(await lookup(h, client, 'www'), [vip], `www from ${client}`);
    }
  });

  it('spreads fetches through the VIP over the three tasks on three hosts; each task sees the client’s own address', async (t) => {
    const got = tally(await fetchMany(hosts[1]!, 'client2', 150));
    t.diagnostic(`150 fetches through the VIP from host2: ${JSON.stringify(got)}`);
    assert.equal(got['fail'], undefined, JSON.stringify(got));
    for (const n of ['web.1', 'web.2', 'web.3']) assert.ok((got[n] ?? 0) >= 20, `${n}: ${JSON.stringify(got)}`);
    const client2 = await hosts[1]!.dockerOk('inspect', '-f', '{{(index .NetworkSettings.Networks "ov").IPAddress}}', 'client2');
    const seen = await hosts[1]!.dockerOk('exec', 'client2', 'wget', '-q', '-O', '-', `http://${vip}/cgi-bin/who`);
    assert.equal(seen.split(' ')[1]?.replace(/^\[(::ffff:)?|\]$/g, ''), client2);
  });

  it('leaves idle connections to the kernel: no conntrack timeout below its default (IPVS cuts them after 900 s)', async () => {
    const pid = await hosts[1]!.dockerOk('inspect', '-f', '{{.State.Pid}}', 'client2');
    for (const ns of [`/proc/${pid}/ns/net`, hosts[1]!.nsPath]) {
      const r = await sh('nsenter', [`--net=${ns}`, '--', 'cat', '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established']);
      assert.equal(r.stdout.trim(), '432000', `${ns}: ${r.stderr}`);
    }
  });

  it('a task the orchestrator stops leaves every node’s VIP at once: 0 failures in 100 fetches right after, none to it once heard', async () => {
    await put([task(2, 'shutdown')]);
    // The task's container is stopped as an agent would, right away: no fetch may reach it.
    const stopping = hosts[2]!.docker('stop', '-t', '1', `web.3.${TASKS[2]!}`);
    const got = tally(await fetchMany(hosts[0]!, 'client1', 100));
    await stopping;
    assert.equal(got['fail'], undefined, JSON.stringify(got));
    // Only fetches made before the node heard of the change may reach it (it still serves then).
    assert.ok((got['web.3'] ?? 0) <= 5, JSON.stringify(got));
    assert.deepEqual(await untilCluster(async () => lookup(hosts[0]!, 'client1', 'tasks.web'), (ips) => ips.length === 2, 10_000).then((ips) => ips.length), 2);
  });

  it('after a restart of berthd the namespaces hold the same table once: nothing left over, nothing doubled', async () => {
    const h = hosts[1]!;
    const pid = await h.dockerOk('inspect', '-f', '{{.State.Pid}}', 'client2');
    const table = async (): Promise<string> => (await sh('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'nft', 'list', 'table', 'ip', 'berth_svc'])).stdout;
    const before = await table();
    await h.restart();
    const afterRestart = await untilCluster(table, (t) => t === before, 20_000);
    assert.equal(afterRestart, before);
    assert.equal((before.match(/dnat to/g) ?? []).length, 1);
    assert.match(before, /numgen random mod 2/);
  });

  it('once a service publishes an ingress port every node has its own address on the ingress network, reachable from the others, and holds the port', async () => {
    await put([{ key: `services/${SERVICE_ID}`, value: { ...serviceRecord(), ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 30080, PublishMode: 'ingress' }] } }]);
    const subnet = await hosts[0]!.dockerOk('network', 'inspect', 'ingress', '-f', '{{(index .IPAM.Config 0).Subnet}}');
    const prefix = subnet.split('.').slice(0, 3).join('.') + '.';
    const addresses: string[] = [];
    for (const h of hosts) {
      // A node restarted just before (host 2) has it again once it is back in the swarm.
      const ingressLine = async (): Promise<string | undefined> => (await h.ip('-o', '-4', 'addr', 'show')).split('\n').find((l) => / ov-[0-9a-f]{6} /.test(l) && l.includes(` ${prefix}`));
      const line = await untilCluster(ingressLine, (l) => l !== undefined, 20_000);
      assert.ok(line, `${h.ns} has an address on the ingress bridge`);
      addresses.push(line.split(/\s+/)[3]!.split('/')[0]!);
    }
    assert.equal(new Set(addresses).size, 3, addresses.join(' '));
    const ping = await sh('ip', ['netns', 'exec', hosts[0]!.ns, '/bin/busybox', 'ping', '-c', '1', '-W', '3', addresses[2]!]);
    assert.equal(ping.code, 0, `host1 -> host3's ingress address: ${ping.stdout}${ping.stderr}`);
    for (const h of hosts) {
      const table = await untilCluster(async () => (await sh('ip', ['netns', 'exec', h.ns, 'nft', 'list', 'table', 'ip', 'berth_ingress'])).stdout, (t) => t.includes('tcp . 30080'), 10_000);
      assert.match(table, /tcp \. 30080 : goto ing_tcp_30080/);
      const bind = await sh('ip', ['netns', 'exec', h.ns, 'timeout', '1', '/bin/busybox', 'nc', '-l', '-p', '30080']);
      assert.match(bind.stderr, /in use/i, `${h.ns}: a local process must not take the published port`);
    }
    // No published port left: no node keeps an ingress endpoint, nor the network's links where no task is on it.
    await put([{ key: `services/${SERVICE_ID}`, value: serviceRecord() }]);
    for (const h of hosts) {
      const links = await untilCluster(async () => (await h.ip('-o', 'link', 'show')).split('\n').filter((l) => / (ov|vx)-001000[:@]/.test(l)), (l) => l.length === 0, 10_000);
      assert.deepEqual(links, [], `${h.ns} keeps the ingress network's links`);
    }
  });
});
