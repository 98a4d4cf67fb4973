/** berth's Perl helpers live in libexec/, never in TypeScript strings, and perl accepts each. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { libexecPath } from '../../src/util/libexec.js';

const run = promisify(execFile);
const dir = libexecPath('');

async function tsFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

describe('libexec', () => {
  it('holds Perl programs that perl -c accepts', async () => {
    const programs = (await readdir(dir)).filter((f) => f.endsWith('.pl'));
    assert.ok(programs.length >= 4, `programs in ${dir}: ${programs.join(', ')}`);
    for (const p of programs) {
      const { stderr } = await run('perl', ['-c', join(dir, p)]);
      assert.match(stderr, /syntax OK/, p);
    }
  });

  it('is where src runs perl from: no program passed to perl -e', async () => {
    const src = libexecPath('../src');
    for (const f of await tsFiles(src)) {
      const text = await readFile(f, 'utf8');
      assert.doesNotMatch(text, /'perl',\s*\[\s*'-e'/, f);
    }
  });
});
