/**
 * The log drivers under load: a container writes LINES lines at about 100 000 a second
 * (bursts of 10 000 every 100 ms) to each driver, its destination a counting listener
 * in berthd's namespace (or a unix socket). Per driver: how long the container ran,
 * lines delivered per second (to the destination, or into the files `docker logs`
 * reads), and the CPU berthd and conmon spent per 10 000 lines. Last, the same container
 * against a syslog server that never reads: its run time against json-file's shows the
 * container is not slowed by a stalled destination.
 *
 *   node dist/bench/logs.js [lines, default 500000]
 *
 * Needs root, iproute2, runc, conmon, perl and the docker CLI. Everything runs in a
 * namespace of its own and is removed at the end.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpdir } from 'node:os';
import { procStat } from '../test/lib/proc.js';
import { LogListener, type ListenerMode } from '../test/lib/log-listener.js';
import { World } from '../test/lib/world.js';

const LINES = Number(process.argv[2] ?? 500_000);
const MARK = '~M~';
const BURST = 10_000;
/** Bursts of 10 000 lines of ~40 bytes every 100 ms: about 100 000 lines a second. */
const WRITER = ['busybox', 'sh', '-c', `n=0; while [ $n -lt ${LINES} ]; do yes '~M''~ a log line of forty bytes or so' | head -n ${BURST}; n=$((n+${BURST})); sleep 0.1; done`];

interface Row {
  driver: string;
  runMs: number;
  delivered: number;
  deliverMs: number;
  berthdMs: number;
  conmonMs: number;
}

interface Case {
  driver: string;
  opts: string[];
  listener?: ListenerMode;
  /** Lines reach the files docker logs reads, not a listener. */
  files?: boolean;
}

async function runCase(w: World, c: Case, berthdPid: number, n: number): Promise<Row> {
  const listener = c.listener ? await LogListener.start({ ...c.listener, count: MARK }, 'port' in c.listener ? w.nsPath : null) : null;
  const name = `bench-${n}`;
  const cpu0 = procStat(berthdPid)!.ownMs;
  const t0 = Date.now();
  await w.dockerOk('create', '--name', name, ...c.opts, ...WRITER);
  await w.dockerOk('start', name);
  let conmonMs = 0;
  const id = await w.dockerOk('inspect', '-f', '{{.Id}}', name);
  const conmon = Number(fs.readFileSync(path.join(w.execRoot, 'runtime', id, 'conmon.pid'), 'utf8'));
  const sampler = setInterval(() => {
    const s = procStat(conmon);
    if (s) conmonMs = s.ownMs;
  }, 50);
  await w.dockerOk('wait', name);
  const runMs = Date.now() - t0;
  clearInterval(sampler);
  let delivered: number;
  let deliverMs: number;
  if (c.files) {
    delivered = (await w.dockerOk('logs', name)).split('\n').length;
    deliverMs = runMs;
  } else {
    // Delivered: the count once it stopped growing for a second.
    for (let last = -1; listener!.count !== last || Date.now() - listener!.countAt < 1000; ) {
      last = listener!.count;
      await new Promise((r) => setTimeout(r, 250));
      if (Date.now() - t0 > runMs + 30_000) break;
    }
    delivered = listener!.count;
    deliverMs = listener!.countAt - t0;
  }
  const berthdMs = procStat(berthdPid)!.ownMs - cpu0;
  listener?.stop();
  await w.dockerOk('rm', name);
  return { driver: c.driver, runMs, delivered, deliverMs, berthdMs, conmonMs };
}

async function main(): Promise<void> {
  const sockets = fs.mkdtempSync(path.join(tmpdir(), 'berth-logbench-'));
  const journal = path.join(sockets, 'journal.sock');
  const w = await World.create({ daemonEnv: { BERTH_JOURNAL_SOCKET: journal } });
  try {
    const pid = Number(fs.readFileSync(path.join(w.execRoot, 'berthd.pid'), 'utf8'));
    const cases: Case[] = [
      { driver: 'json-file', opts: [], files: true },
      { driver: 'local', opts: ['--log-driver', 'local'], files: true },
      { driver: 'journald', opts: ['--log-driver', 'journald'], listener: { kind: 'unixgram', path: journal } },
      { driver: 'syslog udp', opts: ['--log-driver', 'syslog', '--log-opt', 'syslog-address=udp://127.0.0.1:5514'], listener: { kind: 'udp', port: 5514 } },
      { driver: 'syslog tcp', opts: ['--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://127.0.0.1:5515'], listener: { kind: 'tcp', port: 5515 } },
      { driver: 'gelf udp (no compression)', opts: ['--log-driver', 'gelf', '--log-opt', 'gelf-address=udp://127.0.0.1:12201', '--log-opt', 'gelf-compression-type=none'], listener: { kind: 'udp', port: 12201 } },
      { driver: 'gelf tcp', opts: ['--log-driver', 'gelf', '--log-opt', 'gelf-address=tcp://127.0.0.1:12202'], listener: { kind: 'tcp', port: 12202 } },
      { driver: 'fluentd tcp', opts: ['--log-driver', 'fluentd', '--log-opt', 'fluentd-address=127.0.0.1:24224'], listener: { kind: 'tcp', port: 24224 } },
    ];
    await w.dockerOk('run', '--rm', 'busybox', 'true'); // the image, built once
    const rows: Row[] = [];
    for (const [i, c] of cases.entries()) {
      process.stderr.write(`${c.driver}…\n`);
      rows.push(await runCase(w, c, pid, i));
    }
    process.stderr.write('stalled syslog…\n');
    const stalled = await runCase(w, { driver: 'syslog tcp, destination never reads', opts: ['--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://127.0.0.1:5520'], listener: { kind: 'tcp', port: 5520, stall: true } }, pid, 99);
    const per10k = (ms: number): string => (ms / (LINES / 10_000)).toFixed(1);
    const out = [
      `${LINES} lines of 42 bytes, written in bursts of ${BURST} every 100 ms (about 100 000 lines/s)`,
      '',
      '| driver | container ran (s) | lines delivered | delivered/s | berthd CPU ms / 10k lines | conmon CPU ms / 10k lines |',
      '|---|---|---|---|---|---|',
      ...[...rows, stalled].map((r) => `| ${r.driver} | ${(r.runMs / 1000).toFixed(2)} | ${r.delivered} | ${Math.round(r.delivered / (r.deliverMs / 1000))} | ${per10k(r.berthdMs)} | ${per10k(r.conmonMs)} |`),
      '',
      `stalled destination: the container ran ${(stalled.runMs / 1000).toFixed(2)} s against ${(rows[0]!.runMs / 1000).toFixed(2)} s with json-file`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    const deadline = Date.now() + 15_000;
    while (!/logs of bench-99 /.test(w.log) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const drops = /logs of bench-99 .*?(\d+) dropped/.exec(w.log);
    process.stdout.write(`daemon log: ${drops ? `${drops[1]} messages dropped for the stalled destination, reported` : 'no drops reported yet'}\n`);
  } finally {
    await w.dispose();
    fs.rmSync(sockets, { recursive: true, force: true });
  }
}

await main();
