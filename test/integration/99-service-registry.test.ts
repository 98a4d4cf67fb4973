/**
 * A service whose image is in a private registry (htpasswd basic auth, plain HTTP on the
 * manager's underlay address): the workers have no copy, so each pulls it, with the
 * credentials `--with-registry-auth` sent along with the service; the tasks run the
 * image's own files, and `service inspect` never shows the credentials. Without them the
 * tasks are rejected, the registry's refusal in `service ps`'s ERROR column.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ClusterWorld, UNDERLAY_PREFIX, untilCluster } from '../lib/cluster.js';
import { dockerAs, registryMissing, TestRegistry } from '../lib/registry.js';
import type { World } from '../lib/world.js';

const missing = fs.existsSync('/usr/bin/etcd') ? registryMissing() : 'etcd-server is not installed';

describe('a service whose image is in a private registry', { skip: missing ?? false }, () => {
  let c: ClusterWorld;
  let h1: World;
  let reg = '';
  let cfg = '';
  /** The manifest digest `docker push` reported for the first tag. */
  let pushedDigest = '';
  /** Two tags of one image: the second is never pulled with the credentials. */
  const image = (tag = 1): string => `${reg}/team/app:${tag}`;

  before(async () => {
    c = await ClusterWorld.create(3, { daemonArgs: ['--insecure-registry', `${UNDERLAY_PREFIX}.0/24`] });
    h1 = c.hosts[0]!;
    await c.formSwarm();
    reg = `${c.hostIp(0)}:5000`;
    await TestRegistry.start(h1, 'private', { addr: reg, users: { svc: 'harbour' } });
    cfg = path.join(h1.dir, 'cli-svc');
    const login = await dockerAs(h1, cfg, ['login', '-u', 'svc', '--password-stdin', reg], 'harbour\n');
    assert.equal(login.code, 0, login.stderr);
    await h1.dockerOk('run', '--name', 'mk', 'busybox', 'sh', '-c', 'echo from-the-registry > /marker');
    await h1.dockerOk('commit', 'mk', image());
    await h1.dockerOk('tag', image(), image(2));
    for (const tag of [1, 2]) {
      const pushed = await dockerAs(h1, cfg, ['push', image(tag)]);
      assert.equal(pushed.code, 0, pushed.stderr);
      if (tag === 1) pushedDigest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1] ?? '';
    }
    assert.notEqual(pushedDigest, '');
  });

  after(async () => {
    await c?.removeServices();
    await c?.dispose();
  });

  /** Each task of `service` as `node state error`, once `done` says so (or as it is after `ms`). */
  const taskRows = async (service: string, done: (rows: string[]) => boolean, ms: number): Promise<string[]> =>
    untilCluster(async () => (await h1.dockerOk('service', 'ps', '--no-trunc', '--format', '{{.Node}}|{{.CurrentState}}|{{.Error}}', service)).split('\n').filter((l) => l !== ''), done, ms);

  it('runs on nodes that pull it with the credentials sent along, which inspect never shows', async () => {
    const created = await dockerAs(h1, cfg, ['service', 'create', '-d', '--with-registry-auth', '--name', 'app', '--replicas', '2', '--constraint', 'node.role==worker', image(), 'sh', '-c', 'cat /marker; exec sleep 100000']);
    assert.equal(created.code, 0, created.stderr);
    // The CLI asked the daemon for the image's digest (GET /distribution/…/json) and pinned it: every node runs the same image.
    assert.doesNotMatch(created.stderr, /could not be accessed on a registry/);
    const pinned = await h1.dockerOk('service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', 'app');
    assert.equal(pinned, `${image()}@${pushedDigest}`);
    const rows = await taskRows('app', (r) => r.length === 2 && r.every((l) => l.split('|')[1]!.startsWith('Running')), 60_000);
    assert.deepEqual(rows.map((l) => l.split('|')[0]).sort(), ['host2', 'host3'], rows.join('\n'));
    assert.ok(rows.every((l) => l.split('|')[1]!.startsWith('Running')), rows.join('\n'));
    for (const h of c.hosts.slice(1)) {
      // Pulled by the pinned digest: listed by it (with no tag, as on Docker's workers).
      assert.equal(await h.dockerOk('image', 'inspect', '--format', '{{join .RepoDigests ","}}', `${reg}/team/app@${pushedDigest}`), `${reg}/team/app@${pushedDigest}`);
      const task = await h.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=app');
      assert.equal(await h.dockerOk('exec', task, 'cat', '/marker'), 'from-the-registry');
    }
    const inspected = await h1.dockerOk('service', 'inspect', 'app');
    const encoded = Buffer.from(JSON.stringify({ username: 'svc', password: 'harbour' })).toString('base64').slice(0, 16);
    assert.doesNotMatch(inspected, /harbour|RegistryAuth|PullOptions/);
    assert.ok(!inspected.includes(encoded));
  });

  it('rejects the tasks of a service sent without them, the registry’s refusal in the ERROR column', async (t) => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'anon', '--replicas', '1', '--constraint', 'node.hostname==host2', image(2), 'sleep', '100000');
    const rows = await taskRows('anon', (r) => r.some((l) => l.split('|')[2] !== ''), 60_000);
    const failed = rows.find((l) => l.split('|')[2] !== '');
    assert.ok(failed, rows.join('\n'));
    t.diagnostic(failed);
    assert.match(failed, /^host2\|Rejected.*\|.*(no basic auth credentials|unauthorized)/i);
    assert.equal((await c.hosts[1]!.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=anon')), '');
  });
});
