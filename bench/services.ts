/**
 * Swarm services on real hosts: how fast a service converges, scales and fails over, and
 * what its VIP and the ingress mesh cost in throughput. Figures, not tests.
 *
 *   node dist/bench/services.js [--quick] [--runs N] [--seconds N]
 *
 * Three hosts on one underlay, a swarm (host1 manager, host2 and host3 workers), an
 * attachable overlay with a client container on host1. Its namespace runs a fetcher
 * (bench/lib/fetcher.ts): an HTTP GET of the VIP every 20 ms, each on a new connection,
 * answered by a busybox httpd CGI with its task's hostname.
 *
 * 1. `service create -d --replicas 10`: from the CLI's invocation until service ls shows
 *    10/10, and until every one of the 10 tasks has answered through the VIP.
 * 2. `service scale -d` 10 → 50 and 50 → 10: until service ls shows n/n and the client's
 *    VIP chain balances over n backends (`numgen random mod n`).
 * 3. SIGKILL of a worker's berthd (host3, then host2, alternating: each run's victim has
 *    tasks again after the previous run), fetching all along: until 10 tasks run on the
 *    other nodes, and the last failed fetch. Then berthd starts again there.
 * 4. iperf3 (one TCP stream; Debian's iperf3 run by the task from the host's /usr, mounted
 *    read-only) to a task on host2: through the VIP against the task's own overlay
 *    address from the client on host1; through the ingress port against the task's own
 *    ingress address from host2 itself; and from outside (the client namespace) through
 *    host2 (the task's node) and through host1 (no task: the mesh crosses the ingress
 *    overlay). Interleaved rounds.
 *
 * Needs root, iproute2, nftables, runc, conmon, etcd-server, iperf3 and the docker CLI.
 * Everything lives in namespaces made here and is removed at the end (also after a
 * failure or Ctrl-C).
 */
import * as os from 'node:os';
import { LEASE_TTL_S } from '../src/cluster/session.js';
import { sleep } from '../test/lib/async.js';
import { epochMs } from '../test/lib/name-probe.js';
import { sh, type World } from '../test/lib/world.js';
import { closingNote, exitStatus, Interrupts, parseIntFlags, progress, runMain } from './lib/cli.js';
import { Fetcher } from './lib/fetcher.js';
import { gbit, interleave, newPath, pairedRatio, ratio, times, type Path } from './lib/iperf.js';
import { Samples, table } from './lib/stats.js';
import { BenchSwarm, type BenchContainer } from './lib/swarm.js';

/** A Ctrl-C stops the benchmark after its current step, cleaning up. */
const interrupts = new Interrupts('step');

const USAGE = `usage: node dist/bench/services.js [--quick] [--runs N] [--seconds N]
  --quick        1 run of each section, 2 s iperf3 runs (about 3 min)
  --runs N       runs of sections 1–3 and iperf3 rounds (default 3)
  --seconds N    length of each iperf3 run (default 5)
  --only N       section N alone (1–4; sections 2 and 3 start from a service made untimed)`;

