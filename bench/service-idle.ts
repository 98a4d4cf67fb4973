/**
 * An idle TCP connection through a service's VIP, really left idle: IPVS (Docker's
 * balancer) forgets a connection after 900 s without a packet, and the next packet of it
 * is reset. berth balances in nftables and leaves the timeout to conntrack (5 days).
 *
 * Two hosts in a swarm; a service `echo` (one task, kept on host2) answering every line
 * it gets (busybox nc -e cat); on host1 a container opens one connection to the VIP,
 * sends a line, then nothing for --idle seconds (default 960), then another line. The
 * connection survived when the second line comes back on it.
 *
 * node dist/bench/service-idle.js [--idle SECONDS]. Needs root, etcd-server, busybox.
 * Removes all it made.
 */
import * as os from 'node:os';
import { BenchSwarm } from './lib/swarm.js';
import { type World } from '../test/lib/world.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const IDLE_S = arg('--idle', 960);
const progress = (m: string): void => void process.stderr.write(`[service-idle] ${m}\n`);

/** Write a line into the client's connection and wait for it to come back; ms, or undefined when it does not. */
async function roundTrip(h: World, line: string): Promise<number | undefined> {
  const t0 = performance.now();
  await h.dockerOk('exec', 'client', 'sh', '-c', `echo ${line} > /in`);
  for (let i = 0; i < 50; i++) {
    if ((await h.dockerOk('exec', 'client', 'cat', '/out')).includes(line)) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

const swarm = await BenchSwarm.form(2, progress);
let exit = 0;
try {
  const [h1, h2] = swarm.hosts as [World, World];
  await swarm.pullEverywhere();
  await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'idle');
  progress('service echo (one task, on host2), a client on host1');
  await h1.dockerOk('service', 'create', '-d', '--name', 'echo', '--network', 'idle', '--constraint', 'node.hostname==host2', 'busybox', 'nc', '-ll', '-p', '7', '-e', 'cat');
  for (let i = 0; (await h2.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=echo')).trim() === ''; i++) {
    if (i > 300) throw new Error('the echo task did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  // The container's shell holds the FIFO open for writing, so nc never sees its input end;
  // until the VIP answers nc is started again, and each new start is written down.
  await h1.dockerOk('run', '-d', '--name', 'client', '--network', 'idle', 'busybox', 'sh', '-c', 'mkfifo /in; touch /out; (until nc echo 7 < /in >> /out; do echo reconnect >> /out; sleep 0.2; done) & exec 3>/in; exec sleep 1000000');
  let first: number | undefined;
  for (let i = 0; i < 30 && first === undefined; i++) first = await roundTrip(h1, `before-${i}`);
  if (first === undefined) throw new Error('no answer through the VIP before the idle time');
  const pid = (await h1.dockerOk('inspect', '-f', '{{.State.Pid}}', 'client')).trim();
  const timeout = await h1.inNs(h1.ns, ['nsenter', `--net=/proc/${pid}/ns/net`, '--', 'cat', '/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established']);
  progress(`connected (round trip ${first.toFixed(0)} ms); conntrack's established timeout in the client: ${timeout.stdout.trim()} s; idle for ${IDLE_S} s`);
  const t0 = Date.now();
  while (Date.now() - t0 < IDLE_S * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(60_000, IDLE_S * 1000 - (Date.now() - t0))));
    progress(`idle ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  const after = await roundTrip(h1, 'after-idle');
  // A line carried by a connection made after the idle time does not count.
  const out = (await h1.dockerOk('exec', 'client', 'cat', '/out')).split('\n');
  const newConnection = out.slice(out.findIndex((l) => l.startsWith('before-'))).includes('reconnect');
  const survived = after !== undefined && !newConnection;
  console.log('idle s | survived | round trip after, ms | load average');
  console.log(`${IDLE_S} | ${survived ? 'yes' : newConnection ? 'NO (the connection ended; a new one was made)' : 'NO (cut)'} | ${after?.toFixed(0) ?? '-'} | ${os.loadavg()[0]!.toFixed(2)}`);
  if (!survived) exit = 1;
} finally {
  const left = await swarm.dispose();
  if (left.length > 0) {
    console.error(`left behind: ${left.join('; ')}`);
    exit = 2;
  }
}
process.exit(exit);
