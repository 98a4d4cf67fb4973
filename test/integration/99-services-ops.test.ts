/**
 * Operating swarm services on three hosts with the stock docker CLI: `service logs`
 * gathered from every node (Docker's task prefixes, --tail, --timestamps, --no-task-ids,
 * --raw, a task's own logs; -f following new tasks, a dead node's part ending with a
 * line, and without -f swarmkit's warning), the node-to-node log endpoint refusing all but managers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClusterWorld, untilCluster } from '../lib/cluster.js';
import { sh, type World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');

async function replicas(w: World, service: string): Promise<string> {
  return (await w.dockerOk('service', 'ls', '--filter', `name=${service}`, '--format', '{{.Replicas}}')).trim();
}

async function untilReplicas(w: World, service: string, want: string, ms = 30_000): Promise<void> {
  const got = await untilCluster(async () => replicas(w, service), (r) => r === want, ms);
  assert.equal(got, want, `${service}: replicas ${got}, want ${want}`);
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** `docker service logs -f …` running in the background: what it printed so far, and its end. */
function follow(w: World, args: string[]): { out: () => string; err: () => string; stop: () => void; ended: Promise<number | null> } {
  const child = spawn('docker', ['service', 'logs', '-f', ...args], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` } });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const ended = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { out: () => out, err: () => err, stop: () => child.kill('SIGTERM'), ended };
}

describe('operating swarm services on three hosts', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World, h2: World, h3: World;
  before(async () => {
    c = await ClusterWorld.create(3);
    [h1, h2, h3] = c.hosts as [World, World, World];
    await c.formSwarm();
  });
  after(async () => {
    for (const s of lines((await h1.docker('service', 'ls', '-q')).stdout)) await h1.docker('service', 'rm', s);
    await c.dispose();
  });

  it("service logs gathers every task's lines from its node, with Docker's task prefixes", async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'talk', '--replicas', '3', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2; sleep 100000');
    await untilReplicas(h1, 'talk', '3/3');
    const r = await untilCluster(async () => h1.docker('service', 'logs', 'talk'), (x) => lines(x.stdout).length === 3 && lines(x.stderr).length === 3, 15_000);
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout);
    for (const l of out) assert.match(l, /^talk\.[123]\.[0-9a-z]{12}@host[123] {4}\| hello$/);
    assert.deepEqual(out.map((l) => l.split('.')[1]).sort(), ['1', '2', '3'], 'every slot');
    assert.deepEqual(out.map((l) => /@(host\d)/.exec(l)![1]).sort(), ['host1', 'host2', 'host3'], 'from every node');
    for (const l of lines(r.stderr)) assert.match(l, /^talk\.[123]\.[0-9a-z]{12}@host[123] {4}\| oops$/);

    // A task's last line is its "oops" (stderr); its last two, both.
    assert.equal(lines(await h1.dockerOk('service', 'logs', '--tail', '1', 'talk')).length, 0, 'stdout: --tail 1 of each task');
    const t = lines(await h1.dockerOk('service', 'logs', '--tail', '2', '--timestamps', '--no-task-ids', 'talk'));
    assert.equal(t.length, 3, 'stdout: --tail 2 of each task');
    for (const l of t) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z talk\.[123]@host[123] {4}\| hello$/);
    assert.deepEqual(lines(await h1.dockerOk('service', 'logs', '--raw', 'talk')), ['hello', 'hello', 'hello']);

    const task = lines(await h1.dockerOk('service', 'ps', '-q', '--no-trunc', '--filter', 'node=host3', 'talk'))[0]!;
    const one = await h1.docker('service', 'logs', task);
    assert.match(one.stdout, new RegExp(`^talk\\.[123]\\.${task.slice(0, 12)}@host3 {4}\\| hello\\n$`));
  });

  it('service logs -f follows new tasks, and a dead node ends its part with a line', async () => {
    const f = follow(h1, ['talk']);
    try {
      await untilCluster(async () => lines(f.out()), (l) => l.length === 3, 15_000);
      await h1.dockerOk('service', 'scale', '-d', 'talk=4');
      const got = await untilCluster(async () => lines(f.out()), (l) => l.some((x) => x.startsWith('talk.4.')), 20_000);
      assert.ok(got.some((x) => /^talk\.4\.[0-9a-z]{12}@host[123] {4}\| hello$/.test(x)), f.out());
      await h3.stop('SIGKILL');
      const err = await untilCluster(async () => f.err(), (e) => /@host3 {4}\| task \w+: its logs end here: node \w+ is not available/.test(e), 20_000);
      assert.match(err, /@host3 {4}\| task \w+: its logs end here: node \w+ is not available/);
      assert.equal(await Promise.race([f.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('following'), 500))]), 'following', 'the other nodes still followed');
      f.stop();
      const once = await h1.docker('service', 'logs', 'talk');
      assert.notEqual(once.code, 0);
      assert.match(once.stderr, /error from daemon in stream: Error grabbing logs: warning: incomplete log stream\. some logs could not be retrieved for the following reasons: node \w+ is not available/);
      assert.ok(lines(once.stdout).length >= 2, `the lines of the nodes alive: ${once.stdout}`);
    } finally {
      f.stop();
      await f.ended;
      await h3.start();
    }
    await untilCluster(async () => (await h1.dockerOk('node', 'ls', '--format', '{{.Hostname}} {{.Status}}')).includes('host3 Ready'), (x) => x, 30_000);
  });

  it("serves a node's task logs to the swarm's managers only: a worker's certificate and no certificate are refused", async () => {
    const task = lines(await h1.dockerOk('service', 'ps', '-q', '--no-trunc', '--filter', 'node=host1', '--filter', 'desired-state=running', 'talk'))[0]!;
    const url = `https://${c.hostIp(0)}:2378/tasks/${task}/logs`;
    const curl = async (w: World, withCert: boolean): Promise<{ code: number; stdout: string; stderr: string }> => {
      const dir = path.join(w.dataRoot, 'cluster');
      const cert = withCert ? ['--cert', path.join(dir, 'node.pem'), '--key', path.join(dir, 'node-key.pem')] : [];
      return sh('ip', ['netns', 'exec', w.ns, 'curl', '-sS', '--max-time', '5', '-w', '\n%{http_code}', '--cacert', path.join(dir, 'ca.pem'), ...cert, url]);
    };
    const manager = await curl(h1, true);
    assert.match(manager.stdout, /"line":"aGVsbG8K"/, 'a manager reads the line (base 64 of "hello\\n")');
    assert.match((await curl(h2, true)).stdout, /only managers of this swarm read task logs"}\n403$/);
    const bare = await curl(h2, false);
    assert.notEqual(bare.code, 0, 'no TLS session without a certificate of the swarm');
    assert.doesNotMatch(bare.stdout, /aGVsbG8K/);
  });

  it('rolls back with service update --rollback and service rollback, to the previous spec each time', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'rb', '--replicas', '2', '--env', 'V=1', 'busybox', 'sleep', '100000');
    await untilReplicas(h1, 'rb', '2/2');
    await h1.dockerOk('service', 'update', '-d', '--env-add', 'V=2', 'rb');
    const env = async (): Promise<string> => (await h1.dockerOk('service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}', 'rb')).trim();
    const running = async (): Promise<string[]> => {
      const ids = lines(await h1.dockerOk('service', 'ps', '-q', '--no-trunc', '--filter', 'desired-state=running', 'rb'));
      return Promise.all(ids.map(async (id) => (await h1.dockerOk('inspect', '--format', '{{json .Spec.ContainerSpec.Env}}|{{.Status.State}}', id)).trim()));
    };
    await untilCluster(running, (r) => r.length === 2 && r.every((x) => x === '["V=2"]|running'), 30_000);
    const out = await h1.dockerOk('service', 'update', '--rollback', 'rb');
    assert.match(out, /rollback: manually requested rollback\n(.|\n)*overall progress: rolling back update: 2 out of 2 tasks\n(.|\n)*verify: Service( \S+)? converged(\n|$)/);
    // The CLI adds "rollback: rollback completed" only when it sees that state before the tasks
    // converge; Docker's own docs show the output without it, so the test does not ask for it.
    // As swarmkit, the rollback completes one monitor period (5 s) after its last task ran: about when the CLI, which waits as long, returns.
    const done = await untilCluster(async () => (await h1.dockerOk('service', 'inspect', '--format', '{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}', 'rb')).trim(), (x) => x.startsWith('rollback_completed'), 10_000);
    assert.equal(done, 'rollback_completed|rollback completed');
    assert.equal(await env(), '["V=1"]');
    assert.equal((await h1.dockerOk('service', 'inspect', '--format', '{{json .PreviousSpec.TaskTemplate.ContainerSpec.Env}}', 'rb')).trim(), '["V=2"]');
    await untilCluster(running, (r) => r.length === 2 && r.every((x) => x === '["V=1"]|running'), 30_000);
    await h1.dockerOk('service', 'rollback', 'rb');
    assert.equal(await env(), '["V=2"]', 'rolled back to the spec it rolled back from');
    await untilCluster(running, (r) => r.length === 2 && r.every((x) => x === '["V=2"]|running'), 30_000);
    await h1.dockerOk('service', 'rm', 'rb');
  });

  it('rolls back an update whose task fails within the monitor window (--update-failure-action rollback), and pauses one with pause', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'fa', '--replicas', '2', '--restart-delay', '1s', 'busybox', 'sleep', '100000');
    await untilReplicas(h1, 'fa', '2/2');
    const state = async (): Promise<string> => (await h1.dockerOk('service', 'inspect', '--format', '{{.UpdateStatus.State}}|{{.UpdateStatus.Message}}', 'fa')).trim();
    const args = async (): Promise<string> => (await h1.dockerOk('service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Args}}', 'fa')).trim();

    const rolled = await h1.docker('service', 'update', '--update-failure-action', 'rollback', '--args', 'false', 'fa');
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.match(rolled.stdout, /rollback: update rolled back due to failure or early termination of task [0-9a-z]{25}\n/);
    assert.equal(await args(), '["sleep","100000"]', 'the previous spec is back');
    assert.equal((await h1.dockerOk('service', 'inspect', '--format', '{{json .PreviousSpec}}', 'fa')).trim(), 'null', 'as swarmkit: no previous spec after an automatic rollback');
    assert.match(await untilCluster(state, (x) => x.startsWith('rollback_completed'), 20_000), /^rollback_completed\|rollback completed$/);
    await untilReplicas(h1, 'fa', '2/2');

    // A delay between tasks: the failure is seen before the next slot's turn (with none, a task that runs a moment moves the update on, as in swarmkit).
    const paused = await h1.docker('service', 'update', '--update-failure-action', 'pause', '--update-delay', '4s', '--args', 'false', 'fa');
    assert.notEqual(paused.code, 0);
    assert.match(paused.stderr, /service update paused: update paused due to failure or early termination of task [0-9a-z]{25}\n/);
    assert.match(await state(), /^paused\|update paused due to failure or early termination of task [0-9a-z]{25}$/);
    // Paused: the other slot keeps its task of the old spec, past the delay.
    await new Promise((r) => setTimeout(r, 5000));
    const old = lines(await h1.dockerOk('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Name}}|{{.CurrentState}}', 'fa')).filter((l) => / Running|\|Running/.test(l));
    assert.equal(old.length, 1, `one slot still runs its old task: ${old.join(' ')}`);
    assert.equal((await state()).split('|')[0], 'paused');
    await h1.dockerOk('service', 'rm', 'fa');
  });

  it('allocates no virtual IP in dnsrr mode', async () => {
    await h1.dockerOk('network', 'create', '-d', 'overlay', 'ops');
    await h1.dockerOk('service', 'create', '-d', '--name', 'rr', '--endpoint-mode', 'dnsrr', '--network', 'ops', 'busybox', 'sleep', '100000');
    await h1.dockerOk('service', 'create', '-d', '--name', 'vip', '--network', 'ops', 'busybox', 'sleep', '100000');
    await untilReplicas(h1, 'rr', '1/1');
    const vips = async (name: string): Promise<string> => (await h1.dockerOk('service', 'inspect', '--format', '{{.Spec.EndpointSpec.Mode}} {{json .Endpoint.VirtualIPs}}', name)).trim();
    assert.equal(await vips('rr'), 'dnsrr null');
    assert.match(await untilCluster(async () => vips('vip'), (v) => v !== 'vip null', 10_000), /^vip \[\{"NetworkID":"\w+","Addr":"[\d.]+\/\d+"\}\]$/);
    await h1.dockerOk('service', 'rm', 'rr', 'vip');
  });

  it('runs a global service on every node: a node joining gets a task, a drained one loses it', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'g', '--mode', 'global', 'busybox', 'sleep', '100000');
    const nodesRunning = async (): Promise<string[]> =>
      (await h1.dockerOk('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Node}} {{.CurrentState}}', 'g'))
        .split('\n')
        .filter((l) => / Running/.test(l))
        .map((l) => l.split(' ')[0]!)
        .sort();
    assert.deepEqual(await untilCluster(nodesRunning, (n) => n.length === 3, 30_000), ['host1', 'host2', 'host3']);
    assert.equal(await replicas(h1, 'g'), '3/3');
    await h3.dockerOk('swarm', 'leave');
    await h1.dockerOk('node', 'rm', '--force', 'host3');
    assert.deepEqual(await untilCluster(nodesRunning, (n) => n.length === 2, 30_000), ['host1', 'host2']);
    const token = await h1.dockerOk('swarm', 'join-token', '-q', 'worker');
    await h3.dockerOk('swarm', 'join', '--token', token, `${c.hostIp(0)}:2377`);
    assert.deepEqual(await untilCluster(nodesRunning, (n) => n.length === 3, 30_000), ['host1', 'host2', 'host3'], 'the node that joined got one');
    await h1.dockerOk('node', 'update', '--availability', 'drain', 'host2');
    assert.deepEqual(await untilCluster(nodesRunning, (n) => n.length === 2, 30_000), ['host1', 'host3'], 'the drained node lost its task');
    await untilCluster(async () => lines((await h2.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=g'))).length, (n) => n === 0, 20_000);
    await h1.dockerOk('node', 'update', '--availability', 'active', 'host2');
    await untilCluster(nodesRunning, (n) => n.length === 3, 30_000);
    await h1.dockerOk('service', 'rm', 'g');
  });

  it('publishes a host-mode port only where a task runs, and places no second task of it on a node', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'hp', '--replicas', '2', '--publish', 'mode=host,target=80,published=8080', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/');
    await untilReplicas(h1, 'hp', '2/2');
    const where = lines(await h1.dockerOk('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Node}}', 'hp'));
    for (let i = 0; i < 3; i++) {
      const r = await c.fromClient(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '3', `http://${c.hostIp(i)}:8080/`]);
      if (where.includes(`host${i + 1}`)) assert.match(r.stdout, /^[1-5]\d\d$/, `host${i + 1} has a task: it answers`);
      else assert.equal(r.stdout, '000', `host${i + 1} has no task: nothing answers`);
    }
    await h1.dockerOk('service', 'scale', '-d', 'hp=4');
    const rows = await untilCluster(
      async () => lines(await h1.dockerOk('service', 'ps', '--no-trunc', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}|{{.Error}}', 'hp')),
      (r) => r.filter((x) => x.startsWith('Running')).length === 3 && r.some((x) => x.startsWith('Pending')),
      30_000,
    );
    assert.deepEqual(
      rows.filter((x) => x.startsWith('Pending')).map((x) => x.split('|')[1]),
      ['"no suitable node (host-mode port already in use on 3 nodes)"'],
    );
    await h1.dockerOk('service', 'rm', 'hp');
  });

  it('shows a failing task in service ps with its exit code, and restarts it as --restart-max-attempts says', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'bad', '--restart-condition', 'on-failure', '--restart-max-attempts', '2', '--restart-delay', '1s', 'busybox', 'false');
    const rows = async (): Promise<string[]> => lines(await h1.dockerOk('service', 'ps', '--no-trunc', '--format', '{{.Name}}|{{.CurrentState}}|{{.Error}}', 'bad'));
    const got = await untilCluster(rows, (r) => r.length === 3 && r.every((x) => x.includes('|Failed')), 30_000);
    for (const r of got) assert.match(r, /^[\s\\_]*bad\.1\|Failed .*\|"task: non-zero exit \(1\)"$/);
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal((await rows()).length, 3, 'no restart after the last attempt');
    assert.equal(await replicas(h1, 'bad'), '0/1');
    await h1.dockerOk('service', 'rm', 'bad');
  });
});
