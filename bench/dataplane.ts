/**
 * Data-plane throughput: iperf3 TCP (Gbit/s, median of 3 runs of N seconds) on the paths
 * a container's traffic takes with berth, each against a raw veth pair between two
 * fresh namespaces (the limit of this machine). Figures, not timed tests.
 *
 *   node dist/bench/dataplane.js [--seconds N] [--runs N]
 *
 *   (a) raw veth pair between two fresh namespaces, no bridge, no nftables
 *   (a2) a bare Linux bridge between two fresh namespaces, no nftables: the limit of any
 *       bridged path, which (b)-(e) are also compared with
 *   (b) container → container on the default bridge
 *   (c) the lan namespace → host address:published port → container
 *   (d) the daemon's namespace → 127.0.0.1:published port
 *   (e) the daemon's namespace → host address:published port
 *
 * berthd runs in a throwaway namespace (a lan namespace behind its lan0, 192.0.2.1, as in
 * the integration tests). The iperf3 servers and clients are the host's binary, entered
 * into the containers' namespaces with `nsenter --net=/proc/<State.Pid>/ns/net`. Rounds
 * are interleaved (a b c d e, three times) so every path sees the same background load.
 * Prints a table on stdout, progress on stderr, and removes everything it made (also after
 * a failure or Ctrl-C). Needs root, iproute2, nftables, runc, conmon, iperf3. Never
 * touches the machine's root network namespace.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { LAN_HOST_IP, makeLan, must, sh } from '../test/lib/world.js';
import { table } from './lib/stats.js';
import { failureLines, gbit, IPERF_PORT, interleave, newPath, ratio, startServer, stopServers, tailColumns, times, waitListening, type Path } from './lib/iperf.js';
import { BenchWorld, messageOf } from './lib/world.js';
import { closingNote, disposeNotes, exitStatus, Interrupts, parseIntFlags, progress, runMain } from './lib/cli.js';

/** A Ctrl-C stops the benchmark after its current run, cleaning up. */
const interrupts = new Interrupts('run');

const USAGE = `usage: node dist/bench/dataplane.js [--seconds N] [--runs N]
  --seconds N   length of each iperf3 run (default 5)
  --runs N      runs per path; the median is shown (default 3)`;

interface Options {
  seconds: number;
  runs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const { values } = parseIntFlags(argv, USAGE, { '--seconds': 'seconds', '--runs': 'runs' });
  return { seconds: values.seconds ?? 5, runs: values.runs ?? 3 };
}

const PORT = IPERF_PORT;
const IMAGE = 'busybox';
const TAG = `berth-dp-${randomBytes(3).toString('hex')}`;
const RAW_A = `${TAG}-a`;
const RAW_B = `${TAG}-b`;
const RAW_ADDR_B = '10.250.0.2';
const BARE_C = `${TAG}-c`;
const BARE_D = `${TAG}-d`;
const BARE_BR = `${TAG}-br`;
const BARE_ADDR_D = '10.251.0.2';

interface Container {
  id: string;
  pid: number;
  ip: string;
  net: string;
}

async function startContainer(w: BenchWorld, name: string, ports: Record<string, { HostIp: string; HostPort: string }[]>): Promise<Container> {
  const exposed: Record<string, Record<string, never>> = {};
  for (const k of Object.keys(ports)) exposed[k] = {};
  const body = {
    Image: IMAGE,
    Cmd: ['sleep', '100000'],
    ExposedPorts: exposed,
    HostConfig: { NetworkMode: 'bridge', PortBindings: ports },
    NetworkingConfig: { EndpointsConfig: { bridge: {} } },
  };
  const c = await w.apiOk('POST', `/containers/create?name=${name}`, body);
  const id = (c.body as { Id: string }).Id;
  const s = await w.api('POST', `/containers/${id}/start`);
  if (s.status >= 400) throw new Error(`start ${name}: ${s.status} ${messageOf(s.body)}`);
  const info = (await w.apiOk('GET', `/containers/${id}/json`)).body as { State: { Pid: number }; NetworkSettings: { IPAddress: string } };
  const pid = info.State.Pid;
  if (!pid) throw new Error(`${name}: no State.Pid`);
  return { id, pid, ip: info.NetworkSettings.IPAddress, net: `/proc/${pid}/ns/net` };
}

