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
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import { packTar } from '../../src/engine/images/tar-write.js';
import { sh, World } from '../lib/world.js';

/** POST /build with a tar body; the JSON stream's messages. */
function postBuild(w: World, query: string, files: Record<string, string>): Promise<{ status: number; messages: Record<string, unknown>[]; text: string }> {
  const body = packTar(Object.entries(files).map(([p, text]) => ({ path: p, type: 'file' as const, mode: 0o644, data: Buffer.from(text) })));
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: w.sock, method: 'POST', path: `/v1.44/build?${query}`, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => {
        const messages = text.split('\n').filter((l) => l.trim() !== '').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return { raw: l }; } });
        resolve({ status: res.statusCode ?? 0, messages, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

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

  it('rebuilds everything with --no-cache and stops at --target', async () => {
    const dir = ctx({ Dockerfile: MULTI_STAGE, 'hello.txt': 'hello\n', 'dir/a': 'a' });
    await w.dockerOk('build', '-t', 'nc:1', dir);
    const r = await w.docker('build', '--no-cache', '-t', 'nc:2', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /Using cache/);
    assert.match(r.stdout, /Running in/);
    const t = await w.docker('build', '--target', 'builder', '-t', 'stage:1', dir);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /Step 5\/5 : RUN tr/);
    assert.doesNotMatch(t.stdout, /FROM busybox\n/);
    assert.equal(await w.dockerOk('run', '--rm', 'stage:1', 'cat', '/src/shout.txt'), 'HELLO');
    const bad = await w.docker('build', '--target', 'nope', dir);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /failed to reach build target nope in Dockerfile/);
  });

  it("fails a RUN with Docker's text and tags nothing", async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN false\nRUN echo never\n' });
    const r = await w.docker('build', '-t', 'broken:1', dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /Step 3\/4 : RUN false\n ---> Running in [0-9a-f]{12}\n/);
    assert.match(r.stderr, /The command '\/bin\/sh -c false' returned a non-zero code: 1/);
    assert.doesNotMatch(r.stdout, /never/);
    assert.notEqual((await w.docker('image', 'inspect', 'broken:1')).code, 0);
    // As Docker (rm without force-rm), the failed step's container stays for a look inside.
    assert.equal((await w.dockerOk('ps', '-aq', '--filter', 'status=exited')).split('\n').filter(Boolean).length, 1);
    await w.dockerOk('container', 'prune', '-f');
    const forced = await w.docker('build', '--force-rm', dir);
    assert.equal(forced.code, 1);
    assert.equal(await w.dockerOk('ps', '-aq'), '');
    const unknown = await w.docker('build', ctx({ Dockerfile: 'FROM busybox\nFOO bar\n' }));
    assert.match(unknown.stderr, /dockerfile parse error on line 2: unknown instruction: FOO/);
    const missing = await w.docker('build', ctx({ Dockerfile: 'FROM busybox\nCOPY nope.txt /\n' }));
    assert.match(missing.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat nope\.txt: file does not exist/);
  });

  it('leaves out what .dockerignore names', async () => {
    const files = {
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\nCMD ["sh", "-c", "cd /ctx && find . | sort"]\n',
      '.dockerignore': '# secrets stay home\nsecret.txt\nlogs\n*.tmp\n!keep.tmp\n',
      'secret.txt': 's',
      'logs/a.log': 'l',
      'a.tmp': 't',
      'keep.tmp': 'k',
      'src/main.c': 'int main;',
    };
    const dir = ctx(files);
    await w.dockerOk('build', '-t', 'ign:1', dir);
    assert.equal(await w.dockerOk('run', '--rm', 'ign:1'), ['.', './.dockerignore', './Dockerfile', './keep.tmp', './src', './src/main.c'].join('\n'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM busybox\nCOPY secret.txt /\n');
    const r = await w.docker('build', dir);
    assert.match(r.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat secret\.txt: file does not exist/);
  });

  it('sets the config instructions, build args, labels, and -f from outside the context', async () => {
    const dir = ctx({
      'app.txt': 'x',
      'tree/one': '1',
    });
    const tarDir = ctx({ 'inner/file.txt': 'inside a tar' });
    await w.dockerOk('run', '--rm', '-v', `${tarDir}:/t`, 'busybox', 'tar', '-czf', '/t/pack.tar.gz', '-C', '/t', 'inner');
    fs.copyFileSync(path.join(tarDir, 'pack.tar.gz'), path.join(dir, 'pack.tar.gz'));
    const dockerfile = path.join(ctx({}), 'Build.df');
    fs.writeFileSync(
      dockerfile,
      [
        '# escape=`',
        'FROM busybox',
        'ARG VERSION=0.1',
        'ARG UNSET',
        'ENV APP=/opt/app `',
        '    MODE=${MODE:-prod}',
        'LABEL org.example.version=$VERSION "with space"="a b"',
        'WORKDIR ${APP}',
        'COPY --chown=1000:1000 app.txt tree ./',
        'ADD pack.tar.gz /unpacked/',
        'RUN echo "v=$VERSION unset=${UNSET:-none}" > version && echo runner:x:1001:1001::/:/bin/sh >> /etc/passwd',
        'USER runner',
        'EXPOSE 8080 53/udp',
        'VOLUME /data',
        'STOPSIGNAL SIGUSR1',
        'HEALTHCHECK --interval=5s CMD true',
        'ENTRYPOINT ["sh", "-c"]',
        'CMD ["cat version; stat -c %u:%g app.txt one; cat /unpacked/inner/file.txt"]',
        '',
      ].join('\n'),
    );
    const r = await w.docker('build', '-f', dockerfile, '--build-arg', 'VERSION=2.0', '--build-arg', 'EXTRA=1', '--label', 'built.by=test', '-t', 'cfg:1', dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\[Warning\] One or more build-args \[EXTRA\] were not consumed/);
    assert.match(r.stdout, /Step 17\/17 : LABEL built\.by=test\n/, 'a --label is a LABEL step at the end, as dockerd adds it');
    assert.equal(await w.dockerOk('run', '--rm', 'cfg:1'), 'v=2.0 unset=none\n1000:1000\n1000:1000\ninside a tar');
    const cfg = JSON.parse(await w.dockerOk('image', 'inspect', '--format', '{{json .Config}}', 'cfg:1')) as Record<string, unknown>;
    assert.deepEqual(cfg.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'APP=/opt/app', 'MODE=prod']);
    assert.deepEqual(cfg.Labels, { 'org.example.version': '2.0', 'with space': 'a b', 'built.by': 'test' });
    assert.deepEqual(cfg.ExposedPorts, { '53/udp': {}, '8080/tcp': {} });
    assert.equal(cfg.User, 'runner');
    assert.equal(cfg.WorkingDir, '/opt/app');
    assert.deepEqual(cfg.Volumes, { '/data': {} });
    assert.equal(cfg.StopSignal, 'SIGUSR1');
    assert.deepEqual(cfg.Entrypoint, ['sh', '-c']);
    assert.deepEqual((cfg.Healthcheck as { Test: string[] }).Test, ['CMD-SHELL', 'true']);
    const history = await w.dockerOk('history', '--no-trunc', '--format', '{{.Size}} {{.CreatedBy}}', 'cfg:1');
    assert.match(history, /^0B \/bin\/sh -c #\(nop\) CMD/m);
    assert.match(history, /\|1 VERSION=2\.0 \/bin\/sh -c echo/);
  });

  it("streams docker-py's messages: aux ID, errorDetail with the exit code, a bare Dockerfile body, /_ping's builder", async () => {
    const ok = await postBuild(w, 't=raw:1&q=0', { Dockerfile: 'FROM busybox\nRUN echo raw\n' });
    assert.equal(ok.status, 200);
    const aux = ok.messages.find((m) => 'aux' in m) as { aux: { ID: string } } | undefined;
    assert.match(aux?.aux.ID ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.ok(ok.messages.some((m) => m.stream === 'raw\n'), ok.text);
    assert.ok(ok.messages.some((m) => m.stream === 'Successfully tagged raw:1\n'), ok.text);
    const stages = await postBuild(w, '', { Dockerfile: 'FROM scratch AS empty\nLABEL a=b\nFROM busybox\nCOPY --from=empty / /\n', '.keep': '' });
    assert.equal(stages.messages.filter((m) => 'aux' in m).length, 2, 'an aux ID per stage, as dockerd emits');
    assert.ok(stages.messages.some((m) => m.stream === ' ---> \n'), 'FROM scratch has no image ID yet');
    const quiet = await postBuild(w, 'q=1', { Dockerfile: 'FROM busybox\nRUN echo raw\n' });
    assert.deepEqual(quiet.messages.map((m) => m.stream).filter(Boolean), [`${aux?.aux.ID ?? ''}\n`]);
    const failed = await postBuild(w, '', { Dockerfile: 'FROM busybox\nRUN exit 3\n' });
    assert.deepEqual(failed.messages[failed.messages.length - 1], {
      errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" },
      error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
    });
    const bad = await postBuild(w, 'dockerfile=Nope', { Dockerfile: 'FROM busybox\n' });
    assert.equal(bad.status, 404);
    assert.match(bad.text, /Cannot locate specified Dockerfile: Nope/);
    const ping = await new Promise<string | undefined>((resolve, reject) => {
      http.get({ socketPath: w.sock, path: '/_ping' }, (res) => {
        res.resume();
        resolve(res.headers['builder-version'] as string | undefined);
      }).on('error', reject);
    });
    assert.equal(ping, '1');
  });

  it("builds docker-compose's build: sections, through the CLI and through docker-py, and reads a Dockerfile from stdin", async () => {
    const dir = ctx({
      'docker-compose.yml': ['version: "3.8"', 'services:', '  web:', '    build:', '      context: ./web', '      args:', '        GREETING: compose', '    image: compose-web:1', '    command: ["cat", "/greeting"]', ''].join('\n'),
      'web/Dockerfile': 'FROM busybox\nARG GREETING=none\nRUN echo "$GREETING built" > /greeting\n',
    });
    for (const cliBuild of ['1', '0']) {
      const env = { ...process.env, DOCKER_HOST: `unix://${w.sock}`, COMPOSE_DOCKER_CLI_BUILD: cliBuild };
      const built = await sh('docker-compose', ['--project-directory', dir, '-f', path.join(dir, 'docker-compose.yml'), 'build', '--no-cache'], { env });
      assert.equal(built.code, 0, built.stderr + built.stdout);
      assert.match(built.stdout + built.stderr, /Successfully tagged compose-web:1/);
      assert.equal(await w.dockerOk('run', '--rm', 'compose-web:1', 'cat', '/greeting'), 'compose built');
    }
    const stdin = await sh('docker', ['build', '-q', '-t', 'stdin:1', '-'], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` }, input: 'FROM busybox\nCMD ["echo", "from stdin"]\n' });
    assert.equal(stdin.code, 0, stdin.stderr);
    assert.match(stdin.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    assert.equal(await w.dockerOk('run', '--rm', 'stdin:1'), 'from stdin');
  });

  it('stops a build whose client goes away (Ctrl-C): its RUN container is killed and removed', async () => {
    await w.dockerOk('container', 'prune', '-f'); // failed steps of earlier builds keep their containers, as in Docker
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\nRUN echo never\n' });
    const cli = spawn('docker', ['build', '-t', 'cancelled:1', dir], { env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no RUN output: ${out}`)), 30_000);
      cli.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('started\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const t0 = Date.now();
    cli.kill('SIGINT');
    let left = 'x';
    while (left !== '' && Date.now() - t0 < 15_000) {
      await new Promise((r) => setTimeout(r, 200));
      left = await w.dockerOk('ps', '-aq');
    }
    assert.equal(left, '', 'the RUN container is gone');
    assert.ok(Date.now() - t0 < 15_000);
    assert.notEqual((await w.docker('image', 'inspect', 'cancelled:1')).code, 0);
  });

  it("rmi of a built image removes its untagged intermediate images, as dockerd prunes parents (not with noprune)", async () => {
    const before = (await w.dockerOk('images', '-aq')).split('\n').length;
    const dir = ctx({ Dockerfile: 'FROM busybox\nENV STEP=1\nRUN echo one > /one\nLABEL tagged=no\nCMD ["cat", "/one"]\n' });
    await w.dockerOk('build', '--no-cache', '-t', 'chain:1', dir);
    assert.equal((await w.dockerOk('images', '-aq')).split('\n').length, before + 4);
    const out = await w.dockerOk('rmi', 'chain:1');
    assert.equal((out.match(/^Deleted: sha256:/gm) ?? []).length, 5, out);
    assert.equal((await w.dockerOk('images', '-aq')).split('\n').length, before);
    await w.dockerOk('build', '--no-cache', '-t', 'chain:2', dir);
    const kept = await w.api('DELETE', '/images/chain:2?noprune=1');
    assert.equal(kept.status, 200);
    assert.equal((await w.dockerOk('images', '-aq')).split('\n').length, before + 3);
  });

  it('runs RUN on the default bridge, or on the network --network names', async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN echo "links: $(ls /sys/class/net | tr "\\n" " ")"\n' });
    const bridge = await w.docker('build', '--no-cache', dir);
    assert.match(bridge.stdout, /links: eth0 lo \n/, bridge.stdout);
    const none = await w.docker('build', '--no-cache', '--network', 'none', dir);
    assert.match(none.stdout, /links: lo \n/, none.stdout);
  });

  it('follows symlinks on the way to a COPY or WORKDIR destination inside the image (merged /usr keeps its links)', async () => {
    const dir = ctx({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /usr/lib2 /usr/data && ln -s usr/lib2 /lib2 && ln -s /usr/data /data',
        'COPY x.so /lib2/',
        'COPY x.so /data/sub/y.so',
        'WORKDIR /lib2/work',
        'CMD ["sh", "-c", "readlink /lib2; readlink /data; ls /usr/lib2 /usr/data/sub; pwd"]',
        '',
      ].join('\n'),
      'x.so': 'lib',
    });
    await w.dockerOk('build', '-t', 'links:1', dir);
    assert.equal(await w.dockerOk('run', '--rm', 'links:1'), 'usr/lib2\n/usr/data\n/usr/data/sub:\ny.so\n\n/usr/lib2:\nwork\nx.so\n/usr/lib2/work');
  });

  it("never reads the daemon's files through links in the context", async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nCOPY esc/etc/hostname /x\n' });
    fs.symlinkSync('/', path.join(dir, 'esc'));
    const r = await w.docker('build', dir);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /COPY failed: file not found in build context or excluded by \.dockerignore: stat esc\/etc\/hostname: file does not exist/);
    const linked = ctx({});
    fs.symlinkSync('/etc/passwd', path.join(linked, 'Dockerfile'));
    const df = await w.docker('build', linked);
    assert.notEqual(df.code, 0);
    assert.doesNotMatch(df.stderr, /root:/);
  });

  it("gives RUN containers the build's --memory, --cpu-shares, --shm-size and --add-host", async () => {
    const dir = ctx({ Dockerfile: 'FROM busybox\nRUN cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.shares; df -k /dev/shm | tail -1 | awk \'{print "shm " $2}\'; grep db.example /etc/hosts\n' });
    const r = await w.docker('build', '--no-cache', '--memory', '64m', '--cpu-shares', '512', '--shm-size', '2m', '--add-host', 'db.example:10.9.8.7', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\n67108864\n512\nshm 2048\n10\.9\.8\.7\s+db\.example\n/, r.stdout);
    // The CLI refuses --squash itself against a daemon without experimental features; the API says so too.
    const squash = await postBuild(w, 'squash=1', { Dockerfile: 'FROM busybox\n' });
    assert.equal(squash.status, 400);
    assert.match(squash.text, /squash is only supported with experimental mode/);
  });
});
