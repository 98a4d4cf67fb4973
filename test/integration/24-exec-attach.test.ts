/**
 * exec and attach as docker-py and the docker CLI use them, over the raw API where the
 * CLI hides the bytes: whole output framed as the start asks, users by name, failures
 * told inside the stream (and the stream always ends), attach's logs/stream, and
 * clients that vanish mid-stream.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { demux, upgrade, type RawStream } from '../lib/hijack.js';
import { sh, World } from '../lib/world.js';

/** Resolves with the stream once berthd has closed it; fails the test if it hangs. */
async function closedWithin(s: RawStream, ms = 10_000): Promise<RawStream> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`the stream never ended; got ${JSON.stringify(s.output())}`)), ms);
  });
  try {
    await Promise.race([s.closed, timeout]);
  } finally {
    clearTimeout(timer);
    s.socket.destroy();
  }
  return s;
}

describe('exec and attach', () => {
  let w: World;

  /** Create an exec in `container` and start it attached; the stream once it has ended. */
  async function runExec(container: string, create: Record<string, unknown>, start: Record<string, unknown>): Promise<RawStream> {
    const made = await w.api('POST', `/containers/${container}/exec`, { AttachStdout: true, AttachStderr: true, ...create });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = (made.body as { Id: string }).Id;
    return closedWithin(await upgrade(w.sock, `/exec/${id}/start`, start));
  }

  async function execInspect(id: string): Promise<{ ExitCode: number | null; Running: boolean }> {
    return (await w.api('GET', `/exec/${id}/json`)).body as { ExitCode: number | null; Running: boolean };
  }

  before(async () => {
    w = await World.create();
    await w.dockerOk('run', '-d', '--name', 'box', 'busybox', 'sleep', '100000');
  });
  after(async () => {
    await w.dispose();
  });

  it('exec output arrives whole, framed by the start\'s Tty (docker-py sends it there), many times over', async () => {
    const cmd = ['sh', '-c', 'echo hello out; echo hello err >&2'];
    const combos = [[true, true], [true, false], [false, true], [false, false]] as const;
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 8; i++) {
        for (const [createTty, startTty] of combos) {
          const s = await runExec('box', { Cmd: cmd, Tty: createTty }, { Tty: startTty });
          const what = `create Tty ${createTty}, start Tty ${startTty}, round ${i}`;
          assert.match(s.head(), startTty ? /Content-Type: application\/vnd\.docker\.raw-stream/ : /Content-Type: application\/vnd\.docker\.multiplexed-stream/, what);
          if (createTty) {
            // A pty merges both streams; without the start's Tty it comes as stdout frames.
            assert.equal(startTty ? s.output() : demux(s.output()).stdout, 'hello out\r\nhello err\r\n', what);
          } else if (startTty) {
            assert.deepEqual(s.output().split('\n').sort(), ['', 'hello err', 'hello out'], what);
          } else {
            assert.deepEqual(demux(s.output()), { stdout: 'hello out\n', stderr: 'hello err\n' }, what);
          }
        }
      }
    };
    // Several at once, so that a race between the process and its reader would show.
    await Promise.all([worker(), worker(), worker()]);
  });

  it('attach gets a tty container\'s output whole from its first byte, many times over', async () => {
    for (let i = 0; i < 8; i++) {
      for (const tty of [true, false]) {
        const name = `whole-${tty ? 't' : 'n'}${i}`;
        const made = await w.api('POST', `/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sh', '-c', 'echo hello out; echo hello err >&2'], Tty: tty, AttachStdout: true, AttachStderr: true });
        assert.equal(made.status, 201);
        const s = await upgrade(w.sock, `/containers/${name}/attach?stream=1&stdout=1&stderr=1`);
        assert.equal((await w.api('POST', `/containers/${name}/start`)).status, 204);
        await closedWithin(s);
        if (tty) assert.equal(s.output(), 'hello out\r\nhello err\r\n');
        else assert.deepEqual(demux(s.output()), { stdout: 'hello out\n', stderr: 'hello err\n' });
        await w.dockerOk('wait', name); // the stream may end before the exit is recorded
        await w.dockerOk('rm', name);
      }
    }
  });

  it('exec and run -u take names from the container\'s /etc/passwd and /etc/group, as Docker does', async () => {
    const id = async (...userFlag: string[]): Promise<string> => w.dockerOk('exec', ...userFlag, 'box', 'id');
    assert.equal(await id('-u', 'nobody'), 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)');
    assert.equal(await id('-u', 'nobody:root'), 'uid=65534(nobody) gid=0(root) groups=0(root)');
    assert.equal(await id('-u', '1000'), 'uid=1000 gid=0(root) groups=0(root)', 'a number needs no entry; the group stays root');
    assert.equal(await id('-u', '1000:1000'), 'uid=1000 gid=1000 groups=1000');
    assert.equal(await id(), 'uid=0(root) gid=0(root) groups=0(root),10(wheel)', 'root with the groups that list it');
    // Supplementary groups come from /etc/group: a user made now is found at once.
    await w.dockerOk('exec', 'box', 'sh', '-c', 'echo "app:x:4242:4242::/:/bin/sh" >> /etc/passwd; echo "app:x:4242:" >> /etc/group; echo "extra:x:5151:app" >> /etc/group');
    assert.equal(await id('-u', 'app'), 'uid=4242(app) gid=4242(app) groups=4242(app),5151(extra)');
    const unknown = await w.api('POST', '/containers/box/exec', { Cmd: ['whoami'], User: 'default', AttachStdout: true });
    assert.equal(unknown.status, 400, 'refused at create, before any connection is taken over');
    assert.equal((unknown.body as { message: string }).message, 'unable to find user default: no matching entries in passwd file');
    const badGroup = await w.docker('exec', '-u', 'nobody:nosuch', 'box', 'id');
    assert.match(badGroup.stderr, /unable to find group nosuch: no matching entries in group file/);
    assert.equal(await w.dockerOk('run', '--rm', '-u', 'nobody', 'busybox', 'id', '-un'), 'nobody');
    const run = await w.docker('run', '--name', 'nouser', '-u', 'default', 'busybox', 'id');
    assert.equal(run.code, 125);
    assert.match(run.stderr, /unable to find user default: no matching entries in passwd file/);
    assert.equal(await w.dockerOk('inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'nouser'), 'created 128');
    const start = await w.api('POST', '/containers/nouser/start');
    assert.equal(start.status, 400, 'the user\'s error, not the daemon\'s');
    await w.dockerOk('rm', 'nouser');
  });

  it('an exec whose start fails after the connection is taken over ends its stream with the error', async () => {
    await w.dockerOk('exec', 'box', 'sh', '-c', 'echo "temp:x:3030:3030::/:/bin/sh" >> /etc/passwd');
    const ids: string[] = [];
    for (const tty of [false, true]) {
      const made = await w.api('POST', '/containers/box/exec', { Cmd: ['id'], User: 'temp', Tty: tty, AttachStdout: true, AttachStderr: true });
      assert.equal(made.status, 201);
      ids.push((made.body as { Id: string }).Id);
    }
    // The user goes between create and start: the start finds no such user any more.
    await w.dockerOk('exec', 'box', 'sed', '-i', '/^temp:/d', '/etc/passwd');
    for (const [i, tty] of [false, true].entries()) {
      const s = await closedWithin(await upgrade(w.sock, `/exec/${ids[i]}/start`, { Tty: tty }));
      assert.equal(tty ? s.output() : demux(s.output()).stdout, 'unable to find user temp: no matching entries in passwd file\r\n');
      const inspect = await execInspect(ids[i]!);
      assert.equal(inspect.ExitCode, 126, 'as dockerd: a failed start has run, with 126');
      assert.equal(inspect.Running, false);
    }
    // As dockerd, a second start is refused inside the stream too.
    const again = await closedWithin(await upgrade(w.sock, `/exec/${ids[0]}/start`, {}));
    assert.equal(demux(again.output()).stdout, `exec command ${ids[0]} has already run\r\n`);
  });

  it('a command the runtime cannot start: Docker\'s message on stdout, 127 or 126, and no hang', async () => {
    const missing = 'OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown';
    const cli = await w.docker('exec', 'box', 'nosuchcmd');
    assert.equal(cli.code, 127);
    assert.equal(cli.stdout, `${missing}\r\n`);
    assert.equal(cli.stderr, '');
    const withTty = await w.docker('exec', '-t', 'box', 'nosuchcmd');
    assert.equal(withTty.code, 127);
    assert.equal(withTty.stdout.trim(), missing);
    const dir = await w.docker('exec', 'box', '/etc');
    assert.equal(dir.code, 126);
    assert.match(dir.stdout, /^OCI runtime exec failed: .*"\/etc": permission denied: unknown\r\n$/);
    for (const tty of [false, true]) {
      const made = await w.api('POST', '/containers/box/exec', { Cmd: ['nosuchcmd'], Tty: tty, AttachStdout: true, AttachStderr: true });
      const id = (made.body as { Id: string }).Id;
      const s = await closedWithin(await upgrade(w.sock, `/exec/${id}/start`, { Tty: tty }));
      assert.deepEqual(tty ? s.output() : demux(s.output()), tty ? `${missing}\r\n` : { stdout: `${missing}\r\n`, stderr: '' });
      assert.equal((await execInspect(id)).ExitCode, 127);
    }
    const detached = await w.api('POST', '/containers/box/exec', { Cmd: ['nosuchcmd'] });
    const start = await w.api('POST', `/exec/${(detached.body as { Id: string }).Id}/start`, { Detach: true });
    assert.equal(start.status, 400);
    assert.equal((start.body as { message: string }).message, missing);
  });

  it('exec as docker-py and the CLI use it: workdir, environment, privileged, piped stdin', async () => {
    assert.equal(await w.dockerOk('exec', '-w', '/tmp', '-e', 'FOO=bar', 'box', 'sh', '-c', 'echo $(pwd) $FOO'), '/tmp bar');
    assert.notEqual((await w.docker('exec', 'box', 'ip', 'link', 'set', 'lo', 'mtu', '1400')).code, 0);
    assert.equal(await w.dockerOk('exec', '--privileged', 'box', 'sh', '-c', 'ip link set lo mtu 1400 && echo done'), 'done');
    const piped = await sh('docker', ['exec', '-i', 'box', 'sh', '-c', 'wc -c'], { input: 'piped in\n', env: { ...process.env, DOCKER_HOST: `unix://${w.sock}` } });
    assert.equal(piped.stdout.trim(), '9');
  });

  it('attach: logs and stream, on exited and running containers, as dockerd answers them', async () => {
    await w.dockerOk('run', '--name', 'done', 'busybox', 'sh', '-c', 'echo out1; echo err1 >&2');
    const attach = async (name: string, query: string): Promise<RawStream> => upgrade(w.sock, `/containers/${name}/attach?${query}`);
    // The log replayed, then the end (it used to hang): docker-py's attach(stream=False, logs=True).
    let s = await closedWithin(await attach('done', 'logs=1&stream=0&stdout=1&stderr=1'), 5000);
    assert.deepEqual(demux(s.output()), { stdout: 'out1\n', stderr: 'err1\n' });
    s = await closedWithin(await attach('done', 'logs=1&stream=0&stdout=1&stderr=0'), 5000);
    assert.deepEqual(demux(s.output()), { stdout: 'out1\n', stderr: '' });
    s = await closedWithin(await attach('done', 'logs=0&stream=0&stdout=1&stderr=1'), 5000);
    assert.equal(s.output(), '', 'neither logs nor stream: nothing, at once');
    // With stream, an exited container is followed from its next start (docker start -a).
    const waiting = await attach('done', 'logs=1&stream=1&stdout=1&stderr=1');
    await waiting.waitFor(/err1\n/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(waiting.socket.destroyed, false, 'still open, waiting for a start');
    await w.dockerOk('start', 'done');
    await closedWithin(waiting);
    assert.deepEqual(demux(waiting.output()), { stdout: 'out1\nout1\n', stderr: 'err1\nerr1\n' });
    await w.dockerOk('wait', 'done');
    await w.dockerOk('rm', 'done');

    // 'late' waits for the test's word (a fixed delay raced a loaded machine's attach).
    await w.dockerOk('run', '-d', '--name', 'live', 'busybox', 'sh', '-c', 'echo early; until [ -e /tmp/go ]; do sleep 0.1; done; echo late; sleep 1000');
    await w.dockerOk('run', '-d', '-t', '--name', 'livetty', 'busybox', 'sh', '-c', 'echo early; sleep 1000');
    await new Promise((r) => setTimeout(r, 300));
    s = await closedWithin(await attach('live', 'logs=1&stdout=1&stderr=1'), 5000);
    assert.deepEqual(demux(s.output()), { stdout: 'early\n', stderr: '' }, 'the log so far, then the end');
    s = await closedWithin(await attach('livetty', 'logs=1&stdout=1'), 5000);
    assert.equal(s.output(), 'early\r\n', 'a tty container\'s log comes raw');
    const both = await attach('live', 'logs=1&stream=1&stdout=1&stderr=1');
    await both.waitFor(/early\n/);
    await w.dockerOk('exec', 'live', 'touch', '/tmp/go');
    await both.waitFor(/early\n[^]*late\n/);
    both.socket.destroy();
    await w.dockerOk('rm', '-f', 'live', 'livetty');

    // Waiting for a start that never comes: the removal ends the stream.
    await w.dockerOk('create', '--name', 'never', 'busybox', 'true');
    const pending = await attach('never', 'stream=1&stdout=1&stderr=1');
    await w.dockerOk('rm', 'never');
    await closedWithin(pending, 5000);

    await w.dockerOk('run', '--name', 'nolog', '--log-driver', 'none', 'busybox', 'echo', 'x');
    s = await closedWithin(await attach('nolog', 'logs=1&stdout=1'), 5000);
    assert.equal(demux(s.output()).stdout, 'Error attaching: configured logging driver does not support reading\n');
    await w.dockerOk('rm', 'nolog');
  });

  it('clients that vanish mid-stream, in every phase, leave berthd running', async () => {
    const big = Buffer.alloc(1 << 20, 0x61);
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    /** A client that stops reading and then goes: the daemon's side gets a reset. */
    const vanish = async (s: RawStream, ms = 100): Promise<void> => {
      s.socket.pause();
      await pause(ms);
      s.socket.destroy();
    };
    const ping = async (phase: string): Promise<void> => {
      const r = await w.api('GET', '/_ping').catch((e: unknown) => ({ status: 0, body: String(e) }));
      assert.equal(r.status, 200, `berthd is gone after ${phase}:\n${w.log}`);
    };
    // Attach with stdin to a process that never reads it, flooding, then gone.
    await w.dockerOk('run', '-d', '-i', '--name', 'sink', 'busybox', 'sleep', '1000');
    for (let i = 0; i < 3; i++) {
      const s = await upgrade(w.sock, '/containers/sink/attach?stream=1&stdin=1&stdout=1&stderr=1');
      s.socket.write(big);
      await vanish(s);
    }
    await ping('attach with stdin');
    // Attach before the start, gone before it starts; the start still works.
    const made = await w.api('POST', '/containers/create?name=flood', { Image: 'busybox', Cmd: ['sh', '-c', 'yes | head -c 3000000; sleep 1000'], Tty: true, OpenStdin: true });
    assert.equal(made.status, 201);
    await vanish(await upgrade(w.sock, '/containers/flood/attach?stream=1&stdin=1&stdout=1'), 10);
    assert.equal((await w.api('POST', '/containers/flood/start')).status, 204);
    // Attached to a flood of output, not reading it, then gone; then stopped and removed.
    for (let i = 0; i < 3; i++) await vanish(await upgrade(w.sock, '/containers/flood/attach?stream=1&stdout=1&stderr=1'), 200);
    await ping('attach to a flood');
    // Exec: stdin flooded, output flooded, tty or not, each client gone mid-stream.
    for (const tty of [false, true]) {
      for (let i = 0; i < 2; i++) {
        const c1 = await w.api('POST', '/containers/sink/exec', { Cmd: ['sleep', '5'], AttachStdin: true, AttachStdout: true, Tty: tty });
        const s1 = await upgrade(w.sock, `/exec/${(c1.body as { Id: string }).Id}/start`, { Tty: tty });
        s1.socket.write(big);
        await vanish(s1);
        const c2 = await w.api('POST', '/containers/sink/exec', { Cmd: ['yes'], AttachStdout: true, Tty: tty });
        await vanish(await upgrade(w.sock, `/exec/${(c2.body as { Id: string }).Id}/start`, { Tty: tty }), 200);
      }
    }
    await ping('exec streams');
    // An exec start whose body never arrives whole (this one ended the daemon).
    const c3 = await w.api('POST', '/containers/sink/exec', { Cmd: ['true'], AttachStdout: true });
    const raw = net.connect(w.sock);
    raw.on('error', () => undefined);
    raw.write(`POST /exec/${(c3.body as { Id: string }).Id}/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Tt`);
    await pause(100);
    raw.destroy();
    await ping('a half-sent exec start');
    // Logs followed, gone mid-flood; then the containers torn down.
    const logs = net.connect(w.sock);
    logs.on('error', () => undefined);
    logs.write('GET /containers/flood/logs?follow=1&stdout=1 HTTP/1.1\r\nHost: berth\r\n\r\n');
    await pause(200);
    logs.pause();
    await pause(200);
    logs.destroy();
    await w.dockerOk('rm', '-f', 'flood', 'sink');
    await pause(300);
    await ping('teardown');
    assert.doesNotMatch(w.log, /Unhandled 'error' event|uncaught/i);
  });
});
