/**
 * One HTTP exchange with a registry over node:http/https: TLS as the registry's host
 * is configured (its CA, a client certificate, or no verification for an insecure
 * registry), redirects followed for reads (blob storage often answers with one; the
 * Authorization header is dropped when the redirect leaves the registry's host), and a
 * socket that stays silent too long is an error rather than a hang.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import * as tls from 'node:tls';

/** How to speak TLS to one registry host. */
export interface TlsSettings {
  /** Extra roots (certs.d/<host>/*.crt), trusted besides the system's. */
  ca?: Buffer[];
  /** A client certificate and its key (certs.d/<host>/*.cert and *.key). */
  cert?: Buffer;
  key?: Buffer;
  /** An insecure registry: any certificate is accepted. */
  skipVerify?: boolean;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  /** A body known in full, or a stream (sent chunked unless Content-Length is set). */
  body?: Buffer | Readable;
  tls?: TlsSettings;
  /** Milliseconds a socket may stay silent (default 60 s). */
  idleMs?: number;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The body; read it or call `discard()`. */
  body: http.IncomingMessage;
  /** Where the answer came from, after redirects. */
  url: URL;
}

const MAX_REDIRECTS = 10;

async function once(url: URL, req: HttpRequest): Promise<HttpResponse> {
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: req.method,
    headers: { 'User-Agent': 'berth (docker/28.2.2 compatible)', ...req.headers },
    timeout: req.idleMs ?? 60_000,
  };
  if (secure) {
    const t = req.tls ?? {};
    options.rejectUnauthorized = t.skipVerify !== true;
    // A `ca` option replaces the system's roots; certs.d adds to them, as Docker does.
    if (t.ca !== undefined && t.ca.length > 0) options.ca = [...tls.rootCertificates, ...t.ca];
    if (t.cert !== undefined) options.cert = t.cert;
    if (t.key !== undefined) options.key = t.key;
  }
  return new Promise((resolve, reject) => {
    const r = (secure ? https : http).request(url, options, (res) => {
      resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: res, url });
    });
    r.on('timeout', () => r.destroy(new Error('i/o timeout')));
    r.on('error', reject);
    const body = req.body;
    if (body === undefined) r.end();
    else if (Buffer.isBuffer(body)) r.end(body);
    else {
      body.on('error', (e) => r.destroy(e));
      body.pipe(r);
    }
  });
}


/** Throw away a body not needed (frees the socket). */
export function discard(res: HttpResponse): void {
  res.body.resume();
}

/** The whole body, at most `limit` bytes (a manifest, an error, a token). */
export async function readBody(res: HttpResponse, limit = 8 << 20): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body) {
    const b = c as Buffer;
    n += b.length;
    if (n > limit) {
      res.body.destroy();
      throw new Error(`response from ${res.url.host} exceeds ${limit} bytes`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * `req` to `url`, following redirects for GET and HEAD. Connection failures reject
 * with Node's error (the caller words them as Go's url.Error).
 */
export async function request(url: URL, req: HttpRequest): Promise<HttpResponse> {
  let current = url;
  let headers = { ...req.headers };
  for (let hop = 0; ; hop++) {
    const res = await once(current, { ...req, headers });
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || location === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) return res;
    discard(res);
    if (hop >= MAX_REDIRECTS) throw new Error(`stopped after ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, current);
    if (next.host !== current.host) {
      const { Authorization: _dropped, ...rest } = headers;
      headers = rest;
    }
    current = next;
  }
}
