/**
 * Test helpers for the CLI: a fake daemon answering HTTP on a unix socket in a temp
 * dir (it records every request, plain or upgraded), and in-memory stdio for running
 * `main()`. Replies can be JSON, text, raw bytes with a content type, or written by
 * the test itself (delayed answers such as wait); upgrade requests (attach, exec start)
 * go to an upgrade handler that gets the raw socket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import type { CliIO } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

export interface Recorded {
  readonly method: string;
  /** Path without the /v1.44 prefix, e.g. "/networks". */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface Reply {
  status?: number;
  json?: unknown;
  text?: string;
  /** Raw body bytes, sent with `contentType`. */
  body?: Buffer;
  contentType?: string;
  /** Takes over the response (streams, answers that come later). */
  respond?: (res: http.ServerResponse) => void;
}

export type Handler = (req: Recorded) => Reply | undefined;

/** Gets an upgrade request (with its body) and the raw socket; answer with `upgraded()`. */
export type UpgradeHandler = (req: Recorded, socket: Duplex) => void;

/** The daemon's answer to a hijack: 101 then the raw stream. */
export function upgraded(socket: Duplex, tty = false): void {
  const type = tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream';
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
}

export class FakeDaemon {
  readonly requests: Recorded[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
  readonly socketPath = join(this.dir, 'berth.sock');
  readonly host = `unix://${this.socketPath}`;
  readonly server: http.Server;
  private upgradeHandler: UpgradeHandler | undefined;

  constructor(private handler: Handler = () => undefined) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.reply(this.record(req, Buffer.concat(chunks)), res));
    });
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // The body of an upgrade request (exec start's JSON) follows the headers on the socket.
      const length = Number(req.headers['content-length'] ?? 0);
      let body = head;
      const finish = (): void => {
        socket.off('data', more);
        if (length < body.length) socket.unshift(body.subarray(length));
        const rec = this.record(req, body.subarray(0, length));
        if (this.upgradeHandler) this.upgradeHandler(rec, socket);
        else this.replyRaw(rec, socket);
      };
      const more = (chunk: Buffer): void => {
        body = Buffer.concat([body, chunk]);
        if (body.length >= length) finish();
      };
      if (body.length >= length) finish();
      else socket.on('data', more);
    });
  }

  private record(req: http.IncomingMessage, body: Buffer): Recorded {
    const url = new URL(req.url ?? '/', 'http://x');
    const rec: Recorded = {
      method: req.method ?? '',
      path: url.pathname.replace(/^\/v\d+\.\d+/, ''),
      query: url.searchParams,
      headers: req.headers,
      body: body.toString('utf8'),
    };
    this.requests.push(rec);
    return rec;
  }

  /** Without an upgrade handler, an upgrade request gets the plain handler's answer (no 101). */
  private replyRaw(rec: Recorded, socket: Duplex): void {
    const reply = this.handler(rec) ?? { status: 404, json: { message: `page not found: ${rec.path}` } };
    const status = reply.status ?? 200;
    const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
    const type = reply.json !== undefined ? 'application/json' : 'text/plain';
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }

  private reply(rec: Recorded, res: http.ServerResponse): void {
    const reply = this.handler(rec) ?? { status: 404, json: { message: `page not found: ${rec.path}` } };
    const status = reply.status ?? 200;
    if (reply.respond) {
      reply.respond(res);
    } else if (reply.json !== undefined) {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.json));
    } else if (reply.body !== undefined) {
      res.writeHead(status, { 'Content-Type': reply.contentType ?? 'application/octet-stream' });
      res.end(reply.body);
    } else {
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(reply.text ?? '');
    }
  }

  on(handler: Handler): this {
    this.handler = handler;
    return this;
  }

  onUpgrade(handler: UpgradeHandler | undefined): this {
    this.upgradeHandler = handler;
    return this;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  async stop(): Promise<void> {
    // The folder first: the runner may end the process while a hijacked socket keeps close() waiting.
    rmSync(this.dir, { recursive: true, force: true });
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface RunResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process against `host` with `stdinText` as its input and `env` added to its environment. */
export async function runCli(host: string, argv: string[], stdinText = '', env: Record<string, string> = {}): Promise<RunResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const io: CliIO = { stdout, stderr, stdin: Readable.from([stdinText]) };
  const status = await main(argv, { ...env, BERTH_HOST: host }, io);
  return { status, stdout: out, stderr: err };
}
