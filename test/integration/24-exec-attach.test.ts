/**
 * exec and attach over the raw API, where the docker CLI hides the bytes: clients that
 * vanish mid-stream.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { upgrade, type RawStream } from '../lib/hijack.js';
import { World } from '../lib/world.js';

describe('exec and attach', () => {
  let w: World;

  before(async () => {
    w = await World.create();
    await w.dockerOk('run', '-d', '--name', 'box', 'busybox', 'sleep', '100000');
  });
  after(async () => {
    await w.dispose();
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
