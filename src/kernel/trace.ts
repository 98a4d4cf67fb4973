/**
 * A real packet followed through the daemon namespace's nftables (`berth trace`): a table
 * of its own marks the flow with `meta nftrace set 1` before any of berth's chains (inet
 * prerouting and output, and the bridge family for frames within one bridge), `nft monitor
 * trace` records every chain and rule the marked packets cross, and a probe sends the
 * packet — a TCP connect, a UDP datagram or a ping from the source's namespace — or, for
 * a source berth cannot send from, the flow is awaited. The table goes when it is done.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { nftApply } from './nft.js';
import type { TraceCapture, TraceSpec } from './port.js';

const SETTLE_MS = 300;
/** Debian's busybox-static (berth's busybox image is made from it): its ping sends the ICMP probe. */
const BUSYBOX = '/bin/busybox';

export async function traceFlow(spec: TraceSpec): Promise<TraceCapture> {
  const table = `berth_trace_${randomBytes(3).toString('hex')}`;
  const l4 = spec.proto === 'icmp' ? 'meta l4proto icmp' : `meta l4proto ${spec.proto}${spec.port ? ` th dport ${spec.port}` : ''}`;
  const match = [spec.src ? `ip saddr ${spec.src}` : '', `ip daddr ${spec.dst}`, l4].filter((x) => x !== '').join(' ');
  // Sent from a container: followed in its own namespace too (a service's virtual IP is
  // translated there), and on the host by its source alone, as the destination may have
  // changed on the way (the mark does not cross namespaces).
  const source = spec.from !== undefined && spec.from !== 'none' ? spec.from : undefined;
  const hostMatch = source && spec.src ? `ip saddr ${spec.src} ${l4}` : match;
  // In VXLAN, after UDP's 8 bytes, VXLAN's 8 and Ethernet's 14: the inner EtherType at
  // byte 28 of the datagram, the inner IPv4 source at byte 42.
  const tunnel = spec.src?.includes('.') ? `  chain tunnel { type filter hook output priority -350; meta l4proto udp @th,224,16 0x0800 @th,336,32 ${ipv4Hex(spec.src)} meta nftrace set 1; }` : '';
  // The VXLAN socket's namespace, if not this one: the outer packets leave from there.
  const tunnelNs = tunnel !== '' ? spec.tunnelNetns : undefined;
  await nftApply(
    [
      `table inet ${table} {`,
      `  chain pre { type filter hook prerouting priority -350; ${hostMatch} meta nftrace set 1; }`,
      `  chain out { type filter hook output priority -350; ${hostMatch} meta nftrace set 1; }`,
      tunnelNs === undefined ? tunnel : '',
      '}',
      `table bridge ${table} {`,
      `  chain pre { type filter hook prerouting priority -400; meta protocol ip ${hostMatch} meta nftrace set 1; }`,
      '}',
      '',
    ].join('\n'),
  );
  if (source) await nftApply(`table inet ${table} {\n  chain out { type filter hook output priority -350; ${match} meta nftrace set 1; }\n}\n`, { netns: source });
  if (tunnelNs !== undefined) await nftApply(`table inet ${table} {\n${tunnel}\n}\n`, { netns: tunnelNs });
  const monitors = [monitor([]), ...(source ? [monitor(['nsenter', `--net=${source}`, '--'])] : [])];
  const tunnelMonitor = tunnelNs !== undefined ? monitor(['nsenter', `--net=${tunnelNs}`, '--']) : undefined;
  try {
    // nft monitor gives no sign that it listens: a moment for it to subscribe.
    await sleep(300);
    const probe = spec.from === 'none' ? (await sleep(spec.waitMs), 'waited') : await send(spec);
    await sleep(SETTLE_MS);
    const hostText = monitors[0]!.output();
    const host = ours(hostText, table, 'out|pre');
    // In a namespace of the data path's, no chain of berth's sees the outer packet leave: ours tells it.
    const tunneled = ours(tunnelMonitor?.output() ?? hostText, table, 'tunnel', tunnelMonitor !== undefined);
    const inSource = monitors[1] ? ours(monitors[1].output(), table, 'out') : undefined;
    return {
      ...host,
      probe,
      ...(inSource ? { sourceLines: inSource.lines, marked: host.marked + inSource.marked } : {}),
      ...(tunneled.lines.length > 0 ? { tunnelLines: tunneled.lines } : {}),
    };
  } finally {
    await Promise.all([...monitors, ...(tunnelMonitor ? [tunnelMonitor] : [])].map(async (m) => m.stop()));
    await nftApply(`delete table inet ${table}\ndelete table bridge ${table}\n`).catch(() => undefined);
    if (source) await nftApply(`delete table inet ${table}\n`, { netns: source }).catch(() => undefined);
    if (tunnelNs !== undefined) await nftApply(`delete table inet ${table}\n`, { netns: tunnelNs }).catch(() => undefined);
  }
}

