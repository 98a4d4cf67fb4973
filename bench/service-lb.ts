/**
 * The services' VIP data plane alone, in throwaway namespaces (no berthd): a client and
 * three backends on a bridge, the client's VIP table as berth renders it.
 *
 *   1. nft work per replica change with 10 and 500 services in the table: the change
 *      berth applies (that service's chain) against rewriting the whole table: bytes
 *      and wall-clock ms of the one `nft -f` transaction, medians.
 *   2. iperf3 through the VIP against iperf3 to the backend's own address, same run.
 *   3. Spread of 300 new connections over 3 backends (counts, max/min, chi-square).
 *
 * node dist/bench/service-lb.js [--quick]. Needs root, nft, iperf3, busybox. Removes all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nftApply } from '../src/kernel/nft.js';
import { vipChangesScript, vipTableScript, type VipEntry } from '../src/network/services/vip-rules.js';
import { must, sh } from '../test/lib/world.js';

const quick = process.argv.includes('--quick');
const P = `berth-bench-svc-${randomBytes(2).toString('hex')}`;
const ns = (n: string): string => `${P}-${n}`;
const nsPath = (n: string): string => `/run/netns/${ns(n)}`;
const BACKENDS = ['10.78.0.5', '10.78.0.6', '10.78.0.7'];
const VIP = '10.78.0.200';
const made: string[] = [];
const children: ChildProcess[] = [];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function setup(): Promise<void> {
  await must('ip', ['netns', 'add', ns('lan')]);
  made.push('lan');
  await must('ip', ['-n', ns('lan'), '-batch', '-'], { input: 'link set lo up\nlink add br0 type bridge\nlink set br0 up\n' });
  const hosts = [{ name: 'client', ip: '10.78.0.10' }, ...BACKENDS.map((ip, i) => ({ name: `b${i + 1}`, ip }))];
  for (const [i, h] of hosts.entries()) {
    await must('ip', ['netns', 'add', ns(h.name)]);
    made.push(h.name);
    await must('ip', ['-n', ns('lan'), '-batch', '-'], { input: `link add p${i} type veth peer name eth0 netns ${ns(h.name)}\nlink set p${i} master br0\nlink set p${i} up\n` });
    await must('ip', ['-n', ns(h.name), '-batch', '-'], { input: `link set lo up\nlink set eth0 up\naddr add ${h.ip}/24 dev eth0\n` });
  }
}

function entries(n: number, backendsOf0: string[]): Map<string, VipEntry> {
  const out = new Map<string, VipEntry>();
  out.set('svc_0', { chain: 'svc_0', vip: VIP, backends: backendsOf0 });
  for (let i = 1; i < n; i++) out.set(`svc_${i}`, { chain: `svc_${i}`, vip: `10.79.${i >> 8}.${i & 255}`, backends: BACKENDS });
  return out;
}

async function timed(script: string): Promise<number> {
  const t0 = performance.now();
  await nftApply(script, { netns: nsPath('client') });
  return performance.now() - t0;
}

async function nftWork(): Promise<void> {
  console.log('1. nft work per replica change (one transaction in the client namespace)');
  console.log('services | change bytes | change ms | whole-table bytes | whole-table ms');
  for (const n of [10, 500]) {
    const three = entries(n, BACKENDS);
    const two = entries(n, BACKENDS.slice(0, 2));
    await timed(vipTableScript([...three.values()]));
    const change: number[] = [];
    const whole: number[] = [];
    const rounds = quick ? 5 : 20;
    for (let r = 0; r < rounds; r++) {
      change.push(await timed(vipChangesScript(three, two)));
      change.push(await timed(vipChangesScript(two, three)));
      whole.push(await timed(vipTableScript([...two.values()])));
      whole.push(await timed(vipTableScript([...three.values()])));
    }
    console.log(`${n} | ${vipChangesScript(three, two).length} | ${median(change).toFixed(1)} | ${vipTableScript([...two.values()]).length} | ${median(whole).toFixed(1)}`);
  }
  await timed(vipTableScript([...entries(1, BACKENDS).values()]));
}

async function iperf(target: string): Promise<number> {
  const r = await must('ip', ['netns', 'exec', ns('client'), 'iperf3', '-c', target, '-t', quick ? '2' : '5', '-J'], { timeoutMs: 60_000 });
  return (JSON.parse(r) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
}

async function throughput(): Promise<void> {
  // One backend only, so the VIP and the direct address reach the same server.
  await timed(vipTableScript([{ chain: 'svc_0', vip: VIP, backends: [BACKENDS[0]!] }]));
  children.push(spawn('ip', ['netns', 'exec', ns('b1'), 'iperf3', '-s'], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 500));
  const vip: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    direct.push(await iperf(BACKENDS[0]!));
    vip.push(await iperf(VIP));
  }
  console.log(`\n2. iperf3, Gbit/s (median of ${vip.length}): direct ${median(direct).toFixed(2)}, through the VIP ${median(vip).toFixed(2)}, ratio ${(median(vip) / median(direct)).toFixed(3)}`);
}

async function spread(): Promise<void> {
  const www = fs.mkdtempSync(path.join(os.tmpdir(), `${P}-www-`));
  try {
    for (const [i, ip] of BACKENDS.entries()) {
      const dir = path.join(www, `b${i + 1}`, 'cgi-bin');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'who'), `#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho b${i + 1}\n`, { mode: 0o755 });
      children.push(spawn('ip', ['netns', 'exec', ns(`b${i + 1}`), '/bin/busybox', 'httpd', '-f', '-p', `${ip}:80`, '-h', path.join(www, `b${i + 1}`)], { stdio: 'ignore' }));
    }
    await timed(vipTableScript([{ chain: 'svc_0', vip: VIP, backends: BACKENDS }]));
    await new Promise((r) => setTimeout(r, 500));
    const script = `i=0; while [ $i -lt 300 ]; do /bin/busybox wget -q -O - http://${VIP}/cgi-bin/who || echo fail; i=$((i+1)); done`;
    const got = (await must('ip', ['netns', 'exec', ns('client'), '/bin/sh', '-c', script], { timeoutMs: 120_000 })).trim().split('\n');
    const counts = ['b1', 'b2', 'b3'].map((b) => got.filter((g) => g === b).length);
    const chi = counts.reduce((s, c) => s + (c - 100) ** 2 / 100, 0);
    console.log(`\n3. 300 new connections: ${counts.join(' / ')}, failures ${got.filter((g) => g === 'fail').length}, max/min ${(Math.max(...counts) / Math.min(...counts)).toFixed(2)}, chi-square ${chi.toFixed(2)} (2 degrees of freedom: 5.99 at p=0.05)`);
  } finally {
    fs.rmSync(www, { recursive: true, force: true });
  }
}

async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all(children.map(async (c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined)));
  for (const n of made.reverse()) await sh('ip', ['netns', 'del', ns(n)]);
}

try {
  await setup();
  await nftWork();
  await throughput();
  await spread();
} finally {
  await cleanup();
}
