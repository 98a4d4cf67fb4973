import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDockerConfig, mergeSpecWithImage } from '../../src/engine/containers/config-merge.js';
import type { ImageRunConfig } from '../../src/engine/images/index.js';

const image: ImageRunConfig = {
  User: '1000',
  ExposedPorts: { '8080/tcp': {} },
  Env: ['PATH=/bin', 'FROM_IMAGE=1'],
  Cmd: ['serve'],
  Entrypoint: ['/entry'],
  Volumes: { '/vv': {} },
  WorkingDir: '/srv',
  Labels: { tier: 'web', owner: 'image' },
  StopSignal: 'SIGQUIT',
  Healthcheck: { Test: ['CMD', 'true'], Interval: 5, Retries: 3 },
};

/** What the docker CLI sends for `docker create IMAGE` with no options. */
const bare = { Image: 'x', Env: [], Cmd: null, Entrypoint: null, ExposedPorts: {}, Volumes: {}, WorkingDir: '', User: '', Labels: {} };

test('an empty Config takes everything from the image', () => {
  const c = mergeDockerConfig(bare, image);
  assert.deepEqual(c.ExposedPorts, { '8080/tcp': {} });
  assert.deepEqual(c.Volumes, { '/vv': {} });
  assert.deepEqual(c.Env, ['PATH=/bin', 'FROM_IMAGE=1']);
  assert.deepEqual(c.Cmd, ['serve']);
  assert.deepEqual(c.Entrypoint, ['/entry']);
  assert.equal(c.WorkingDir, '/srv');
  assert.equal(c.User, '1000');
  assert.deepEqual(c.Labels, { tier: 'web', owner: 'image' });
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 5, Retries: 3 });
});

test('the user\'s values win; sets, env and labels combine', () => {
  const c = mergeDockerConfig(
    { ...bare, ExposedPorts: { '80/tcp': {} }, Volumes: { '/anon': {} }, Env: ['FROM_IMAGE=user', 'MINE=1'], Cmd: ['ls'], WorkingDir: '/w', User: 'root', Labels: { owner: 'me' }, StopSignal: 'SIGINT', Healthcheck: { Interval: 9, Retries: 0 } },
    image,
  );
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '8080/tcp': {} });
  assert.deepEqual(c.Volumes, { '/anon': {}, '/vv': {} });
  assert.deepEqual(c.Env, ['FROM_IMAGE=user', 'MINE=1', 'PATH=/bin']);
  assert.deepEqual(c.Cmd, ['ls']);
  assert.deepEqual(c.Entrypoint, ['/entry']);
  assert.equal(c.WorkingDir, '/w');
  assert.equal(c.User, 'root');
  assert.deepEqual(c.Labels, { tier: 'web', owner: 'me' });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'], Interval: 9, Retries: 3 });
});

test('an entrypoint given drops the image\'s Cmd; an empty one drops the image\'s entrypoint too', () => {
  assert.deepEqual(mergeDockerConfig({ ...bare, Entrypoint: ['/mine'] }, image).Cmd, null);
  const empty = mergeDockerConfig({ ...bare, Entrypoint: [] }, image);
  assert.deepEqual(empty.Entrypoint, []);
  assert.deepEqual(empty.Cmd, ['serve']);
});

test('an image without a config leaves Docker\'s empty values', () => {
  const c = mergeDockerConfig(bare, undefined);
  assert.equal('ExposedPorts' in c, false);
  assert.equal(c.Volumes, null);
  assert.equal(c.Env, null);
  assert.deepEqual(c.Labels, {});
});

test('the typed spec gets the same ports, labels, volumes, stop signal and health check', () => {
  const spec = mergeSpecWithImage({ exposedPorts: ['80/tcp'], labels: { owner: 'me' }, volumes: ['/anon', '/vv'], stopSignal: '' }, { ...image, Volumes: { '/vv/': {}, 'rel': {} } });
  assert.deepEqual(spec, { exposedPorts: ['80/tcp', '8080/tcp'], labels: { tier: 'web', owner: 'me' }, volumes: ['/anon', '/vv', '/rel'], stopSignal: 'SIGQUIT', healthcheck: image.Healthcheck });
  const none = { exposedPorts: [], labels: {}, volumes: [], stopSignal: '' };
  assert.equal(mergeSpecWithImage(none, undefined).stopSignal, 'SIGTERM');
  assert.equal(mergeSpecWithImage({ ...none, stopSignal: 'SIGUSR1' }, image).stopSignal, 'SIGUSR1');
});

test('the health check: the user\'s fields over the image\'s in both views; NONE (--no-healthcheck) keeps the image\'s timings', () => {
  const user = { Test: ['NONE'] };
  assert.equal(JSON.stringify(mergeDockerConfig({ ...bare, Healthcheck: user }, image).Healthcheck), '{"Test":["NONE"],"Interval":5,"Retries":3}');
  const none = { exposedPorts: [], labels: {}, volumes: [], stopSignal: '' };
  assert.deepEqual(mergeSpecWithImage({ ...none, healthcheck: user }, image).healthcheck, { Test: ['NONE'], Interval: 5, Retries: 3 });
  assert.equal('Healthcheck' in mergeDockerConfig(bare, undefined), false, 'none on either side: left out, as Go\'s omitempty');
  assert.equal('healthcheck' in mergeSpecWithImage(none, undefined), false);
});
