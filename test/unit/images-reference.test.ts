import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  familiarName,
  familiarString,
  normalizeTagged,
  parseReference,
  splitRepoTag,
  withDefaultTag,
} from '../../src/engine/images/reference.js';
import { isBerthError } from '../../src/errors.js';

const digest = `sha256:${'ab'.repeat(32)}`;

test('references normalise like Docker', () => {
  const table: [string, string, string][] = [
    // input, familiar tagged, full name
    ['busybox', 'busybox:latest', 'docker.io/library/busybox'],
    ['busybox:1.36', 'busybox:1.36', 'docker.io/library/busybox'],
    ['docker.io/library/busybox:1.36', 'busybox:1.36', 'docker.io/library/busybox'],
    ['index.docker.io/library/busybox', 'busybox:latest', 'docker.io/library/busybox'],
    ['library/busybox', 'busybox:latest', 'docker.io/library/busybox'],
    ['user/app:v1', 'user/app:v1', 'docker.io/user/app'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app'],
    ['localhost:5000/a/b:t', 'localhost:5000/a/b:t', 'localhost:5000/a/b'],
    ['registry.example.com/x', 'registry.example.com/x:latest', 'registry.example.com/x'],
    [`busybox@${digest}`, `busybox@${digest}`, 'docker.io/library/busybox'],
    ['my_app-x.y__z', 'my_app-x.y__z:latest', 'docker.io/library/my_app-x.y__z'],
    ['[::1]:5000/app', '[::1]:5000/app:latest', '[::1]:5000/app'],
  ];
  for (const [input, familiar, full] of table) {
    const ref = parseReference(input);
    assert.equal(familiarString(withDefaultTag(ref)), familiar, input);
    assert.equal(`${ref.domain}/${ref.path}`, full, input);
    assert.equal(normalizeTagged(input), familiar, input);
  }
  assert.equal(familiarName(parseReference('busybox:1')), 'busybox');
});

test('bad references get Docker errors', () => {
  const bad: [string, RegExp][] = [
    ['', /invalid reference format/],
    ['Busybox', /^invalid reference format: repository name \(library\/Busybox\) must be lowercase$/],
    ['busybox:', /^invalid reference format$/],
    ['-busybox', /^invalid reference format$/],
    ['busy box', /^invalid reference format$/],
    ['busybox:la/test', /^invalid reference format$/],
    ['../etc/passwd', /^invalid reference format$/],
    ['a/../b', /^invalid reference format$/],
    ['/busybox', /^invalid reference format$/],
    ['busybox//x', /^invalid reference format$/],
    [`busybox:${'t'.repeat(129)}`, /^invalid reference format$/],
    ['busybox@sha256:abc', /invalid reference format/],
    ['ab'.repeat(32), /cannot specify 64-byte hexadecimal strings/],
    [`${'a'.repeat(250)}/${'b'.repeat(10)}`, /must not be more than 255 characters/],
  ];
  for (const [input, re] of bad) {
    assert.throws(
      () => parseReference(input),
      (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter' && re.test(e.message),
      JSON.stringify(input),
    );
  }
});

test('splitRepoTag gives docker images columns', () => {
  assert.deepEqual(splitRepoTag('busybox:latest'), { repository: 'busybox', tag: 'latest' });
  assert.deepEqual(splitRepoTag('localhost:5000/x:1'), { repository: 'localhost:5000/x', tag: '1' });
  assert.deepEqual(splitRepoTag('localhost:5000/x'), { repository: 'localhost:5000/x', tag: '<none>' });
});
