/** The HTTP server on the daemon's unix socket. */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { invalid, messageOf } from '../errors.js';
import { httpStatusOf } from './errors.js';
import { isHijacked } from './hijack.js';
import { ignoreStreamErrors } from '../util/streams.js';
import { API_VERSION, splitVersion, type ApiRequest, type Router } from './router.js';

const MAX_JSON_BODY = 4 << 20;

export interface ServerOptions {
  socketPath: string;
  /** Group that may use the socket (mode 0660); root's group when unset. */
  socketGroup?: number;
  log: (msg: string) => void;
  /** Each request as it is answered: method, path, status, milliseconds (--log-level debug). */
  trace?: (msg: string) => void;
}

export async function listen(router: Router, opts: ServerOptions): Promise<http.Server> {
  const { trace } = opts;
  const server = http.createServer((req, res) => {
    if (trace) {
      const t0 = performance.now();
      res.on('finish', () => trace(`${req.method} ${req.url} -> ${res.statusCode} in ${(performance.now() - t0).toFixed(1)} ms`));
    }
    handle(router, req, res, opts.log).catch((e: unknown) => opts.log(`unhandled: ${messageOf(e)}`));
  });
  // Upgrade requests (attach, exec start) go through the same routes with the raw socket.
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node's own error listener is gone from an upgraded socket: a client's reset would
    // otherwise end the daemon. The routes learn of the end from 'close'.
    ignoreStreamErrors(socket);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as import('node:net').Socket);
    void handle(router, req, res, opts.log, { socket, head });
  });
  // Requests Node's parser refuses still get Docker's JSON error shape.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ message: `bad request: ${err.code ?? err.message}` }) + '\n';
    if ((socket as import('node:net').Socket).writable) {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    } else socket.destroy();
  });
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    const body = '{"message":"method not allowed"}\n';
    socket.end(`HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });
  // An Expect other than 100-continue: answer in Docker's JSON shape too.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    sendJson(res, 417, { message: `unsupported Expect header: ${String(req.headers.expect).slice(0, 64)}` });
  });
  server.keepAliveTimeout = 60_000;
  // Slow or silent clients must not hold a request forever.
  server.requestTimeout = 300_000;
  server.headersTimeout = 30_000;
  fs.rmSync(opts.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.socketPath, () => resolve());
  });
  fs.chmodSync(opts.socketPath, 0o660);
  if (opts.socketGroup !== undefined) fs.chownSync(opts.socketPath, 0, opts.socketGroup);
  return server;
}

async function handle(
  router: Router,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: (m: string) => void,
  upgrade?: { socket: Duplex; head: Buffer },
): Promise<void> {
  try {
    const url = parseUrl(req.url);
    const { version, path } = splitVersion(url.pathname);
    const found = router.match(req.method ?? 'GET', path);
    if (found === 'not-found') return sendJson(res, 404, { message: 'page not found' });
    if (found === 'bad-method') return sendJson(res, 405, { message: 'method not allowed' });
    const apiReq: ApiRequest = {
      method: req.method ?? 'GET',
      path,
      params: found.params,
      query: url.searchParams,
      version,
      raw: req,
      res,
      json: () => (upgrade ? readUpgradeJson(req, upgrade) : readJson(req)),
      drain: () => (upgrade ? Promise.resolve() : drained(req)),
      ...(upgrade ? { upgrade } : {}),
    };
    const reply = await found.handler(apiReq);
    if ('handled' in reply) return;
    await drained(req);
    if (reply.body === undefined) {
      res.writeHead(reply.status, { ...baseHeaders(), ...reply.headers });
      res.end();
    } else sendJson(res, reply.status, reply.body, reply.headers);
  } catch (e: unknown) {
    const status = httpStatusOf(e);
    if (status >= 500) log(`${req.method} ${req.url}: ${e instanceof Error ? e.stack : String(e)}`);
    const socket = upgrade?.socket ?? req.socket;
    if (isHijacked(socket)) {
      // The stream has begun: an HTTP answer now would be read as stream bytes.
      socket.destroy();
      return;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (!upgrade) await drained(req);
    sendJson(res, status, { message: messageOf(e) });
  }
}

/** The request target; anything but a plain path is a client error, not a crash. */
function parseUrl(raw: string | undefined): URL {
  const target = raw ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) throw invalid(`invalid request path: ${target.slice(0, 64)}`);
  try {
    return new URL(target, 'http://berth');
  } catch {
    throw invalid(`invalid request path: ${target.slice(0, 64)}`);
  }
}

function baseHeaders(): Record<string, string> {
  return { 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: 'berth' };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, {
    ...baseHeaders(),
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * Read what is left of a request body before answering: a client still sending would
 * otherwise see its connection reset before it reads the answer. Bounded in time.
 */
async function drained(req: http.IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return;
  req.resume();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 30_000);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    req.once('end', done);
    req.once('close', done);
  });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Keep reading past the limit (and drop it), so the client can read the error.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_JSON_BODY) chunks.push(chunk as Buffer);
  }
  if (size > MAX_JSON_BODY) throw invalid(`request body too large (over ${MAX_JSON_BODY} bytes)`);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw invalid(`invalid JSON: ${messageOf(e)}`);
  }
}

/**
 * The JSON body of an upgrade request (exec start): Node leaves it on the socket, after
 * the headers. Take exactly Content-Length bytes; the rest is the client's stdin.
 */
async function readUpgradeJson(req: http.IncomingMessage, up: { socket: Duplex; head: Buffer }): Promise<unknown> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0)) return {};
  if (length > MAX_JSON_BODY) throw invalid(`request body too large (over ${MAX_JSON_BODY} bytes)`);
  let body = up.head;
  while (body.length < length) {
    const chunk = await new Promise<Buffer | null>((resolve) => {
      const onData = (b: Buffer): void => {
        up.socket.pause(); // what follows is stdin, for the hijacked session
        up.socket.off('end', onEnd);
        resolve(b);
      };
      const onEnd = (): void => {
        up.socket.off('data', onData);
        resolve(null);
      };
      up.socket.once('data', onData);
      up.socket.once('end', onEnd);
    });
    if (chunk === null) break;
    body = Buffer.concat([body, chunk]);
  }
  up.head = body.subarray(length);
  try {
    return JSON.parse(body.subarray(0, length).toString('utf8')) as unknown;
  } catch (e: unknown) {
    throw invalid(`invalid JSON: ${messageOf(e)}`);
  }
}
