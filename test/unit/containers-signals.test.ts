import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSignal } from '../../src/engine/containers/signals.js';
import { commandFailureCode } from '../../src/runtime/index.js';

test('signals as dockerd reads them: names with or without SIG, any case, and numbers it knows', () => {
  assert.equal(parseSignal('SIGTERM'), 15);
  assert.equal(parseSignal('hup'), 1);
  assert.equal(parseSignal('RTMIN+3'), 37);
  assert.equal(parseSignal('RTMAX-1'), 63);
  assert.equal(parseSignal('9'), 9);
  assert.throws(() => parseSignal('FOO'), { name: 'InvalidParameter', message: 'invalid signal: FOO' });
  assert.throws(() => parseSignal('0'), { message: 'invalid signal: 0' });
  assert.throws(() => parseSignal('99'), { name: 'InvalidParameter', message: 'the linux daemon does not support signal 99' });
  assert.throws(() => parseSignal('32'), { message: 'the linux daemon does not support signal 32' });
  assert.throws(() => parseSignal('-5'), { message: 'the linux daemon does not support signal -5' });
});

test('a start that fails on its command records 127 (not found) or 126 (not allowed)', () => {
  assert.equal(commandFailureCode('exec: "nope": executable file not found in $PATH'), 127);
  assert.equal(commandFailureCode('exec: "/etc/passwd": permission denied'), 126);
  assert.equal(commandFailureCode('cgroup: write failed'), undefined);
});
