import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageListFilter, referenceTargets } from '../../src/api/routes/image-filters.js';
import type { ImageRecord } from '../../src/engine/images/index.js';
import type { Digest } from '../../src/engine/images/config.js';
import { isBerthError } from '../../src/errors.js';
import { pathMatch } from '../../src/util/path-match.js';

test('path patterns match as Go path.Match does', () => {
  const table: [string, string, boolean][] = [
    ['busybox', 'busybox', true],
    ['busy*', 'busybox', true],
    ['busy*', 'busybox:latest', true],
    ['*', 'docker.io/library/busybox', false],
    ['*/*/busybox', 'docker.io/library/busybox', true],
    ['b?sybox', 'busybox', true],
    ['b?sybox', 'b/sybox', false],
    ['[a-c]usybox', 'busybox', true],
    ['[^a-c]usybox', 'busybox', false],
    ['[^a]', '/', true],
    ['mine:v[0-9]', 'mine:v1', true],
    ['mine:v[0-9]', 'mine:v10', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['[\\]]', ']', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
  ];
  for (const [pattern, name, want] of table) assert.equal(pathMatch(pattern, name), want, `${pattern} ~ ${name}`);
});

test('malformed patterns are errors, with Go\'s text', () => {
  for (const bad of ['[', '[]', '[a', 'a\\', '[-a]', '[a-]', 'x[]y', '[^]']) {
    assert.throws(() => pathMatch(bad, 'zzz'), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter' && e.message === 'syntax error in pattern', bad);
  }
});

test('a reference is matched in its familiar and full spellings', () => {
  assert.deepEqual(referenceTargets('busybox:latest'), ['busybox:latest', 'busybox', 'docker.io/library/busybox:latest', 'docker.io/library/busybox']);
  const digest = `sha256:${'ab'.repeat(32)}`;
  assert.deepEqual(referenceTargets(`localhost:5000/app@${digest}`), [`localhost:5000/app@${digest}`, 'localhost:5000/app', `localhost:5000/app@${digest}`, 'localhost:5000/app']);
});

let n = 0;
function image(created: string | undefined, repoTags: string[], labels?: Record<string, string>, repoDigests: string[] = []): ImageRecord {
  n++;
  return {
    id: `sha256:${n.toString(16).padStart(64, '0')}` as Digest,
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, ...(created ? { created } : {}), ...(labels ? { config: { Labels: labels } } : {}) },
    repoTags,
    repoDigests,
    size: 0,
    lastTagTime: undefined,
  };
}

const busybox = image('2024-01-01T00:00:00Z', ['busybox:1.36', 'busybox:latest', 'mine:v1']);
const app = image('2024-02-01T00:00:00Z', ['localhost:5000/team/app:v2'], { tier: 'web', owner: 'ops' });
const dangling = image('2024-03-01T00:00:00Z', [], { tier: 'web' });
const undated = image(undefined, ['old:1']);
const all = [busybox, app, dangling, undated];

function list(filters: Record<string, string[]>): string[][] {
  const byRef = new Map(all.flatMap((img) => img.repoTags.map((t) => [t, img] as const)));
  const keep = imageListFilter(filters, (ref) => {
    const img = byRef.get(ref.includes(':') ? ref : `${ref}:latest`);
    if (!img) throw new Error(`No such image: ${ref}`);
    return img;
  });
  return all.flatMap((img) => keep(img) ?? []).map((img) => img.repoTags);
}

test('no filters list every image with all its references', () => {
  assert.deepEqual(list({}), all.map((i) => i.repoTags));
});

test('reference filters keep matching images and only their matching references', () => {
  assert.deepEqual(list({ reference: ['busybox'] }), [['busybox:1.36', 'busybox:latest']]);
  assert.deepEqual(list({ reference: ['busybox:1.36'] }), [['busybox:1.36']]);
  assert.deepEqual(list({ reference: ['bu*'] }), [['busybox:1.36', 'busybox:latest']]);
  assert.deepEqual(list({ reference: ['docker.io/library/busybox'] }), [['busybox:1.36', 'busybox:latest']]);
  assert.deepEqual(list({ reference: ['*:v*'] }), [['mine:v1']]);
  assert.deepEqual(list({ reference: ['localhost:5000/*/app'] }), [['localhost:5000/team/app:v2']]);
  assert.deepEqual(list({ reference: ['busybox', 'mine'] }), [['busybox:1.36', 'busybox:latest', 'mine:v1']]);
  assert.deepEqual(list({ reference: ['nothing'] }), []);
});

test('dangling, label, before and since', () => {
  assert.deepEqual(list({ dangling: ['true'] }), [[]]);
  assert.deepEqual(list({ dangling: ['false'] }), [busybox.repoTags, app.repoTags, undated.repoTags]);
  assert.deepEqual(list({ label: ['tier'] }), [app.repoTags, []]);
  assert.deepEqual(list({ label: ['tier=web', 'owner=ops'] }), [app.repoTags]);
  assert.deepEqual(list({ label: ['owner=dev'] }), []);
  assert.deepEqual(list({ before: ['localhost:5000/team/app:v2'] }), [busybox.repoTags]);
  assert.deepEqual(list({ since: ['busybox'] }), [app.repoTags, []]);
  assert.deepEqual(list({ since: ['busybox'], before: ['old:1'] }), [app.repoTags, []]);
  assert.deepEqual(list({ until: ['2024-01-15T00:00:00Z'] }), [busybox.repoTags]);
});

test('unknown keys and bad values get Docker\'s errors', () => {
  const fails = (f: Record<string, string[]>, message: string): void => {
    assert.throws(() => list(f), (e: unknown) => isBerthError(e) && e.kind === 'InvalidParameter' && e.message === message);
  };
  fails({ x: ['1'] }, "invalid filter 'x'");
  fails({ dangling: ['maybe'] }, "invalid filter 'dangling=[maybe]'");
  fails({ dangling: ['true', 'false'] }, "invalid filter 'dangling=[true false]'");
  fails({ dangling: [] }, "invalid filter 'dangling'");
  fails({ reference: ['[x'] }, 'syntax error in pattern');
  fails({ until: ['soon'] }, 'invalid value for \'until\' filter: failed to parse value as time or duration: "soon"');
  assert.throws(() => list({ before: ['nope'] }), /No such image: nope/);
});
