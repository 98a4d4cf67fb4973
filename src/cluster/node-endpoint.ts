/**
 * The node-to-node endpoint: every node of a swarm serves on NODE_PORT, over TLS with the
 * swarm's certificates on both sides, what other nodes ask of it directly (a task's logs,
 * its clock). The caller's certificate must chain to the swarm's root and name this
 * cluster; a route for managers also wants a manager's role, still held in the store (a
 * demoted node keeps its old certificate until it is replaced). Anything else is refused
 * before the route runs.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { messageOf, unavailable } from '../errors.js';
import { certIdentity, type NodeIdentity } from './ca.js';
import { serveOn, type Serving } from './serving.js';

/** Where every node serves the endpoint. */
export const NODE_PORT = 2378;

/** The swarm's TLS material as a node holds it (PEM). */
export interface NodeTls {
  ca: string;
  cert: string;
  key: string;
}

/** One GET path of the endpoint. */
export interface NodeRoute {
  /** Matched against the path; its groups go to `handle`. */
  path: RegExp;
  /** Who may ask: any node of this swarm, or its managers only (then `refusal` says why not). */
  allow: 'member' | { managers: string };
  handle(req: IncomingMessage, res: ServerResponse, match: RegExpExecArray, caller: NodeIdentity): Promise<void>;
}

export interface NodeEndpointOptions {
  listen: { host: string; port: number };
  tls: NodeTls;
  clusterId: string;
  /** Whether the node is a manager now (its record in the store). */
  isManager(nodeId: string): Promise<boolean>;
  routes: readonly NodeRoute[];
}

/** Answer a JSON body. */
export function replyJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Serve the routes to the nodes of this swarm; resolves when it listens. */
export async function serveNodeEndpoint(o: NodeEndpointOptions): Promise<Serving> {
  const server = https.createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    void (async () => {
      const path = new URL(req.url ?? '/', 'https://node').pathname;
      const found = o.routes.map((r) => [r, r.path.exec(path)] as const).find(([, m]) => m !== null);
      if (req.method !== 'GET' || !found) return replyJson(res, 404, { message: 'page not found' });
      const [route, match] = found;
      let caller: NodeIdentity;
      try {
        caller = await certIdentity(new X509Certificate((req.socket as TLSSocket).getPeerCertificate().raw).toString(), o.tls.ca);
      } catch (e: unknown) {
        return replyJson(res, 403, { message: `a node certificate of this swarm is needed: ${messageOf(e)}` });
      }
      if (caller.clusterId !== o.clusterId) return replyJson(res, 403, { message: 'a node certificate of this swarm is needed' });
      if (route.allow !== 'member' && (caller.role !== 'manager' || !(await o.isManager(caller.nodeId)))) return replyJson(res, 403, { message: route.allow.managers });
      await route.handle(req, res, match!, caller);
    })();
  });
  return serveOn(server, o.listen);
}

/**
 * GET `path` on the node at `addr` as this node (its certificate). Throws Unavailable when
 * the node cannot be reached, stays silent past `timeoutMs`, or answers other than 200.
 */
export async function askNode(addr: string, port: number, path: string, tls: NodeTls, o: { signal?: AbortSignal; timeoutMs: number; agent?: https.Agent }): Promise<IncomingMessage> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request({ host: addr, port, method: 'GET', path, ca: tls.ca, cert: tls.cert, key: tls.key, timeout: o.timeoutMs, ...(o.signal ? { signal: o.signal } : {}), ...(o.agent ? { agent: o.agent } : {}) }, resolve);
    req.on('timeout', () => req.destroy(unavailable('timed out')));
    req.on('error', reject);
    req.end();
  });
  if (res.statusCode === 200) return res;
  let text = '';
  for await (const b of res) text += (b as Buffer).toString();
  throw unavailable(`answered ${res.statusCode}: ${text.slice(0, 200)}`);
}
