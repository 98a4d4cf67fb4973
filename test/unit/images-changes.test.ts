import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, parseGoDuration, shellWords } from '../../src/engine/images/changes.js';

test('--change instructions build the run config', () => {
  const c = applyChanges({}, [
    'ENV PATH=/bin:/usr/bin GREETING="hello world"',
    'ENV LEGACY value with spaces',
    'CMD ["httpd", "-f", "-p", "80"]',
    'EXPOSE 80 53/udp 8000-8002',
    'WORKDIR /srv',
    'WORKDIR www',
    'LABEL a=b "c d"=e',
    'USER nobody',
    'VOLUME /data',
    'STOPSIGNAL SIGTERM',
    'label version=$GREETING',
  ]);
  assert.deepEqual(c.Env, ['PATH=/bin:/usr/bin', 'GREETING=hello world', 'LEGACY=value with spaces']);
  assert.deepEqual(c.Cmd, ['httpd', '-f', '-p', '80']);
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
  assert.equal(c.WorkingDir, '/srv/www');
  assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e', version: 'hello world' });
  assert.equal(c.User, 'nobody');
  assert.deepEqual(c.Volumes, { '/data': {} });
  assert.equal(c.StopSignal, 'SIGTERM');
});

test('shell form wraps in /bin/sh -c; ENTRYPOINT resets an inherited CMD', () => {
  const c = applyChanges({ Cmd: ['old'] }, ['ENTRYPOINT echo hi']);
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
  assert.equal(c.Cmd, null);
  const d = applyChanges({}, ['CMD ["a"]', 'ENTRYPOINT ["/e"]']);
  assert.deepEqual(d.Cmd, ['a']);
  assert.deepEqual(d.Entrypoint, ['/e']);
  const e = applyChanges({}, ['CMD [not json']);
  assert.deepEqual(e.Cmd, ['/bin/sh', '-c', '[not json']);
});

test('invalid change commands get Docker\'s error', () => {
  assert.throws(() => applyChanges({}, ['RUN echo']), /run is not a valid change command/);
  assert.throws(() => applyChanges({}, ['FOO bar']), /foo is not a valid change command/);
  assert.throws(() => applyChanges({}, ['EXPOSE abc']), /invalid containerPort: abc/);
  assert.throws(() => applyChanges({}, ['ENV']), /ENV requires at least one argument/);
});

test('HEALTHCHECK and ONBUILD', () => {
  const c = applyChanges({}, ['HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost', 'ONBUILD run echo']);
  assert.deepEqual(c.Healthcheck, { Interval: 30e9, Retries: 3, Test: ['CMD-SHELL', 'wget -q localhost'] });
  assert.deepEqual(c.OnBuild, ['RUN echo']);
  assert.deepEqual(applyChanges({}, ['HEALTHCHECK NONE']).Healthcheck, { Test: ['NONE'] });
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('500ms'), 500e6);
  assert.throws(() => parseGoDuration('5x'));
});

test('shellWords quoting and expansion', () => {
  const env = ['A=1', 'B=two words'];
  assert.deepEqual(shellWords(`x "$B" '$A' \\$A \${A} \${C:-dflt} \${A:+set}`, env), ['x', 'two words', '$A', '$A', '1', 'dflt', 'set']);
});
