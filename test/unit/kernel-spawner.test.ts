import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newSpawner, type Outcome } from '../../src/kernel/spawner.js';
import { run, KernelCommandError } from '../../src/kernel/exec.js';

const canRun = (o: Promise<Outcome> | undefined): Promise<Outcome> => {
  assert.ok(o, 'the helper starts (perl is Essential on Debian)');
  return o;
};

describe('spawner helper', () => {
  const s = newSpawner();

  it('returns stdout, stderr and the exit code, and feeds stdin', async () => {
    assert.deepEqual(await canRun(s.run(['sh', '-c', 'cat; echo oops >&2; exit 3'], 'from stdin\n')), {
      kind: 'exited', code: 3, stdout: 'from stdin\n', stderr: 'oops\n',
    });
    assert.deepEqual(await canRun(s.run(['true'], '')), { kind: 'exited', code: 0, stdout: '', stderr: '' });
  });

  it('passes argv as given, without a shell', async () => {
    const args = ['a b', '"q"', "it's", '$HOME', '', 'é ✓'];
    const o = await canRun(s.run(['printf', '[%s]\\n', ...args], ''));
    assert.deepEqual(o, { kind: 'exited', code: 0, stdout: args.map((a) => `[${a}]\n`).join(''), stderr: '' });
  });

  it('says when a tool cannot be started, and when one is killed', async () => {
    const missing = await canRun(s.run(['/nonexistent/tool', 'x'], ''));
    assert.equal(missing.kind, 'failed');
    assert.match(missing.kind === 'failed' ? missing.message : '', /No such file/);
    const killed = await canRun(s.run(['sh', '-c', 'kill -TERM $$'], ''));
    assert.equal(killed.kind, 'signaled');
    assert.equal(killed.kind === 'signaled' ? killed.signal : 0, 15);
  });

  it('carries inputs and outputs larger than a pipe buffer', async () => {
    const big = 'x'.repeat(3 << 20) + '\n';
    const o = await canRun(s.run(['cat'], big));
    assert.equal(o.kind === 'exited' ? o.stdout.length : -1, big.length);
  });

  it('runs many tools at once and answers each its own', async () => {
    const outs = await Promise.all(Array.from({ length: 60 }, (_, i) => canRun(s.run(['sh', '-c', `sleep 0.0$((${i} % 5)); echo ${i}`], ''))));
    outs.forEach((o, i) => assert.deepEqual(o, { kind: 'exited', code: 0, stdout: `${i}\n`, stderr: '' }));
  });
});

describe('kernel/exec run() through the helper', () => {
  it('resolves stdout, and rejects with the command and its stderr', async () => {
    assert.equal(await run('sh', ['-c', 'cat'], { input: 'ok' }), 'ok');
    await assert.rejects(run('sh', ['-c', 'echo Cannot find device >&2; exit 1']), (e: unknown) => {
      assert.ok(e instanceof KernelCommandError);
      assert.equal(e.exitCode, 1);
      assert.match(e.message, /^sh -c .*: Cannot find device$/);
      return true;
    });
    await assert.rejects(run('/nonexistent/tool', []), /cannot run \/nonexistent\/tool: .*No such file/);
  });
});
