/**
 * A UDP service end to end on two hosts, driven by the stock docker CLI: an echo service
 * (python3 from the host, bind-mounted read-only: this busybox has no UDP server) with two
 * replicas on host1, published in ingress mode, answering each datagram with its task's
 * hostname and the address it saw. From a container on host2 through the VIP, and through
 * host2's published port (a node with no task) from outside, from host2 itself and from a
 * container there: datagrams spread over both replicas. After a scale-down, a client
 * flow that was on the removed task is balanced again at once, through the VIP and the
 * mesh (berth forgets the task's conntrack entries: the kernel would keep the flow on the
 * dead address for up to 120 s).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClusterWorld, untilCluster } from '../lib/cluster.js';
import { sh, type World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
const havePython = fs.existsSync('/usr/bin/python3');
const PUBLISHED = 30053;
/** The host's python3 started by its loader, so it runs in a container that only has the host's /usr mounted. */
const PYTHON = ['/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '--library-path', '/usr/lib/x86_64-linux-gnu', '/usr/bin/python3'];
const USR = 'type=bind,source=/usr,target=/usr,readonly';
// (Its /usr hides the image's: busybox's applets are called by their /bin path.)

const ECHO = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 7))
me = socket.gethostname()
while True:
    m, a = s.recvfrom(2048)
    s.sendto((me + ' ' + a[0]).encode(), a)
`;

/**
 * argv: host, port, count, source port (0: a new socket, so a new flow, per datagram).
 * Prints one line per datagram: the answer's first word (the task's hostname), or "timeout".
 */
const CLIENT = `import socket, sys
host, port, n, sport = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = None
for i in range(n):
    if s is None or sport == 0:
        if s is not None: s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(1.5)
        s.bind(('0.0.0.0', sport))
    s.sendto(b'hi', (host, port))
    try: print(s.recv(512).decode().split(' ')[0])
    except socket.timeout: print('timeout')
