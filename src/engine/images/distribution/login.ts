/**
 * `docker login` (POST /auth): the credentials are checked against the registry as
 * dockerd's loginV2 checks them — GET /v2/ with the authorization its challenge asks
 * for (basic, or a token the token server only gives for good credentials) must answer
 * 200. Mirrors are never asked: they must not see the registry's credentials.
 */
import { BerthError, isBerthError, messageOf } from '../../../errors.js';
import { Authorizer, type Credentials } from './auth.js';
import { challengesOf, RegistryError, TransportError } from './errors.js';
import { INDEX_NAME, type RegistryHosts } from './hosts.js';
import { discard, request } from './http.js';

/** The registry host a login's server address names (`https://index.docker.io/v1/` is docker.io). */
export function loginHost(serverAddress: string | undefined): string {
  if (serverAddress === undefined || serverAddress === '') return INDEX_NAME;
  const url = new URL(/^https?:\/\//.test(serverAddress) ? serverAddress : `https://${serverAddress}`);
  return url.host === 'index.docker.io' || url.host === 'registry-1.docker.io' ? INDEX_NAME : url.host;
}

/** Check `creds` against their registry; the identity token to keep ('' when none). */
export async function login(hosts: RegistryHosts, creds: Credentials): Promise<string> {
  let last: unknown = new BerthError('System', 'no endpoint to log in to');
  for (const endpoint of await hosts.endpoints(loginHost(creds.serverAddress), { mirrors: false })) {
    const url = new URL('v2/', endpoint.url);
    try {
      const ping = await request(url, { method: 'GET', tls: endpoint.tls });
      discard(ping);
      const auth = new Authorizer(ping.status === 401 ? challengesOf(ping) : [], creds, endpoint.tls);
      let header: string | undefined;
      try {
        header = await auth.header([]);
      } catch (e: unknown) {
        throw new BerthError('Unauthorized', new TransportError('GET', url, e).message);
      }
      const res = await request(url, { method: 'GET', tls: endpoint.tls, headers: header === undefined ? {} : { Authorization: header } });
      discard(res);
      if (res.status !== 200) throw new BerthError('System', `login attempt to ${url.href} failed with status: ${res.status} ${res.statusText}`);
      return '';
    } catch (e: unknown) {
      // A refusal is final; a registry that does not answer this way may on the next endpoint (http).
      if (isBerthError(e) && e.kind === 'Unauthorized') throw e;
      if (e instanceof RegistryError) throw new BerthError('Unauthorized', messageOf(e));
      last = isBerthError(e) ? e : new TransportError('GET', url, e);
    }
  }
  throw isBerthError(last) ? last : new BerthError('System', messageOf(last));
}
