/**
 * Request routing for the Docker Engine API: an optional /vX.Y version prefix, then
 * a method and a path pattern with {params}. Handlers return data (sent as JSON) or
 * take over the response themselves (streams, hijacked connections).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { invalid } from '../errors.js';

export const API_VERSION = '1.44';
export const MIN_API_VERSION = '1.24';

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  /** The negotiated API version of this request (from the path prefix, else the server's). */
  readonly version: string;
  readonly raw: IncomingMessage;
  readonly res: ServerResponse;
  /** Set when the client asked to upgrade the connection (attach, exec start). */
  readonly upgrade?: { socket: Duplex; head: Buffer };
  /** The body parsed as JSON; an empty body is `{}`. Bad JSON is an InvalidParameter error. */
  json(): Promise<unknown>;
  /** Read and drop the rest of the body (before a handler that ignores it answers). */
  drain(): Promise<void>;
}

export type Reply =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** The handler wrote the response itself. */
  | { handled: true };

export type Handler = (req: ApiRequest) => Promise<Reply>;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const source = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return name === 'name' ? '(.+)' : '([^/]+)'; // image names contain slashes
    });
    this.routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** The handler and params for a request, or why there is none. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string> } | 'not-found' | 'bad-method' {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = decodePathParam(m[i + 1] ?? '')));
      return { handler: r.handler, params };
    }
    return pathMatched ? 'bad-method' : 'not-found';
  }
}

/** Splits "/v1.41/networks" into version and path; a version above ours is refused as Docker does. */
export function splitVersion(url: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(url);
  if (!m) return { version: API_VERSION, path: url };
  const version = m[1]!;
  if (compareVersions(version, API_VERSION) > 0) {
    throw invalid(`client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw invalid(`client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  return { version, path: m[2]! };
}

export function compareVersions(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split('.').map(Number);
  const [b1 = 0, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}

function decodePathParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw invalid(`invalid escape in request path: ${raw.slice(0, 64)}`);
  }
}
