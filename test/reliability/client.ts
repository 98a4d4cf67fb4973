/**
 * A raw Engine API client on berthd's unix socket, for the chaos run: every request
 * has a deadline, and a failure says whether the daemon can have seen the request
 * (`sent`): a refused connection means it never arrived, a reset after sending means
 * its outcome is unknown.
 */
import * as http from 'node:http';
import { num, obj, str } from './json.js';

const API = '/v1.44';

export interface ApiResult {
  status: number;
  body: unknown;
}

/** The request got no answer. `sent` is false when it never reached the daemon. */
export class NoAnswer extends Error {
  constructor(
    readonly what: string,
    readonly sent: boolean,
    readonly code: string,
  ) {
    super(`${what}: no answer (${code}${sent ? ', outcome unknown' : ', never sent'})`);
  }
}

export function isNoAnswer(e: unknown): e is NoAnswer {
  return e instanceof NoAnswer;
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES']);

function errCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

export class EngineClient {
  constructor(readonly socketPath: string) {}

  /** One request; throws NoAnswer when the daemon did not answer (gone, or no answer before the deadline). */
  api(method: string, urlPath: string, body?: unknown, timeoutMs = 120_000): Promise<ApiResult> {
    const what = `${method} ${urlPath}`;
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: http.OutgoingHttpHeaders = data ? { 'Content-Type': 'application/json' } : {};
      const path = urlPath === '/_ping' ? urlPath : API + urlPath;
      let connected = false;
      const req = http.request({ socketPath: this.socketPath, method, path, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('error', (e: unknown) => reject(new NoAnswer(what, true, errCode(e))));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* empty or not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs} ms` })), timeoutMs);
      req.on('socket', (s) => s.once('connect', () => (connected = true)));
      req.on('error', (e: unknown) => {
        clearTimeout(timer);
        const code = errCode(e);
        reject(new NoAnswer(what, connected || !NEVER_SENT.has(code), code));
      });
      req.end(data);
    });
  }

  /** Like api, but a status of 400 or more is an error carrying the daemon's message. */
  async ok(method: string, urlPath: string, body?: unknown, timeoutMs?: number): Promise<ApiResult> {
    const r = await this.api(method, urlPath, body, timeoutMs);
    if (r.status >= 400) throw new Error(`${method} ${urlPath}: ${r.status} ${messageOf(r.body)}`);
    return r;
  }

  /** Whether /_ping answers 200 within a second. */
  async ping(): Promise<boolean> {
    try {
      return (await this.api('GET', '/_ping', undefined, 1000)).status === 200;
    } catch {
      return false;
    }
  }

  /**
   * Run a command in a running container (non-tty exec) and collect its output and exit
   * code. The exec start is read without an Upgrade: berthd then answers 200 and streams
   * the multiplexed frames until the process ends.
   */
  async exec(container: string, cmd: readonly string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const created = await this.ok('POST', `/containers/${container}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false }, timeoutMs);
    const id = str(obj(created.body).Id);
    const raw = await this.stream('POST', `/exec/${id}/start`, { Detach: false, Tty: false }, timeoutMs);
    const { stdout, stderr } = demux(raw);
    const info = await this.ok('GET', `/exec/${id}/json`, undefined, timeoutMs);
    const code = obj(info.body).ExitCode;
    return { code: typeof code === 'number' ? num(code) : -1, stdout, stderr };
  }

  /** A request whose answer is a stream that ends when the daemon closes it. */
  private stream(method: string, urlPath: string, body: unknown, timeoutMs: number): Promise<Buffer> {
    const what = `${method} ${urlPath}`;
    return new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request({ socketPath: this.socketPath, method, path: API + urlPath, headers: { 'Content-Type': 'application/json' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        const done = (): void => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks));
        };
        res.on('end', done);
        res.on('close', done);
        res.on('error', () => done());
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs} ms` })), timeoutMs);
      req.on('error', (e: unknown) => {
        clearTimeout(timer);
        reject(new NoAnswer(what, true, errCode(e)));
      });
      req.end(data);
    });
  }
}

/** Split Docker's multiplexed stream: [stream, 0, 0, 0, size uint32 BE] + payload. */
export function demux(raw: Buffer): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  let i = 0;
  while (i + 8 <= raw.length) {
    const kind = raw[i];
    const size = raw.readUInt32BE(i + 4);
    const payload = raw.subarray(i + 8, i + 8 + size).toString();
    if (kind === 2) stderr += payload;
    else stdout += payload;
    i += 8 + size;
  }
  return { stdout, stderr };
}

export function messageOf(body: unknown): string {
  if ('message' in obj(body)) return String(obj(body).message);
  return typeof body === 'string' ? body.trim().slice(0, 300) : JSON.stringify(body).slice(0, 300);
}
