/**
 * A registry's error answers read as Docker's distribution client reads them
 * (registry/client/errors.go HandleErrorResponse), and worded for the user as dockerd
 * words them (translatePullError, Go's url.Error for transport failures).
 */
import { BerthError, isBerthError, messageOf, type ErrorKind } from '../../../errors.js';
import type { HttpResponse } from './http.js';
import { readBody } from './http.js';

/** The default messages of distribution's error codes. */
const CODE_MESSAGES: Record<string, string> = {
  UNKNOWN: 'unknown error',
  UNSUPPORTED: 'The operation is unsupported.',
  UNAUTHORIZED: 'authentication required',
  DENIED: 'requested access to the resource is denied',
  UNAVAILABLE: 'service unavailable',
  TOOMANYREQUESTS: 'too many requests',
};

/** One error of a registry's {"errors": […]} (errcode.Error). */
export class RegistryError extends Error {
  constructor(
    /** The code's value: MANIFEST_UNKNOWN, UNAUTHORIZED, … */
    readonly code: string,
    readonly detailMessage: string,
    readonly status: number,
  ) {
    super(`${code.replace(/_/g, ' ').toLowerCase()}: ${detailMessage}`);
  }
}

function make(status: number, details: string): RegistryError {
  const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN';
  return new RegistryError(code, details, status);
}

/** The parameters of each challenge in WWW-Authenticate (scheme lowercased). */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** RFC 7235 challenges: `Bearer realm="…",service="…"`, `Basic realm="…"`. */
export function parseChallenges(values: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of values) {
    const re = /\s*([A-Za-z][\w-]*)(?:\s+|$)((?:[\w-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?\s*)*)/y;
    let m: RegExpExecArray | null;
    while (re.lastIndex < value.length && (m = re.exec(value)) !== null) {
      const params: Record<string, string> = {};
      for (const p of (m[2] ?? '').matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
        params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
      }
      out.push({ scheme: m[1]!.toLowerCase(), params });
      if (m[0] === '') break;
    }
  }
  return out;
}

export function challengesOf(res: HttpResponse): Challenge[] {
  const v = res.headers['www-authenticate'];
  return parseChallenges(v === undefined ? [] : Array.isArray(v) ? v : [v]);
}

/** The first error an unsuccessful answer carries (HandleErrorResponse, first error kept). */
export async function registryErrorOf(res: HttpResponse): Promise<Error> {
  if (res.status < 400 || res.status >= 500) {
    res.body.resume();
    return new Error(`received unexpected HTTP status: ${res.status} ${res.statusText}`);
  }
  for (const c of challengesOf(res)) {
    if (c.scheme !== 'bearer') continue;
    const code = c.params.error === 'invalid_token' ? 'UNAUTHORIZED' : c.params.error === 'insufficient_scope' ? 'DENIED' : undefined;
    if (code === undefined) continue;
    res.body.resume();
    return new RegistryError(code, c.params.error_description || CODE_MESSAGES[code]!, res.status);
  }
  const body = res.headers['content-length'] === '0' ? Buffer.alloc(0) : await readBody(res, 1 << 20).catch(() => Buffer.alloc(0));
  const text = body.toString();
  const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || (type !== 'application/json' && type !== 'application/vnd.api+json')) return make(res.status, text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e: unknown) {
    if (res.status === 401) return new RegistryError('UNAUTHORIZED', CODE_MESSAGES.UNAUTHORIZED!, 401);
    return new Error(`error parsing HTTP ${res.status} response body: ${messageOf(e)}: ${JSON.stringify(text)}`);
  }
  const o = typeof parsed === 'object' && parsed !== null ? (parsed as { details?: unknown; errors?: unknown }) : {};
  if (typeof o.details === 'string' && o.details !== '') return make(res.status, o.details);
  const first: unknown = Array.isArray(o.errors) ? o.errors[0] : undefined;
  if (typeof first !== 'object' || first === null) {
    if (res.status === 401) return new RegistryError('UNAUTHORIZED', CODE_MESSAGES.UNAUTHORIZED!, 401);
    return new Error(`error parsing HTTP ${res.status} response body: no error details found in HTTP response body: ${JSON.stringify(text)}`);
  }
  const e = first as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' && e.code !== '' ? e.code.toUpperCase() : 'UNKNOWN';
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : (CODE_MESSAGES[code] ?? 'unknown error');
  return new RegistryError(code, message, res.status);
}

/** Go's net/http spelling of a method in url.Error ("Get", "Head" …). */
function goMethod(method: string): string {
  return method.charAt(0) + method.slice(1).toLowerCase();
}

/** A failure to talk HTTP at all, in Go's words (dial, TLS, reset). */
export function transportMessage(e: unknown, url: URL): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const host = url.host.includes(':') ? url.host : `${url.host}:${url.protocol === 'https:' ? 443 : 80}`;
  switch (code) {
    case 'ECONNREFUSED':
      return `dial tcp ${host}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${url.hostname}: no such host`;
    case 'ECONNRESET':
      return `read tcp ${host}: read: connection reset by peer`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `dial tcp ${host}: connect: ${code === 'ETIMEDOUT' ? 'connection timed out' : code === 'EHOSTUNREACH' ? 'no route to host' : 'network is unreachable'}`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return 'http: server gave HTTP response to HTTPS client';
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is valid for other names, not ${url.hostname}`;
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    default:
      return messageOf(e);
  }
}

/** A transport failure (or an auth failure below it) as Go's url.Error: `Get "URL": cause`. */
export class TransportError extends Error {
  constructor(
    method: string,
    url: URL,
    override readonly cause: unknown,
  ) {
    super(`${goMethod(method)} "${url.href}": ${cause instanceof RegistryError || isBerthError(cause) ? messageOf(cause) : transportMessage(cause, url)}`);
  }
}

/**
 * A pull's failure as dockerd reports it (translatePullError): denied or unknown
 * manifest or name are NotFound with the reference named; unauthorized is 401; the
 * rest keeps its message.
 */
export function pullError(e: unknown, familiarName: string, familiarRef: string): BerthError {
  if (isBerthError(e)) return e;
  if (e instanceof RegistryError) {
    switch (e.code) {
      case 'DENIED':
        return new BerthError('NotFound', `pull access denied for ${familiarName}, repository does not exist or may require 'docker login': ${e.message}`);
      case 'MANIFEST_UNKNOWN':
        return new BerthError('NotFound', `manifest for ${familiarRef} not found: ${e.message}`);
      case 'NAME_UNKNOWN':
        return new BerthError('NotFound', `repository ${familiarName} not found: ${e.message}`);
      case 'UNAUTHORIZED':
        return new BerthError('Unauthorized', e.message);
    }
  }
  return new BerthError('System', messageOf(e));
}

/** A push's failure: unauthorized and denied keep their kinds, the rest its message. */
export function pushError(e: unknown): BerthError {
  if (isBerthError(e)) return e;
  const kind: ErrorKind = e instanceof RegistryError ? (e.code === 'UNAUTHORIZED' ? 'Unauthorized' : e.code === 'DENIED' ? 'Forbidden' : 'System') : 'System';
  return new BerthError(kind, messageOf(e));
}
