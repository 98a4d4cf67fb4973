/**
 * Health checks with the docker CLI: --health-* and an image's HEALTHCHECK run as
 * probes (execs) in the container; State.Health, ps's status and health filter, the
 * health_status and exec events, timeouts, the start period, --no-healthcheck, dockerd's
 * create errors, and the health kept and its checks resumed across a daemon restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { settled } from '../lib/async.js';
import { must, World } from '../lib/world.js';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

const nowText = (): string => (Date.now() / 1000).toFixed(6);

describe('health checks', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  const health = async (name: string): Promise<Health | null> => JSON.parse(await w.dockerOk('inspect', '-f', '{{json .State.Health}}', name)) as Health | null;
  /** Polls State.Health until `ok` holds (or 10 s pass) and returns the last one. */
  const until = async (name: string, ok: (h: Health) => boolean): Promise<Health> =>
    (await settled(async () => health(name), (h) => h !== null && ok(h), 10_000, 50))!;
  const psStatus = async (name: string): Promise<string> => w.dockerOk('ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}');
  const psNames = async (filter: string): Promise<string[]> => (await w.dockerOk('ps', '-a', '--filter', filter, '--format', '{{.Names}}')).split('\n').filter((n) => n !== '').sort();

  it('a passing check: starting, then healthy, with its log, ps status and the events dockerd logs', async () => {
    await w.dockerOk('run', '-d', '--name', 'idle', '--health-cmd', 'true', '--health-interval', '1h', 'busybox', 'sleep', '300');
    assert.deepEqual(await health('idle'), { Status: 'starting', FailingStreak: 0, Log: [] });
    assert.match(await psStatus('idle'), /^Up .* \(health: starting\)$/);
    assert.deepEqual(await psNames('health=starting'), ['idle']);
    await w.dockerOk('rm', '-f', 'idle');
    const since = nowText();
    await w.dockerOk('run', '-d', '--name', 'ok', '--health-cmd', 'echo fine', '--health-interval', '300ms', 'busybox', 'sleep', '300');
    assert.equal(await w.dockerOk('inspect', '-f', '{{json .Config.Healthcheck}}', 'ok'), '{"Test":["CMD-SHELL","echo fine"],"Interval":300000000}');
    const h = await until('ok', (x) => x.Status === 'healthy');
    assert.equal(h.FailingStreak, 0);
    assert.deepEqual({ ...h.Log[0]!, Start: '', End: '' }, { Start: '', End: '', ExitCode: 0, Output: 'fine\n' });
    assert.ok(Date.parse(h.Log[0]!.End) >= Date.parse(h.Log[0]!.Start));
    assert.match(await psStatus('ok'), /^Up .* \(healthy\)$/);
    await until('ok', (x) => x.Log.length >= 2);
    const events = (await w.dockerOk('events', '--since', since, '--until', nowText(), '--filter', 'container=ok', '--format', '{{.Action}}')).split('\n');
    assert.deepEqual(events.slice(0, 6), ['create', 'start', 'exec_create: /bin/sh -c echo fine', 'exec_start: /bin/sh -c echo fine', 'exec_die', 'health_status: healthy']);
    assert.equal(events.filter((e) => e.startsWith('health_status')).length, 1, 'only on a change');
    assert.equal(await w.dockerOk('events', '--since', since, '--until', nowText(), '--filter', 'event=health_status', '--format', '{{.Action}} {{.Actor.Attributes.name}}'), 'health_status: healthy ok');
  });

  it('a failing check: unhealthy after its retries, the log keeps the last five, a stop leaves it unhealthy and probes no more', async () => {
    await w.dockerOk('run', '-d', '--name', 'bad', '--health-cmd', 'false', '--health-retries', '2', '--health-interval', '200ms', 'busybox', 'sleep', '300');
    const h = await until('bad', (x) => x.Status === 'unhealthy');
    assert.equal(h.FailingStreak, 2);
    assert.deepEqual(h.Log.map((r) => r.ExitCode), [1, 1]);
    assert.match(await psStatus('bad'), /^Up .* \(unhealthy\)$/);
    const many = await until('bad', (x) => x.FailingStreak >= 7);
    assert.equal(many.Log.length, 5);
    assert.equal(many.Status, 'unhealthy');
    // Exit codes other than 0 and 1 are failures too.
    await w.dockerOk('run', '-d', '--name', 'three', '--health-interval', '200ms', '--health-retries', '1', '--health-cmd', 'exit 3', 'busybox', 'sleep', '300');
    assert.deepEqual((await until('three', (x) => x.Status === 'unhealthy')).Log[0]!.ExitCode, 3);
    await w.dockerOk('rm', '-f', 'three');
    await w.dockerOk('stop', '-t', '0', 'bad');
    const stopped = (await health('bad'))!;
    assert.equal(stopped.Status, 'unhealthy');
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual((await health('bad'))!.Log, stopped.Log, 'no probe after the stop');
    assert.match(await psStatus('bad'), /^Exited/);
  });

  it('a probe past its timeout is killed and fails with dockerd\'s message', async () => {
    await w.dockerOk('run', '-d', '--name', 'slow', '--health-cmd', 'echo begun; sleep 5', '--health-timeout', '300ms', '--health-interval', '200ms', '--health-retries', '1', 'busybox', 'sleep', '300');
    const h = await until('slow', (x) => x.Status === 'unhealthy');
    assert.deepEqual({ ExitCode: h.Log[0]!.ExitCode, Output: h.Log[0]!.Output }, { ExitCode: -1, Output: 'Health check exceeded timeout (300ms): begun\n' });
    assert.ok(Date.parse(h.Log[0]!.End) - Date.parse(h.Log[0]!.Start) < 3000, 'killed, not waited for');
    // The killed probes are gone from the container.
    const ps = await settled(async () => w.dockerOk('exec', 'slow', 'ps', '-o', 'args'), (out) => !out.includes('sleep 5'), 3000);
    assert.doesNotMatch(ps, /sleep 5/);
    await w.dockerOk('rm', '-f', 'slow');
  });

  it('the start period: failures do not count while starting, the start interval paces the probes, a success ends it', async () => {
    await w.dockerOk('run', '-d', '--name', 'boot', '--health-cmd', 'false', '--health-retries', '1', '--health-interval', '100ms', '--health-start-period', '3s', '--health-start-interval', '100ms', 'busybox', 'sleep', '300');
    const early = await until('boot', (x) => x.Log.length >= 2);
    assert.deepEqual([early.Status, early.FailingStreak], ['starting', 0]);
    const late = await until('boot', (x) => x.Status === 'unhealthy');
    assert.equal(late.FailingStreak, 1);
    await w.dockerOk('rm', '-f', 'boot');
    // An interval of an hour: only the start interval can make it healthy this soon.
    await w.dockerOk('run', '-d', '--name', 'quick', '--health-cmd', 'true', '--health-interval', '1h', '--health-start-period', '1m', '--health-start-interval', '100ms', 'busybox', 'sleep', '300');
    assert.equal((await until('quick', (x) => x.Status === 'healthy')).Log.length, 1);
    await w.dockerOk('rm', '-f', 'quick');
  });

  it('an image\'s HEALTHCHECK runs; --health-* override its fields; --no-healthcheck turns it off', async () => {
    const root = path.join(w.dir, 'hc-rootfs');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
    for (const tool of ['sh', 'sleep', 'true', 'false']) fs.symlinkSync('busybox', path.join(root, 'bin', tool));
    const tar = path.join(w.dir, 'hc.tar');
    await must('tar', ['-C', root, '-cf', tar, '.']);
    await w.dockerOk('import', '-c', 'HEALTHCHECK --interval=200ms --retries=2 CMD true', '-c', 'CMD ["sleep", "300"]', tar, 'checked:1');
    assert.equal(await w.dockerOk('image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'checked:1'), '{"Test":["CMD-SHELL","true"],"Interval":200000000,"Retries":2}');

    await w.dockerOk('run', '-d', '--name', 'img', 'checked:1');
    assert.equal((await until('img', (x) => x.Status === 'healthy')).Log[0]!.ExitCode, 0);

    await w.dockerOk('run', '-d', '--name', 'over', '--health-cmd', 'false', 'checked:1');
    assert.equal(await w.dockerOk('inspect', '-f', '{{json .Config.Healthcheck}}', 'over'), '{"Test":["CMD-SHELL","false"],"Interval":200000000,"Retries":2}');
    await until('over', (x) => x.Status === 'unhealthy');

    await w.dockerOk('run', '-d', '--name', 'off', '--no-healthcheck', 'checked:1');
    assert.equal(await w.dockerOk('inspect', '-f', '{{json .Config.Healthcheck.Test}}', 'off'), '["NONE"]');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await health('off'), null);
    assert.match(await psStatus('off'), /^Up [^(]*$/);

    assert.deepEqual(await psNames('health=healthy'), ['img', 'ok']);
    assert.deepEqual(await psNames('health=unhealthy'), ['bad', 'over']);
    assert.deepEqual(await psNames('health=none'), ['off']);
    assert.deepEqual(await psNames('health=starting'), []);
    const wrong = await w.docker('ps', '--filter', 'health=sick');
    assert.match(wrong.stderr, /invalid filter 'health=sick'/);
    await w.dockerOk('rm', '-f', 'img', 'over', 'off');
  });

  it('refuses what dockerd refuses at create, in its words', async () => {
    const create = async (hc: object, version = 'v1.44') => w.api('POST', `/${version}/containers/create`, { Image: 'busybox', Healthcheck: hc });
    const refused = async (hc: object, message: string) => {
      const r = await create(hc);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual(r.body, { message });
    };
    await refused({ Interval: 500_000 }, 'Interval in Healthcheck cannot be less than 1ms');
    await refused({ Timeout: -1 }, 'Timeout in Healthcheck cannot be less than 1ms');
    await refused({ Retries: -1 }, 'Retries in Healthcheck cannot be negative');
    await refused({ StartPeriod: 10 }, 'StartPeriod in Healthcheck cannot be less than 1ms');
    await refused({ StartInterval: 10 }, 'StartInterval in Healthcheck cannot be less than 1ms');
    const old = await create({ Test: ['CMD', 'true'], StartInterval: 10 }, 'v1.43');
    assert.equal(old.status, 201, 'StartInterval came with API 1.44: older clients\' is ignored');
    const id = (old.body as { Id: string }).Id;
    assert.equal(await w.dockerOk('inspect', '-f', '{{json .Config.Healthcheck}}', id), '{"Test":["CMD","true"]}');
    await w.dockerOk('rm', id);
  });

  it('keeps State.Health across a daemon restart and resumes the checks; a restart starts them afresh', async () => {
    const before = await until('ok', (x) => x.Status === 'healthy' && x.Log.length >= 3);
    await w.restart();
    const after = (await health('ok'))!;
    assert.equal(after.Status, 'healthy');
    assert.ok(after.Log.length >= before.Log.length);
    const restartedAt = Date.now();
    const resumed = await until('ok', (x) => Date.parse(x.Log.at(-1)!.Start) > restartedAt);
    assert.equal(resumed.Status, 'healthy');
    assert.equal(await psStatus('ok').then((s) => s.endsWith('(healthy)')), true);

    await w.dockerOk('restart', '-t', '0', 'ok');
    const again = (await health('ok'))!;
    assert.ok(again.Status === 'starting' || again.Status === 'healthy', again.Status);
    const restarted = Date.now();
    const fresh = await until('ok', (x) => x.Status === 'healthy' && Date.parse(x.Log.at(-1)!.Start) > restarted);
    assert.ok(fresh.Log.length <= 5);
    assert.doesNotMatch(w.log, /health check of/, 'no probe failed to be recorded');
  });
});
