/**
 * Overlay throughput: iperf3 TCP (one stream, Gbit/s) between two berth containers on an
 * attachable overlay network on two hosts of a swarm, side by side in interleaved rounds
 * with references made without berth on the same underlay. Figures, not tests.
 *
 *   node dist/bench/overlay.js [--quick] [--seconds N] [--runs N]
 *
 *   (a)  raw underlay: two plain namespaces on the underlay's bridge, eth0 to eth0
 *   (b)  bare VXLAN pair: a vxlan link in each of those namespaces (made here with `ip`,
 *        the same VNI width, port and MTU as berth's), address to address
 *   (b2) bare VXLAN, bridged: the same, plus a bridge and a veth into a namespace on each
 *        side, the topology of Docker's overlay endpoint, without Docker
 *   (b3) bare VXLAN with a macvlan link of it (bridge mode) in a namespace on each side:
 *        the topology of berth's overlay endpoint, without berth
 *   (c)  berth: container on host1 → container on host2, attachable overlay
 *   (d)  routed, no encapsulation (a reference made without berth, what a direct-routing
 *        option where hosts share an L2 segment could reach, as Flannel's DirectRouting):
 *        a namespace behind each plain host on a veth, the hosts routing each other's
 *        endpoint subnet through the underlay
 *   (e)  berth with direct routing (-o com.berth.network.driver.overlay.direct_routing=true):
 *        container on host1 → container on host2, routed by the hosts without VXLAN
 *   (f)  berth with the data path in a namespace of its own (hosts 3 and 4 joined with
 *        --data-path-addr, a free underlay address each): container on host3 → container
 *        on host4, the same overlay as (c), its VXLAN off the hosts' netfilter
 *   (h)  berth's hosts, eth0 to eth0: the underlay with berth's host firewall in the path
 *
 * Targets (issue 14): (c) or (f) ≥ 0.95 of (b); Docker here reaches 0.71–0.82 of (a).
 * Each path is measured once per round, rounds interleaved (a b b2 c h, a b …), so every
 * path sees the same background load; the table shows medians. Needs root, iproute2,
 * nftables, runc, conmon, etcd-server, iperf3 and the docker CLI. Everything lives in
 * namespaces made here and is removed at the end (also after a failure or Ctrl-C).
 */
