/**
 * Starts racing removals: a removal must not take the cgroup parent away from a start
 * under way (runc makes the parent, then the container's cgroup in it), and a start that
 * fails leaves no endpoint behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../lib/world.js';

describe('starts racing removals', () => {
  let w: World;
  before(async () => {
    w = await World.create();
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('network', 'create', 'race');
  });
  after(async () => {
    await w.dispose();
  });

  it('every start succeeds while other containers are removed, and the network empties', async () => {
    const rounds = Number(process.env.BERTH_RACE_ROUNDS ?? 25);
    const failures: string[] = [];
    // Each worker keeps one container alive and replaces it: the removal of the old one
    // meets the start of the next, rounds times, with the other workers doing the same.
    const worker = async (n: number): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        const create = await w.api('POST', `/containers/create?name=r${n}-${i}`, { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'race' } });
        assert.equal(create.status, 201, JSON.stringify(create.body));
        const [start, rm] = await Promise.all([
          w.api('POST', `/containers/r${n}-${i}/start`),
          i > 0 ? w.api('DELETE', `/containers/r${n}-${i - 1}?force=true`) : Promise.resolve({ status: 204, body: '' }),
        ]);
        if (start.status !== 204) failures.push(`r${n}-${i}: ${start.status} ${JSON.stringify(start.body)}`);
        assert.equal(rm.status, 204, JSON.stringify(rm.body));
      }
      await w.api('DELETE', `/containers/r${n}-${rounds - 1}?force=true`);
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    assert.deepEqual(failures, []);
    assert.equal(await w.dockerOk('network', 'inspect', 'race', '-f', '{{len .Containers}}'), '0');
    await w.dockerOk('network', 'rm', 'race');
  });
});
