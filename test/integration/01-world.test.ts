/**
 * The test worlds themselves: one that cannot start removes what it made before it fails;
 * one whose owner dies before its clean-up (a script killed, or ended by a broken pipe)
 * is found and removed whole by the next sweep. This file's process gets a run tag and a
 * TMPDIR of its own, so what it makes is told apart from the worlds of the files running
 * beside it.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { DAEMON_ID_FILE, deadRuns, killProcessesMentioning, mountsUnder, processesMentioning, removeDaemonCgroups, removeRunLeftovers, unmountUnder } from '../lib/leftovers.js';

const tag = `w${process.pid}`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-world-test-'));
process.env.BERTH_TEST_RUN = tag;
process.env.TMPDIR = tmp;
const { World } = await import('../lib/world.js');

describe('a test world', () => {
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('whose daemon cannot start removes its namespace, daemon and folder before it fails', async () => {
    await assert.rejects(World.create({ daemonArgs: ['--no-such-flag'] }), /berthd exited/);
    assert.deepEqual(fs.readdirSync('/run/netns').filter((n) => n.includes(`-${tag}-`)), []);
    assert.deepEqual(fs.readdirSync(tmp), []);
  });

  it('whose owner dies before its clean-up leaves what the next sweep finds and removes whole', async () => {
    // A process outside any test run (as a benchmark or a script is): a world with a running container, then SIGKILL.
    const env = { ...process.env };
    delete env.BERTH_TEST_RUN;
    delete env.TMPDIR;
    const script = `const { World } = await import(${JSON.stringify(path.resolve(import.meta.dirname, '../lib/world.js'))});
const w = await World.create();
await w.dockerOk('run', '-d', '--name', 'left', 'busybox', 'sleep', '3600');
console.log('running ' + w.ns + ' ' + w.dir);
setInterval(() => undefined, 1000);`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const [ns, worldDir] = await new Promise<[string, string]>((res, rej) => {
      let out = '';
      owner.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /running (\S+) (\S+)\n/.exec(out);
        if (m) res([m[1]!, m[2]!]);
      });
      owner.on('exit', (code) => rej(new Error(`the world's owner exited ${code} before its world ran`)));
    });
    const run = { tag: `t${owner.pid!}`, dir: `/tmp/berth-run-${owner.pid!}` };
    owner.kill('SIGKILL');
    await new Promise((res) => owner.once('close', res));
    try {
      await judgeSweep(run, ns);
    } finally {
      // Whatever the sweep missed goes all the same: a failing test leaks nothing either.
      killProcessesMentioning(worldDir);
      removeDaemonCgroups(fs.existsSync(worldDir) ? fs.readFileSync(path.join(worldDir, DAEMON_ID_FILE), 'utf8').trim() : undefined);
      await unmountUnder(worldDir);
      if (fs.existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'del', ns]);
      fs.rmSync(worldDir, { recursive: true, force: true });
    }
  });
});

/** What a dead owner's world left is there, carries its run, and the sweep removes it whole. */
async function judgeSweep(run: { tag: string; dir: string }, ns: string): Promise<void> {
  assert.ok(fs.existsSync(`/run/netns/${ns}`), ns);
  assert.ok(ns.includes(`-${run.tag}-`), `the world's namespace ${ns} does not carry its run's tag ${run.tag}`);
  // What it left: the namespace, the daemon and its container's monitor, mounts, all under its run.
  assert.ok(processesMentioning(run.dir).length > 0, `nothing of the world runs under ${run.dir}: the daemon died with its owner, or lives elsewhere`);
  assert.ok(deadRuns().some((r) => r.tag === run.tag && r.dir === run.dir), `the sweep does not see run ${run.tag}`);
  assert.ok((await removeRunLeftovers(run)).length > 0);
  assert.ok(!fs.existsSync(`/run/netns/${ns}`), `${ns} is left`);
  assert.deepEqual(processesMentioning(run.dir).map((p) => p.cmd), []);
  assert.deepEqual(mountsUnder(run.dir), []);
  assert.ok(!fs.existsSync(run.dir), `${run.dir} is left`);
}
