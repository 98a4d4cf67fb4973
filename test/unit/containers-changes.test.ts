/** docker diff: an upper layer's entries (whiteouts, opaque folders) become Docker's changes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeChanges, statDifferent, type DiffStat, type DiffTree } from '../../src/engine/containers/changes.js';

type Node = { dir: Record<string, Node> } | { file: string; mode?: number; mtime?: bigint } | 'whiteout';

const DIR = 0o040755;
const FILE = 0o100644;

/** An in-memory tree; `opaque` names folders (joined by '/') marked opaque. */
function tree(root: Record<string, Node>, opaque: string[] = []): DiffTree {
  const at = (rel: readonly string[]): Node | undefined => {
    let n: Node | undefined = { dir: root };
    for (const c of rel) n = n !== undefined && typeof n === 'object' && 'dir' in n ? n.dir[c] : undefined;
    return n;
  };
  return {
    stat: async (rel) => {
      const n = at(rel);
      if (n === undefined) return undefined;
      const base = { uid: 0, gid: 0, rdev: 0, mtimeNs: 1_000_000_000n, whiteout: false };
      if (n === 'whiteout') return { ...base, mode: 0o020000, size: 0, whiteout: true };
      if ('dir' in n) return { ...base, mode: DIR, size: 4096 };
      return { ...base, mode: n.mode ?? FILE, size: n.file.length, mtimeNs: n.mtime ?? 1_000_000_000n } satisfies DiffStat;
    },
    list: async (rel) => {
      const n = at(rel);
      return n !== undefined && typeof n === 'object' && 'dir' in n ? Object.keys(n.dir) : [];
    },
    opaque: (rel) => opaque.includes(rel.join('/')),
  };
}

const image = tree({
  etc: { dir: { passwd: { file: 'root' }, group: { file: 'root' }, deep: { dir: { a: { file: 'a' } } } } },
  var: { dir: { spool: { dir: { mail: { dir: {} }, cron: { file: 'x' } } } } },
  bin: { dir: { sh: { file: 'busybox' } } },
  tmp: { dir: {} },
});

test('added files and their folders; a file deleted; parents reported modified before their content', async () => {
  const upper = tree({
    tmp: { dir: { x: { file: 'hi' } } },
    etc: { dir: { group: 'whiteout', new: { dir: { f: { file: '1' } } } } },
  });
  assert.deepEqual(await computeChanges(upper, image), [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/group', Kind: 2 },
    { Path: '/etc/new', Kind: 1 },
    { Path: '/etc/new/f', Kind: 1 },
    { Path: '/tmp', Kind: 0 },
    { Path: '/tmp/x', Kind: 1 },
  ]);
});

test('a copied-up file with the same stat is no change; content, mode or type changes are', async () => {
  const upper = tree({
    bin: { dir: { sh: { file: 'busybox' } } },
    etc: { dir: { passwd: { file: 'root2' }, group: { file: 'root', mode: 0o100600 }, deep: { file: 'now a file' } } },
  });
  assert.deepEqual(await computeChanges(upper, image), [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/deep', Kind: 0 },
    { Path: '/etc/group', Kind: 0 },
    { Path: '/etc/passwd', Kind: 0 },
  ]);
});

test('an opaque folder: what the image had there and it lacks is deleted', async () => {
  const upper = tree({ var: { dir: { spool: { dir: { other: { dir: {} } } } } } }, ['var/spool']);
  assert.deepEqual(await computeChanges(upper, image), [
    { Path: '/var', Kind: 0 },
    { Path: '/var/spool', Kind: 0 },
    { Path: '/var/spool/cron', Kind: 2 },
    { Path: '/var/spool/mail', Kind: 2 },
    { Path: '/var/spool/other', Kind: 1 },
  ]);
});

test('a deleted folder is one deletion; a whiteout of nothing is nothing; an empty layer has no changes', async () => {
  assert.deepEqual(await computeChanges(tree({ etc: { dir: { deep: 'whiteout', ghost: 'whiteout' } } }), image), [
    { Path: '/etc', Kind: 0 },
    { Path: '/etc/deep', Kind: 2 },
  ]);
  assert.deepEqual(await computeChanges(tree({}), image), []);
});

test("statDifferent: a folder's size and mtime do not count; a second without nanoseconds matches", () => {
  const f: DiffStat = { mode: FILE, uid: 0, gid: 0, rdev: 0, size: 1, mtimeNs: 5_000_000_000n, whiteout: false };
  assert.equal(statDifferent(f, { ...f, mtimeNs: 5_123_000_000n }), false);
  assert.equal(statDifferent({ ...f, mtimeNs: 5_100_000_000n }, { ...f, mtimeNs: 5_123_000_000n }), true);
  assert.equal(statDifferent({ ...f, mode: DIR }, { ...f, mode: DIR, size: 9, mtimeNs: 9n }), false);
  assert.equal(statDifferent(f, { ...f, uid: 1 }), true);
});
