/**
 * The test worlds themselves: one that cannot start removes what it made before it fails.
 * This file's process gets a run tag and a TMPDIR of its own, so what it makes is told
 * apart from the worlds of the files running beside it.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

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
});
