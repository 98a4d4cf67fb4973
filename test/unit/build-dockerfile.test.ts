import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagValue, parseDockerfile } from '../../src/engine/build/dockerfile.js';
import { planBuild } from '../../src/engine/build/plan.js';

test('instructions: comments, blank lines, continuations (with comments inside), flags, JSON form', () => {
  const df = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      '# a comment',
      '',
      'FROM busybox AS base',
      'RUN echo a \\',
      '# dropped inside the continuation',
      '    && echo b',
      'COPY --from=base --chown=1:2 ["a b", "/dst/"]',
      '  cmd   ["sh", "-c", "x"]',
      'CMD [not json',
    ].join('\n'),
  );
  assert.equal(df.escape, '\\');
  const [from, run, copy, cmd, bad] = df.instructions;
  assert.deepEqual([from?.cmd, from?.args, from?.line], ['from', 'busybox AS base', 4]);
  assert.equal(run?.original, 'RUN echo a     && echo b');
  assert.equal(run?.line, 5);
  assert.equal(run?.json, undefined);
  assert.deepEqual(copy?.flags, [{ name: 'from', value: 'base' }, { name: 'chown', value: '1:2' }]);
  assert.equal(flagValue(copy!, 'chown'), '1:2');
  assert.deepEqual(copy?.json, ['a b', '/dst/']);
  assert.deepEqual(cmd?.json, ['sh', '-c', 'x']);
  assert.equal(cmd?.original, 'cmd   ["sh", "-c", "x"]');
  assert.equal(bad?.json, undefined, 'not JSON: the shell form');
});

test('the escape directive changes the continuation character; directives only at the top', () => {
  const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  /w\n');
  assert.equal(df.escape, '`');
  assert.equal(df.instructions[1]?.args, 'dir c:\\   /w');
  const late = parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b\n');
  assert.equal(late.escape, '\\');
  assert.equal(late.instructions[1]?.args, 'a  b');
  assert.throws(() => parseDockerfile('# escape=x\nFROM a'), /invalid escape token/);
});

test("Docker's parse errors", () => {
  assert.throws(() => parseDockerfile('FROM busybox\nRUNN echo\n'), /^BerthError|dockerfile parse error on line 2: unknown instruction: RUNN$/);
  assert.throws(() => parseDockerfile('# only a comment\n'), /the Dockerfile \(Dockerfile\) cannot be empty/);
  assert.throws(() => planBuild(parseDockerfile('RUN x\nFROM a')), /no build stage in current context/);
});

test('the plan: meta args, stages with names, --target, the step count', () => {
  const df = parseDockerfile('ARG V=1\nFROM a AS One\nRUN x\nFROM b\nCOPY --from=one / /\nRUN y\nFROM c AS last\n');
  const all = planBuild(df);
  assert.equal(all.metaArgs.length, 1);
  assert.deepEqual(all.stages.map((s) => [s.index, s.name, s.base, s.body.length]), [[0, 'one', 'a', 1], [1, undefined, 'b', 2], [2, 'last', 'c', 0]]);
  assert.equal(all.total, 7);
  const cut = planBuild(df, 'ONE');
  assert.equal(cut.stages.length, 1);
  assert.equal(cut.total, 3);
  assert.throws(() => planBuild(df, 'nope'), /failed to reach build target nope in Dockerfile/);
  assert.throws(() => planBuild(parseDockerfile('FROM a AS x\nFROM b AS x')), /duplicate name x/);
  assert.throws(() => planBuild(parseDockerfile('FROM a b')), /FROM requires either one or three arguments/);
});
