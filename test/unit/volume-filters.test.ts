import { test } from 'node:test';
import assert from 'node:assert/strict';
import { volumeListFilter } from '../../src/api/routes/volume-filters.js';
import type { Volume } from '../../src/engine/volumes/store.js';
import { isBerthError } from '../../src/errors.js';

const vol = (name: string, labels: Record<string, string> = {}): Volume => ({ name, driver: 'local', mountpoint: `/v/${name}/_data`, createdAt: '2024-01-01T00:00:00Z', labels, options: {} });
const volumes = [vol('web-data', { env: 'prod', tier: 'web' }), vol('db-data', { env: 'dev' }), vol('scratch'), vol('myweb1')];
const used = new Set(['web-data', 'db-data']);

function names(filters: Record<string, string[]>): string[] {
  return volumes.filter(volumeListFilter(filters, (n) => used.has(n))).map((v) => v.name);
}

function refused(filters: Record<string, string[]>): string {
  try {
    volumeListFilter(filters, () => false);
  } catch (e: unknown) {
    assert.ok(isBerthError(e) && e.kind === 'InvalidParameter', String(e));
    return e.message;
  }
  assert.fail(`accepted ${JSON.stringify(filters)}`);
}

test('no filters keep every volume', () => {
  assert.deepEqual(names({}), ['web-data', 'db-data', 'scratch', 'myweb1']);
});

test('dangling: volumes no container refers to, or only those referred to', () => {
  assert.deepEqual(names({ dangling: ['true'] }), ['scratch', 'myweb1']);
  assert.deepEqual(names({ dangling: ['1'] }), ['scratch', 'myweb1']);
  assert.deepEqual(names({ dangling: ['false'] }), ['web-data', 'db-data']);
  assert.deepEqual(names({ dangling: ['0'] }), ['web-data', 'db-data']);
});

test('name: exact, or a regular expression found in the name', () => {
  assert.deepEqual(names({ name: ['scratch'] }), ['scratch']);
  assert.deepEqual(names({ name: ['web'] }), ['web-data', 'myweb1']);
  assert.deepEqual(names({ name: ['^web'] }), ['web-data']);
  assert.deepEqual(names({ name: ['data$', 'scr'] }), ['web-data', 'db-data', 'scratch']);
  assert.deepEqual(names({ name: ['(?i)SCRATCH'] }), ['scratch']);
  assert.deepEqual(names({ name: ['['] }), [], 'an invalid expression matches only exactly');
});

test('driver: exact names', () => {
  assert.equal(names({ driver: ['local'] }).length, 4);
  assert.deepEqual(names({ driver: ['nfs'] }), []);
  assert.equal(names({ driver: ['nfs', 'local'] }).length, 4);
});

test('label: every key or key=value; a volume without labels never matches', () => {
  assert.deepEqual(names({ label: ['env'] }), ['web-data', 'db-data']);
  assert.deepEqual(names({ label: ['env=prod'] }), ['web-data']);
  assert.deepEqual(names({ label: ['env', 'tier=web'] }), ['web-data']);
  assert.deepEqual(names({ label: ['env=qa'] }), []);
});

test('filters combine with and', () => {
  assert.deepEqual(names({ label: ['env'], dangling: ['false'], name: ['db'] }), ['db-data']);
});

test("refuses keys Docker's list does not take, and a bad dangling value, in dockerd's words", () => {
  assert.equal(refused({ foo: ['bar'] }), "invalid filter 'foo'");
  assert.equal(refused({ 'label!': ['env'] }), "invalid filter 'label!'");
  assert.equal(refused({ dangling: ['maybe'] }), "invalid filter 'dangling=[maybe]'");
  assert.equal(refused({ dangling: ['true', 'false'] }), "invalid filter 'dangling=[true false]'");
});
