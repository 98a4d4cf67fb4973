/**
 * The data path in a namespace of its own, on two hosts, driven by the docker CLI:
 * `swarm init` and `swarm join` with --data-path-addr naming a free address of the
 * underlay. Each node's VXLAN then leaves and arrives at that address, inside a namespace
 * of berth's (a macvlan of eth0), off the host's netfilter: containers on the two hosts
 * reach each other by name, the underlay carries VXLAN between the two data-path
 * addresses, the host has no VXLAN socket and no VXLAN chains, `berth trace` follows the outer
 * packet out of that namespace, `berth topology` shows it and `berth doctor` checks it, the namespace's own guard
 * drops VXLAN forged outside the swarm, a berthd killed -9 comes back without making the
 * VXLAN link again, a start that finds the namespace gone (a reboot) makes it and its
 * guard again, and leaving the swarm takes the namespace and its links. An address
 * that is neither the host's nor on its subnets is refused, leaving nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { settled, sleep } from '../lib/async.js';
import { ClusterWorld, UNDERLAY_PREFIX } from '../lib/cluster.js';
import { containerOn, echoesReceived, forgedEcho, inNetns, sendUdpFrom, vxlanLink } from '../lib/overlay.js';
import { started } from '../lib/proc.js';
import { must, type World } from '../lib/world.js';
import type { Topology } from '../../src/insight/topology.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
const haveTcpdump = fs.existsSync('/usr/bin/tcpdump');
const DP = [`${UNDERLAY_PREFIX}.111`, `${UNDERLAY_PREFIX}.112`] as const;
/** The overlay the test makes: the first after ingress (4096). */
const VNI = 4097;

/** The namespace berthd keeps the data path in (src/cluster/data-path.ts). */
const dataPathNs = (w: World): string => path.join(w.execRoot, 'data-path.netns');

/** The overlay links (ov-*, vx-*) in a host's namespace, with their ifindex. */
async function overlayLinks(w: World): Promise<string[]> {
  const out = await must('ip', ['-n', w.ns, '-o', 'link', 'show']);
  return out.split('\n').map((l) => /^(\d+): ((?:ov|vx)-[0-9a-f]+)/.exec(l)).flatMap((m) => (m ? [`${m[2]}#${m[1]}`] : [])).sort();
}

