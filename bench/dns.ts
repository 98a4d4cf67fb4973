/**
 * Embedded DNS throughput and latency: dnsperf inside a namespace standing for a
 * container asks 127.0.0.11, served by this process (as berthd would), for a container
 * name (answered from memory) and for an external name (forwarded to a fake upstream
 * in another namespace, a separate process), with 100 and with 1 query in flight.
 *
 *   node dist/bench/dns.js [seconds per run, default 10]
 *
 * Needs root, iproute2, dnsperf. Creates namespaces dns-bench-* and removes them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddedDns } from '../src/network/dns/index.js';

const SECONDS = Number(process.argv[2] ?? 10);
const TAG = `dns-bench-${randomBytes(3).toString('hex')}`;
const C = `${TAG}-c`;
const UP = `${TAG}-up`;
const ME = 'be'.repeat(32);

function run(cmd: string, args: readonly string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.out}`);
  return r.out;
}

/** A UDP responder answering every question with A 192.0.2.1 (run as its own process). */
const UPSTREAM_JS = `
const s = require('dgram').createSocket('udp4');
s.on('message', (q, r) => {
  const h = Buffer.from(q); h.writeUInt16BE(0x8180, 2); h.writeUInt16BE(1, 6); h.writeUInt16BE(0, 10);
  let e = 12; while (e < q.length && q[e] !== 0) e += q[e] + 1;
  s.send(Buffer.concat([h.subarray(0, e + 5), Buffer.from('c00c00010001000000050004c0000201', 'hex')]), r.port, r.address);
});
s.bind(53, '10.78.0.53', () => process.send && process.send('ready'));
`;

interface Result {
  label: string;
  qps: number;
  avgMs: number;
  minMs: number;
  sdMs: number;
  lost: string;
  cpu: number;
  /** dnsperf's CPU time over the run's wall time. */
  clientCpu: number;
}

/** The children's user + system seconds from the second line of `times` ("0m1.23s 0m0.45s"). */
function childCpuSeconds(out: string): number {
  const lines = out.trim().split('\n');
  const m = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[lines.length - 1] ?? '');
  return m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : NaN;
}

async function dnsperf(label: string, file: string, inFlight: number, mode: 'udp' | 'tcp'): Promise<Result> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const perf = ['dnsperf', '-s', '127.0.0.11', '-m', mode, '-d', file, '-l', String(SECONDS), '-q', String(inFlight)];
  if (mode === 'tcp') perf.push('-c', String(Math.min(inFlight, 20)));
  // `times` after it: dnsperf's own CPU time, to see which side is the bottleneck.
  const r = await run('nsenter', ['--net=/run/netns/' + C, '--', 'sh', '-c', '"$@"; times', 'sh', ...perf]);
  const cpu = process.cpuUsage(cpu0);
  const wall = (performance.now() - t0) * 1000;
  const num = (re: RegExp): number => Number(re.exec(r.out)?.[1] ?? NaN);
  return {
    label,
    qps: num(/Queries per second:\s+([\d.]+)/),
    avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    minMs: num(/Average Latency \(s\):\s+[\d.]+ \(min ([\d.]+)/) * 1000,
    sdMs: num(/Latency StdDev \(s\):\s+([\d.]+)/) * 1000,
    lost: /Queries lost:\s+(\d+ \([\d.]+%\))/.exec(r.out)?.[1] ?? '?',
    cpu: (cpu.user + cpu.system) / wall,
    clientCpu: childCpuSeconds(r.out) / (wall / 1e6),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dns-bench-'));
  const dns = new EmbeddedDns({ log: { debug: () => undefined, warn: (m) => console.error(m) }, daemonUpstreams: ['10.78.0.53'], hostResolvConf: '' });
  let upstream: ChildProcess | undefined;
  try {
    for (const ns of [C, UP]) {
      await must('ip', ['netns', 'add', ns]);
      await must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await must('ip', ['-n', C, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', UP]);
    await must('ip', ['-n', C, 'addr', 'add', '10.78.0.2/24', 'dev', 'eth0']);
    await must('ip', ['-n', UP, 'addr', 'add', '10.78.0.53/24', 'dev', 'eth0']);
    await must('ip', ['-n', C, 'link', 'set', 'eth0', 'up']);
    await must('ip', ['-n', UP, 'link', 'set', 'eth0', 'up']);
    const child = spawn('nsenter', [`--net=/run/netns/${UP}`, '--', process.execPath, '-e', UPSTREAM_JS], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    upstream = child;
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`upstream exited ${code}`)));
    });

    const cold: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await dns.attach(ME, `/run/netns/${C}`, { dns: [], internal: false });
      cold.push(performance.now() - t0);
      dns.detach(ME);
    }
    dns.prepare(`/run/netns/${C}`);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = performance.now();
    await dns.attach(ME, `/run/netns/${C}`, { dns: [], internal: false });
    const preparedMs = performance.now() - t0;
    cold.sort((a, b) => a - b);
    dns.addEndpoint({ containerId: ME, networkId: 'n', networkName: 'net', name: 'bench', aliases: [], links: [], ipv4: '10.1.0.2' });
    dns.addEndpoint({ containerId: 'fe'.repeat(32), networkId: 'n', networkName: 'net', name: 'web', aliases: [], links: [], ipv4: '10.1.0.3' });
    const local = path.join(dir, 'local.txt');
    const forwarded = path.join(dir, 'forwarded.txt');
    fs.writeFileSync(local, 'web A\n');
    fs.writeFileSync(forwarded, 'www.example.test A\n');

    const results: Result[] = [];
    for (const [label, file] of [['container name', local], ['forwarded', forwarded]] as const) {
      for (const inFlight of [100, 1]) results.push(await dnsperf(`${label}, udp, ${inFlight} in flight`, file, inFlight, 'udp'));
    }
    results.push(await dnsperf('container name, tcp, 20 conns', local, 100, 'tcp'));

    console.log(`attach: cold median ${cold[2]!.toFixed(1)} ms (min ${cold[0]!.toFixed(1)}), prepared ${preparedMs.toFixed(2)} ms`);
    console.log(`${SECONDS} s per run; ${os.cpus().length} CPUs; load ${os.loadavg()[0]?.toFixed(2)}`);
    console.log('run                                      QPS     avg ms   min ms   sd ms   lost        daemon CPU  dnsperf CPU');
    for (const r of results) {
      console.log(
        `${r.label.padEnd(36)} ${r.qps.toFixed(0).padStart(9)} ${r.avgMs.toFixed(3).padStart(9)} ${r.minMs.toFixed(3).padStart(8)} ${r.sdMs.toFixed(3).padStart(7)}   ${r.lost.padEnd(11)} ${`${(r.cpu * 100).toFixed(0)}%`.padStart(10)}  ${`${(r.clientCpu * 100).toFixed(0)}%`.padStart(11)}`,
      );
    }
  } finally {
    dns.close();
    upstream?.kill('SIGKILL');
    for (const ns of [C, UP]) await run('ip', ['netns', 'del', ns]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
