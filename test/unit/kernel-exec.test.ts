import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KernelCommandError, kernelSays } from '../../src/kernel/exec.js';

const failed = (stderr: string): KernelCommandError => new KernelCommandError(['ip', 'link', 'del', 'dev', 'x'], stderr, 1);

test('kernelSays: "already gone" in the words iproute2 and nft use', () => {
  for (const text of [
    'Cannot find device "berth0"',
    'RTNETLINK answers: No such device', // a veth whose peer's namespace went first
    'Error: ipv4: Address not found.',
    'RTNETLINK answers: Cannot assign requested address',
    'Error: No such file or directory',
  ]) {
    assert.ok(kernelSays(failed(text), 'missing'), text);
    assert.ok(!kernelSays(failed(text), 'exists'), text);
  }
  assert.ok(kernelSays(failed('RTNETLINK answers: File exists'), 'exists'));
  assert.ok(!kernelSays(failed('RTNETLINK answers: Operation not permitted'), 'missing'));
  assert.ok(!kernelSays(new Error('No such device'), 'missing'), 'only a tool’s failure counts');
});
