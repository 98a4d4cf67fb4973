import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cacheKey, findCached, type CacheCandidate } from '../../src/engine/build/cache.js';
import { IgnoreMatcher } from '../../src/engine/build/ignore.js';
import type { Digest } from '../../src/engine/images/config.js';

const id = (n: number): Digest => `sha256:${String(n).repeat(64).slice(0, 64)}` as Digest;
const probe = { Cmd: ['/bin/sh', '-c', '#(nop) ENV a=b'], Env: ['PATH=/bin', 'a=b'] };

test('the cache key is the compared config fields; absent and empty are the same', () => {
  assert.equal(cacheKey({ Cmd: ['x'] }), cacheKey({ Cmd: ['x'], Env: [], Labels: {}, Entrypoint: null }));
  assert.notEqual(cacheKey({ Cmd: ['x'] }), cacheKey({ Cmd: ['x'], WorkingDir: '/a' }));
  assert.equal(cacheKey({ Labels: { a: '1', b: '2' } }), cacheKey({ Labels: { b: '2', a: '1' } }));
  assert.notEqual(cacheKey({ Cmd: ['|1', 'V=1', '/bin/sh', '-c', 'make'] }), cacheKey({ Cmd: ['|1', 'V=2', '/bin/sh', '-c', 'make'] }));
});

test('a hit needs the same parent and container config; the newest of several wins', () => {
  const cands: CacheCandidate[] = [
    { id: id(1), parent: id(9), created: '2026-01-01T00:00:00Z', containerConfig: probe },
    { id: id(2), parent: id(9), created: '2026-02-01T00:00:00Z', containerConfig: { ...probe } },
    { id: id(3), parent: id(8), created: '2026-03-01T00:00:00Z', containerConfig: probe },
    { id: id(4), parent: undefined, created: '2026-03-01T00:00:00Z', containerConfig: probe },
    { id: id(5), parent: id(9), created: '2026-04-01T00:00:00Z', containerConfig: undefined },
  ];
  assert.equal(findCached(cands, id(9), probe), id(2));
  assert.equal(findCached(cands, undefined, probe), id(4), 'FROM scratch: images without a parent');
  assert.equal(findCached(cands, id(9), { ...probe, Env: ['PATH=/bin', 'a=c'] }), undefined);
  assert.equal(findCached(cands, id(7), probe), undefined);
});

test('.dockerignore: patterns, parents, ** and ! exceptions', () => {
  const m = new IgnoreMatcher('# comment\n/secret.txt\nlogs\n**/*.tmp\n!keep.tmp\ndocs/*/draft\n*.md\n!README.md\n');
  assert.equal(m.excludes('secret.txt'), true);
  assert.equal(m.excludes('logs/a/b.log'), true, 'below an excluded folder');
  assert.equal(m.excludes('deep/x/y.tmp'), true);
  assert.equal(m.excludes('a.tmp'), true);
  assert.equal(m.excludes('keep.tmp'), false);
  assert.equal(m.excludes('docs/v1/draft'), true);
  assert.equal(m.excludes('docs/v1/x/draft'), false, '* stays within one element');
  assert.equal(m.excludes('NOTES.md'), true);
  assert.equal(m.excludes('README.md'), false);
  assert.equal(m.excludes('src/main.c'), false);
  assert.equal(new IgnoreMatcher(undefined).excludes('x'), false);
});
