/** A container's endpoints name a service only when the agent made it for a task: labels alone cannot make a backend. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { joinRequest } from '../../src/engine/containers/networking.js';
import type { EndpointConfig } from '../../src/engine/containers/model.js';

const LABELS = { 'com.docker.swarm.service.id': 'svc1', 'com.docker.swarm.service.name': 'web', 'com.docker.swarm.task.id': 't1' };
const cfg = (task: boolean): EndpointConfig => ({ aliases: [], links: [], ...(task ? { task: true } : {}) }) as EndpointConfig;

describe('a task container’s service', () => {
  it('is taken from the labels of the agent’s task containers', () => {
    assert.deepEqual(joinRequest('c1', 'web.1.t1', cfg(true), LABELS).service, { id: 'svc1', name: 'web', taskId: 't1' });
  });

  it('is not taken from a user’s container that only carries the labels', () => {
    assert.equal(joinRequest('c2', 'impostor', cfg(false), LABELS).service, undefined);
  });
});
