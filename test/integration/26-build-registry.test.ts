/**
 * docker build whose FROM names an image in a registry that wants credentials: the
 * builder pulls it with the credentials the CLI sends in X-Registry-Config (those of
 * `docker login`), and without them fails with the registry's answer. The image is
 * built and pushed by berth first.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { World } from '../lib/world.js';
import { dockerAs, registryMissing, TestRegistry } from '../lib/registry.js';

const missing = registryMissing();
const BASIC = '127.0.0.1:5012';

describe('docker build FROM a registry with credentials', { skip: missing ?? false }, () => {
  let w: World;

  before(async () => {
    w = await World.create();
    await w.dockerOk('pull', 'busybox');
  });

  after(async () => {
    await w?.dispose();
  });

  it('pulls the base image with the login the CLI sends, and fails without it', async () => {
    await TestRegistry.start(w, 'basic', { addr: BASIC, users: { alice: 'wonderland' } });
    const cfg = path.join(w.dir, 'cli-alice');
    const ctxDir = path.join(w.dir, 'ctx');
    fs.mkdirSync(ctxDir);
    fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), 'FROM busybox\nRUN echo secret-base > /base.txt\n');
    await w.dockerOk('build', '-t', `${BASIC}/team/base:1`, ctxDir);
    const login = await dockerAs(w, cfg, ['login', '-u', 'alice', '--password-stdin', BASIC], 'wonderland\n');
    assert.equal(login.code, 0, login.stderr);
    const pushed = await dockerAs(w, cfg, ['push', `${BASIC}/team/base:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    await w.dockerOk('rmi', `${BASIC}/team/base:1`);

    fs.writeFileSync(path.join(ctxDir, 'Dockerfile'), `FROM ${BASIC}/team/base:1\nRUN cat /base.txt\n`);
    const anonymous = await dockerAs(w, path.join(w.dir, 'cli-nobody'), ['build', ctxDir]);
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr, /no basic auth credentials/);
    const built = await dockerAs(w, cfg, ['build', '-t', 'derived:1', ctxDir]);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /Step 1\/2 : FROM 127\.0\.0\.1:5012\/team\/base:1\n/);
    assert.match(built.stdout, /Pulling from team\/base|Pull complete|Downloaded newer image/);
    assert.match(built.stdout, / ---> Running in [0-9a-f]{12}\nsecret-base\n/);
    assert.match(built.stdout, /Successfully tagged derived:1/);
  });
});