/** The raw veth pair between two fresh namespaces (no bridge, no nftables). */
async function makeRaw(made: string[]): Promise<void> {
  for (const ns of [RAW_A, RAW_B]) {
    await must('ip', ['netns', 'add', ns]);
    made.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await must('ip', ['-n', RAW_A, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', RAW_B]);
  await must('ip', ['-n', RAW_A, 'addr', 'add', '10.250.0.1/30', 'dev', 'eth0']);
  await must('ip', ['-n', RAW_B, 'addr', 'add', `${RAW_ADDR_B}/30`, 'dev', 'eth0']);
  await must('ip', ['-n', RAW_A, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', RAW_B, 'link', 'set', 'eth0', 'up']);
}

/** A bare bridge (in its own namespace) between two fresh namespaces, no nftables anywhere. */
async function makeBareBridge(made: string[]): Promise<void> {
  for (const ns of [BARE_BR, BARE_C, BARE_D]) {
    await must('ip', ['netns', 'add', ns]);
    made.push(ns);
    await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  await must('ip', ['-n', BARE_BR, 'link', 'add', 'br0', 'type', 'bridge']);
  await must('ip', ['-n', BARE_BR, 'link', 'set', 'br0', 'up']);
  for (const [ns, port, addr] of [[BARE_C, 'port-c', '10.251.0.1'], [BARE_D, 'port-d', BARE_ADDR_D]] as const) {
    await must('ip', ['-n', BARE_BR, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await must('ip', ['-n', BARE_BR, 'link', 'set', port, 'master', 'br0', 'up']);
    await must('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    await must('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  }
}

/** Command names of the processes whose network namespace is `nsPath`. */
function processesIn(nsPath: string): string[] {
  const want = `net:[${fs.statSync(nsPath).ino}]`;
  const out: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readlinkSync(`/proc/${entry}/ns/net`) === want) out.push(fs.readFileSync(`/proc/${entry}/comm`, 'utf8').trim());
    } catch {
      /* gone meanwhile */
    }
  }
  return out.sort();
}

function render(header: string[], paths: Path[], notes: string[]): string {
  const raw = paths.find((p) => p.key === 'a');
  const bare = paths.find((p) => p.key === 'a2');
  const rows = paths.map((p) => {
    const r = ratio(p, raw);
    const verdict = p === raw ? 'limit' : Number.isFinite(r) ? (r >= 0.9 ? 'within 10%' : `${((1 - r) * 100).toFixed(0)}% below`) : '–';
    return [
      `(${p.key}) ${p.label}`,
      gbit(p.bps),
      times(r),
      p === raw || p === bare ? '' : times(ratio(p, bare)),
      verdict,
      ...tailColumns(p),
    ];
  });
  const out = [
    ...header,
    '',
    'iperf3 TCP, one stream, Gbit/s: median (min–max, n); ratios = median / median of (a), of (a2)',
    table(['path', 'Gbit/s', 'ratio to (a)', 'to (a2)', 'target ≥0.90', 'retransmits', 'iperf3 CPU % snd / rcv'], rows),
  ];
  out.push(...failureLines(paths), '', ...notes);
  return out.join('\n');
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const cpus = os.cpus();
  const header = [
    `berth data-plane bench — ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `settings: ${opts.runs} runs of ${opts.seconds} s per path, interleaved; iperf3 ${(await sh('iperf3', ['--version'])).stdout.split(' ')[1] ?? '?'}, one TCP stream, default window`,
  ];
  const notes: string[] = [];
  const made: string[] = [];
  const servers: ChildProcess[] = [];
  let w: BenchWorld | undefined;
  let failure: unknown;
  const paths: Path[] = [];
  try {
    progress(`raw veth pair ${RAW_A} <-> ${RAW_B}`);
    await makeRaw(made);
    progress(`bare bridge ${BARE_C} <-> ${BARE_BR} <-> ${BARE_D}`);
    await makeBareBridge(made);
    progress('starting berthd in a new network namespace');
    w = await BenchWorld.create();
    progress(`berthd pid ${w.pid}, netns ${w.ns}, state ${w.dir}`);
    const lan = `${w.ns}-lan`;
    made.push(lan);
    await makeLan(w.ns, lan);
    await w.apiOk('POST', `/images/create?fromImage=${IMAGE}&tag=latest`);
    progress('starting the server container (-p 5201:5201) and the client container');
    const srv = await startContainer(w, 'dp-server', { [`${PORT}/tcp`]: [{ HostIp: '', HostPort: String(PORT) }] });
    const cli = await startContainer(w, 'dp-client', {});
    header.push(`containers: server ${srv.id.slice(0, 12)} ${srv.ip} (pid ${srv.pid}, -p ${PORT}:${PORT}), client ${cli.id.slice(0, 12)} ${cli.ip} (pid ${cli.pid}), default bridge`);
    for (const net of [`/run/netns/${RAW_B}`, `/run/netns/${BARE_D}`, srv.net]) {
      const s = startServer(net);
      servers.push(s);
      await waitListening(net, s);
    }
    paths.push(
      newPath('a', 'raw veth pair, two fresh namespaces', `/run/netns/${RAW_A}`, RAW_ADDR_B, PORT),
      newPath('a2', 'bare bridge, two fresh namespaces, no nftables', `/run/netns/${BARE_C}`, BARE_ADDR_D, PORT),
      newPath('b', 'container → container, same bridge', cli.net, srv.ip, PORT),
      newPath('c', `lan → ${LAN_HOST_IP}:${PORT} (published) → container`, `/run/netns/${lan}`, LAN_HOST_IP, PORT),
      newPath('d', `daemon netns → 127.0.0.1:${PORT} → container`, w.nsPath, '127.0.0.1', PORT),
      newPath('e', `daemon netns → ${LAN_HOST_IP}:${PORT} → container`, w.nsPath, LAN_HOST_IP, PORT),
    );
    const world = w;
    const check = (): void => {
      interrupts.check();
      if (!world.alive()) throw new Error(`berthd died:\n${world.logLines(20)}`);
    };
    await interleave(paths, opts.runs, opts.seconds, check, progress);
    const procs = processesIn(w.nsPath);
    notes.push(`   processes in the daemon's namespace: ${procs.join(' ')} (userland proxies: ${procs.filter((c) => /proxy/i.test(c)).length})`);
  } catch (e: unknown) {
    failure = e;
  }
  progress('clean-up: iperf3 servers, lan and raw namespaces, containers, daemon');
  await stopServers(servers);
  // Deleting one end of a veth removes both at once (a deleted namespace frees its links later).
  if (w && made.includes(`${w.ns}-lan`)) await sh('ip', ['-n', w.ns, 'link', 'del', 'lan0']);
  if (made.includes(RAW_A)) await sh('ip', ['-n', RAW_A, 'link', 'del', 'eth0']);
  if (made.includes(BARE_BR)) for (const port of ['port-c', 'port-d']) await sh('ip', ['-n', BARE_BR, 'link', 'del', port]);
  for (const ns of made) await sh('ip', ['netns', 'del', ns]);
  const left = made.filter((ns) => fs.existsSync(`/run/netns/${ns}`)).map((ns) => `netns ${ns}`);
  if (w) notes.push(...(await disposeNotes(w, left)));
  else if (left.length > 0) notes.push(`   LEFT BEHIND: ${left.join('; ')}`);
  notes.push(closingNote());
  if (paths.length > 0) process.stdout.write(render(header, paths, notes) + '\n');
  else process.stdout.write([...header, '', ...notes].join('\n') + '\n');
  return exitStatus(failure, interrupts.count);
}

runMain(main);
