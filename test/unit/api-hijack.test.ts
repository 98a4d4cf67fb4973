import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { listen } from '../../src/api/server.js';
import { Router } from '../../src/api/router.js';
import { hijack, pipeSession } from '../../src/api/hijack.js';
import type { StdioSession } from '../../src/runtime/index.js';

/** A session whose process is `cat`: stdin comes back on stdout. */
function catSession(): StdioSession {
  const stdin = new PassThrough();
  const stderr = new PassThrough();
  stderr.end();
  return { stdin, stdout: stdin, stderr, resize: async () => undefined, close: () => stdin.destroy() };
}

describe('hijacked exec start', () => {
  it('forwards stdin when the JSON body arrives after the headers, in its own chunk', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hijack-'));
    const socketPath = path.join(dir, 'api.sock');
    let handlerReached!: () => void;
    const reached = new Promise<void>((r) => (handlerReached = r));
    let serverSide: Duplex | undefined;
    const router = new Router().add('POST', '/exec/{id}/start', async (req) => {
      handlerReached();
      await req.json();
      const socket = hijack(req, true);
      serverSide = socket;
      await pipeSession(socket, catSession(), { tty: true, stdin: true, stdout: true, stderr: true, closeStdinOnEnd: true });
      return { handled: true };
    });
    const server = await listen(router, { socketPath, log: () => undefined });
    const client = net.connect(socketPath);
    try {
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
    } finally {
      client.destroy();
      serverSide?.destroy(); // a paused socket never sees the client's end
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
