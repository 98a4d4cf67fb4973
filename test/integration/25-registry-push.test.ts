/**
 * docker push to Debian's docker-registry, checked by skopeo (a client berth did not
 * write reads back and verifies every blob), then pulled back and run: Docker's
 * progress, layers already there, a layer mounted from another repository, every tag
 * of a repository, and Docker's errors for what cannot be pushed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { World } from '../lib/world.js';
import { registryMissing, TestRegistry } from '../lib/registry.js';

const missing = registryMissing();
const REG = '127.0.0.1:5000';

describe('push to a registry', { skip: missing ?? false }, () => {
  let w: World;
  let reg: TestRegistry;

  before(async () => {
    w = await World.create();
    reg = await TestRegistry.start(w, 'push');
    await w.dockerOk('pull', 'busybox');
    await w.dockerOk('run', '--name', 'maker', 'busybox', 'sh', '-c', 'echo pushed-by-berth > /hello.txt');
    await w.dockerOk('commit', '-c', 'CMD ["cat", "/hello.txt"]', 'maker', `${REG}/team/pushed:1`);
    await w.dockerOk('rm', 'maker');
  });

  after(async () => {
    await w?.dispose();
  });

  it('pushes with Docker\'s progress; skopeo reads it back and checks every blob; berth pulls it back and runs it', async () => {
    const out = await w.dockerOk('push', `${REG}/team/pushed:1`);
    assert.match(out, new RegExp(`The push refers to repository \\[${REG}/team/pushed\\]`));
    assert.match(out, /[a-f0-9]{12}: Pushed/);
    const m = /1: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(out);
    assert.ok(m, out);
    const inspect = JSON.parse(await reg.skopeo('inspect', '--tls-verify=false', `docker://${REG}/team/pushed:1`)) as { Digest: string; Layers: string[] };
    assert.equal(inspect.Digest, m[1]);
    assert.equal(inspect.Layers.length, 2);
    // skopeo verifies each blob's digest as it copies.
    await reg.skopeo('copy', '--src-tls-verify=false', `docker://${REG}/team/pushed:1`, `oci:${path.join(w.dir, 'oci-copy')}:pushed`);
    const digests = JSON.parse(await w.dockerOk('image', 'inspect', '--format', '{{json .RepoDigests}}', `${REG}/team/pushed:1`)) as string[];
    assert.deepEqual(digests, [`${REG}/team/pushed@${m[1]}`]);
    await w.dockerOk('rmi', `${REG}/team/pushed:1`);
    await w.dockerOk('pull', `${REG}/team/pushed:1`);
    assert.equal(await w.dockerOk('run', '--rm', `${REG}/team/pushed:1`), 'pushed-by-berth');
  });

  it('pushing again finds every layer there; another repository mounts them', async () => {
    const again = await w.dockerOk('push', `${REG}/team/pushed:1`);
    assert.doesNotMatch(again, /: Pushed/);
    assert.match(again, /Layer already exists/);
    await w.dockerOk('tag', `${REG}/team/pushed:1`, `${REG}/other/copy:1`);
    const mounted = await w.dockerOk('push', `${REG}/other/copy:1`);
    assert.match(mounted, /Mounted from team\/pushed/);
    assert.doesNotMatch(mounted, /: Pushed/);
    await reg.skopeo('inspect', '--tls-verify=false', `docker://${REG}/other/copy:1`);
  });

  it('--all-tags pushes every tag of the repository', async () => {
    await w.dockerOk('tag', `${REG}/team/pushed:1`, `${REG}/team/pushed:2`);
    const out = await w.dockerOk('push', '--all-tags', `${REG}/team/pushed`);
    assert.match(out, /1: digest: sha256:/);
    assert.match(out, /2: digest: sha256:/);
    const tags = JSON.parse(await reg.skopeo('list-tags', '--tls-verify=false', `docker://${REG}/team/pushed`)) as { Tags: string[] };
    assert.deepEqual(tags.Tags.sort(), ['1', '2']);
  });

  it('a tag that does not exist, a repository with no tag: Docker\'s errors', async () => {
    const r = await w.docker('push', `${REG}/team/pushed:nope`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`tag does not exist: ${REG}/team/pushed:nope`));
    const none = await w.docker('push', '--all-tags', `${REG}/team/nothing`);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, new RegExp(`An image does not exist locally with the tag: ${REG}/team/nothing`));
  });
});