/** `nft monitor trace`, in the daemon's namespace or (with `enter`) another; its output so far, and a way to end it. */
function monitor(enter: string[]): { output: () => string; stop: () => Promise<void> } {
  const argv = [...enter, 'nft', 'monitor', 'trace'];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const ended = new Promise<void>((res) => child.on('close', () => res()));
  return {
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await ended;
    },
  };
}

/**
 * The lines of the packets the `chains` (a pattern) of our table marked (every line of a
 * trace ID whose marking rule matched there, ours left out), and how many they marked. A
 * packet marked in one of our chains shows in the others it crosses after, without a rule.
 * `withOwnPackets`: our chains' packet lines stay too (where no other chain sees it).
 */
function ours(text: string, table: string, chains: string, withOwnPackets = false): { lines: string[]; marked: number } {
  const lines = text.split('\n').filter((l) => l.startsWith('trace id '));
  const mine = new RegExp(` ${table} (${chains}) rule `);
  const ids = new Set(lines.filter((l) => mine.test(l)).map((l) => l.split(' ')[2]));
  const kept = (l: string): boolean => !l.includes(` ${table} `) || (withOwnPackets && l.includes(' packet: '));
  return { lines: lines.filter((l) => ids.has(l.split(' ')[2]) && kept(l)), marked: ids.size };
}

/** An IPv4 address as nft's raw payload value ("10.0.1.2" → 0x0a000102). */
function ipv4Hex(ip: string): string {
  return `0x${ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
}

/** Send the flow's first packet from the source's namespace and tell what came of it. */
async function send(spec: TraceSpec): Promise<string> {
  const enter = spec.from ? ['nsenter', `--net=${spec.from}`, '--'] : [];
  if (spec.proto === 'icmp') {
    const { code, stderr } = await exitOf([...enter, BUSYBOX, 'ping', '-c1', '-W1', spec.dst]);
    return code === 0 ? 'reply' : /unreachable/i.test(stderr) ? 'ENETUNREACH' : 'timeout';
  }
  const script = spec.proto === 'tcp' ? TCP_PROBE : UDP_PROBE;
  return (await outputOf([...enter, process.execPath, '-e', script, spec.dst, String(spec.port ?? 0)])).trim() || 'timeout';
}

/** Node probes (argv: address, port): print what became of the attempt within a second and a half. */
const TCP_PROBE = `const [h, p] = process.argv.slice(1); const s = require('net').connect(Number(p), h);
const done = (w) => { console.log(w); process.exit(0); };
s.on('connect', () => done('connected')); s.on('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : e.code));
setTimeout(() => done('timeout'), 1500);`;
const UDP_PROBE = `const [h, p] = process.argv.slice(1); const s = require('dgram').createSocket('udp4');
const done = (w) => { console.log(w); process.exit(0); };
s.on('error', (e) => done(e.code === 'ECONNREFUSED' ? 'refused' : e.code)); s.on('message', () => done('reply'));
s.connect(Number(p), h, () => s.send('berth trace', () => setTimeout(() => done('sent'), 800)));`;

async function exitOf(argv: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((res) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('error', () => res({ code: 127, stderr }));
    c.on('close', (code) => res({ code: code ?? 1, stderr }));
  });
}

async function outputOf(argv: string[]): Promise<string> {
  return new Promise((res) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    c.stdout.on('data', (b: Buffer) => (text += b.toString()));
    c.on('error', () => res(''));
    c.on('close', () => res(text));
  });
}

async function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
