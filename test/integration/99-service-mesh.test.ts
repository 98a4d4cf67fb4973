/**
 * A service's load balancing and routing mesh end to end on three hosts, driven by the
 * stock docker CLI: `service create --replicas 3 --network ov --publish 30080:80`, then
 * from containers on every node the name resolves to the VIP and tasks.<name> to the
 * three tasks, fetches through the VIP spread over them, a scale-down costs no fetch, and
 * the published port answers from outside the cluster on a node that has no task, from
 * the node itself and from containers. Every node has its own ingress address and holds
 * the port; a berthd restart leaves the tables as they were; service rm takes it all.
 */
import type { TraceResult } from '../../src/insight/trace.js';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { CLIENT_IP, ClusterWorld, untilCluster } from '../lib/cluster.js';
import { sh, type World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
const CGI = `mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $(hostname) $REMOTE_ADDR\\n' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 80 -h /www`;

const tally = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

/** `n` fetches of `url` from a container, in one shell: the answering task's hostname each, "fail" for a failure. */
async function fetchMany(h: World, client: string, url: string, n: number): Promise<string[]> {
  const script = `i=0; while [ $i -lt ${n} ]; do wget -q -O - ${url} || echo fail; i=$((i+1)); done`;
  return (await h.dockerOk('exec', client, 'sh', '-c', script)).split('\n').map((l) => l.split(' ')[0]!);
}

async function lookup(h: World, client: string, name: string): Promise<string[]> {
  const r = await h.docker('exec', client, 'nslookup', name);
  const answers = r.stdout.indexOf('Name:') < 0 ? '' : r.stdout.slice(r.stdout.indexOf('Name:'));
  return [...answers.matchAll(/Address(?: \d+)?:\s*(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!).sort();
}

/** The line of `ip -o -4 addr` with the node's address on the ingress bridge (VNI 4096: ov-001000), if any. */
async function ingressLine(h: World): Promise<string | undefined> {
  return (await h.ip('-o', '-4', 'addr', 'show')).split('\n').find((l) => / ov-001000 /.test(l));
}

describe('service VIP, names and routing mesh end to end', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let hosts: World[];
  before(async () => {
    c = await ClusterWorld.create(3);
    hosts = c.hosts;
    await c.formSwarm();
    await hosts[0]!.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'ov');
    await hosts[0]!.dockerOk('service', 'create', '-d', '--name', 'web', '--replicas', '3', '--network', 'ov', '--publish', 'published=30080,target=80', 'busybox', 'sh', '-c', CGI);
    const running = await untilCluster(async () => hosts[0]!.dockerOk('service', 'ls', '--filter', 'name=web', '--format', '{{.Replicas}}'), (r) => r === '3/3', 60_000);
    assert.equal(running, '3/3');
    for (const [i, h] of hosts.entries()) await h.dockerOk('run', '-d', '--name', `client${i + 1}`, '--network', 'ov', 'busybox', 'sleep', '600');
  });
  after(async () => {
    // The service first: an agent would start a task's container again while the world removes it.
    if (hosts) {
      await hosts[0]!.docker('service', 'rm', 'web'); // gone already when every test ran
      await untilCluster(async () => (await Promise.all(hosts.map(async (h) => h.dockerOk('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=web')))).join(''), (ids) => ids === '', 30_000);
    }
    await c?.dispose();
  });

  it('resolves web to its VIP and tasks.web to the three tasks from a container on every node', async () => {
    const vips = await hosts[0]!.dockerOk('service', 'inspect', '-f', '{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}', 'web');
    const ovId = await hosts[0]!.dockerOk('network', 'inspect', '-f', '{{.Id}}', 'ov');
    const vipOnOv = await hosts[0]!.dockerOk('service', 'inspect', '-f', `{{range .Endpoint.VirtualIPs}}{{if eq .NetworkID "${ovId}"}}{{.Addr}}{{end}}{{end}}`, 'web');
    assert.ok(vipOnOv, `a VIP on ov: ${vips}`);
    for (const [i, h] of hosts.entries()) {
      const tasks = await untilCluster(async () => lookup(h, `client${i + 1}`, 'tasks.web'), (ips) => ips.length === 3, 20_000);
      assert.equal(tasks.length, 3, `tasks.web from client${i + 1}: ${tasks.join(' ')}`);
      assert.deepEqual(await lookup(h, `client${i + 1}`, 'web'), [vipOnOv.split('/')[0]!]);
    }
    // berth trace follows a packet to the VIP into the client's own namespace, where it is translated to a task.
    const vip = vipOnOv.split('/')[0]!;
    const traced = JSON.parse((await hosts[0]!.berth('trace', '--format', 'json', 'client1', `${vip}:80`)).stdout) as TraceResult;
    assert.ok(traced.hops.some((hop) => hop.chain === 'source: ip berth_svc output' && hop.rules.some((r) => /dnat to numgen random mod 3 map/.test(r.rule))), JSON.stringify(traced.hops));
    assert.match(traced.translated[0] ?? '', new RegExp(`^DNAT ${vip.replace(/\./g, '\\.')}:80 → web\\.\\d\\.\\w+ 10\\.0\\.\\d+\\.\\d+:80$`), JSON.stringify(traced.translated));
  });

  it('spreads fetches through the VIP over the three tasks', async (t) => {
    const got = tally(await fetchMany(hosts[1]!, 'client2', 'http://web/cgi-bin/who', 150));
    t.diagnostic(`150 fetches through the VIP: ${JSON.stringify(got)}`);
    assert.equal(got['fail'], undefined, JSON.stringify(got));
    assert.equal(Object.keys(got).length, 3, JSON.stringify(got));
    for (const n of Object.values(got)) assert.ok(n >= 20, JSON.stringify(got));
  });

  it('scales down with no failed fetch right after, and the published port answers from outside on a node with no task', async (t) => {
    const fetching = fetchMany(hosts[0]!, 'client1', 'http://web/cgi-bin/who', 100);
    await hosts[0]!.dockerOk('service', 'scale', '-d', 'web=2');
    const during = tally(await fetching);
    const after = tally(await fetchMany(hosts[0]!, 'client1', 'http://web/cgi-bin/who', 100));
    t.diagnostic(`during the scale-down: ${JSON.stringify(during)}; after: ${JSON.stringify(after)}`);
    assert.equal(during['fail'], undefined, JSON.stringify(during));
    assert.equal(after['fail'], undefined, JSON.stringify(after));
    const placed = await untilCluster(
      async () => Promise.all(hosts.map(async (h) => (await h.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web')).split('\n').filter((x) => x !== '').length)),
      (n) => n.reduce((a, b) => a + b, 0) === 2,
      30_000,
    );
    const empty = placed.findIndex((n) => n === 0);
    assert.ok(empty >= 0, `a node without a task: ${placed.join(',')}`);
    // berth trace on that node awaits a fetch from outside: the mesh picks a task on another
    // node, so the packet is translated twice (DNAT to the task, SNAT to this node's ingress address).
    const tracing = hosts[empty]!.berth('trace', '--format', 'json', '--wait', '8', CLIENT_IP, `${c.hostIp(empty)}:30080/tcp`);
    await new Promise((r) => setTimeout(r, 2500));
    await c.fromClient(['/bin/busybox', 'wget', '-q', '-O', '-', `http://${c.hostIp(empty)}:30080/cgi-bin/who`]);
    const traced = await tracing;
    const r = JSON.parse(traced.stdout) as TraceResult;
    assert.equal(r.probe, 'waited', traced.stdout + traced.stderr);
    assert.match(r.translated[0] ?? '', new RegExp(`^DNAT ${c.hostIp(empty).replace(/\./g, '\\.')}:30080 → web\\.\\d\\.\\w+ [\\d.]+:80$`), JSON.stringify(r));
    assert.match(r.translated[1] ?? '', /^SNAT to [\d.]+ out of /, JSON.stringify(r));
    assert.match(r.summary, /^delivered, DNAT /, r.summary);
    const urls = Array.from({ length: 40 }, () => `http://${c.hostIp(empty)}:30080/cgi-bin/who`);
    const answers: string[] = [];
    for (const url of urls) {
      const r = await c.fromClient(['/bin/busybox', 'wget', '-q', '-O', '-', url]);
      answers.push(r.code === 0 ? r.stdout.trim().split(' ')[0]! : 'fail');
    }
    const got = tally(answers);
    t.diagnostic(`40 fetches of host${empty + 1}:30080 from outside: ${JSON.stringify(got)}`);
    assert.equal(got['fail'], undefined, JSON.stringify(got));
    assert.equal(Object.keys(got).length, 2, JSON.stringify(got));
  });

  it('leaves idle connections to the kernel: no conntrack timeout below its default (IPVS cuts them after 900 s)', async () => {
    const pid = await hosts[1]!.dockerOk('inspect', '-f', '{{.State.Pid}}', 'client2');
    for (const ns of [`/proc/${pid}/ns/net`, hosts[1]!.nsPath]) {
      const r = await sh('nsenter', [`--net=${ns}`, '--', 'cat', '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established']);
      assert.equal(r.stdout.trim(), '432000', `${ns}: ${r.stderr}`);
    }
  });

  it('gives every node its own address on the ingress network, reachable from the others, and holds the published port there', async () => {
    const addresses: string[] = [];
    for (const h of hosts) {
      const line = await untilCluster(async () => ingressLine(h), (l) => l !== undefined, 20_000);
      assert.ok(line, `${h.ns} has an address on the ingress bridge`);
      addresses.push(line.split(/\s+/)[3]!.split('/')[0]!);
      const bind = await sh('ip', ['netns', 'exec', h.ns, 'timeout', '1', '/bin/busybox', 'nc', '-l', '-p', '30080']);
      assert.match(bind.stderr, /in use/i, `${h.ns}: a local process must not take the published port`);
    }
    assert.equal(new Set(addresses).size, 3, addresses.join(' '));
    const ping = await sh('ip', ['netns', 'exec', hosts[0]!.ns, '/bin/busybox', 'ping', '-c', '1', '-W', '3', addresses[2]!]);
    assert.equal(ping.code, 0, `host1 -> host3's ingress address: ${ping.stdout}${ping.stderr}`);
  });

  it('after a restart of berthd the tables are as they were: nothing left over, nothing doubled', async () => {
    const h = hosts[1]!;
    const pid = await h.dockerOk('inspect', '-f', '{{.State.Pid}}', 'client2');
    const tables = async (): Promise<string> =>
      (await sh('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'nft', 'list', 'table', 'ip', 'berth_svc'])).stdout + (await sh('ip', ['netns', 'exec', h.ns, 'nft', 'list', 'table', 'ip', 'berth_ingress'])).stdout;
    const before = await tables();
    assert.match(before, /numgen random mod 2/);
    await h.restart();
    await untilCluster(async () => ingressLine(h), (l) => l !== undefined, 20_000);
    const again = await untilCluster(tables, (t) => t === before, 20_000);
    assert.equal(again, before);
  });

  it('the published port answers from the node itself and from a container, on every node; a task on the receiving node sees the client’s own address', async () => {
    for (const [i, h] of hosts.entries()) {
      const own = await sh('ip', ['netns', 'exec', h.ns, '/bin/busybox', 'wget', '-q', '-O', '-', `http://${c.hostIp(i)}:30080/cgi-bin/who`]);
      assert.equal(own.code, 0, `host${i + 1} itself: ${own.stderr}`);
      const fromContainer = await h.docker('exec', `client${i + 1}`, 'wget', '-q', '-O', '-', `http://${c.hostIp(i)}:30080/cgi-bin/who`);
      assert.equal(fromContainer.code, 0, `client${i + 1}: ${fromContainer.stderr}`);
    }
    const withTask = (await Promise.all(hosts.map(async (h) => (await h.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web')).trim() !== ''))).indexOf(true);
    const local = (await hosts[withTask]!.dockerOk('ps', '--filter', 'label=com.docker.swarm.service.name=web', '--format', '{{.ID}}')).trim().slice(0, 12);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const r = await c.fromClient(['/bin/busybox', 'wget', '-q', '-O', '-', `http://${c.hostIp(withTask)}:30080/cgi-bin/who`]);
      const [task, from] = r.stdout.trim().split(' ');
      if (task === local) seen.add((from ?? '').replace(/^\[(::ffff:)?|\]$/g, ''));
    }
    assert.deepEqual([...seen], [CLIENT_IP]);
  });

  it('service rm takes the VIP from every container and the ingress endpoint from every node', async () => {
    await hosts[0]!.dockerOk('service', 'rm', 'web');
    for (const [i, h] of hosts.entries()) {
      const pid = await h.dockerOk('inspect', '-f', '{{.State.Pid}}', `client${i + 1}`);
      const vips = await untilCluster(async () => (await sh('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'nft', 'list', 'table', 'ip', 'berth_svc'])).stdout, (t) => t === '', 20_000);
      assert.equal(vips, '', `client${i + 1} keeps a VIP table`);
      assert.equal(await untilCluster(async () => ingressLine(h), (l) => l === undefined, 20_000), undefined, `${h.ns} keeps its ingress address`);
    }
  });
});
