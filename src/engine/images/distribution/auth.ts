/**
 * Authorization against a registry as Docker's client does it: the registry's
 * challenge (from GET /v2/) says how. Basic sends the credentials; Bearer asks the
 * named token server (Docker's token spec: GET realm?service=…&scope=…, with the
 * credentials as basic auth when there are some, anonymous otherwise) and keeps the
 * token until it expires. A registry token given by the client is used as it is.
 */
import { BerthError } from '../../../errors.js';
import type { Challenge } from './errors.js';
import { registryErrorOf, TransportError } from './errors.js';
import { readBody, request, type TlsSettings } from './http.js';

/** What a client sends in X-Registry-Auth (Docker's AuthConfig), read at the API's edge. */
export interface Credentials {
  username?: string;
  password?: string;
  /** A refresh token from an earlier login (OAuth2). */
  identityToken?: string;
  /** A bearer token to send as it is. */
  registryToken?: string;
  serverAddress?: string;
}

interface Token {
  value: string;
  /** Epoch ms after which it is asked again. */
  expires: number;
}

/** `repository:<path>:pull,push`, as Docker scopes a repository. */
export function repositoryScope(path: string, actions: readonly string[]): string {
  return `repository:${path}:${actions.join(',')}`;
}

export class Authorizer {
  private readonly tokens = new Map<string, Token>();

  constructor(
    private readonly challenges: readonly Challenge[],
    private readonly creds: Credentials | undefined,
    private readonly tls: TlsSettings,
  ) {}

  /** True when the registry asked for no authorization at all. */
  get open(): boolean {
    return this.challenges.length === 0;
  }

  /**
   * The Authorization header for a request needing `scopes`, or undefined when the
   * registry wants none. Throws Docker's "no basic auth credentials" for a basic
   * challenge without credentials, and the token server's refusal.
   */
  async header(scopes: readonly string[]): Promise<string | undefined> {
    if (this.creds?.registryToken) return `Bearer ${this.creds.registryToken}`;
    const bearer = this.challenges.find((c) => c.scheme === 'bearer');
    if (bearer !== undefined) return `Bearer ${await this.token(bearer, scopes)}`;
    const basic = this.challenges.find((c) => c.scheme === 'basic');
    if (basic !== undefined) {
      if (!this.creds?.username) throw new BerthError('Unauthorized', 'no basic auth credentials');
      return `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
    }
    return undefined;
  }

  /** Forget tokens (after the registry refused one: it may have been revoked). */
  reset(): void {
    this.tokens.clear();
  }

  private async token(challenge: Challenge, scopes: readonly string[]): Promise<string> {
    const key = [...scopes].sort().join(' ');
    const held = this.tokens.get(key);
    if (held !== undefined && held.expires > Date.now()) return held.value;
    const realm = challenge.params.realm;
    if (realm === undefined || realm === '') throw new BerthError('System', 'no realm specified for token auth challenge');
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (this.creds?.username) {
      url.searchParams.set('account', this.creds.username);
      url.searchParams.set('client_id', 'docker');
      headers.Authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password ?? ''}`).toString('base64')}`;
    }
    let res;
    try {
      res = await request(url, { method: 'GET', headers, tls: this.tls });
    } catch (e: unknown) {
      throw new TransportError('GET', url, e);
    }
    if (res.status < 200 || res.status >= 300) throw await registryErrorOf(res);
    const body: unknown = JSON.parse((await readBody(res, 1 << 20)).toString());
    const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const value = typeof o.token === 'string' && o.token !== '' ? o.token : typeof o.access_token === 'string' ? o.access_token : '';
    if (value === '') throw new BerthError('System', 'authorization server did not include a token in the response');
    // A token lives 60 s unless the server says otherwise (the spec's minimum).
    const lifetime = typeof o.expires_in === 'number' && o.expires_in > 0 ? o.expires_in : 60;
    this.tokens.set(key, { value, expires: Date.now() + Math.max(lifetime - 5, 1) * 1000 });
    return value;
  }
}
