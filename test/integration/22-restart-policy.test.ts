/**
 * Restart policies against removals, stops, kills and daemon restarts: berthd stays up,
 * a container waiting to restart behaves as Docker's (Restarting, rm refused without -f,
 * a stop calls the restart off), and nothing is left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../lib/async.js';
import { Rng } from '../lib/prng.js';
import { World } from '../lib/world.js';

interface State {
  Status: string;
  Running: boolean;
  Restarting: boolean;
  ExitCode: number;
}

describe('restart policies', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  const alive = async (): Promise<void> => {
    const ping = await w.api('GET', '/_ping').catch(() => ({ status: 0 }));
    assert.equal(ping.status, 200, `berthd is down:\n${w.log.slice(-3000)}`);
  };
  const state = async (name: string): Promise<State & { RestartCount: number }> => {
    const out = await w.dockerOk('inspect', '-f', '{{json .State}} {{.RestartCount}}', name);
    const [json, count] = out.split(' ');
    return { ...(JSON.parse(json!) as State), RestartCount: Number(count) };
  };
  /** Polls until `ok` holds (or 20 s pass: restarts back off, and a loaded machine is slow) and returns the last state. */
  const until = async (name: string, ok: (s: State & { RestartCount: number }) => boolean): Promise<State & { RestartCount: number }> => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const s = await state(name);
      if (ok(s) || Date.now() > deadline) return s;
      await sleep(20);
    }
  };

  it('survives removing a container whose restart is pending (the one-line crash)', async () => {
    for (const pause of [300, 50, 120, 0, 200]) {
      const id = await w.dockerOk('run', '-d', '--restart', 'on-failure', 'busybox', 'false');
      await sleep(pause);
      await w.dockerOk('rm', '-f', id);
      await sleep(250); // past the first backoff: its timer would fire now
      await alive();
    }
  });

  it('a container waiting to restart is Restarting, refuses rm without -f, and a stop calls the restart off', async () => {
    await w.dockerOk('run', '-d', '--name', 'flap', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2; exit 3');
    const waiting = await until('flap', (s) => s.Restarting);
    assert.equal(waiting.Status, 'restarting');
    assert.equal(waiting.Running, true, 'Docker counts a restarting container as running');
    assert.equal(waiting.ExitCode, 3);
    assert.match(await w.dockerOk('ps', '--filter', 'name=flap', '--format', '{{.Status}}'), /^(Restarting \(3\)|Up)/);
    const rm = await w.docker('rm', 'flap');
    // It may be running again by now; either way it is not removed without -f.
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /cannot remove container "\/flap": container is (restarting|running): stop the container before removing or force remove/);
    await w.dockerOk('stop', '-t', '0', 'flap');
    const stopped = await state('flap');
    assert.equal(stopped.Status, 'exited');
    await sleep(700); // longer than any backoff so far
    const later = await state('flap');
    assert.equal(later.Status, 'exited', 'a stopped container is not restarted by its policy');
    assert.equal(later.RestartCount, stopped.RestartCount);
    await w.dockerOk('rm', 'flap');
  });

  it('on-failure:N gives up after N restarts; a clean exit is not restarted', async () => {
    await w.dockerOk('run', '-d', '--name', 'twice', '--restart', 'on-failure:2', 'busybox', 'false');
    const done = await until('twice', (s) => s.Status === 'exited' && s.RestartCount === 2);
    assert.equal(done.Status, 'exited');
    assert.equal(done.RestartCount, 2);
    await w.dockerOk('run', '-d', '--name', 'clean', '--restart', 'on-failure', 'busybox', 'true');
    await sleep(500);
    const clean = await state('clean');
    assert.equal(clean.Status, 'exited');
    assert.equal(clean.RestartCount, 0);
    await w.dockerOk('rm', 'twice', 'clean');
  });

  it('stays up under restart policies hammered with removals, stops, kills, starts, renames, pauses and daemon restarts', async () => {
    const seed = Number(process.env.BERTH_HAMMER_SEED ?? 11);
    const steps = Number(process.env.BERTH_HAMMER_STEPS ?? 60);
    const rng = new Rng(seed);
    const pick = <T>(xs: readonly T[]): T => rng.pick(xs);
    const policies = ['always', 'on-failure', 'on-failure:3', 'unless-stopped', 'no'];
    const commands = [['false'], ['true'], ['sh', '-c', 'sleep 0.1; exit 1'], ['sleep', '5']];
    const names: string[] = [];
    let made = 0;
    for (let step = 0; step < steps; step++) {
      const op = names.length < 3 ? 'run' : pick(['run', 'rm', 'rm', 'stop', 'kill', 'start', 'restart', 'rename', 'pause', 'unpause', 'daemon']);
      const name = names.length > 0 ? pick(names) : '';
      const where = `seed ${seed} step ${step}: ${op} ${name}`;
      switch (op) {
        case 'run': {
          const n = `h${made++}`;
          await w.dockerOk('run', '-d', '--name', n, '--restart', pick(policies), 'busybox', ...pick(commands));
          names.push(n);
          break;
        }
        case 'rm':
          await w.dockerOk('rm', '-f', name);
          names.splice(names.indexOf(name), 1);
          break;
        case 'rename': {
          // Any state: running, waiting to restart, exited or paused.
          const n = `h${made++}`;
          await w.dockerOk('rename', name, n);
          names[names.indexOf(name)] = n;
          assert.equal(await w.dockerOk('inspect', '-f', '{{.Name}}', n), `/${n}`, where);
          break;
        }
        case 'daemon':
          await w.restart(rng.next() < 0.5 ? 'SIGKILL' : 'SIGTERM');
          break;
        default: {
          // These may meet the container in any state; only the daemon's survival matters.
          const args = op === 'stop' || op === 'restart' ? [op, '-t', '0', name] : [op, name];
          const r = await w.docker(...args);
          const refusals = /is not running|cannot be started|No such container|is already paused|is not paused|is restarting|cannot start a paused container/;
          assert.ok(r.code === 0 || refusals.test(r.stderr), `${where}: ${r.stderr}`);
        }
      }
      await sleep(rng.next() * 150);
      await alive();
    }
    await w.dockerOk('rm', '-f', ...names);
    await sleep(300);
    await alive();
    assert.equal(await w.dockerOk('ps', '-aq'), '');
  });
});
