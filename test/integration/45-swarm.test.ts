/** Swarm mode's commands on a node outside a swarm: dockerd's answers, through the docker CLI and the raw API. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { World } from '../lib/world.js';

const NOT_MANAGER = 'Error response from daemon: This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

describe('swarm endpoints outside a swarm', () => {
  let w: World;
  before(async () => {
    w = await World.create();
  });
  after(async () => {
    await w.dispose();
  });

  it('refuses leave with "not part of a swarm" and cluster commands with "not a swarm manager" (503)', async () => {
    for (const args of [['swarm', 'leave'], ['swarm', 'leave', '--force']]) {
      const r = await w.docker(...args);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim(), 'Error response from daemon: This node is not part of a swarm');
    }
    const commands = [
      ['node', 'ls'],
      ['node', 'inspect', 'self'],
      ['service', 'ls'],
      ['service', 'create', '--name', 'web', 'busybox', 'sleep', '1000'],
      ['service', 'inspect', 'web'],
      ['service', 'rm', 'web'],
      ['secret', 'ls'],
      ['config', 'ls'],
      ['swarm', 'join-token', 'worker'],
      ['swarm', 'update', '--autolock'],
    ];
    for (const args of commands) {
      const r = await w.docker(...args);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr.trim(), NOT_MANAGER, args.join(' '));
    }
    const unlock = await w.docker('swarm', 'unlock');
    assert.match(unlock.stderr, /This node is not part of a swarm/);
    for (const path of ['/v1.44/swarm', '/v1.44/nodes', '/v1.44/services', '/v1.44/tasks', '/v1.44/secrets', '/v1.44/configs']) {
      const r = await w.api('GET', path);
      assert.equal(r.status, 503, path);
    }
    assert.equal((await w.api('POST', '/v1.44/swarm/leave?force=1')).status, 503);
  });

  it('reports the node inactive in docker info and in the Swarm header of /_ping', async () => {
    assert.equal(await w.dockerOk('info', '--format', '{{.Swarm.LocalNodeState}}'), 'inactive');
    const header = await new Promise<string | string[] | undefined>((resolve, reject) => {
      http.get({ socketPath: w.sock, path: '/_ping' }, (res) => {
        res.resume();
        resolve(res.headers.swarm);
      }).on('error', reject);
    });
    assert.equal(header, 'inactive');
  });
});