describe('a data path in a namespace of its own (--data-path-addr)', { skip: (!haveEtcd && 'etcd-server is not installed') || (!haveTcpdump && 'tcpdump is not installed') }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World;
  before(async () => {
    c = await ClusterWorld.create(2);
    [h1, h2] = c.hosts as [World, World];
  });
  after(async () => {
    // The namespace lives while the node is in the swarm: leaving is what takes it.
    for (const h of [h2, h1]) await h?.docker('swarm', 'leave', '--force');
    await c.dispose();
  });

  it('refuses an address that is neither the host’s nor on its subnets, leaving nothing', async () => {
    const r = await h1.docker('swarm', 'init', '--advertise-addr', c.hostIp(0), '--data-path-addr', '192.0.2.7');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /data path address 192\.0\.2\.7 is neither an address of this host nor a free address of one of its interfaces' subnets/);
    const port = await h1.docker('swarm', 'init', '--advertise-addr', c.hostIp(0), '--data-path-addr', `${DP[0]}:4789`);
    assert.match(port.stderr, /data path address must be a non-zero IP address or network interface \(without a port number\)/);
    assert.equal(await h1.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
    assert.ok(!fs.existsSync(dataPathNs(h1)), 'a refused init made a namespace');
  });

  it('carries the overlay between the data-path addresses (another node’s refused); the host has no VXLAN socket and no VXLAN chains', async () => {
    await h1.dockerOk('swarm', 'init', '--advertise-addr', c.hostIp(0), '--data-path-addr', DP[0]);
    const token = await h1.dockerOk('swarm', 'join-token', '-q', 'worker');
    // Another node's data-path address: the manager refuses it, and the node is left as it was.
    const taken = await h2.docker('swarm', 'join', '--token', token, '--data-path-addr', DP[0], `${c.hostIp(0)}:2377`);
    assert.match(taken.stderr, new RegExp(`data path address ${DP[0].replace(/\./g, '\\.')} is already used by node \\w+ of the swarm`), taken.stderr);
    assert.equal(await h2.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
    assert.ok(!fs.existsSync(dataPathNs(h2)), 'a refused join made a namespace');
    await h2.dockerOk('swarm', 'join', '--token', token, '--data-path-addr', DP[1], `${c.hostIp(0)}:2377`);
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'ov');
    await Promise.all([h1.dockerOk('run', '-d', '--name', 'c1', '--network', 'ov', 'busybox', 'sleep', '3600'), h2.dockerOk('run', '-d', '--name', 'c2', '--network', 'ov', 'busybox', 'sleep', '3600')]);
    const capture = started(['nsenter', `--net=/run/netns/${c.underlay}`, '--', 'tcpdump', '-nn', '-l', '-i', 'ul0', '-c', '100', 'udp', 'port', '4789'], /listening on/);
    await capture.ready;
    assert.equal((await h1.docker('exec', 'c1', 'ping', '-c2', '-W2', 'c2')).code, 0, 'c1 pings c2 by name');
    assert.equal((await h2.docker('exec', 'c2', 'ping', '-c1', '-W2', 'c1')).code, 0, 'c2 pings c1 by name');
    capture.stop();
    const out = await capture.done;
    const dp = DP.map((a) => a.replace(/\./g, '\\.'));
    assert.match(out, new RegExp(`IP ${dp[0]}\\.\\d+ > ${dp[1]}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni ${VNI}`), out);
    assert.match(out, new RegExp(`IP ${dp[1]}\\.\\d+ > ${dp[0]}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni ${VNI}`), out);
    // berth trace follows the outer packet into the data path's namespace: out of its link, to c2's data-path address.
    const traced = await h1.berth('trace', 'c1', 'c2');
    assert.match(traced.stdout, new RegExp(`straight into the VXLAN link, no bridge and no hook of the host's on the way, carried over VXLAN out of underlay to host ${dp[1]}, where c2 runs\\.`), traced.stdout + traced.stderr);
    for (const [h, addr] of [[h1, DP[0]], [h2, DP[1]]] as const) {
      const ns = dataPathNs(h);
      assert.match((await inNetns(ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'underlay'])).stdout, new RegExp(`inet ${addr.replace(/\./g, '\\.')}/24`));
      assert.match((await inNetns(ns, ['ss', '-Hlun', 'sport', '=', ':4789'])).stdout, /:4789/, 'the VXLAN socket is in the data path’s namespace');
      assert.equal((await inNetns(h.nsPath, ['ss', '-Hlun', 'sport', '=', ':4789'])).stdout.trim(), '', 'the host has a VXLAN socket');
      const host = await must('nsenter', [`--net=${h.nsPath}`, '--', 'nft', 'list', 'table', 'inet', 'berth']);
      assert.doesNotMatch(host, /chain (underlay_in|vxlan_in|underlay_untracked)|udp dport 4789/, 'the host has VXLAN rules');
      assert.ok((await overlayLinks(h)).some((l) => l.startsWith(`${vxlanLink(VNI)}#`)), 'the VXLAN link is in the host’s namespace, beside the containers’ macvlans');
    }
  });

  it('drops VXLAN forged outside the swarm in the namespace’s own guard; a member’s arrives', async () => {
    const c1 = await containerOn(h1, 'c1', 'ov');
    const frame = forgedEcho({ vni: VNI, dstMac: c1.mac, srcMac: '02:42:0a:00:01:fa', srcIp: c1.ip.replace(/\d+$/, '250'), dstIp: c1.ip });
    const to = { ip: DP[0], port: 4789 };
    const start = await echoesReceived(c1.netns);
    await sendUdpFrom(`/run/netns/${c.client}`, frame, to, 5);
    // The host's own address is no member either: the swarm's VXLAN comes from the data-path addresses.
    await sendUdpFrom(h2.nsPath, frame, to, 5);
    await sleep(500);
    assert.equal(await echoesReceived(c1.netns), start, 'a forged VXLAN frame reached the container');
    const guard = await must('nsenter', [`--net=${dataPathNs(h1)}`, '--', 'nft', 'list', 'chain', 'inet', 'berth', 'vxlan_in']);
    assert.match(guard, /udp dport 4789 counter packets (\d+) .*drop/, guard);
    assert.ok(Number(/counter packets (\d+)/.exec(guard)?.[1]) >= 10, guard);
    await sendUdpFrom(dataPathNs(h2), frame, to, 5);
    const got = await settled(() => echoesReceived(c1.netns), (n) => n >= start + 5, 3000, 200);
    assert.equal(got - start, 5, 'a member’s VXLAN frame should reach the container');
  });

  it('shows the data path in berth topology, and berth doctor checks its guard holds every node', async () => {
    const topo = JSON.parse((await h1.berth('topology', '--format', 'json')).stdout) as Topology;
    const ns = topo.namespaces.find((n) => n.kind === 'data-path');
    assert.equal(ns?.path, dataPathNs(h1));
    assert.deepEqual(ns?.interfaces.find((i) => i.name === 'underlay')?.addresses, [`${DP[0]}/24`]);
    assert.deepEqual(topo.drift, []);
    const dataPathCheck = async (): Promise<{ verdict: string; summary: string } | undefined> =>
      (JSON.parse((await h1.berth('doctor', '--format', 'json')).stdout) as { checks: { id: string; verdict: string; summary: string }[] }).checks.find((x) => x.id === 'data-path');
    assert.equal((await dataPathCheck())?.verdict, 'ok');
    // A node taken out of the guard behind berthd's back: doctor names it, and it goes back in.
    const nodes = (op: string): Promise<string> => must('nsenter', [`--net=${dataPathNs(h1)}`, '--', 'nft', op, 'element', 'inet', 'berth', 'swarm_nodes4', `{ ${DP[1]} }`]);
    await nodes('delete');
    try {
      assert.deepEqual(await dataPathCheck(), { id: 'data-path', verdict: 'warn', summary: `the data path's guard lacks nodes ${DP[1]}: their VXLAN is dropped`, hint: "berthd writes the nodes in as they come; if this lasts, restart berthd: it makes the namespace again, with its guard (a reboot empties the exec root, where it is bound)" });
    } finally {
      await nodes('add');
    }
  });

  it('keeps the VXLAN link across a kill -9 of berthd, and the containers talking after', async () => {
    const before = await overlayLinks(h2);
    await h2.restart('SIGKILL');
    assert.deepEqual(await overlayLinks(h2), before, 'the restart made the overlay links again');
    assert.equal((await h1.docker('exec', 'c1', 'ping', '-c1', '-W2', 'c2')).code, 0);
    const joined = await settled(async () => (await h2.docker('exec', 'c2', 'ping', '-c1', '-W2', 'c1')).code, (code) => code === 0, 10_000, 500);
    assert.equal(joined, 0);
  });

  it('makes the namespace and its guard again when a start finds it gone, as after a reboot', async () => {
    await h2.dockerOk('rm', '-f', 'c2');
    await h2.stop('SIGKILL');
    // What a reboot does to it: the exec root's mounts go, and the VXLAN links whose socket lived there.
    await must('umount', ['-l', dataPathNs(h2)]);
    fs.rmSync(dataPathNs(h2));
    const vxlans = async (): Promise<string[]> => (await overlayLinks(h2)).filter((l) => l.startsWith('vx-'));
    assert.deepEqual(await settled(vxlans, (l) => l.length === 0, 5000, 100), [], 'the kernel takes the VXLAN links with their socket’s namespace');
    await h2.start();
    // Back in the swarm in the background, as after any start.
    await settled(async () => h2.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), (s) => s === 'active', 15_000, 200);
    // Until the node has the swarm's networks again, a run fails (and leaves its container, as Docker's does).
    const run = async (): Promise<string> => {
      const r = await h2.docker('run', '-d', '--name', 'c2', '--network', 'ov', 'busybox', 'sleep', '3600');
      if (r.code !== 0) await h2.docker('rm', '-f', 'c2');
      return r.stderr;
    };
    assert.equal(await settled(run, (e) => e === '', 15_000, 300), '', h2.log.slice(-3000));
    const back = await settled(async () => (await h2.docker('exec', 'c2', 'ping', '-c1', '-W2', 'c1')).code, (code) => code === 0, 10_000, 500);
    assert.equal(back, 0, 'c2 reaches c1 over the namespace made again');
    const guard = await must('nsenter', [`--net=${dataPathNs(h2)}`, '--', 'nft', 'list', 'set', 'inet', 'berth', 'swarm_nodes4']);
    assert.match(guard, new RegExp(`elements = \\{ ${DP[0].replace(/\./g, '\\.')}, ${DP[1].replace(/\./g, '\\.')} \\}`), guard);
  });

  it('takes the namespace and its VXLAN links when the node leaves', async () => {
    await h2.dockerOk('rm', '-f', 'c2');
    await h1.dockerOk('rm', '-f', 'c1');
    for (const h of [h2, h1]) {
      await h.dockerOk('swarm', 'leave', '--force');
      assert.ok(!fs.existsSync(dataPathNs(h)), `${h.ns}: the data path's namespace is left`);
      assert.deepEqual(await overlayLinks(h), []);
    }
  });
});