`;

const tally = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

describe('a UDP service through the VIP and the routing mesh', { skip: (!haveEtcd && 'etcd-server is not installed') || (!havePython && 'python3 is not installed') }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World;
  /** Send `n` datagrams from a process started by `run` (argv of the client); the answers' hostnames. */
  type Runner = (argv: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;
  let fromContainer: Runner, fromOutside: Runner, fromNode: Runner;
  const datagrams = async (run: Runner, host: string, port: number, n: number, sport = 0): Promise<string[]> => {
    const r = await run([...PYTHON, '-c', CLIENT, host, String(port), String(n), String(sport)]);
    assert.equal(r.code, 0, r.stderr);
    return lines(r.stdout);
  };

  before(async () => {
    c = await ClusterWorld.create(2);
    [h1, h2] = c.hosts as [World, World];
    await c.formSwarm();
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'ov');
    await h1.dockerOk(
      'service', 'create', '-d', '--name', 'echo', '--replicas', '2', '--constraint', 'node.hostname==host1', '--network', 'ov', '--stop-grace-period', '1s',
      '--publish', `published=${PUBLISHED},target=7,protocol=udp`, '--mount', USR, 'busybox', ...PYTHON, '-c', ECHO,
    );
    const running = await untilCluster(async () => h1.dockerOk('service', 'ls', '--filter', 'name=echo', '--format', '{{.Replicas}}'), (r) => r === '2/2', 60_000);
    assert.equal(running, '2/2');
    await h2.dockerOk('run', '-d', '--name', 'client', '--network', 'ov', '--mount', USR, 'busybox', '/bin/sleep', '600');
    fromContainer = async (argv) => h2.docker('exec', 'client', ...argv);
    fromOutside = async (argv) => c.fromClient(argv, 60_000);
    fromNode = async (argv) => sh('ip', ['netns', 'exec', h2.ns, ...argv], { timeoutMs: 60_000 });
  });
  after(async () => {
    if (h1) {
      await h1.docker('service', 'rm', 'echo');
      await untilCluster(async () => h1.dockerOk('ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=echo'), (ids) => ids === '', 30_000);
    }
    await c?.dispose();
  });

  /** The running tasks' hostnames (their containers' short IDs). */
  const taskHosts = async (): Promise<string[]> => lines(await h1.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=echo')).sort();

  it('answers through the VIP from a container on another node, new flows spread over both replicas', async (t) => {
    const tasks = await taskHosts();
    assert.equal(tasks.length, 2);
    const got = tally(await untilCluster(async () => datagrams(fromContainer, 'echo', 7, 60), (xs) => !xs.includes('timeout'), 20_000));
    t.diagnostic(`60 flows through the VIP: ${JSON.stringify(got)}`);
    assert.deepEqual(Object.keys(got).sort(), tasks, JSON.stringify(got));
    for (const n of Object.values(got)) assert.ok(n >= 12, JSON.stringify(got));
  });

  it('answers on the published port of a node with no task, from outside, from the node itself and from a container there', async (t) => {
    assert.equal(await h2.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=echo'), '', 'host2 runs no task');
    const tasks = await taskHosts();
    for (const [where, run] of [['outside', fromOutside], ['host2 itself', fromNode], ['a container on host2', fromContainer]] as const) {
      const got = tally(await untilCluster(async () => datagrams(run, c.hostIp(1), PUBLISHED, 40), (xs) => !xs.includes('timeout'), 20_000));
      t.diagnostic(`40 flows to host2:${PUBLISHED}/udp from ${where}: ${JSON.stringify(got)}`);
      assert.deepEqual(Object.keys(got).sort(), tasks, `${where}: ${JSON.stringify(got)}`);
    }
  });

  it('balances a flow again at once when its task is removed, through the VIP and through the mesh', async () => {
    // Scaling to 1 stops slot 2: find it, and a flow of each path that lands on it.
    const victim = await h1.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=echo', '--filter', 'name=echo.2.');
    assert.match(victim, /^[0-9a-f]{12}$/);
    const victimIps = (await h1.dockerOk('inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', victim)).split(' ').filter((x) => x !== '');
    assert.equal(victimIps.length, 2, `on ov and ingress: ${victimIps.join(' ')}`);
    const pin = async (run: Runner, host: string, port: number): Promise<number> => {
      for (let sport = 41000; sport < 41040; sport++) {
        const got = await datagrams(run, host, port, 3, sport);
        if (got.every((x) => x === victim)) return sport;
      }
      throw new Error(`no flow to ${host}:${port} landed on ${victim}`);
    };
    const viaVip = await pin(fromContainer, 'echo', 7);
    const viaMesh = await pin(fromOutside, c.hostIp(1), PUBLISHED);

    const [survivor] = (await taskHosts()).filter((x) => x !== victim);
    await h1.dockerOk('service', 'scale', '-d', 'echo=1');
    const pid = await h2.dockerOk('inspect', '-f', '{{.State.Pid}}', 'client');
    const tables = async (): Promise<string> =>
      (await sh('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'nft', 'list', 'table', 'ip', 'berth_svc'])).stdout + (await sh('ip', ['netns', 'exec', h2.ns, 'nft', 'list', 'table', 'ip', 'berth_ingress'])).stdout;
    const rules = await untilCluster(tables, (t) => victimIps.every((ip) => !t.includes(ip)), 30_000);
    assert.ok(victimIps.every((ip) => !rules.includes(ip)), `the removed task is gone from host2's tables:\n${rules}`);
    // Gone for good: while its container still ran, an old flow would still have had an answer.
    assert.deepEqual(await untilCluster(taskHosts, (xs) => xs.length === 1 && xs[0] !== victim, 30_000), [survivor]);
    assert.deepEqual(await datagrams(fromContainer, 'echo', 7, 3, viaVip), [survivor, survivor, survivor], 'the same flow through the VIP');
    assert.deepEqual(await datagrams(fromOutside, c.hostIp(1), PUBLISHED, 3, viaMesh), [survivor, survivor, survivor], 'the same flow through the mesh');
  });
});
