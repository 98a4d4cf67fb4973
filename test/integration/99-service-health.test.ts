/**
 * Services with a health check, as swarmkit's executor runs them: a task whose container
 * runs but is not healthy yet is Starting, and takes no connection (neither the VIP nor
 * `tasks.<name>` leads to it) until its check passes; then it is Running and answers. A
 * task whose check fails has failed ("unhealthy container" in `service ps`) and is
 * replaced.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ClusterWorld, untilCluster } from '../lib/cluster.js';
import type { World } from '../lib/world.js';

const haveEtcd = fs.existsSync('/usr/bin/etcd');
/** The page is served at once; the check passes only once /www/ready exists (made 5 s after the start; failures before count not, in the start period). */
/** A fetch through the VIP, given up after 3 s (this busybox's wget -T crashes). */
const FETCH = ['timeout', '3', 'wget', '-qO-', 'http://web/'];
const WEB = 'mkdir -p /www && echo served > /www/index.html && (sleep 5; touch /www/ready) & exec httpd -f -p 80 -h /www';

describe('a service with a health check', { skip: !haveEtcd && 'etcd-server is not installed' }, () => {
  let c: ClusterWorld;
  let h1: World;
  before(async () => {
    c = await ClusterWorld.create(1);
    h1 = c.hosts[0]!;
    await c.formSwarm();
    await h1.dockerOk('network', 'create', '-d', 'overlay', '--attachable', 'ov');
    await h1.dockerOk('run', '-d', '--name', 'cl', '--network', 'ov', 'busybox', 'sleep', '100000');
  });
  after(async () => {
    await c?.removeServices();
    await c?.dispose();
  });

  const stateOf = async (service: string): Promise<string[]> =>
    (await h1.dockerOk('service', 'ps', '--no-trunc', '--format', '{{.CurrentState}}|{{.Error}}', service)).split('\n').filter((l) => l !== '');

  it('takes connections only once its check passes', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'web', '--network', 'ov', '--health-cmd', 'test -f /www/ready', '--health-interval', '1s', '--health-start-period', '30s', 'busybox', 'sh', '-c', WEB);
    // Its container runs (httpd serves) while the task is still Starting.
    const task = await untilCluster(async () => h1.dockerOk('ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web'), (id) => id !== '', 30_000);
    assert.notEqual(task, '');
    assert.equal(await h1.dockerOk('exec', task, 'wget', '-qO-', 'http://127.0.0.1/'), 'served');
    const starting = await stateOf('web');
    assert.match(starting[0] ?? '', /^Starting /, starting.join('\n'));
    const early = await h1.docker('exec', 'cl', ...FETCH);
    assert.notEqual(early.code, 0, `fetched through the VIP before the task was healthy: ${early.stdout}`);
    assert.notEqual(early.code, 139, 'wget crashed');
    assert.doesNotMatch((await h1.docker('exec', 'cl', 'nslookup', 'tasks.web')).stdout, /Address: 10\./, 'tasks.web named a task not yet healthy');

    const running = await untilCluster(async () => stateOf('web'), (rows) => rows[0]?.startsWith('Running') === true, 30_000);
    assert.match(running[0] ?? '', /^Running /, running.join('\n'));
    const answered = await untilCluster(async () => h1.docker('exec', 'cl', ...FETCH), (r) => r.code === 0, 10_000);
    assert.equal(answered.stdout.trim(), 'served', answered.stderr);
  });

  it('fails a task whose check fails, in swarmkit’s words, and replaces it', async () => {
    await h1.dockerOk('service', 'create', '-d', '--name', 'sick', '--health-cmd', 'false', '--health-interval', '1s', '--health-retries', '1', 'busybox', 'sleep', '100000');
    const rows = await untilCluster(async () => stateOf('sick'), (r) => r.some((l) => l.startsWith('Failed')) && r.length >= 2, 60_000);
    const failed = rows.find((l) => l.startsWith('Failed'));
    assert.ok(failed, rows.join('\n'));
    assert.match(failed, /unhealthy container/);
    assert.ok(rows.length >= 2, `not replaced: ${rows.join('\n')}`);
  });
});
