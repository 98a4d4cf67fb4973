import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/engine/build/dockerfile.js';
import { applyArg, applyMetadata, unconsumed } from '../../src/engine/build/instructions.js';
import { StageState, type BuildArgs } from '../../src/engine/build/state.js';

const instr = (line: string) => parseDockerfile(line).instructions[0]!;

test('ARG: --build-arg beats the default, meta args reach a stage that declares them, ENV shadows ARG', () => {
  const args: BuildArgs = { given: { V: 'given', UNUSED: 'x', HTTP_PROXY: 'p' }, consumed: new Set(), meta: new Map() };
  applyArg(instr('ARG BASE=busybox'), undefined, args, '\\');
  applyArg(instr('ARG V=meta'), undefined, args, '\\');
  assert.equal(args.meta.get('V'), 'given');
  const st = new StageState(undefined, { Env: ['PATH=/bin'] });
  assert.equal(applyMetadata(instr('ARG BASE'), st, args, '\\'), 'ARG BASE');
  assert.equal(applyMetadata(instr('ARG D=${BASE}-x'), st, args, '\\'), 'ARG D=busybox-x');
  assert.deepEqual(st.vars(), ['BASE=busybox', 'D=busybox-x', 'PATH=/bin']);
  applyMetadata(instr('ENV D=env'), st, args, '\\');
  assert.deepEqual(st.runArgs(), ['BASE=busybox'], 'ENV shadows the ARG of the same name');
  assert.deepEqual(unconsumed(args), ['UNUSED'], 'builtin proxy args are never reported');
});

test('CMD, ENTRYPOINT (clears an inherited CMD), SHELL, WORKDIR, EXPOSE, LABEL, VOLUME', () => {
  const args: BuildArgs = { given: {}, consumed: new Set(), meta: new Map() };
  const st = new StageState(undefined, { Cmd: ['sh'], Env: ['DIR=/srv'] });
  applyMetadata(instr('ENTRYPOINT ["/bin/app"]'), st, args, '\\');
  assert.equal(st.config.Cmd, null);
  assert.equal(applyMetadata(instr('CMD run now'), st, args, '\\'), 'CMD ["/bin/sh" "-c" "run now"]');
  applyMetadata(instr('ENTRYPOINT top'), st, args, '\\');
  assert.deepEqual(st.config.Cmd, ['/bin/sh', '-c', 'run now'], 'a CMD of this stage stays');
  applyMetadata(instr('SHELL ["/bin/bash", "-ec"]'), st, args, '\\');
  applyMetadata(instr('CMD x'), st, args, '\\');
  assert.deepEqual(st.config.Cmd, ['/bin/bash', '-ec', 'x']);
  assert.throws(() => applyMetadata(instr('SHELL /bin/sh'), st, args, '\\'), /SHELL requires the arguments to be in JSON form/);
  applyMetadata(instr('WORKDIR $DIR'), st, args, '\\');
  applyMetadata(instr('WORKDIR www'), st, args, '\\');
  assert.equal(st.config.WorkingDir, '/srv/www');
  assert.equal(applyMetadata(instr('EXPOSE 80 53/udp 8000-8001'), st, args, '\\'), 'EXPOSE 53/udp 80/tcp 8000/tcp 8001/tcp');
  applyMetadata(instr('LABEL a=b "c d"="e f"'), st, args, '\\');
  assert.deepEqual(st.config.Labels, { a: 'b', 'c d': 'e f' });
  applyMetadata(instr('VOLUME ["/a", "/b"]'), st, args, '\\');
  assert.deepEqual(st.config.Volumes, { '/a': {}, '/b': {} });
  assert.throws(() => applyMetadata(instr('EXPOSE http'), st, args, '\\'), /invalid containerPort: http/);
  assert.throws(() => applyMetadata(instr('ENV --bogus=1 A=b'), st, args, '\\'), /Unknown flag: bogus/);
});
