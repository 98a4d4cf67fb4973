import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execAction } from '../../src/engine/containers/events.js';

test('exec actions are written as dockerd writes them: entrypoint, a space, the arguments', () => {
  assert.equal(execAction('exec_start', ['sh', '-c', 'date']), 'exec_start: sh -c date');
  assert.equal(execAction('exec_create', ['true']), 'exec_create: true ', 'a trailing space without arguments');
});
