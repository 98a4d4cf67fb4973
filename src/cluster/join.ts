/**
 * The join endpoint (a manager's listen address, 2377) and its client. A joining node
 * first fetches the cluster's root CA without trusting anyone and keeps it only if its
 * digest is the one its token carries (the token pins the CA); from then on it talks TLS
 * trusting that root alone, and sends its token with a certificate request for its own
 * key. The manager decides the role from the token and answers with the certificate and
 * what the node needs to reach the cluster store.
 *
 * A worker the swarm promoted asks here too (/promote), proving who it is with its node
 * certificate instead of a token: it receives a manager's certificate, the CA's key and
 * its etcd member's place.
 */
import { X509Certificate } from 'node:crypto';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { BerthError, forbidden, messageOf, systemError, type ErrorKind } from '../errors.js';
import type { HostPort } from './addresses.js';
import { certIdentity, type NodeRole } from './ca.js';
import { caDigestPart, parseJoinToken } from './tokens.js';
import type { Availability } from './model.js';
import { serveOn, type Serving } from './serving.js';

export interface JoinAsk {
  token: string;
  /** PEM certificate request for the joining node's own key. */
  csr: string;
  /** Its advertise address; '' lets the manager take the address it sees. */
  addr: string;
  /** Its VXLAN's address, when not the advertise address (--data-path-addr). */
  dataPathAddr?: string;
  hostname: string;
  availability: Availability | '';
  /** What the node is like (for node ls / inspect). */
  description: { architecture: string; os: string; nanoCpus: number; memoryBytes: number; engineVersion: string };
}

export interface JoinGrant {
  clusterId: string;
  nodeId: string;
  role: NodeRole;
  /** The node's certificate, and the root it chains to. */
  cert: string;
  ca: string;
  /**
   * Managers only: the CA's key (managers sign later joins), and with the swarm's own etcd
   * their member's initial cluster and its ID (added as a learner, to be made a voter).
   */
  caKey?: string;
  initialCluster?: string;
  learnerId?: string;
  /** The node's address as the cluster records it. */
  addr: string;
  /** The swarm's own etcd members' client URLs (none with an external store). */
  etcdEndpoints: string[];
  /** The swarm keeps its state in an external etcd (its managers' --cluster-store): the node must use the same. */
  external?: boolean;
}

/** What a promoted worker sends to /promote (its certificate says who it is). */
export interface PromoteAsk {
  /** PEM certificate request for the node's own key. */
  csr: string;
  /** The port its join endpoint will listen on. */
  joinPort: number;
}

export interface JoinServerOptions {
  listen: HostPort;
  tls: { cert: string; key: string };
  /** The root CA (PEM), served to joiners. */
  rootCa(): string;
  /** Decide: throws BerthError (its kind becomes the status) or grants. `remote` is the caller's IP. */
  grant(ask: JoinAsk, remote: string): Promise<JoinGrant>;
  /** A node (its certificate checked against the root) asks to become the manager the swarm made it. */
  promote(nodeId: string, ask: PromoteAsk): Promise<JoinGrant>;
  log: (m: string) => void;
}

const STATUS: Record<ErrorKind, number> = { NotFound: 404, Unauthorized: 401, Conflict: 409, InvalidParameter: 400, Forbidden: 403, Unavailable: 503, NotImplemented: 501, System: 500 };
const KIND = Object.fromEntries(Object.entries(STATUS).map(([k, v]) => [v, k])) as Record<number, ErrorKind>;