import type { ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { UNDERLAY_PREFIX } from '../test/lib/cluster.js';
import { must, sh, type World } from '../test/lib/world.js';
import { closingNote, exitStatus, Interrupts, parseIntFlags, progress, runMain } from './lib/cli.js';
import { costRatio, failureLines, gbit, interleave, medianOf, newPath, pairedRatio, ratio, startServer, stopServers, tailColumns, times, waitListening, type Path } from './lib/iperf.js';
import { num, table } from './lib/stats.js';
import { BenchSwarm } from './lib/swarm.js';

/** A Ctrl-C stops the benchmark after its current run, cleaning up. */
const interrupts = new Interrupts('run');

const USAGE = `usage: node dist/bench/overlay.js [--quick] [--seconds N] [--runs N]
  --quick       3 runs of 3 s per path (about 2 min)
  --seconds N   length of each iperf3 run (default 5)
  --runs N      runs per path; the median is shown (default 5)`;

interface Options {
  seconds: number;
  runs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const { quick, values } = parseIntFlags(argv, USAGE, { '--seconds': 'seconds', '--runs': 'runs' });
  return { seconds: values.seconds ?? (quick ? 3 : 5), runs: values.runs ?? (quick ? 3 : 5) };
}

/** What berth's overlay uses: MTU = underlay - 50, UDP 4789. */
const VXLAN_MTU = 1450;
const VXLAN_PORT = 4789;
const NET = 'bench-ov';
const DIRECT_NET = 'bench-direct';

/**
 * A bare VXLAN link `dev` (VNI `vni`) in plain host `ns` toward `peer`: no learning, one
 * all-zeros FDB entry so that every frame goes to the peer. Returns the link's name.
 */
async function bareVxlan(ns: string, dev: string, vni: number, local: string, peer: string): Promise<void> {
  await must('ip', ['-n', ns, 'link', 'add', dev, 'mtu', String(VXLAN_MTU), 'type', 'vxlan', 'id', String(vni), 'local', local, 'dstport', String(VXLAN_PORT), 'nolearning']);
  await must('bridge', ['-n', ns, 'fdb', 'append', '00:00:00:00:00:00', 'dev', dev, 'dst', peer, 'self', 'permanent']);
  await must('ip', ['-n', ns, 'link', 'set', dev, 'up']);
}

/** (b2)'s side: bridge `br` in plain host `ns` with vxlan `dev` and a veth into `endpoint` holding `addr`. */
async function bridgedEndpoint(ns: string, dev: string, endpoint: string, addr: string): Promise<void> {
  await must('ip', ['-n', ns, 'link', 'add', 'br0', 'mtu', String(VXLAN_MTU), 'type', 'bridge']);
  await must('ip', ['-n', ns, 'link', 'set', dev, 'master', 'br0']);
  await must('ip', ['-n', ns, 'link', 'add', 'port0', 'mtu', String(VXLAN_MTU), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(VXLAN_MTU), 'netns', endpoint]);
  await must('ip', ['-n', ns, 'link', 'set', 'port0', 'master', 'br0', 'up']);
  await must('ip', ['-n', ns, 'link', 'set', 'br0', 'up']);
  await must('ip', ['-n', endpoint, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', endpoint, 'link', 'set', 'eth0', 'up']);
}

/** (d)'s side: endpoint namespace `endpoint` behind plain host `ns` on a veth, `subnet`.1 the host's end, `subnet`.2 the endpoint's. */
async function routedEndpoint(ns: string, endpoint: string, subnet: string, peerSubnet: string, peerHost: string): Promise<void> {
  await must('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await must('ip', ['-n', ns, 'link', 'add', 'rt0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', endpoint]);
  await must('ip', ['-n', ns, 'addr', 'add', `${subnet}.1/24`, 'dev', 'rt0']);
  await must('ip', ['-n', ns, 'link', 'set', 'rt0', 'up']);
  await must('ip', ['-n', ns, 'route', 'add', `${peerSubnet}.0/24`, 'via', peerHost]);
  await must('ip', ['-n', endpoint, 'addr', 'add', `${subnet}.2/24`, 'dev', 'eth0']);
  await must('ip', ['-n', endpoint, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', endpoint, 'route', 'add', 'default', 'via', `${subnet}.1`]);
}

/** (b3)'s side: a macvlan link of vxlan `dev` in plain host `ns`, moved into `endpoint` as eth0 with `addr`. */
async function macvlanEndpoint(ns: string, dev: string, endpoint: string, addr: string): Promise<void> {
  await must('ip', ['-n', ns, 'link', 'add', 'mv0', 'link', dev, 'type', 'macvlan', 'mode', 'bridge']);
  await must('ip', ['-n', ns, 'link', 'set', 'mv0', 'netns', endpoint]);
  await must('ip', ['-n', endpoint, 'link', 'set', 'mv0', 'name', 'eth0']);
  await must('ip', ['-n', endpoint, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
  await must('ip', ['-n', endpoint, 'link', 'set', 'eth0', 'up']);
}

function render(header: string[], paths: Path[], notes: string[]): string {
  const by = (k: string): Path | undefined => paths.find((p) => p.key === k);
  const [a, b, b2, b3] = [by('a'), by('b'), by('b2'), by('b3')];
  const both = (p: Path, base: Path | undefined): string => (p === base || !base ? '' : `${times(ratio(p, base))} ${times(pairedRatio(p, base))}`);
  const rows = paths.map((p) => [
    `(${p.key}) ${p.label}`,
    gbit(p.bps),
    both(p, a),
    p === a ? '' : both(p, b),
    p === a || p === b ? '' : both(p, b2),
    `${num(medianOf(p.cpuPerGb))} ${p === b || !b ? '' : times(costRatio(p, b))}`,
    ...tailColumns(p),
  ]);
  const c = by('c');
  const d = by('d');
  const e = by('e');
  const f = by('f');
  const tput = c && b ? pairedRatio(c, b) : NaN;
  const cost = c && b ? costRatio(c, b) : NaN;
  const atEqualCpu = Number.isFinite(cost) ? 1 / cost : NaN;
  // Judged as shown: two decimals.
  const met = (r: number): string => (Number.isFinite(r) ? (Math.round(r * 100) >= 95 ? 'met' : 'NOT met') : '–');
  return [
    ...header,
    '',
    'iperf3 TCP, one stream, Gbit/s: median (min–max, n); ratios to (a), (b), (b2): median / median, then the median of the per-round ratios',
    table(['path', 'Gbit/s', 'to (a)', 'to (b)', 'to (b2)', 'CPU ms/GB, to (b)', 'retransmits', 'iperf3 CPU % snd / rcv'], rows),
    '',
    `   berth (c) / bare VXLAN pair (b): ${times(tput)} throughput (per-round median, target ≥ 0.95×: ${met(tput)}); CPU per GB ${times(cost)}, so ${times(atEqualCpu)} at equal CPU (${met(atEqualCpu)})`,
    `   berth with its data path in a namespace of its own (f) / bare VXLAN pair (b): ${f && b ? times(pairedRatio(f, b)) : '–'} throughput (target ≥ 0.95×: ${met(f && b ? pairedRatio(f, b) : NaN)}), CPU per GB ${f && b ? times(costRatio(f, b)) : '–'}; (f) / (c): ${f && c ? times(pairedRatio(f, c)) : '–'}; (f) / raw underlay (a): ${f && a ? times(pairedRatio(f, a)) : '–'}`,
    `   berth (c) / the same topology without berth (b3): ${c ? times(pairedRatio(c, b3)) : '–'} throughput, CPU per GB ${c ? times(costRatio(c, b3)) : '–'}: what berth itself adds; (b3) / Docker's topology (b2): ${b3 ? times(pairedRatio(b3, b2)) : '–'}`,
    `   berth (c) / raw underlay (a): ${c ? times(pairedRatio(c, a)) : '–'} (Docker here: 0.71–0.82×); routed without encapsulation (d) / (a): ${d ? times(pairedRatio(d, a)) : '–'}`,
    `   berth with direct routing (e) / raw underlay (a): ${e ? times(pairedRatio(e, a)) : '–'}; (e) / the routed reference without berth (d): ${e && d ? times(pairedRatio(e, d)) : '–'}; (e) / berth's VXLAN (c): ${e && c ? times(pairedRatio(e, c)) : '–'}`,
    ...failureLines(paths),
    '',
    ...notes,
  ].join('\n');
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  const header = [
    `berth overlay bench — ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `settings: ${opts.runs} runs of ${opts.seconds} s per path, interleaved; iperf3 ${(await sh('iperf3', ['--version'])).stdout.split(' ')[1] ?? '?'}, one TCP stream, default window; VXLAN MTU ${VXLAN_MTU}, UDP ${VXLAN_PORT}`,
  ];
  const notes: string[] = [];
  const servers: ChildProcess[] = [];
  const paths: Path[] = [];
  let swarm: BenchSwarm | undefined;
  let failure: unknown;
  try {
    // Hosts 3 and 4 send their VXLAN from a data-path address of their own: (f).
    swarm = await BenchSwarm.form(4, progress, (i) => (i >= 2 ? `${UNDERLAY_PREFIX}.${111 + i}` : undefined));
    const [h1, h2, h3, h4] = swarm.hosts as [World, World, World, World];
    progress('plain namespaces on the underlay, bare VXLAN links');
    const p1 = await swarm.plainHost('p1', 21);
    const p2 = await swarm.plainHost('p2', 22);
    await bareVxlan(p1, 'vxb', 42, `${UNDERLAY_PREFIX}.21`, `${UNDERLAY_PREFIX}.22`);
    await bareVxlan(p2, 'vxb', 42, `${UNDERLAY_PREFIX}.22`, `${UNDERLAY_PREFIX}.21`);
    await must('ip', ['-n', p1, 'addr', 'add', '172.31.42.1/24', 'dev', 'vxb']);
    await must('ip', ['-n', p2, 'addr', 'add', '172.31.42.2/24', 'dev', 'vxb']);
    const e1 = await swarm.plainNamespace('pe1');
    const e2 = await swarm.plainNamespace('pe2');
    await bareVxlan(p1, 'vxc', 43, `${UNDERLAY_PREFIX}.21`, `${UNDERLAY_PREFIX}.22`);
    await bareVxlan(p2, 'vxc', 43, `${UNDERLAY_PREFIX}.22`, `${UNDERLAY_PREFIX}.21`);
    await bridgedEndpoint(p1, 'vxc', e1, '172.31.43.1');
    await bridgedEndpoint(p2, 'vxc', e2, '172.31.43.2');
    const m1 = await swarm.plainNamespace('pm1');
    const m2 = await swarm.plainNamespace('pm2');
    await bareVxlan(p1, 'vxm', 44, `${UNDERLAY_PREFIX}.21`, `${UNDERLAY_PREFIX}.22`);
    await bareVxlan(p2, 'vxm', 44, `${UNDERLAY_PREFIX}.22`, `${UNDERLAY_PREFIX}.21`);
    await macvlanEndpoint(p1, 'vxm', m1, '172.31.46.1');
    await macvlanEndpoint(p2, 'vxm', m2, '172.31.46.2');
    const r1 = await swarm.plainNamespace('pr1');
    const r2 = await swarm.plainNamespace('pr2');
    await routedEndpoint(p1, r1, '172.31.44', '172.31.45', `${UNDERLAY_PREFIX}.22`);
    await routedEndpoint(p2, r2, '172.31.45', '172.31.44', `${UNDERLAY_PREFIX}.21`);
    progress('attachable overlay, a container on host1 and one on host2');
    await swarm.pullEverywhere();
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', NET);
    const cli = await swarm.run(h1, 'ov-client', NET);
    const srv = await swarm.run(h2, 'ov-server', NET);
    const fcli = await swarm.run(h3, 'dp-client', NET);
    const fsrv = await swarm.run(h4, 'dp-server', NET);
    const vni = await h1.dockerOk('network', 'inspect', '-f', '{{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}', NET);
    header.push(`berth: overlay ${NET} (VNI ${vni}), client ${cli.ip} on host1 (${swarm.cluster.hostIp(0)}), server ${srv.ip} on host2 (${swarm.cluster.hostIp(1)})`);
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', '-o', 'com.berth.network.driver.overlay.direct_routing=true', DIRECT_NET);
    const dcli = await swarm.run(h1, 'dr-client', DIRECT_NET);
    const dsrv = await swarm.run(h2, 'dr-server', DIRECT_NET);
    for (const net of [`/run/netns/${p2}`, `/run/netns/${e2}`, `/run/netns/${m2}`, `/run/netns/${r2}`, srv.net, fsrv.net, dsrv.net, h2.nsPath]) {
      const s = startServer(net);
      servers.push(s);
      await waitListening(net, s);
    }
    paths.push(
      newPath('a', 'raw underlay, plain namespace → plain namespace', `/run/netns/${p1}`, `${UNDERLAY_PREFIX}.22`),
      newPath('b', 'bare VXLAN pair (vxlan link to vxlan link)', `/run/netns/${p1}`, '172.31.42.2'),
      newPath('b2', "bare VXLAN + bridge + veth (Docker's topology)", `/run/netns/${e1}`, '172.31.43.2'),
      newPath('b3', "bare VXLAN + macvlan (berth's topology), no berth", `/run/netns/${m1}`, '172.31.46.2'),
      newPath('c', 'berth overlay, container → container', cli.net, srv.ip),
      newPath('f', 'berth overlay, data path in its own namespace (--data-path-addr)', fcli.net, fsrv.ip),
      newPath('d', 'routed, no encapsulation (direct-routing reference)', `/run/netns/${r1}`, '172.31.45.2'),
      newPath('e', 'berth overlay with direct routing, container → container', dcli.net, dsrv.ip),
      newPath('h', "berth host → berth host, underlay (host firewall)", h1.nsPath, swarm.cluster.hostIp(1)),
    );
    await interleave(paths, opts.runs, opts.seconds, () => interrupts.check(), progress);
  } catch (e: unknown) {
    failure = e;
  }
  progress('clean-up: iperf3 servers, containers, daemons, namespaces');
  await stopServers(servers);
  const left = swarm ? await swarm.dispose() : [];
  notes.push(left.length === 0 ? '   nothing left behind (containers, daemons, etcd, namespaces)' : `   LEFT BEHIND (removed by force): ${left.join('; ')}`);
  notes.push(closingNote());
  if (paths.length > 0) process.stdout.write(render(header, paths, notes) + '\n');
  else process.stdout.write([...header, '', ...notes].join('\n') + '\n');
  return exitStatus(failure, interrupts.count);
}

runMain(main);
