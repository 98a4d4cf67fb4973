/**
 * A small Docker Engine API client over HTTP/1.1: a unix socket (the usual case) or TCP.
 *
 * Three levels, so later verbs can pick what they need:
 * - `request()` returns the raw IncomingMessage without looking at the status
 *   (streams: logs, events, pull progress);
 * - `json()` / `send()` check the status, turn `{"message": ...}` into a DaemonError
 *   and parse or discard the body;
 * - `jsonStream()` yields newline-separated JSON values (progress messages) and
 *   `hijack()` upgrades the connection to a raw duplex stream (attach, exec start).
 */
import * as http from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ConnectionError, DaemonError } from './errors.js';

export const API_VERSION = '1.44';
export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** A list is sent as the same key repeated (`changes=a&changes=b`). */
export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface RequestOptions {
  /** Query parameters; `undefined` values are left out, booleans are sent as 1/0, lists repeat the key. */
  readonly query?: Record<string, QueryValue>;
  /** A JSON value (sent as application/json), raw bytes, or a stream (sent chunked). */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** Where the daemon listens, parsed from `-H`/`BERTH_HOST`. */
export type Endpoint = { readonly socketPath: string } | { readonly hostname: string; readonly port: number };

export function parseHost(host: string): Endpoint {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (socketPath === '') throw new Error(`invalid host: ${host}: empty socket path`);
    return { socketPath };
  }
  const m = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (m) return { hostname: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2] ?? '2375') };
  throw new Error(`unable to parse host ${JSON.stringify(host)}: use unix:///path or tcp://host:port`);
}

/** A connection taken over after `101 Switching Protocols`. */
export interface Hijacked {
  readonly socket: Duplex;
  /** Bytes the server sent right after the upgrade response, before `socket` data. */
  readonly head: Buffer;
}

export class ApiClient {
  private readonly endpoint: Endpoint;
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(
    /** As the user wrote it (`unix:///run/berth/berth.sock`); shown in connection errors. */
    readonly host: string,
    readonly apiVersion = API_VERSION,
    private readonly userAgent = 'berth-cli',
  ) {
    this.endpoint = parseHost(host);
  }

  /** Releases pooled keep-alive connections. Idempotent. */
  close(): void {
    this.agent.destroy();
  }

  /** Sends a request and resolves with the response, whatever its status. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.start(method, path, opts);
      req.once('response', resolve);
      req.once('error', (e: unknown) => reject(this.connectError(e)));
      writeBody(req, opts.body);
    });
  }

  /** Sends a request and parses a successful JSON answer; error statuses throw DaemonError. */
  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await checkStatus(await this.request(method, path, opts));
    const text = (await readAll(res)).toString('utf8');
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Error(`invalid JSON from the daemon for ${method} ${path}: ${text.slice(0, 200)}`);
    }
  }

  /** Sends a request whose answer has no useful body (204, 201 without JSON). */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await checkStatus(await this.request(method, path, opts));
    await readAll(res);
  }

  /** Yields each JSON value of a newline-delimited JSON stream (pull/build progress, events). */
  async *jsonStream(method: string, path: string, opts: RequestOptions = {}): AsyncGenerator<unknown> {
    const res = await checkStatus(await this.request(method, path, opts));
    yield* jsonLines(res);
  }

  /**
   * Asks for `Upgrade: tcp` and hands back the raw connection (attach, exec start).
   * A non-101 answer is an error: its JSON message, or a note that no upgrade happened.
   */
  async hijack(method: string, path: string, opts: RequestOptions = {}): Promise<Hijacked> {
    const headers = { Connection: 'Upgrade', Upgrade: 'tcp', ...opts.headers };
    return new Promise((resolve, reject) => {
      const req = this.start(method, path, { ...opts, headers });
      req.once('upgrade', (_res: http.IncomingMessage, socket: Duplex, head: Buffer) => resolve({ socket, head }));
      req.once('response', (res: http.IncomingMessage) => {
        checkStatus(res)
          .then(async (ok) => {
            await readAll(ok);
            reject(new Error(`the daemon did not upgrade the connection for ${method} ${path} (status ${ok.statusCode ?? 0})`));
          })
          .catch(reject);
      });
      req.once('error', (e: unknown) => reject(this.connectError(e)));
      writeBody(req, opts.body);
    });
  }

  private start(method: string, path: string, opts: RequestOptions): http.ClientRequest {
    const headers: Record<string, string> = { 'User-Agent': this.userAgent, ...opts.headers };
    if (isJsonBody(opts.body)) headers['Content-Type'] ??= 'application/json';
    const target = { ...this.endpoint, agent: this.agent, method, headers, signal: opts.signal };
    return http.request({ ...target, path: `/v${this.apiVersion}${path}${queryString(opts.query)}` });
  }

  private connectError(e: unknown): Error {
    if (!(e instanceof Error)) return new Error(String(e));
    if (e.name === 'AbortError') return e;
    const code = (e as NodeJS.ErrnoException).code;
    return new ConnectionError(this.host, code, e.message);
  }
}

/** Resolves with the response if its status is below 400; otherwise throws the daemon's message. */
export async function checkStatus(res: http.IncomingMessage): Promise<http.IncomingMessage> {
  const status = res.statusCode ?? 0;
  if (status < 400) return res;
  const text = (await readAll(res)).toString('utf8');
  throw new DaemonError(status, errorMessage(text, res.statusMessage ?? `status ${status}`));
}

function errorMessage(body: string, fallback: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') {
      return parsed.message;
    }
  } catch {
    // Not JSON: a proxy or a plain-text error; show the text itself.
  }
  return body.trim() || fallback;
}

export function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (typeof v === 'object') for (const item of v) params.append(k, item);
    else params.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

function isStream(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as { pipe?: unknown }).pipe === 'function';
}

function isJsonBody(body: unknown): boolean {
  return body !== undefined && !Buffer.isBuffer(body) && !isStream(body);
}

function writeBody(req: http.ClientRequest, body: unknown): void {
  if (body === undefined) {
    req.end();
  } else if (isStream(body)) {
    body.pipe(req);
  } else {
    // Newline-terminated, as Go's json.Encoder writes docker's request bodies.
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(`${JSON.stringify(body)}\n`);
    req.setHeader('Content-Length', bytes.length);
    req.end(bytes);
  }
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/** Splits a byte stream into lines and parses each non-empty one as JSON. */
export async function* jsonLines(stream: Readable): AsyncGenerator<unknown> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream) {
    pending += Buffer.isBuffer(chunk) ? decoder.write(chunk) : String(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== '') yield JSON.parse(line) as unknown;
    }
  }
  pending += decoder.end();
  if (pending.trim() !== '') yield JSON.parse(pending) as unknown;
}
