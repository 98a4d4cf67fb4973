/**
 * `docker search` (GET /images/search), as dockerd asks: the index's v1 search API
 * (Docker Hub's index.docker.io, or the host a term starts with). A v2-only
 * registry such as the distribution registry has none, and answers as dockerd
 * reports it: "unexpected status code 404".
 */
import { BerthError, invalid } from '../../../errors.js';
import type { Credentials } from './auth.js';
import { TransportError } from './errors.js';
import type { RegistryHosts } from './hosts.js';
import { readBody, request } from './http.js';

/** One result, in the Engine API's shape. */
export interface SearchResult {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
}

/** `host/term` names a registry when its first part looks like a host (as dockerd splits it). */
function splitTerm(term: string): { index: string; remote: string } {
  const slash = term.indexOf('/');
  if (slash > 0) {
    const first = term.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') return { index: first, remote: term.slice(slash + 1) };
  }
  return { index: 'docker.io', remote: term };
}

export async function search(hosts: RegistryHosts, term: string, limit: number, creds?: Credentials): Promise<SearchResult[]> {
  if (term.includes('://')) throw invalid(`invalid repository name: repository name (${term}) should not have a scheme`);
  if (limit < 1 || limit > 100) throw invalid(`limit ${limit} is outside the range of [1, 100]`);
  const { index, remote } = splitTerm(term);
  const official = index === 'docker.io' || index === 'index.docker.io';
  const secure = official || (await hosts.isSecure(index));
  const tls = await hosts.tlsFor(official ? 'index.docker.io' : index, secure);
  const schemes = secure ? ['https'] : ['https', 'http'];
  let last: unknown;
  for (const scheme of schemes) {
    const url = new URL(`${scheme}://${official ? 'index.docker.io' : index}/v1/search`);
    url.searchParams.set('q', remote);
    url.searchParams.set('n', String(limit));
    const headers: Record<string, string> = creds?.username ? { Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}` } : {};
    let res;
    try {
      res = await request(url, { method: 'GET', tls, headers });
    } catch (e: unknown) {
      last = new TransportError('GET', url, e);
      continue;
    }
    if (res.status !== 200) {
      res.body.resume();
      throw new BerthError('System', `unexpected status code ${res.status}`);
    }
    const body = JSON.parse((await readBody(res)).toString()) as { results?: unknown };
    if (!Array.isArray(body.results)) throw new BerthError('System', 'error decoding registry search results');
    return body.results.map((r: Record<string, unknown>) => ({
      name: String(r.name ?? ''),
      description: String(r.description ?? ''),
      star_count: Number(r.star_count ?? 0),
      is_official: r.is_official === true,
      is_automated: r.is_automated === true,
    }));
  }
  throw new BerthError('InvalidParameter', `invalid registry endpoint https://${index}/v1/: ${last instanceof Error ? last.message : String(last)}`);
}