/** Serve the join endpoint; resolves when it listens. */
export async function serveJoin(o: JoinServerOptions): Promise<Serving> {
  // A client certificate is asked, not required: joiners have none yet; /promote needs one.
  const server = https.createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.rootCa(), requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    if (req.method === 'GET' && req.url === '/ca') return reply(200, { ca: o.rootCa() });
    if (req.method !== 'POST' || (req.url !== '/join' && req.url !== '/promote')) return reply(404, { message: 'page not found' });
    let body = '';
    req.on('data', (b: Buffer) => {
      body += b.toString();
      if (body.length > 1 << 20) req.destroy();
    });
    req.on('end', () => {
      void (async () => {
        try {
          if (req.url === '/promote') {
            const nodeId = await callerNode(req.socket as TLSSocket, o.rootCa());
            reply(200, await o.promote(nodeId, JSON.parse(body) as PromoteAsk));
            return;
          }
          const ask = JSON.parse(body) as JoinAsk;
          reply(200, await o.grant(ask, (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')));
        } catch (e: unknown) {
          if (!(e instanceof BerthError)) o.log(`join: ${messageOf(e)}`);
          reply(e instanceof BerthError ? STATUS[e.kind] : 500, { message: messageOf(e) });
        }
      })();
    });
  });
  return serveOn(server, o.listen);
}

/** The node a TLS caller is, by the certificate it showed (signed by this swarm's root). */
async function callerNode(socket: TLSSocket, rootPem: string): Promise<string> {
  const peer = socket.getPeerCertificate();
  if (!socket.authorized || !peer.raw) throw forbidden('a node certificate of this swarm is needed');
  const pem = new X509Certificate(peer.raw).toString();
  return (await certIdentity(pem, rootPem)).nodeId;
}

/** One HTTPS request to a join endpoint; the answer's JSON, or its error as a BerthError. */
async function call<T>(remote: HostPort, method: string, path: string, ca: string | undefined, body?: unknown, client?: { cert: string; key: string }): Promise<T> {
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = https.request(
      {
        host: remote.host,
        port: remote.port,
        method,
        path,
        timeout: 20_000,
        // Before the root is known nothing is trusted; the token's digest then checks what came.
        ...(ca === undefined ? { rejectUnauthorized: false } : { ca }),
        ...(client ?? {}),
        headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
      },
      (res) => {
        let text = '';
        res.on('data', (b: Buffer) => (text += b.toString()));
        res.on('error', reject);
        res.on('end', () => {
          try {
            const parsed = JSON.parse(text) as { message?: string };
            if ((res.statusCode ?? 500) >= 400) reject(new BerthError(KIND[res.statusCode ?? 500] ?? 'System', parsed.message ?? text));
            else resolve(parsed as T);
          } catch {
            reject(systemError(`the manager at ${remote.host}:${remote.port} answered ${res.statusCode}: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(e instanceof BerthError ? e : systemError(`cannot reach the manager at ${remote.host}:${remote.port}: ${e.message}`)));
    req.end(data);
  });
}

/** Join through the manager at `remote`: pin its CA by the token, then ask. */
export async function requestJoin(remote: HostPort, ask: JoinAsk): Promise<JoinGrant> {
  const { digest } = parseJoinToken(ask.token);
  const { ca } = await call<{ ca: string }>(remote, 'GET', '/ca', undefined);
  // Docker's words, and its status (a plain error, 500).
  if (caDigestPart(ca) !== digest) throw systemError(`remote CA does not match fingerprint. Expected: ${hexOf(digest)}`);
  return call<JoinGrant>(remote, 'POST', '/join', ca, ask);
}

/** Ask the manager at `remote` for what a promoted node needs, as the node its certificate names. */
export async function requestPromotion(remote: HostPort, ask: PromoteAsk, tls: { ca: string; cert: string; key: string }): Promise<JoinGrant> {
  return call<JoinGrant>(remote, 'POST', '/promote', tls.ca, ask, { cert: tls.cert, key: tls.key });
}

/** The token's digest part (base 36) as the 64 hex digits Docker prints. */
function hexOf(digest: string): string {
  let v = 0n;
  for (const ch of digest) v = v * 36n + BigInt(parseInt(ch, 36));
  return v.toString(16).padStart(64, '0');
}