const NET = 'bench-svc';
const SVC = 'lb';
const CGI = `mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho $(hostname)\\n' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 80 -h /www`;
const USR = 'type=bind,source=/usr,target=/usr,readonly';
const LOADER = ['/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '--library-path', '/usr/lib/x86_64-linux-gnu'];
const IPERF_PUBLISHED = 30201;
const now = epochMs;
const s = (ms: number): number => ms / 1000;

/** Poll `f` every `everyMs` until it holds; the time (epoch ms) it first held. */
async function until(f: () => Promise<boolean>, everyMs: number, timeoutMs: number, what: string): Promise<number> {
  const deadline = now() + timeoutMs;
  for (;;) {
    interrupts.check();
    if (await f().catch(() => false)) return now();
    if (now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

async function replicas(h: World, service: string): Promise<string> {
  return (await h.dockerOk('service', 'ls', '--filter', `name=${service}`, '--format', '{{.Replicas}}')).trim();
}

/** How many backends the client's VIP chain balances over (0: none, or no chain). */
async function vipBackends(client: BenchContainer): Promise<number> {
  const t = (await sh('nsenter', [`--net=${client.net}`, '--', 'nft', 'list', 'table', 'ip', 'berth_svc'])).stdout;
  const mod = /numgen random mod (\d+)/.exec(t);
  if (mod) return Number(mod[1]);
  return /dnat to \d+\.\d+\.\d+\.\d+/.test(t) ? 1 : 0;
}

/** The service's task containers on every host (running ones, stopping ones too with `all`). */
async function taskContainers(hosts: readonly World[], service: string, all = false): Promise<number> {
  const outs = await Promise.all(hosts.map(async (h) => h.dockerOk('ps', ...(all ? ['-a'] : []), '-q', '--filter', `label=com.docker.swarm.service.name=${service}`)));
  return outs.join('\n').split('\n').filter((x) => x !== '').length;
}

/** The short IDs (so the hostnames) of the service's running task containers on every host. */
async function runningTasks(hosts: readonly World[], service: string): Promise<string[]> {
  const outs = await Promise.all(hosts.map(async (h) => h.dockerOk('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`)));
  return outs.join('\n').split('\n').filter((x) => x !== '');
}

/** The service's VIP on the overlay, once allocated (the orchestrator does it after create returns). */
async function vipOf(h: World, service: string): Promise<string> {
  const id = await h.dockerOk('network', 'inspect', '-f', '{{.Id}}', NET);
  let vip = '';
  await until(async () => (vip = await h.dockerOk('service', 'inspect', '-f', `{{range .Endpoint.VirtualIPs}}{{if eq .NetworkID "${id}"}}{{.Addr}}{{end}}{{end}}`, service)) !== '', 50, 30_000, `${service}'s VIP`);
  return vip.split('/')[0]!;
}

async function removeService(hosts: readonly World[], service: string): Promise<void> {
  await hosts[0]!.dockerOk('service', 'rm', service);
  try {
    await until(async () => (await taskContainers(hosts, service, true)) === 0, 250, 120_000, `${service}'s containers removed`);
  } catch (e: unknown) {
    const left = await Promise.all(hosts.map(async (h, i) => `host${i + 1}: ${(await h.docker('ps', '-a', '--filter', `label=com.docker.swarm.service.name=${service}`, '--format', '{{.Names}} {{.Status}}')).stdout.trim().replace(/\n/g, ', ')}`));
    throw new Error(`${e instanceof Error ? e.message : String(e)}; left: ${left.join('; ')}`);
  }
}

interface Create {
  cli: Samples;
  running: Samples;
  answered: Samples;
}

/** Section 1: each run creates the service, times it, and removes it, except the last, which stays for the next sections. */
async function creates(swarm: BenchSwarm, client: BenchContainer, runs: number): Promise<Create> {
  const hosts = swarm.hosts;
  const h1 = hosts[0]!;
  const out: Create = { cli: new Samples(), running: new Samples(), answered: new Samples() };
  for (let i = 0; i < runs; i++) {
    interrupts.check();
    const t0 = now();
    await h1.dockerOk('service', 'create', '-d', '--name', SVC, '--replicas', '10', '--network', NET, '--stop-grace-period', '1s', 'busybox', 'sh', '-c', CGI);
    out.cli.add(s(now() - t0));
    const fetcher = Fetcher.start(client.net, `http://${await vipOf(h1, SVC)}/cgi-bin/who`);
    try {
      const running = until(async () => (await replicas(h1, SVC)) === '10/10', 100, 120_000, '10/10 running');
      // Every running task has answered (a task that failed at its start and was replaced may have answered too).
      const answered = until(
        async () => {
          const seen = new Set(fetcher.fetches.map((f) => f.who));
          const tasks = await runningTasks(hosts, SVC);
          return tasks.length === 10 && tasks.every((t) => seen.has(t));
        },
        100,
        120_000,
        'all 10 tasks answering through the VIP',
      );
      out.running.add(s((await running) - t0));
      try {
        out.answered.add(s((await answered) - t0));
      } catch (e: unknown) {
        const tally = fetcher.fetches.reduce<Record<string, number>>((m, f) => ({ ...m, [f.who]: (m[f.who] ?? 0) + 1 }), {});
        const vips = (await sh('nsenter', [`--net=${client.net}`, '--', 'nft', 'list', 'table', 'ip', 'berth_svc'])).stdout;
        throw new Error(`${e instanceof Error ? e.message : String(e)}; fetched: ${JSON.stringify(tally)}; running: ${(await runningTasks(hosts, SVC)).join(' ')}; VIP ${await vipOf(h1, SVC)}; the client's VIP table:\n${vips}`);
      }
      progress(`create run ${i + 1}/${runs}: 10/10 after ${out.running.values.at(-1)!.toFixed(2)} s, all 10 answered after ${out.answered.values.at(-1)!.toFixed(2)} s`);
    } finally {
      await fetcher.stop();
    }
    if (i < runs - 1) await removeService(hosts, SVC);
  }
  return out;
}

interface Scale {
  up: Samples;
  upVip: Samples;
  down: Samples;
  downVip: Samples;
}

/** Section 2: 10 → 50 → 10, `runs` times. */
async function scales(swarm: BenchSwarm, client: BenchContainer, runs: number): Promise<Scale> {
  const hosts = swarm.hosts;
  const h1 = hosts[0]!;
  const out: Scale = { up: new Samples(), upVip: new Samples(), down: new Samples(), downVip: new Samples() };
  const to = async (n: number, ls: Samples, vip: Samples): Promise<void> => {
    const t0 = now();
    await h1.dockerOk('service', 'scale', '-d', `${SVC}=${n}`);
    const running = until(async () => (await replicas(h1, SVC)) === `${n}/${n}`, 100, 180_000, `${n}/${n} running`);
    const balanced = until(async () => (await vipBackends(client)) === n, 50, 180_000, `the VIP over ${n} backends`);
    ls.add(s((await running) - t0));
    vip.add(s((await balanced) - t0));
    const both = Math.max(ls.values.at(-1)!, vip.values.at(-1)!);
    progress(`  → ${n}: ${n}/${n} after ${ls.values.at(-1)!.toFixed(2)} s, the VIP over ${n} after ${vip.values.at(-1)!.toFixed(2)} s (both ${both.toFixed(2)} s)`);
  };
  for (let i = 0; i < runs; i++) {
    interrupts.check();
    progress(`scale run ${i + 1}/${runs}`);
    await to(50, out.up, out.upVip);
    await to(10, out.down, out.downVip);
    // The stopped tasks' containers have stopped before the next run (not timed).
    await until(async () => (await taskContainers(hosts, SVC)) === 10, 250, 60_000, 'the stopped tasks’ containers stopped');
  }
  return out;
}

interface Failover {
  down: Samples;
  full: Samples;
  first: Samples;
  clean: Samples;
  failed: Samples;
  tasksOnVictim: Samples;
}

/** Section 3: SIGKILL of a worker's berthd while fetching through the VIP. */
async function failovers(swarm: BenchSwarm, client: BenchContainer, runs: number): Promise<Failover> {
  const hosts = swarm.hosts;
  const h1 = hosts[0]!;
  const out: Failover = { down: new Samples(), full: new Samples(), first: new Samples(), clean: new Samples(), failed: new Samples(), tasksOnVictim: new Samples() };
  const fetcher = Fetcher.start(client.net, `http://${await vipOf(h1, SVC)}/cgi-bin/who`);
  try {
    for (let i = 0; i < runs; i++) {
      interrupts.check();
      const k = i % 2 === 0 ? 2 : 1;
      const victim = hosts[k]!;
      const name = `host${k + 1}`;
      const onVictim = (await victim.dockerOk('ps', '-q', '--filter', `label=com.docker.swarm.service.name=${SVC}`)).split('\n').filter((x) => x !== '').length;
      out.tasksOnVictim.add(onVictim);
      progress(`failover run ${i + 1}/${runs}: SIGKILL ${name}'s berthd (${onVictim} of the 10 tasks there)`);
      await sleep(1000);
      const t0 = now();
      await victim.stop('SIGKILL');
      const elsewhere = async (): Promise<boolean> => {
        const rows = (await h1.dockerOk('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}', SVC)).split('\n');
        return rows.filter((r) => r.split(' ')[0] !== name && r.split(' ')[1] === 'Running').length === 10;
      };
      const down = until(async () => (await h1.dockerOk('node', 'ls', '--format', '{{.Hostname}} {{.Status}}')).split('\n').includes(`${name} Down`), 100, 60_000, `${name} Down`);
      const full = await until(elsewhere, 100, 120_000, `10 tasks running off ${name}`);
      out.down.add(s((await down) - t0));
      out.full.add(s(full - t0));
      // Fetch on for 5 s after the replicas are back: the last failure is then known.
      await sleep(5000);
      const seen = fetcher.since(t0);
      const failures = seen.filter((f) => f.who === 'fail');
      out.failed.add(failures.length);
      out.first.add(failures.length === 0 ? 0 : s(failures[0]!.at - t0));
      out.clean.add(failures.length === 0 ? 0 : s(failures.at(-1)!.at - t0));
      progress(`  ${name} Down after ${out.down.values.at(-1)!.toFixed(2)} s, 10 running elsewhere after ${s(full - t0).toFixed(2)} s; ${failures.length} of ${seen.length} fetches failed, at ${failures.map((f) => `${s(f.at - t0).toFixed(2)} (${f.why ?? '?'})`).join(' ') || '–'} s after the kill`);
      progress(`  berthd starts again on ${name}`);
      await victim.start();
      await until(async () => (await h1.dockerOk('node', 'ls', '--format', '{{.Hostname}} {{.Status}}')).split('\n').includes(`${name} Ready`), 250, 60_000, `${name} Ready`);
      await until(async () => (await taskContainers([victim], SVC)) === 0, 250, 60_000, `${name}'s old task containers stopped`);
    }
  } finally {
    await fetcher.stop();
  }
  return out;
}

/** Section 4: iperf3 to a task on host2, through the VIP and the ingress port against its own addresses. */
async function throughput(swarm: BenchSwarm, client: BenchContainer, runs: number, seconds: number): Promise<Path[]> {
  const [h1, h2] = swarm.hosts as [World, World];
  await h1.dockerOk(
    'service', 'create', '-d', '--name', 'iperf', '--replicas', '1', '--constraint', 'node.hostname==host2', '--network', NET,
    '--publish', `published=${IPERF_PUBLISHED},target=5201`, '--mount', USR, '--stop-grace-period', '1s', 'busybox', ...LOADER, '/usr/bin/iperf3', '-s',
  );
  await until(async () => (await replicas(h1, 'iperf')) === '1/1', 250, 60_000, 'iperf 1/1');
  const task = (await h2.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=iperf')).trim();
  const addressOn = async (n: string): Promise<string> => h2.dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${n}").IPAddress}}`, task);
  const vip = await vipOf(h1, 'iperf');
  const outside = `/run/netns/${swarm.cluster.client}`;
  const paths = [
    newPath('a', 'client on host1 → the task’s overlay address (direct)', client.net, await addressOn(NET)),
    newPath('b', 'client on host1 → the VIP', client.net, vip),
    newPath('c', 'host2 itself → the task’s ingress address (direct)', h2.nsPath, await addressOn('ingress')),
    newPath('d', `host2 itself → host2:${IPERF_PUBLISHED} (ingress, task on this node)`, h2.nsPath, swarm.cluster.hostIp(1), IPERF_PUBLISHED),
    newPath('e', `outside → host2:${IPERF_PUBLISHED} (ingress, task on this node)`, outside, swarm.cluster.hostIp(1), IPERF_PUBLISHED),
    newPath('f', `outside → host1:${IPERF_PUBLISHED} (ingress, no task: across the ingress overlay)`, outside, swarm.cluster.hostIp(0), IPERF_PUBLISHED),
  ];
  // The server takes one test at a time: wait until it answers on every path once (unrecorded).
  for (const p of paths) await until(async () => (await sh('nsenter', [`--net=${p.clientNet}`, '--', 'iperf3', '-c', p.host, '-p', String(p.port), '-t', '1'], { timeoutMs: 20_000 })).code === 0, 500, 30_000, `iperf3 on (${p.key})`);
  await interleave(paths, runs, seconds, () => interrupts.check(), progress);
  return paths;
}

/** The load average after a section: the figures above were measured under it. */
const loadAfter = (section: number): string => `   load after section ${section}: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`;

async function main(): Promise<number> {
  const { quick, values } = parseIntFlags(process.argv.slice(2), USAGE, { '--runs': 'runs', '--seconds': 'seconds', '--only': 'only' });
  if (values.only !== undefined && values.only > 4) throw new Error(`--only takes a section, 1–4\n${USAGE}`);
  const wanted = (section: number): boolean => values.only === undefined || values.only === section;
  const runs = values.runs ?? (quick ? 1 : 3);
  const seconds = values.seconds ?? (quick ? 2 : 5);
  const cpus = os.cpus();
  const out = [
    `berth services bench — ${new Date().toISOString()}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? '?'}, kernel ${os.release()}, node ${process.version}, load at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `settings: 3 hosts (host1 manager, host2 and host3 workers), ${runs} runs of each section, iperf3 ${seconds} s per run`,
  ];
  let swarm: BenchSwarm | undefined;
  let failure: unknown;
  const sec = ['s', 'median', 'min', 'max', 'n'];
  const row = (label: string, x: Samples): string[] => {
    const m = x.summary();
    return [label, ...(m ? [m.median, m.min, m.max].map((v) => v.toFixed(2)) : ['–', '–', '–']), `${x.values.length}${x.failed > 0 ? ` (+${x.failed} failed)` : ''}`];
  };
  try {
    swarm = await BenchSwarm.form(3, progress);
    const h1 = swarm.hosts[0]!;
    await swarm.pullEverywhere();
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', NET);
    const client = await swarm.run(h1, 'client', NET);

    if (wanted(1) || wanted(2) || wanted(3)) {
      // Sections 2 and 3 go on with the service section 1 leaves; alone, they start from one made untimed.
      const c = await creates(swarm, client, wanted(1) ? runs : 1);
      if (wanted(1)) {
        out.push('', '1. service create -d --replicas 10 (s from the CLI’s invocation)', table(sec, [
          row('the CLI returns', c.cli),
          row('service ls shows 10/10', c.running),
          row('every task has answered through the VIP', c.answered),
        ]));
        out.push(loadAfter(1));
      }
    }

    if (wanted(2)) {
      const sc = await scales(swarm, client, runs);
      out.push('', '2. service scale -d (s from the CLI’s invocation)', table(sec, [
        row('10 → 50: service ls shows 50/50', sc.up),
        row('10 → 50: the client’s VIP over 50 backends', sc.upVip),
        row('50 → 10: service ls shows 10/10', sc.down),
        row('50 → 10: the client’s VIP over 10 backends', sc.downVip),
      ]));
      out.push(loadAfter(2));
    }

    if (wanted(3)) {
      const f = await failovers(swarm, client, runs);
      out.push('', `3. SIGKILL of a worker’s berthd, fetching through the VIP every 20 ms from host1 (s after the kill; lease TTL ${LEASE_TTL_S} s)`, table(sec, [
        row('node ls shows the node Down', f.down),
      row('10 tasks running on the other nodes', f.full),
        row('the first failed fetch (0: none failed)', f.first),
        row('the last failed fetch (0: none failed)', f.clean),
        row('failed fetches (count)', f.failed),
        row('tasks on the killed node (count)', f.tasksOnVictim),
      ]));
      out.push(loadAfter(3));
    }
    if (wanted(1) || wanted(2) || wanted(3)) await removeService(swarm.hosts, SVC);

    if (wanted(4)) {
      const paths = await throughput(swarm, client, runs, seconds);
      const [a, b, cc, d, e, ff] = paths as [Path, Path, Path, Path, Path, Path];
      const base = new Map([['b', a], ['d', cc], ['e', cc], ['f', cc]]);
      out.push('', `4. iperf3, one TCP stream, to one task on host2 (Gbit/s, median (min–max); ratios to the direct path: of medians, then the median of per-round ratios)`, table(
        ['path', 'Gbit/s', 'ratio', 'paired'],
        paths.map((p) => [`(${p.key}) ${p.label}`, gbit(p.bps), base.has(p.key) ? `${times(ratio(p, base.get(p.key)))} of (${base.get(p.key)!.key})` : '', base.has(p.key) ? times(pairedRatio(p, base.get(p.key))) : '']),
      ));
      const vipRatio = pairedRatio(b, a);
      const meshRatio = pairedRatio(d, cc);
      out.push(`   through the VIP ${times(vipRatio)} of direct, through the ingress port ${times(meshRatio)} of direct (target ≥ 0.9: ${vipRatio >= 0.9 && meshRatio >= 0.9 ? 'met' : 'NOT met'}); from outside ${times(pairedRatio(e, cc))} via the task's node, ${times(pairedRatio(ff, cc))} via a node without it`);
    }
  } catch (err: unknown) {
    failure = err;
  }
  progress('clean-up: services, containers, daemons, namespaces');
  // The services first: an agent would start a task's container again while its world removes it.
  if (swarm) for (const svc of ['iperf', SVC]) await removeService(swarm.hosts, svc).catch(() => undefined);
  const left = swarm ? await swarm.dispose() : [];
  out.push('', left.length === 0 ? '   nothing left behind (containers, daemons, etcd, namespaces)' : `   LEFT BEHIND (removed by force): ${left.join('; ')}`, closingNote());
  process.stdout.write(out.join('\n') + '\n');
  return exitStatus(failure, interrupts.count);
}

runMain(main);
