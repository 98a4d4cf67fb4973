import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { listen } from '../../src/api/server.js';
import { Router } from '../../src/api/router.js';
import { frame, hijack, pipeSession } from '../../src/api/hijack.js';
import type { StdioSession } from '../../src/runtime/index.js';

/** A session whose process is `cat`: stdin comes back on stdout. */
function catSession(): StdioSession {
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  stderr.end();
  return { stdin, stdout: stdin, stderr, resize: async () => undefined, close: () => stdin.destroy() };
}

const CAT_TTY = { tty: true, stdin: true, stdout: true, stderr: true, detachKeys: [16, 17] } as const;

/** An API server on a temporary socket with one route, a client connected to it, and the clean-up. */
async function withServer(router: Router, body: (client: net.Socket) => Promise<void>, after: () => void = () => undefined): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hijack-'));
  const socketPath = path.join(dir, 'api.sock');
  const server = await listen(router, { socketPath, log: () => undefined });
  const client = net.connect(socketPath);
  try {
    await body(client);
  } finally {
    client.destroy();
    after();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('hijacked exec start', () => {
  it('forwards stdin when the JSON body arrives after the headers, in its own chunk', async () => {
    let handlerReached!: () => void;
    const reached = new Promise<void>((r) => (handlerReached = r));
    let serverSide: Duplex | undefined;
    const router = new Router().add('POST', '/exec/{id}/start', async (req) => {
      handlerReached();
      await req.json();
      const socket = await hijack(req, true);
      serverSide = socket;
      await pipeSession(socket, catSession(), { ...CAT_TTY, closeStdinOnEnd: true });
      return { handled: true };
    });
    // A paused socket never sees the client's end: the server side is destroyed too.
    await withServer(router, async (client) => {
      const body = '{"Detach":false,"Tty":true}';
      client.write(
        `POST /v1.44/exec/e1/start HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n` +
          `Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      await reached; // the server has parsed the headers and waits for the body
      client.write(body + 'x');
      client.end();
      const reply = await new Promise<string>((resolve, reject) => {
        let text = '';
        const timer = setTimeout(() => reject(new Error(`stdin never reached the session; got ${JSON.stringify(text)}`)), 3000);
        client.on('data', (b: Buffer) => {
          text += b.toString();
          if (text.endsWith('\r\n\r\nx')) {
            clearTimeout(timer);
            resolve(text);
          }
        });
      });
      assert.match(reply, /^HTTP\/1.1 101 UPGRADED\r\n/);
    }, () => serverSide?.destroy());
  });

  it('detaches at the detach keys, each in its own chunk as a terminal sends them, without passing them on', async () => {
    const router = new Router().add('POST', '/containers/{id}/attach', async (req) => {
      await pipeSession(await hijack(req, true), catSession(), { ...CAT_TTY, closeStdinOnEnd: false });
      return { handled: true };
    });
    await withServer(router, async (client) => {
      let text = '';
      client.on('data', (b: Buffer) => (text += b.toString('latin1')));
      const ended = new Promise<void>((resolve) => client.on('end', resolve));
      client.write('POST /v1.44/containers/c1/attach?stdin=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 50));
      for (const chunk of ['a', '\x10', 'b', '\x10', '\x11', 'c']) {
        await pause();
        if (!client.destroyed) client.write(chunk);
      }
      await ended;
      // ctrl-p then b is no detach: both pass; ctrl-p ctrl-q is, and nothing after it reaches the process.
      assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), 'a\x10b');
    });
  });
});

describe('hijacked connections that fail', () => {
  it('a client gone in the middle of an exec start\'s body leaves the server running', { timeout: 5000 }, async () => {
    const router = new Router().add('POST', '/exec/{id}/start', async (req) => {
      await req.json();
      const socket = await hijack(req, false);
      await pipeSession(socket, catSession(), { ...CAT_TTY, tty: false, closeStdinOnEnd: true });
      return { handled: true };
    });
    await withServer(router, async (client) => {
      client.on('error', () => undefined);
      client.write('POST /v1.44/exec/e1/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"Tt');
      await new Promise((r) => setTimeout(r, 50));
      client.destroy();
      // The answer to the half body goes to a closed socket: it used to throw EPIPE out of the event loop.
      await new Promise((r) => setTimeout(r, 200));
    });
  });

  it('an error once the stream has begun never comes as an HTTP answer inside it', { timeout: 5000 }, async () => {
    const router = new Router().add('POST', '/containers/{id}/attach', async (req) => {
      await hijack(req, false);
      throw new Error('after the hijack');
    });
    await withServer(router, async (client) => {
      let text = '';
      client.on('data', (b: Buffer) => (text += b.toString('latin1')));
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      client.write('POST /v1.44/containers/c1/attach?stream=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      await closed;
      assert.match(text, /^HTTP\/1.1 101 UPGRADED\r\n/);
      assert.equal(text.slice(text.indexOf('\r\n\r\n') + 4), '', 'no "HTTP/1.1 500" read as a frame header');
    });
  });

  it('a client that does not read slows the process down instead of filling the daemon\'s memory', { timeout: 10_000 }, async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stderr.end();
    const session: StdioSession = { stdin: null, stdout, stderr, resize: async () => undefined, close: () => stdout.destroy() };
    const router = new Router().add('POST', '/containers/{id}/attach', async (req) => {
      await pipeSession(await hijack(req, true), session, { ...CAT_TTY, stdin: false, closeStdinOnEnd: false });
      return { handled: true };
    });
    await withServer(router, async (client) => {
      client.on('error', () => undefined);
      client.write('POST /v1.44/containers/c1/attach?stream=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      client.pause();
      await new Promise((r) => setTimeout(r, 100));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let written = 0;
      // The process's side must see backpressure long before 32 MB are taken.
      while (stdout.write(chunk) && written < 32 << 20) {
        written += chunk.length;
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(written < 32 << 20, `${written} bytes taken from a process whose client reads nothing`);
    });
  });
});

describe('the start of a hijacked stream', () => {
  it('the 101 goes out alone: bytes written at once come in a later read (docker-py loses what comes with the headers)', { timeout: 5000 }, async () => {
    const router = new Router().add('POST', '/containers/{id}/attach', async (req) => {
      const socket = await hijack(req, false);
      socket.end(frame(1, Buffer.from('replayed log\n')));
      return { handled: true };
    });
    await withServer(router, async (client) => {
      const chunks: string[] = [];
      client.on('data', (b: Buffer) => chunks.push(b.toString('latin1')));
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      client.write('POST /v1.44/containers/c1/attach?logs=1 HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      await closed;
      assert.match(chunks[0] ?? '', /^HTTP\/1.1 101 UPGRADED\r\n[^]*\r\n\r\n$/, 'the first read holds the headers and nothing else');
      assert.ok(chunks.join('').endsWith('replayed log\n'));
    });
  });
});
