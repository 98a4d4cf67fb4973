/**
 * A raw HTTP/1.1 client on a unix socket, for hostile requests: the request line,
 * headers and body go out exactly as given (no validation, no normalisation), every
 * request has a deadline, and the answer is read by hand so that a missing, partial or
 * malformed answer is seen as such instead of being smoothed over.
 */
import * as net from 'node:net';

export interface RawRequest {
  method: string;
  /** Sent verbatim in the request line (may be malformed on purpose). */
  path: string;
  headers?: readonly (readonly [string, string])[];
  body?: Buffer;
  /** Bytes sent verbatim instead of a request built from the fields above. */
  raw?: Buffer;
  /** Send the body `chunk` bytes at a time, `delayMs` apart (a slow client). */
  trickle?: { chunk: number; delayMs: number };
}

export type Outcome =
  /** A status line and headers came back. */
  | 'answered'
  /** Nothing came back before the deadline. */
  | 'timeout'
  /** The daemon closed the connection without a status line. */
  | 'closed'
  /** The connection failed (refused, reset) without a status line. */
  | 'reset';

export interface RawAnswer {
  outcome: Outcome;
  /** 0 without a status line. */
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The body, de-chunked; at most `maxBody` bytes are kept. */
  body: Buffer;
  /** False when the body was still streaming at the end of the grace period. */
  complete: boolean;
  /** Milliseconds until the status line (or until the outcome). */
  ms: number;
  error?: string;
}

export interface SendOptions {
  /** Time allowed for the status line, counted from the end of the upload. */
  deadlineMs: number;
  /** Time allowed for the rest of the body once the headers are in (streams stay open). */
  bodyGraceMs?: number;
  /** Bytes of the answer kept (default 1 MiB); the rest is read and dropped. */
  maxBody?: number;
}

const MAX_KEEP = 1 << 20;
const UPLOAD_CHUNK = 16 << 10;

/** The bytes of a request: Connection: close and Content-Length are added unless given. */
export function encodeRequest(req: RawRequest): Buffer {
  if (req.raw) return req.raw;
  const headers = [...(req.headers ?? [])];
  const has = (name: string): boolean => headers.some(([k]) => k.toLowerCase() === name);
  if (!has('host')) headers.unshift(['Host', 'berth']);
  if (!has('connection')) headers.push(['Connection', 'close']);
  if (req.body && !has('content-length') && !has('transfer-encoding')) headers.push(['Content-Length', String(req.body.length)]);
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return req.body ? Buffer.concat([Buffer.from(head, 'latin1'), req.body]) : Buffer.from(head, 'latin1');
}

interface Parsed {
  status: number;
  headers: Record<string, string>;
  bodyStart: number;
}

function parseHead(buf: Buffer, from = 0): Parsed | undefined {
  const end = buf.indexOf('\r\n\r\n', from);
  if (end < 0) return undefined;
  const lines = buf.subarray(from, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
  // An interim answer (100 Continue) precedes the real one.
  if (m && m[1]!.startsWith('1') && m[1] !== '101') return parseHead(buf, end + 4);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status: m ? Number(m[1]) : 0, headers, bodyStart: end + 4 };
}

/** De-chunk a chunked body; `done` once the last chunk was seen. */
function dechunk(buf: Buffer): { body: Buffer; done: boolean } {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return { body: Buffer.concat(parts), done: false };
    const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), done: false };
    if (size === 0) return { body: Buffer.concat(parts), done: true };
    if (eol + 2 + size > buf.length) {
      parts.push(buf.subarray(eol + 2));
      return { body: Buffer.concat(parts), done: false };
    }
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

