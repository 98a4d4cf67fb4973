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
    } finally {
      f.stop();
      await f.ended;
    }
    const once = await h1.docker('service', 'logs', 'talk');
    assert.notEqual(once.code, 0);
    assert.match(once.stderr, /error from daemon in stream: Error grabbing logs: warning: incomplete log stream\. some logs could not be retrieved for the following reasons: node \w+ is not available/);
    assert.ok(lines(once.stdout).length >= 3, 'the lines of the nodes alive');
    await h3.start();
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
});