function bodyOf(buf: Buffer, p: Parsed, method: string): { body: Buffer; done: boolean } {
  const rest = buf.subarray(p.bodyStart);
  if (method === 'HEAD' || p.status === 101 || p.status === 204 || p.status === 304) return { body: Buffer.alloc(0), done: true };
  if ((p.headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) return dechunk(rest);
  const cl = p.headers['content-length'];
  if (cl !== undefined) return { body: rest.subarray(0, Number(cl)), done: rest.length >= Number(cl) };
  return { body: rest, done: false };
}

/** Send one request on a fresh connection and read the answer; never rejects. */
export function sendRaw(socketPath: string, req: RawRequest, opts: SendOptions): Promise<RawAnswer> {
  const bytes = encodeRequest(req);
  const grace = opts.bodyGraceMs ?? 5_000;
  return new Promise((resolve) => {
    const t0 = performance.now();
    let received = Buffer.alloc(0);
    let parsed: Parsed | undefined;
    let headMs = 0;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const sock = net.createConnection(socketPath);

    const finish = (outcome: Outcome, complete: boolean, error?: string): void => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      sock.destroy();
      const b = parsed ? bodyOf(received, parsed, req.method) : { body: Buffer.alloc(0), done: false };
      resolve({
        outcome: parsed ? 'answered' : outcome,
        status: parsed?.status ?? 0,
        headers: parsed?.headers ?? {},
        body: b.body,
        complete: parsed ? complete || b.done : false,
        ms: parsed ? headMs : performance.now() - t0,
        ...(error !== undefined ? { error } : {}),
      });
    };
    const armDeadline = (): void => {
      timers.push(setTimeout(() => finish('timeout', false), opts.deadlineMs));
    };

    sock.on('data', (chunk: Buffer) => {
      if (received.length < (opts.maxBody ?? MAX_KEEP)) received = Buffer.concat([received, chunk]);
      if (!parsed) {
        parsed = parseHead(received);
        if (!parsed) return;
        headMs = performance.now() - t0;
        timers.push(setTimeout(() => finish('answered', false), grace));
      }
      if (bodyOf(received, parsed, req.method).done) finish('answered', true);
    });
    sock.on('end', () => finish('closed', parsed !== undefined && !('content-length' in parsed.headers) && !('transfer-encoding' in parsed.headers)));
    sock.on('close', () => finish('closed', false));
    sock.on('error', (e: Error) => finish('reset', false, (e as NodeJS.ErrnoException).code ?? e.message));
    sock.on('connect', () => void upload());

    const sleep = (ms: number): Promise<void> => new Promise((r) => timers.push(setTimeout(r, ms)));
    async function upload(): Promise<void> {
      const step = req.trickle?.chunk ?? UPLOAD_CHUNK;
      for (let off = 0; off < bytes.length && !settled; off += step) {
        // Like curl: once the daemon has answered, stop uploading. Reading between
        // chunks lets an early answer in before a write into a closed socket fails.
        if (parsed) return;
        const ok = sock.write(bytes.subarray(off, off + step));
        if (req.trickle) await sleep(req.trickle.delayMs);
        else if (!ok) await new Promise<void>((r) => sock.once('drain', () => r()));
        else await new Promise<void>((r) => setTimeout(r, 0));
      }
      if (!settled) armDeadline();
    }
  });
}

export interface JsonAnswer {
  outcome: Outcome;
  status: number;
  json: unknown;
  text: string;
  ms: number;
}

/** A well-formed JSON API call with a deadline (for load and consistency checks). */
export async function apiCall(socketPath: string, method: string, path: string, body?: unknown, deadlineMs = 60_000): Promise<JsonAnswer> {
  const req: RawRequest = {
    method,
    path,
    ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)), headers: [['Content-Type', 'application/json']] } : {}),
  };
  const a = await sendRaw(socketPath, req, { deadlineMs, bodyGraceMs: deadlineMs, maxBody: 256 << 20 });
  const text = a.body.toString('utf8');
  let json: unknown;
  try {
    json = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    json = undefined;
  }
  return { outcome: a.outcome, status: a.status, json, text, ms: a.ms };
}
